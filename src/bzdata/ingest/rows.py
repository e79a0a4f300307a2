"""What the file readers hand to the loader: rows, chunks of rows, rejects, or a quarantine.

A reader's `items` stream yields, in file order, `(line number, values)` for one record (values
in the delivered column order), a `Chunk` of many records already in Arrow form, or a `Reject`
naming the line, its raw text and what was expected. A file that cannot be loaded at all raises
`Quarantine` before any row is yielded.

Two judgements apply to every format, after the reader: `judge_tail` decides whether the record
on an unterminated last line (a `Tail`) was cut inside its last value, from the shape that value
has in the file's other records; `footers` sets aside the totals and notes lines (合计, 备注 …)
that spreadsheets carry below the data. What either tolerated goes into `Artefacts`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bzdata.ingest.headers import HeaderMatch, match_headers
from bzdata.registry import Dataset

# Longest raw text kept for a rejected line.
RAW_TEXT_LIMIT = 4000
TRUNCATED = "（文件末行没有换行符，文件可能被截断）"

Item = tuple[int, Sequence[str | None]]


class Quarantine(Exception):
    """The whole file cannot be loaded; `reason` (Chinese) names file, line, column, expectation."""

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        encoding: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column
        self.expected = expected
        self.encoding = encoding


@dataclass(frozen=True, slots=True)
class Reject:
    line: int
    raw: str
    reason: str


@dataclass(frozen=True)
class Chunk:
    """Records parsed in bulk: delivered columns by position ("0", "1", …) as strings."""

    lines: np.ndarray  # physical line number of each record
    table: pa.Table


@dataclass(frozen=True, slots=True)
class Tail:
    """The record on a last line without line end: complete, or cut inside its last value."""

    line: int
    values: list
    raw: str


@dataclass
class Artefacts:
    """What a spreadsheet or editor did to the file that the reader tolerated, by kind."""

    found: list[dict] = field(default_factory=list)

    def add(self, kind: str, detail: str, line: int | None = None) -> None:
        self.found.append({"kind": kind, "detail": detail, "line": line})

    @property
    def kinds(self) -> list[str]:
        return sorted({a["kind"] for a in self.found})

    def notes(self) -> list[str]:
        return [a["detail"] for a in self.found]

    def to_json(self) -> str | None:
        """JSON for the manifest's `artefacts` column; None when there was nothing to tolerate."""
        if not self.found:
            return None
        return json.dumps(self.found, ensure_ascii=False, sort_keys=True)


@dataclass
class Opened:
    encoding: str | None  # detected; None for XLSX
    match: HeaderMatch
    items: Iterator[Item | Chunk | Reject]
    empty_is_null: bool  # CSV cannot tell an empty field from a missing value
    artefacts: Artefacts = field(default_factory=Artefacts)
    # Bytes of the file read so far and its size, for progress; None where unknown (XLSX).
    position: list[int] | None = None


def clip(text: str, limit: int = RAW_TEXT_LIMIT) -> str:
    text = text.rstrip("\r\n")
    return text if len(text) <= limit else text[:limit] + "…"


def truncated(text: str) -> str:
    return "" if text.endswith("\n") else TRUNCATED


def undecodable(
    number: int, raw: bytes, exc: UnicodeDecodeError, codec: str, label: str, headers: list[str]
) -> Reject:
    """A line that will not decode, naming the column and the bytes."""
    column = raw[: exc.start].count(b",")  # approximate for quoted commas; names the place
    where = f"第 {column + 1} 列"
    if column < len(headers):
        where += f"（{headers[column]}）"
    bad = raw[exc.start : exc.end].hex(" ").upper()
    reason = f"第 {number} 行{where}含有无法按 {label.upper()} 解码的字节 {bad}"
    if not raw.endswith(b"\n"):
        reason += "；这是文件末行且没有换行符，文件可能被截断"
    text = raw.decode(codec, errors="backslashreplace")
    return Reject(number, clip(text), reason)


def decoded_lines(
    path: Path,
    codec: str,
    label: str,
    headers: list[str],
    padding: int = 0,
    position: list[int] | None = None,
) -> Iterator:
    """Yield `(line number, text)` per physical line, or a Reject for a line that will not
    decode; the last `padding` bytes (NULs) are not read. Splitting bytes at b"\\n" is safe: no
    UTF-8 or GB18030 multi-byte char contains it."""
    left = path.stat().st_size - padding
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if left <= 0:
                break
            raw = raw[:left]
            left -= len(raw)
            if position is not None:
                position[0] += len(raw)
            try:
                yield number, raw.decode(codec)
            except UnicodeDecodeError as exc:
                yield undecodable(number, raw, exc, codec, label, headers)
            if codec == "utf-8-sig":
                codec = "utf-8"  # only the first line has the BOM; plain UTF-8 decodes faster


