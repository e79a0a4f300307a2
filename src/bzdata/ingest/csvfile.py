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
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from bzdata.ingest.rows import (
    TRUNCATED,
    Chunk,
    Opened,
    Quarantine,
    Reject,
    checked_match,
    clip,
    truncated,
    undecodable,
)
from bzdata.registry import Dataset

# Bytes per block: pyarrow's fixed cost is paid per block, memory is a few times this.
BLOCK_BYTES = 8 << 20

_CSV_ERRORS = {
    "unexpected end of data": "引号没有闭合，一直到文件末尾",
    "',' expected after '\"'": "引号之后应紧跟逗号或换行（字段内的引号应写作两个双引号）",
}

Block = tuple[int, bytes, bool]  # first line number, whole lines, whether it ends the file


def open_csv(path: Path, ds: Dataset, name: str, label: str, codec: str) -> Opened:
    headers: list[str] = []  # filled once the header is read; blocks before it are not checked
    items = _items(path, codec, label, headers)
    first = next(items, None)
    if first is None:
        raise Quarantine(
            f"文件 {name} 没有表头（只有空行）", line=1, expected="表头行", encoding=label
        )
    if isinstance(first, Reject):
        raise Quarantine(
            f"文件 {name} 的表头无法读取：{first.reason}",
            line=first.line,
            expected="逗号分隔的表头行",
            encoding=label,
        )
    number, fields = first
    match = checked_match(ds, list(fields), name, number, label)
    headers.extend(match.headers)
    return Opened(label, match, items, empty_is_null=True)


def _blocks(path: Path) -> Iterator[Block]:
    """Blocks of whole lines: the header line alone, then about BLOCK_BYTES at a time."""
    with open(path, "rb") as f:
        pending, number, carry = f.readline(), 1, b""
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


def _items(path: Path, codec: str, label: str, headers: list[str]) -> Iterator:
    blocks = _blocks(path)

    def refill() -> list | None:
        block = next(blocks, None)
        return None if block is None else _lines(block, codec, label, headers)

    feed = _Feed(refill)
    reader = csv.reader(feed, strict=True)
    for block in blocks:  # refill() draws from the same iterator while a record runs on
        if headers and not feed.buffer:
            fast = _fast(block, codec, headers)
            if fast is not None:
                yield from fast
                continue
        feed.buffer.extend(_lines(block, codec, label, headers))
        yield from _records(reader, feed, headers)


def _records(reader: Iterator[list[str]], feed: _Feed, headers: list[str]) -> Iterator:
    """Records of the lines in the feed, one at a time, until a record boundary empties it."""
    width = len(headers)
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
            feed.give_back(rest)  # lines after the bad one are read again on their own
            yield _broken_quote(number, text, headers, _CSV_ERRORS.get(str(exc), str(exc)))
            continue
        yield from feed.drain()
        if not fields:
            continue  # blank line: not a record
        taken = feed.taken
        number = taken[0][0]
        if not width or len(fields) == width:
            yield number, fields
        elif len(taken) > 1:
            # A stray quote joined several lines into one record of the wrong width.
            feed.give_back(taken[1:])
            yield _broken_quote(number, taken[0][1], headers, "引号没有在本行闭合")
        else:
            text = taken[0][1]
            yield _ragged(number, text, len(fields), headers, not text.endswith("\n"))


def _ragged(number: int, text: str, count: int, headers: list[str], cut: bool) -> Reject:
    width = len(headers)
    if count < width:
        detail = f"缺少最后 {width - count} 列（{'、'.join(headers[count:])}）"
    else:
        detail = f"多出 {count - width} 列"
    reason = f"第 {number} 行有 {count} 个字段，表头有 {width} 个：{detail}"
    return Reject(number, clip(text), reason + (TRUNCATED if cut else ""))


def _quote_column(text: str) -> int:
    """0-based column of the first quoting fault on this line (RFC 4180 rules): a quote that
    does not close, or text right after a closing quote."""
    column, state = 0, "start"  # start | plain | quoted | closed
    for char in text:
        if state == "quoted":
            if char == '"':
                state = "closed"
        elif state == "closed" and char not in '",':
            return column
        elif char == ",":
            column, state = column + 1, "start"
        elif char == '"' and state in ("start", "closed"):
            state = "quoted"  # an opening quote, or the second of a doubled one
        else:
            state = "plain"
    return column


def _broken_quote(number: int, text: str, headers: list[str], detail: str) -> Reject:
    column = _quote_column(text.rstrip("\r\n"))
    name = f"（{headers[column]}）" if column < len(headers) else ""
    reason = f"第 {number} 行第 {column + 1} 列{name}引号格式错误：{detail}"
    return Reject(number, clip(text), reason + truncated(text))


def _fast(block: Block, codec: str, headers: list[str]) -> list | None:
    """The block parsed by pyarrow, or None when it needs the csv module (quotes, bare CR,
    bytes that do not decode)."""
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
    names = [str(i) for i in range(len(headers))]
    invalid: list[tuple[int, str, int]] = []

    def handler(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(quote_char=False, invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid:
        return None  # e.g. invalid UTF-8: the csv path names the line and column
    numbers = _nonblank_lines(data, first)
    out: list = []
    final_line = first + data.count(b"\n") if last and not data.endswith(b"\n") else None
    for row_number, text, count in invalid:
        line = int(numbers[row_number - 1])  # pyarrow numbers non-blank lines from 1
        out.append(_ragged(line, text, count, headers, line == final_line))
    lines = np.delete(numbers, [n - 1 for n, _, _ in invalid])
    if len(lines) != table.num_rows:
        raise AssertionError(f"第 {first} 行起的数据块行数不平：{len(lines)} ≠ {table.num_rows}")
    if len(lines):
        out.append(Chunk(lines, table))
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
