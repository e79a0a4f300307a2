"""Open one delivered file (CSV, JSON lines, XLSX) as a stream of rows of text.

`open_file` checks what must hold for the whole file (a decodable encoding, a parsable header
that carries every required field) and raises `Quarantine` otherwise; the returned `Opened`
streams the records (see `rows`). Nothing is loaded whole: CSV is parsed in blocks
(`csvfile`), JSON lines one line at a time, XLSX in openpyxl's streaming mode, so memory stays
bounded at city scale.

Every value stays the text that was delivered: no type guessing, IDs keep leading zeros and X.
Whatever the format, an unterminated last record is judged for a cut value and totals/notes
lines below the data are set aside (`rows.judge_tail`, `rows.footers`); what was tolerated is
in `Opened.artefacts` for the manifest.
"""

from __future__ import annotations

import itertools
import json
import re
import warnings
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

from bzdata.ingest.csvfile import open_csv
from bzdata.ingest.detect import UnknownEncoding, detect
from bzdata.ingest.headers import HeaderMatch, match_headers
from bzdata.ingest.rows import (
    Artefacts,
    Chunk,
    Item,
    Opened,
    Quarantine,
    Reject,
    checked_match,
    clip,
    decoded_lines,
    footers,
    judge_tail,
    truncated,
)
from bzdata.registry import Dataset

# Rows of an XLSX sheet searched for the header (title rows sit above it).
XLSX_HEADER_SEARCH_ROWS = 20

__all__ = ["Chunk", "Opened", "Quarantine", "Reject", "open_file"]


def open_file(path: Path, ds: Dataset, name: str) -> Opened:
    """Open `path` (shown to users as `name`) as a delivery of `ds`; raises Quarantine."""
    if path.stat().st_size == 0:
        raise Quarantine(f"文件 {name} 为空（0 字节）：应至少含有表头行", line=1, expected="表头行")
    suffix = path.suffix.lower().lstrip(".")
    fmt = suffix if suffix in ("csv", "jsonl", "xlsx") else ds.delivery.format
    if fmt == "xlsx":
        opened = _open_xlsx(path, ds, name)
    else:
        try:
            encoding = detect(path, ds.delivery.encoding)
        except UnknownEncoding as exc:
            raise Quarantine(
                f"文件 {name}：{exc}",
                line=exc.line,
                expected="UTF-8、GBK、GB18030 或 UTF-16 编码",
            ) from None
        if fmt == "jsonl":
            if encoding.utf16 or encoding.cr_only:
                raise Quarantine(
                    f"文件 {name}：JSON lines 文件应为 UTF-8 或 GB 编码、以换行分隔，"
                    f"实际为 {encoding.label}{'、以单个回车分行' if encoding.cr_only else ''}",
                    expected="每行一个 JSON 对象的 UTF-8 文本",
                    encoding=encoding.label,
                )
            return _open_jsonl(path, ds, name, encoding.label, encoding.codec, encoding.nul_padding)
        opened = open_csv(path, ds, name, encoding.label, encoding.codec, encoding)
    headers = opened.match.headers
    judged = judge_tail(opened.items, headers, opened.artefacts, name)
    opened.items = footers(judged, len(headers), opened.artefacts)
    return opened


# ---------------------------------------------------------------------------- JSON lines

_JSON_ERRORS = {
    "Expecting value": "此处应为一个值",
    "Unterminated string starting at": "字符串没有结束引号",
    "Expecting ',' delimiter": "此处应为逗号",
    "Expecting ':' delimiter": "此处应为冒号",
    "Expecting property name enclosed in double quotes": "此处应为双引号括起的键名",
    "Extra data": "一个 JSON 对象之后还有多余内容",
    "Invalid control character at": "字符串中有未转义的控制字符",
}


