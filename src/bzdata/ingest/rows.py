"""What the file readers hand to the loader: rows, chunks of rows, rejects, or a quarantine.

A reader's `items` stream yields, in file order, `(line number, values)` for one record (values
in the delivered column order), a `Chunk` of many records already in Arrow form, or a `Reject`
naming the line, its raw text and what was expected. A file that cannot be loaded at all raises
`Quarantine` before any row is yielded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

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


@dataclass
class Opened:
    encoding: str | None  # detected; None for XLSX
    match: HeaderMatch
    items: Iterator[Item | Chunk | Reject]
    empty_is_null: bool  # CSV cannot tell an empty field from a missing value


def clip(text: str) -> str:
    text = text.rstrip("\r\n")
    return text if len(text) <= RAW_TEXT_LIMIT else text[:RAW_TEXT_LIMIT] + "…"


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


def decoded_lines(path: Path, codec: str, label: str, headers: list[str]) -> Iterator:
    """Yield `(line number, text)` per physical line, or a Reject for a line that will not
    decode. Splitting bytes at b"\\n" is safe: no UTF-8 or GB18030 multi-byte char contains it."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
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