def checked_match(
    ds: Dataset, headers: list[str], name: str, line: int, encoding: str | None
) -> HeaderMatch:
    """Match the header; quarantine on duplicate names or a missing required field."""
    match = match_headers(ds, headers)
    if match.duplicates:
        raise Quarantine(
            f"文件 {name} 第 {line} 行（表头）中列 {'、'.join(match.duplicates)} 重复出现："
            "每列只能出现一次",
            line=line,
            column=match.duplicates[0],
            expected="不重复的表头",
            encoding=encoding,
        )
    required = match.missing_required
    if required:
        names = "、".join(f"{f.header}（{f.column}）" for f in required)
        raise Quarantine(
            f"文件 {name} 第 {line} 行（表头）缺少必填列 {names}；应含登记的表头："
            f"{'、'.join(ds.headers)}。{match.advice()}",
            line=line,
            column=required[0].header,
            expected=required[0].header,
            encoding=encoding,
        )
    return match


# ---------------------------------------------------------------------------- cut last value

# Records of the file seen before a Tail for its last value's shape to be judged at all.
TAIL_MIN_RECORDS = 5
# A column "ends regularly" when its values end in at most this many shapes.
TAIL_MAX_ENDINGS = 5
_ENDING = 4  # characters whose shape is compared


def _shape_array(array: pa.Array) -> pa.Array:
    """Each value's last characters as a shape: digits 9, Latin letters A, CJK 汉."""
    tail = pc.utf8_slice_codeunits(array, -_ENDING)
    tail = pc.replace_substring_regex(tail, r"[0-9]", "9")
    tail = pc.replace_substring_regex(tail, r"[A-Za-z]", "A")
    return pc.replace_substring_regex(tail, r"[\x{4e00}-\x{9fff}\x{3400}-\x{4dbf}]", "汉")


_LATIN = str.maketrans(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "9" * 10 + "A" * 52
)


def _shape(value: str) -> str:
    """`_shape_array` for one value, without Arrow (called per record of row readers)."""
    tail = value[-_ENDING:].translate(_LATIN)
    return "".join(
        "汉" if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" else c for c in tail
    )


class _Profile:
    """Length and ending shapes of one column's non-empty values, over the records so far."""

    def __init__(self) -> None:
        self.count = 0
        self.shortest: int | None = None
        self.endings: set[str] = set()
        self.irregular = False

    def add(self, array: pa.Array) -> None:
        array = pc.drop_null(array)
        array = array.filter(pc.not_equal(array, ""))
        if not len(array):
            return
        self.count += len(array)
        shortest = pc.min(pc.utf8_length(array)).as_py()
        self.shortest = shortest if self.shortest is None else min(self.shortest, shortest)
        if not self.irregular:
            self.endings.update(pc.unique(_shape_array(array)).to_pylist())
            self.irregular = len(self.endings) > TAIL_MAX_ENDINGS

    def add_value(self, value: str | None) -> None:
        if not value:
            return
        self.count += 1
        if self.shortest is None or len(value) < self.shortest:
            self.shortest = len(value)
        if not self.irregular:
            self.endings.add(_shape(value))
            self.irregular = len(self.endings) > TAIL_MAX_ENDINGS

    def fault(self, value: str) -> str | None:
        """Why `value` looks cut, or None when it has this column's shape."""
        if not value or self.count < TAIL_MIN_RECORDS:
            return None
        if self.shortest is not None and len(value) < self.shortest:
            return (
                f"只有 {len(value)} 个字符，本列其他 {self.count} 个值至少 {self.shortest} 个字符"
            )
        ending = _shape(value)
        if not self.irregular and ending not in self.endings:
            known = "”“".join(sorted(self.endings))
            return f"结尾形如“{ending}”，本列其他 {self.count} 个值都以“{known}”的形式结尾"
        return None


def judge_tail(items: Iterator, headers: list[str], artefacts: Artefacts, name: str) -> Iterator:
    """Pass the items on; a Tail becomes a record when its last value has the shape of that
    column's other values (and the manifest says the line was unterminated), or a Reject naming
    line, column and the expected shape when it looks cut."""
    profile = _Profile()
    last: pa.ChunkedArray | None = None  # of the latest chunk: profiled only if a Tail comes
    for item in items:
        if isinstance(item, Chunk):
            if headers:
                if last is not None:
                    profile.add(last.combine_chunks())
                last = item.table.column(len(headers) - 1)
                if profile.count >= TAIL_MIN_RECORDS * 100:
                    last = None  # enough evidence: later chunks cost nothing
        elif isinstance(item, Tail):
            if last is not None:
                profile.add(last.combine_chunks())
                last = None
            yield _judged(item, headers, profile, artefacts, name)
            continue
        elif not isinstance(item, Reject) and headers:
            profile.add_value(item[1][len(headers) - 1])
        yield item