def _json_value(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_records(lines: Iterator, name: str, artefacts: Artefacts) -> Iterator:
    """Yield `(line, object)` per JSON line, or Rejects."""
    for item in _counting_blank(lines, artefacts):
        if isinstance(item, Reject):
            yield item
            continue
        number, text = item
        try:
            # Numbers stay the text delivered (no float rounding, no lost zeros).
            record = json.loads(text, parse_int=str, parse_float=str, parse_constant=str)
        except json.JSONDecodeError as exc:
            detail = _JSON_ERRORS.get(exc.msg, exc.msg)
            reason = f"第 {number} 行不是合法的 JSON：第 {exc.colno} 个字符处{detail}"
            yield Reject(number, clip(text), reason + truncated(text))
            continue
        if not text.endswith("\n"):
            artefacts.add(
                "unterminated_last_line",
                f"文件末行（第 {number} 行）没有换行符；该行是完整的 JSON 对象，已入库",
                number,
            )
        if not isinstance(record, dict):
            kind = type(record).__name__
            reason = f"第 {number} 行应为 JSON 对象（{{…}}），实际为 {kind}"
            yield Reject(number, clip(text), reason)
            continue
        yield number, record


def _counting_blank(lines: Iterator, artefacts: Artefacts) -> Iterator:
    blank = 0
    for item in lines:
        if not isinstance(item, Reject) and not item[1].strip():
            blank += 1
            continue
        yield item
    if blank:
        artefacts.add("blank_rows", f"{blank} 个空行不是记录，已跳过")


def _open_jsonl(
    path: Path, ds: Dataset, name: str, label: str, codec: str, padding: int = 0
) -> Opened:
    headers: list[str] = []
    artefacts = Artefacts()
    if padding:
        artefacts.add("nul_padding", f"文件末尾有 {padding} 个 NUL 填充字节，不是内容，已忽略")
    position = [0, path.stat().st_size]
    lines = decoded_lines(path, codec, label, headers, padding, position)
    records = _json_records(lines, name, artefacts)
    leading: list[Reject] = []
    first = next(records, None)
    while isinstance(first, Reject):
        leading.append(first)  # bad lines before the first object are still row rejects
        first = next(records, None)
    if first is None:
        raise Quarantine(
            f"文件 {name} 中没有任何 JSON 对象",
            line=1,
            expected="每行一个 JSON 对象",
            encoding=label,
        )
    number, record = first
    match = checked_match(ds, list(record), name, number, label)
    keys = list(record)
    headers.extend(match.headers)
    known = set(keys)

    def items() -> Iterator[Item | Reject]:
        yield from leading
        yield number, [_json_value(v) for v in record.values()]
        for item in records:
            if isinstance(item, Reject):
                yield item
                continue
            line, obj = item
            if obj.keys() - known:
                match.add_keys([k for k in obj if k not in known])
            yield line, [_json_value(obj.get(k)) for k in keys]

    return Opened(
        label, match, items(), empty_is_null=False, artefacts=artefacts, position=position
    )


# ---------------------------------------------------------------------------- XLSX

_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _cell_text(value: object) -> str | None:
    """The text of a cell as the department sees it (text cells exactly as typed)."""
    if value is None:
        return None
    if isinstance(value, str):
        # Excel stores characters XML cannot hold, and a literal "_x", as _xHHHH_.
        return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")  # Excel shows at most 15 significant digits
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _merged_ranges(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Merged cell ranges of the first sheet, 0-based; openpyxl's streaming mode lacks them."""
    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        return list(sheet.merged_cell_ranges or [])
    except Exception:  # openpyxl decides whether the file is readable at all
        return []


# An empty text element in a workbook part: a cell (or shared string) holding "" rather than
# nothing. Rich-text runs may match too; that only costs the slower reader.
_EMPTY_TEXT = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?(?:/>|></(?:\w+:)?t>)|<v\s*/>|<v></v>")


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]+\d+(?::([A-Z]+)(\d+))?"')


def _sheet_size(path: Path) -> tuple[int, int]:
    """Rows and columns the first worksheet declares (formatted blank cells included)."""
    import zipfile

    with zipfile.ZipFile(path) as archive, archive.open("xl/worksheets/sheet1.xml") as part:
        found = _DIMENSION.search(part.read(4096))
    if not found or not found.group(1):
        return 0, 0
    columns = 0
    for letter in found.group(1).decode():
        columns = columns * 26 + ord(letter) - 64
    return int(found.group(2)), columns


def _has_empty_text(path: Path) -> bool:
    """Whether any worksheet or the shared strings hold an empty text value (streamed)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not (member == "xl/sharedStrings.xml" or member.startswith("xl/worksheets/")):
                continue
            with archive.open(member) as part:
                carry = b""
                while chunk := part.read(1 << 20):
                    if _EMPTY_TEXT.search(carry + chunk):
                        return True
                    carry = chunk[-64:]
    return False


def _calamine_rows(path: Path):
    """The first sheet's rows by python-calamine (several times faster than openpyxl), or None
    where it would be wrong: calamine reads an empty text cell as a blank, so a workbook that
    holds one is read by openpyxl."""
    try:
        if _has_empty_text(path):
            return None
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        first_row, first_col = sheet.start or (0, 0)
        cells = sheet.iter_rows()
    except Exception:  # openpyxl decides whether the file is readable, and says why not
        return None
    pad = [None] * first_col
    try:
        declared, columns = _sheet_size(path)
    except (KeyError, OSError):
        declared, columns = 0, 0
    del columns  # formatted blank columns are seen in the header rows, read by openpyxl

    def rows():
        yield from ([] for _ in range(first_row))  # the sheet's range starts below row 1
        count = first_row
        for row in cells:
            count += 1
            yield pad + [None if v == "" else v for v in row]
        # calamine leaves out rows of formatted blanks past the data: they are blank rows
        yield from ([] for _ in range(max(0, declared - count)))

    return rows()


def _open_xlsx(path: Path, ds: Dataset, name: str) -> Opened:
    import openpyxl

    try:
        # openpyxl reads the rows the header may be on: it sees formatted blank cells, which
        # calamine (the fast reader of the rest, where it is exact) leaves out.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some exporters write a wrong sheet size
        rows = sheet.iter_rows(min_row=1, values_only=True)
        top = [list(r) for _, r in zip(range(XLSX_HEADER_SEARCH_ROWS), rows, strict=False)]
        fast = _calamine_rows(path) if len(top) == XLSX_HEADER_SEARCH_ROWS else None
        if fast is not None:
            workbook.close()
            workbook = None
            rows = itertools.islice(fast, len(top), None)
    except Exception as exc:
        raise Quarantine(
            f"文件 {name} 不是可读取的 xlsx 工作簿（{type(exc).__name__}: {exc}）",
            expected="Excel 2007 及以上的 .xlsx 文件",
        ) from None
    merges: list = []
    best, header_row = _find_header(ds, top, merges)
    if best is None or best.missing:
        # Merged cells only matter when the plain cells do not name every field (and reading
        # them costs a second pass over the workbook).
        merges = _merged_ranges(path)
        best, header_row = _find_header(ds, top, merges)
    if best is None:
        if workbook is not None:
            workbook.close()
        raise Quarantine(
            f"文件 {name} 前 {XLSX_HEADER_SEARCH_ROWS} 行中找不到表头：应有一行含登记的表头"
            f"{'、'.join(ds.headers)}",
            line=1,
            expected="表头行",
        )
    header = _fill_merged(top, header_row, top[header_row], merges)
    empty = 0
    while header and header[-1] is None:
        header.pop()
        empty += 1
    try:
        match = checked_match(ds, [h or "" for h in header], name, header_row + 1, None)
    except Quarantine:
        if workbook is not None:
            workbook.close()
        raise
    width = len(match.headers)
    artefacts = Artefacts()
    if header_row != (ds.delivery.title_rows or 0):  # the registered layout is no artefact
        detail = f"表头（第 {header_row + 1} 行）之上的 {header_row} 行为标题行，已跳过"
        artefacts.add("title_rows", detail)
    if empty:
        detail = f"表头右侧有 {empty} 个空单元格（只有格式、没有列名），已忽略"
        artefacts.add("trailing_empty_columns", detail)

    def items() -> Iterator[Item | Reject]:
        blank = 0
        try:
            below = ((i + 1, r) for i, r in enumerate(top) if i > header_row)
            rest = ((i, r) for i, r in enumerate(rows, start=len(top) + 1))
            for number, cells in itertools.chain(below, rest):
                values = [_cell_text(v) for v in cells]
                if all(v is None for v in values):
                    blank += 1
                    continue  # blank row (formatting past the data makes many)
                lossy = _lossy_number(cells[:width])
                if lossy is not None:
                    raw = "\t".join("" if v is None else v for v in values)
                    reason = _lossy_reason(number, lossy, cells, match.headers)
                    yield Reject(number, clip(raw), reason)
                    continue
                extra = [i for i, v in enumerate(values[width:], start=width) if v is not None]
                if extra:
                    raw = "\t".join("" if v is None else v for v in values)
                    reason = (
                        f"第 {number} 行第 {extra[0] + 1} 列在表头之外有值"
                        f"“{values[extra[0]]}”：表头只有 {width} 列"
                    )
                    yield Reject(number, clip(raw), reason)
                    continue
                yield number, values[:width] + [None] * (width - len(values))
        finally:
            if workbook is not None:
                workbook.close()
        if blank:
            detail = f"工作表中有 {blank} 个空白行（含仅有格式的行），不是记录，已跳过"
            artefacts.add("blank_rows", detail)

    return Opened(None, match, items(), empty_is_null=False, artefacts=artefacts)


# Excel keeps 15 significant digits: a number this large lost the digits after them.
EXCEL_EXACT_LIMIT = 10**15


def _lossy_number(cells) -> int | None:
    """0-based column of the first numeric cell too long to be exact, if any."""
    for index, value in enumerate(cells):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and abs(value) >= EXCEL_EXACT_LIMIT:
            return index
    return None


def _lossy_reason(number: int, column: int, cells, headers: list[str]) -> str:
    shown = format(float(cells[column]), ".14E")
    return (
        f"第 {number} 行第 {column + 1} 列（{headers[column]}）是数值 {shown}，不是文本："
        "Excel 只保存 15 位有效数字，超过 15 位的号码末几位已丢失，无法还原；"
        "应把该列设为文本格式后重新填写报送"
    )


def _find_header(ds: Dataset, top: list[list], merges: list) -> tuple[HeaderMatch | None, int]:
    """The row among the top rows that matches most registry fields, and its index."""
    best, header_row = None, 0
    for index, cells in enumerate(top):
        match = match_headers(ds, _fill_merged(top, index, cells, merges))
        if match.matched and (best is None or match.matched > best.matched):
            best, header_row = match, index
    return best, header_row


def _fill_merged(top: list[list], index: int, cells: list, merges: list) -> list:
    """The row's cells as header names; a cell left empty by a merge takes the merged value."""
    header = [_cell_text(v) for v in cells]
    for (r0, c0), (r1, c1) in merges:
        if not r0 <= index <= r1 or r0 >= len(top):
            continue
        value = _cell_text(top[r0][c0]) if c0 < len(top[r0]) else None
        for column in range(c0, c1 + 1):
            if column < len(header) and header[column] is None:
                header[column] = value
    return header
