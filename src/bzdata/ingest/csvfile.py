"""CSV deliveries: RFC 4180 parsing with exact row accounting, in C where the text is plain.

The file is read in blocks of whole lines (the header line is a block of its own). A block that
decodes cleanly and holds no quote and no bare carriage return has one record per line, so
pyarrow's C++ reader parses it with quoting off; lines of the wrong width come back through its
invalid-row handler and become rejects, and line numbers come from the newline positions. Every
other block goes through Python's csv module one record at a time: quoted commas and line breaks,
and the exact line where quoting breaks. A quoted record may run on into the next block; the fast
path resumes only at a record boundary.

A broken quote must not swallow the rest of the file: when a record spans several lines and
fails (or has the wrong width), only its first line is rejected and the others are read again.

What spreadsheets and editors do to a file is tolerated and recorded (`Artefacts`), never
repaired by guessing: UTF-16, NUL padding and CR-only line ends are streamed into a UTF-8 copy
first (line numbers unchanged); the delimiter (comma or tab) is read off the header line; title
lines above the header are skipped; empty names at the header's end and empty fields past the
last named column are ignored; records of empty fields only are blank lines; Excel's text-forcing
`="0123"` gives its text. The record on an unterminated last line is handed on as a `Tail`, so
that the caller can judge whether its last value was cut.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from bzdata.ingest.detect import Encoding
from bzdata.ingest.headers import match_headers
from bzdata.ingest.rows import (
    TRUNCATED,
    Artefacts,
    Chunk,
    Opened,
    Quarantine,
    Reject,
    Tail,
    blank_mask,
    checked_match,
    clip,
    truncated,
    undecodable,
)
from bzdata.registry import Dataset

# Bytes per block: pyarrow's fixed cost is paid per block, memory is a few times this.
BLOCK_BYTES = 8 << 20
# Lines searched for the header (title lines of a spreadsheet saved as CSV sit above it); they
# are read one line per block so that nothing below the header escapes the width check.
HEADER_SEARCH_LINES = 20
# Excel's way to keep leading zeros when a CSV is opened: the value written as a text formula.
_FORMULA_TEXT = re.compile(r'^="(.*)"$', re.DOTALL)

_CSV_ERRORS = {
    "unexpected end of data": "引号没有闭合，一直到文件末尾",
    "',' expected after '\"'": "引号之后应紧跟逗号或换行（字段内的引号应写作两个双引号）",
}

Block = tuple[int, bytes, bool]  # first line number, whole lines, whether it ends the file


def open_csv(
    path: Path, ds: Dataset, name: str, label: str, codec: str, encoding: Encoding | None = None
) -> Opened:
    artefacts = Artefacts()
    source = path
    if encoding is not None and (encoding.utf16 or encoding.nul_padding or encoding.cr_only):
        source = _normalised_copy(path, encoding, artefacts)
        if encoding.utf16:
            codec = "utf-8"  # the copy is UTF-8; other codecs are copied byte for byte
    try:
        return _open(source, ds, name, label, codec, artefacts, source != path)
    except BaseException:
        if source != path:
            source.unlink(missing_ok=True)
        raise


def _open(
    path: Path, ds: Dataset, name: str, label: str, codec: str, artefacts: Artefacts, temp: bool
) -> Opened:
    ctx = _Context(delimiter=_delimiter(path, codec))
    ctx.position[1] = path.stat().st_size
    if ctx.delimiter == "\t":
        artefacts.add("tab_separated", "以制表符分隔（Excel“Unicode 文本”等导出格式）")
    items = _items(path, codec, label, ctx, artefacts, temp)
    titles: list[tuple[int, list[str]]] = []
    first = None
    for item in items:
        if isinstance(item, Reject):
            raise Quarantine(
                f"文件 {name} 的表头无法读取：{item.reason}",
                line=item.line,
                expected="逗号分隔的表头行",
                encoding=label,
            )
        number, fields = (item.line, item.values) if isinstance(item, Tail) else item
        fields = list(fields)
        if not any(fields):
            continue  # a line of delimiters only above the header
        if first is None:
            first = (number, fields)
        match = match_headers(ds, fields)
        if match.matched and not match.missing_required and not match.duplicates:
            break
        titles.append((number, fields))
        if len(titles) >= HEADER_SEARCH_LINES:
            break
    else:
        if first is None:
            raise Quarantine(
                f"文件 {name} 没有表头（只有空行）", line=1, expected="表头行", encoding=label
            )
    if len(titles) >= HEADER_SEARCH_LINES or match.missing_required or match.duplicates:
        number, fields = first
        checked_match(ds, fields, name, number, label)  # raises with the first line's faults
    while fields and not (fields[-1] or "").strip():
        fields.pop()
        ctx.empty_header += 1
    match = checked_match(ds, fields, name, number, label)
    if titles:
        shown = "；".join(f"第 {n} 行“{clip(''.join(v for v in f if v), 40)}”" for n, f in titles)
        detail = f"表头（第 {number} 行）之上的 {len(titles)} 行不是记录，已跳过：{shown}"
        artefacts.add("title_rows", detail)
    if ctx.empty_header:
        detail = f"表头末尾有 {ctx.empty_header} 个空列名，已忽略"
        artefacts.add("trailing_empty_columns", detail)
    ctx.headers.extend(match.headers)
    records = _counted(items, ctx, artefacts)
    return Opened(
        label, match, records, empty_is_null=True, artefacts=artefacts, position=ctx.position
    )


class _Context:
    """What the parse of one file has learnt: its delimiter and header, and what it tolerated."""

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter
        self.headers: list[str] = []  # filled once the header is read
        self.empty_header = 0
        self.extra_empty = 0  # records with empty fields past the last named column
        self.blank = 0  # records of empty fields only
        self.formula = 0  # ="…" values unwrapped
        self.bare_cr = 0  # lines holding a bare CR line end inside a file of LF line ends
        self.position = [0, 0]  # bytes handed to the parser, file size (for progress)


def _counted(items: Iterator, ctx: _Context, artefacts: Artefacts) -> Iterator:
    """The records; once they are all read, the artefacts counted on the way are recorded."""
    yield from items
    if ctx.extra_empty:
        artefacts.add(
            "trailing_empty_columns", f"{ctx.extra_empty} 行在最后一个有名列之后有空字段，已忽略"
        )
    if ctx.blank:
        detail = f"{ctx.blank} 行只有分隔符、没有任何值（如“,,,,”），不是记录，已跳过"
        artefacts.add("blank_rows", detail)
    if ctx.bare_cr:
        detail = f"{ctx.bare_cr} 行中夹有单个回车符（CR）作为行尾，已按换行读取（行号按换行符计）"
        artefacts.add("mixed_line_ends", detail)
    if ctx.formula:
        artefacts.add(
            "formula_text", f'{ctx.formula} 个值写作 Excel 文本公式（如 ="0123"），已取其中的文本'
        )


def _delimiter(path: Path, codec: str) -> str:
    """Tab when the first non-blank line has more tabs than commas (Excel's text exports)."""
    with open(path, "rb") as f:
        for raw in f:
            if raw.strip():
                line = raw.decode(codec, errors="replace")
                return "\t" if line.count("\t") > line.count(",") else ","
    return ","


def _normalised_copy(path: Path, encoding: Encoding, artefacts: Artefacts) -> Path:
    """A UTF-8 copy of the file without its NUL padding and with LF for bare CR, streamed."""
    if encoding.utf16:
        bom = "有" if encoding.bom else "无"
        artefacts.add("utf16", f"文件为 {encoding.label.upper()} 编码（{bom} BOM），已转码读取")
    if encoding.nul_padding:
        artefacts.add(
            "nul_padding", f"文件末尾有 {encoding.nul_padding} 个 NUL 填充字节，不是内容，已忽略"
        )
    if encoding.cr_only:
        artefacts.add("cr_line_ends", "行尾为单个回车符（CR），已按换行读取")
    end = path.stat().st_size - encoding.nul_padding
    fd, tmp = tempfile.mkstemp(prefix="bzdata-ingest-", suffix=".csv")
    # A UTF-16 BOM is dropped by the "utf-16" codec; bytes that do not decode become a byte
    # that is not UTF-8, so the line reader rejects exactly that line, naming it.
    codec = "utf-16" if encoding.bom else encoding.codec
    decoder = codecs.getincrementaldecoder(codec)(errors=_MARK) if encoding.utf16 else None
    try:
        with open(path, "rb") as src, os.fdopen(fd, "wb") as out:
            left = end
            while left > 0:
                data = src.read(min(BLOCK_BYTES, left))
                if not data:
                    break
                left -= len(data)
                if decoder is not None:
                    text = decoder.decode(data, left <= 0)
                    if encoding.cr_only:
                        text = text.replace("\r", "\n")
                    data = text.encode("utf-8", errors="surrogateescape")
                elif encoding.cr_only:
                    data = data.replace(b"\r", b"\n")
                out.write(data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


_MARK = "bzdata-undecodable"
codecs.register_error(_MARK, lambda exc: ("\udcff" * (exc.end - exc.start), exc.end))


def _blocks(path: Path, headers: list[str]) -> Iterator[Block]:
    """Blocks of whole lines: one line at a time until the header is known (at most
    HEADER_SEARCH_LINES), then about BLOCK_BYTES at a time."""
    with open(path, "rb") as f:
        pending, number, carry = f.readline(), 1, b""
        for _ in range(HEADER_SEARCH_LINES - 1):
            if headers:
                break
            line = f.readline()
            if not line:
                break
            if pending:
                yield number, pending, False
                number += pending.count(b"\n")
            pending = line
        while chunk := f.read(BLOCK_BYTES):
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                if pending:
                    yield number, pending, False
                    number += pending.count(b"\n")
                pending = data[:cut]
        if carry:  # a last line without a newline
            if pending:
                yield number, pending, False
                number += pending.count(b"\n")
            pending = carry
        if pending:
            yield number, pending, True


def _lines(block: Block, codec: str, label: str, headers: list[str]) -> list:
    """The block's lines as `(number, text with its newline)`, or Rejects where undecodable."""
    first, data, _last = block
    if first > 1 and codec == "utf-8-sig":
        codec = "utf-8"  # only the file's start carries the byte-order mark
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        out: list = []
        raws = data.split(b"\n")
        raws = [r + b"\n" for r in raws[:-1]] + ([raws[-1]] if raws[-1] else [])
        for offset, raw in enumerate(raws):
            try:
                out.append((first + offset, raw.decode(codec)))
            except UnicodeDecodeError as exc:
                out.append(undecodable(first + offset, raw, exc, codec, label, headers))
        return out
    pieces = text.split("\n")
    out = [(first + i, piece + "\n") for i, piece in enumerate(pieces[:-1])]
    if pieces[-1]:
        out.append((first + len(pieces) - 1, pieces[-1]))
    return out


class _Feed:
    """Lines for csv.reader: remembers which lines each record took, sets aside undecodable
    lines as rejects, takes lines back after a broken quote, and pulls the next block only
    while a record is unfinished (at a record boundary it stops, so the caller may switch to
    the fast path)."""

    def __init__(self, refill: Callable[[], list | None]) -> None:
        self.buffer: deque = deque()
        self.taken: list[tuple[int, str]] = []
        self.rejects: list[Reject] = []
        self.refill = refill

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        while True:
            if not self.buffer:
                more = self.refill() if self.taken else None
                if more is None:
                    raise StopIteration
                self.buffer.extend(more)
                continue
            item = self.buffer.popleft()
            if isinstance(item, Reject):
                self.rejects.append(item)
                continue
            self.taken.append(item)
            return item[1]

    def give_back(self, lines: list[tuple[int, str]]) -> None:
        self.buffer.extendleft(reversed(lines))

    def drain(self) -> list[Reject]:
        out, self.rejects = self.rejects, []
        return out


def _items(
    path: Path, codec: str, label: str, ctx: _Context, artefacts: Artefacts, temp: bool
) -> Iterator:
    blocks = _measured(_blocks(path, ctx.headers), ctx.position)
    headers = ctx.headers

    def refill() -> list | None:
        block = next(blocks, None)
        return None if block is None else _lines(block, codec, label, headers)

    feed = _Feed(refill)
    reader = csv.reader(feed, strict=True, delimiter=ctx.delimiter)
    try:
        for block in blocks:  # refill() draws from the same iterator while a record runs on
            if headers and not feed.buffer:
                fast = _fast(block, codec, ctx)
                if fast is not None:
                    yield from fast
                    continue
            feed.buffer.extend(_lines(block, codec, label, headers))
            yield from _records(reader, feed, ctx)
    finally:
        if temp:
            path.unlink(missing_ok=True)


def _measured(blocks: Iterator[Block], position: list[int]) -> Iterator[Block]:
    for block in blocks:
        position[0] += len(block[1])
        yield block


def _records(reader: Iterator[list[str]], feed: _Feed, ctx: _Context) -> Iterator:
    """Records of the lines in the feed, one at a time, until a record boundary empties it."""
    headers = ctx.headers
    while True:
        feed.taken = []
        try:
            fields = next(reader)
        except StopIteration:
            yield from feed.drain()
            return
        except csv.Error as exc:
            yield from feed.drain()
            (number, text), rest = feed.taken[0], feed.taken[1:]
            body = text.rstrip("\r\n")
            if "new-line character" in str(exc) and "\r" in body and '"' not in body:
                # A bare CR ends a line (an old Mac editor touched the file): its parts are
                # records of their own, on the same numbered line.
                ctx.bare_cr += 1
                feed.give_back([(number, part + "\n") for part in body.split("\r")] + rest)
                continue
            feed.give_back(rest)  # lines after the bad one are read again on their own
            reason = _CSV_ERRORS.get(str(exc), str(exc))
            yield _broken_quote(number, text, headers, reason, ctx.delimiter)
            continue
        yield from feed.drain()
        if not fields:
            continue  # blank line: not a record
        taken = feed.taken
        number = taken[0][0]
        if not headers:
            yield number, fields
            continue
        item = _record(number, fields, taken, ctx)
        if item is None:
            continue
        if isinstance(item, Reject) and len(taken) > 1:
            # A stray quote joined several lines into one record of the wrong width.
            feed.give_back(taken[1:])
            yield _broken_quote(number, taken[0][1], headers, "引号没有在本行闭合", ctx.delimiter)
            continue
        yield item


def _record(number: int, fields: list[str], taken: list, ctx: _Context):
    """One parsed record checked against the header: an item, a Tail, a Reject, or None for a
    record without any value."""
    width = len(ctx.headers)
    if not any(fields):
        ctx.blank += 1
        return None
    text = taken[-1][1]
    count = len(fields)
    separated = False  # a delimiter follows the last named column: its value is complete
    if count > width and not any(fields[width:]):
        ctx.extra_empty += 1
        fields, separated = fields[:width], True
    elif count != width:
        return _ragged(number, taken[0][1], count, ctx.headers, not text.endswith("\n"))
    for index, value in enumerate(fields):
        if value.startswith('="'):
            match = _FORMULA_TEXT.match(value)
            if match:
                fields[index] = match.group(1).replace('""', '"')
                ctx.formula += 1
    if not text.endswith("\n") and not separated:
        raw = "".join(t for _, t in taken)
        return Tail(number, fields, clip(raw))
    return number, fields


def _ragged(number: int, text: str, count: int, headers: list[str], cut: bool) -> Reject:
    width = len(headers)
    if count < width:
        detail = f"缺少最后 {width - count} 列（{'、'.join(headers[count:])}）"
    else:
        detail = f"多出 {count - width} 列"
    reason = f"第 {number} 行有 {count} 个字段，表头有 {width} 个：{detail}"
    return Reject(number, clip(text), reason + (TRUNCATED if cut else ""))


def _quote_column(text: str, delimiter: str = ",") -> int:
    """0-based column of the first quoting fault on this line (RFC 4180 rules): a quote that
    does not close, or text right after a closing quote."""
    column, state = 0, "start"  # start | plain | quoted | closed
    for char in text:
        if state == "quoted":
            if char == '"':
                state = "closed"
        elif state == "closed" and char != '"' and char != delimiter:
            return column
        elif char == delimiter:
            column, state = column + 1, "start"
        elif char == '"' and state in ("start", "closed"):
            state = "quoted"  # an opening quote, or the second of a doubled one
        else:
            state = "plain"
    return column


def _broken_quote(
    number: int, text: str, headers: list[str], detail: str, delimiter: str = ","
) -> Reject:
    column = _quote_column(text.rstrip("\r\n"), delimiter)
    name = f"（{headers[column]}）" if column < len(headers) else ""
    reason = f"第 {number} 行第 {column + 1} 列{name}引号格式错误：{detail}"
    return Reject(number, clip(text), reason + truncated(text))


def _fast(block: Block, codec: str, ctx: _Context) -> list | None:
    """The block parsed by pyarrow, or None when it needs the csv module (quotes, bare CR,
    bytes that do not decode, records of another width that may be tolerable)."""
    first, data, last = block
    if b'"' in data or data.count(b"\r") != data.count(b"\r\n"):
        return None
    if codec in ("utf-8", "utf-8-sig"):
        utf8 = data  # pyarrow checks UTF-8 itself
    else:
        try:
            utf8 = data.decode(codec).encode("utf-8")
        except UnicodeDecodeError:
            return None
    headers = ctx.headers
    width = len(headers)
    full = width + ctx.empty_header  # records as wide as the delivered header, empty names too
    names = [str(i) for i in range(full)]
    invalid: list[tuple[int, str, int]] = []

    def handler(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=ctx.delimiter, quote_char=False, invalid_row_handler=handler
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid:
        return None  # e.g. invalid UTF-8: the csv path names the line and column
    split = ctx.delimiter
    if any(n >= width and not any(text.split(split)[width:]) for _, text, n in invalid):
        return None  # empty fields past the header: the csv path accepts them one by one
    if full > width:
        beyond = [table.column(i) for i in range(width, full)]
        if any(column.null_count < len(column) for column in beyond):
            return None  # values under an empty header name: rejected by the csv path
        ctx.extra_empty += table.num_rows
        table = table.select(names[:width])
    numbers = _nonblank_lines(data, first)
    out: list = []
    final_line = first + data.count(b"\n") if last and not data.endswith(b"\n") else None
    for row_number, text, count in invalid:
        line = int(numbers[row_number - 1])  # pyarrow numbers non-blank lines from 1
        out.append(_ragged(line, text, count, headers, line == final_line))
    lines = np.delete(numbers, [n - 1 for n, _, _ in invalid])
    if len(lines) != table.num_rows:
        raise AssertionError(f"第 {first} 行起的数据块行数不平：{len(lines)} ≠ {table.num_rows}")
    if width and table.num_rows:
        valued = blank_mask(table)
        blank = table.num_rows - valued.true_count
        if blank:
            ctx.blank += blank
            keep = np.asarray(valued.to_numpy(zero_copy_only=False))
            table, lines = table.filter(valued), lines[keep]
    tail = None
    if final_line is not None and full == width and len(lines) and lines[-1] == final_line:
        values = [table.column(i)[-1].as_py() or "" for i in range(width)]
        tail = Tail(final_line, values, clip(ctx.delimiter.join(values)))
        table, lines = table.slice(0, table.num_rows - 1), lines[:-1]
    if len(lines):
        out.append(Chunk(lines, table))
    if tail is not None:
        out.append(tail)
    return out


def _nonblank_lines(data: bytes, first: int) -> np.ndarray:
    """Line numbers of the block's lines that hold more than a line ending."""
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    if not data.endswith(b"\n"):
        ends = np.append(ends, len(buf))
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    has_cr = (lengths > 0) & (buf[np.maximum(ends - 1, 0)] == 13)
    return np.flatnonzero(lengths - has_cr > 0).astype(np.int64) + first