def _judged(tail: Tail, headers: list[str], profile: _Profile, artefacts: Artefacts, name: str):
    column = len(headers)
    value = tail.values[-1] or ""
    where = f"第 {tail.line} 行第 {column} 列（{headers[-1]}）"
    fault = profile.fault(value)
    if fault:
        reason = (
            f"{where}的值“{clip(value, 60)}”{fault}：这是文件末行且没有换行符，"
            f"该值疑似被截断，应为完整的值{TRUNCATED}"
        )
        artefacts.add("truncated", f"文件 {name} {where}疑似被截断，该行已拒收", tail.line)
        return Reject(tail.line, tail.raw, reason)
    artefacts.add(
        "unterminated_last_line",
        f"文件末行（第 {tail.line} 行）没有换行符，可能被截断：{where}的值“{clip(value, 60)}”"
        "与本列其他值形式一致，已入库；如文件不完整，请部门重新报送",
        tail.line,
    )
    return tail.line, tail.values


# ---------------------------------------------------------------------------- footer lines

# The first value of a totals or notes line below a spreadsheet's data.
FOOTER = re.compile(
    r"^\s*(合\s*计|总\s*计|小\s*计|累\s*计|备\s*注|说\s*明|注\s*[:：\d]|制表|填表|填报|审核|"
    r"负责人|联系人|联系电话|单位负责人|统计负责人|报送日期|数据截止)"
)
# Footer lines looked at, at most, at the end of a file.
FOOTER_MAX_LINES = 10


def _footer_values(values: Sequence[str | None], width: int) -> bool:
    first = next((v for v in values if v), None)  # called per record: the cheap test first
    if first is None or not FOOTER.match(first):
        return False
    return sum(1 for v in values if v) <= max(2, width // 2)


def footers(items: Iterator, width: int, artefacts: Artefacts) -> Iterator:
    """Pass the items on, holding back footer-like lines; those that turn out to end the file
    are not records (the manifest lists them), the others are passed on as they came."""
    held: list = []
    for item in items:
        if isinstance(item, Chunk):
            rows = item.table.num_rows
            start = rows
            while start > 0 and rows - start < FOOTER_MAX_LINES:
                values = [item.table.column(c)[start - 1].as_py() for c in range(width)]
                if not _footer_values(values, width):
                    break
                start -= 1
            if start < rows:
                if start:
                    # Held lines before the chunk's last record are no footers; those after it
                    # (the fast reader yields a block's rejects first) still may be.
                    last = int(item.lines[start - 1])
                    yield from (i for i in held if _line(i) < last)
                    held = [i for i in held if _line(i) > last]
                    yield Chunk(item.lines[:start], item.table.slice(0, start))
                for offset in range(start, rows):
                    values = [item.table.column(c)[offset].as_py() for c in range(width)]
                    held.append((int(item.lines[offset]), values))
                held.sort(key=_line)
                continue
        elif len(held) < FOOTER_MAX_LINES and _is_footer(item, width):
            held.append(item)
            continue
        yield from held
        held = []
        yield item
    if held:
        lines = "；".join(f"第 {_line(i)} 行“{clip(_text(i), 40)}”" for i in held)
        detail = f"数据之后的 {len(held)} 行为合计或备注行，不是记录，未入库：{lines}"
        artefacts.add("footer_rows", detail)


def _is_footer(item, width: int) -> bool:
    if isinstance(item, Reject):
        first = re.split(r"[,\t]", item.raw, maxsplit=1)[0].strip('"')
        return bool(FOOTER.match(first)) and len(item.raw) < 400
    return _footer_values(item[1], width)


def _line(item) -> int:
    return item.line if isinstance(item, Reject) else item[0]


def _text(item) -> str:
    if isinstance(item, Reject):
        return item.raw
    return ",".join(v or "" for v in item[1])


def blank_mask(table: pa.Table) -> pa.BooleanArray:
    """True for the rows that hold at least one value."""
    nulls = [pc.is_null(c) for c in table.columns]
    return pc.invert(reduce(pc.and_, nulls)).combine_chunks()
