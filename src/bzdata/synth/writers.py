"""Write one department's period extract the way that department really delivers it.

The synthetic city hands over, per dataset and period, a string-only Arrow table keyed by the
registry's field `column` names, defects already injected. This module writes it byte-faithfully
in the department's own habits (CSV in its encoding and line ends, JSON lines, an Excel sheet with
a title line, or a table in the department's 前置库) and never repairs a value.

Layout under `root`:
- file drops: `landing/<provider>/<dataset id>/<YYYY-MM>/<file_name with {period} = YYYYMM>`,
  mtime and atime set to the delivery time (the ingest measures timeliness from it);
- 前置库: `frontdb/<YYYY-MM>/<provider>.sqlite`, one table per dataset (`delivery.table`).

Every file appears atomically (temporary name, fsync, rename) and identical input gives identical
bytes, so reruns of a period are reproducible.

How each format tells an empty string from a missing value (null):
- CSV cannot: both are an empty field, and `read_back` returns null for both (a one-column
  file writes `""` so that no record becomes a blank line);
- JSON lines: `""` versus `null`;
- xlsx: an empty text cell versus a blank cell;
- SQLite: `''` versus NULL.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from bzdata.storage import fsync_path

# Rows encoded per step: bounds memory for multi-million-row extracts.
BATCH_ROWS = 65_536
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_CHARS = 32_767

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_NEEDS_QUOTE = r'[,"\r\n]'
_BOM = b"\xef\xbb\xbf"
_CODECS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gbk", "gb18030": "gb18030"}
# Windows tools export GBK/GB18030 with CRLF; UTF-8 exports come from Linux systems with LF.
_CRLF_ENCODINGS = frozenset({"gbk", "gb18030"})
_SHEET_BAD_CHARS = re.compile(r"[\[\]:*?/\\]")
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


class FieldSpec(Protocol):
    """The part of a registry field the writers use."""

    @property
    def column(self) -> str: ...

    @property
    def header(self) -> str: ...


class DeliverySpec(Protocol):
    """The part of a registry delivery block the writers use."""

    @property
    def channel(self) -> str: ...

    @property
    def format(self) -> str | None: ...

    @property
    def encoding(self) -> str | None: ...

    @property
    def title_rows(self) -> int: ...

    @property
    def file_name(self) -> str | None: ...

    @property
    def table(self) -> str | None: ...

    @property
    def watermark(self) -> str | None: ...


class DatasetSpec(Protocol):
    """The part of a registry dataset the writers use (`bzdata.registry` Dataset fits)."""

    @property
    def id(self) -> str: ...

    @property
    def provider(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def delivery(self) -> DeliverySpec: ...

    @property
    def fields(self) -> Sequence[FieldSpec]: ...


class UnencodableValueError(ValueError):
    """A value holds a character the dataset's declared encoding cannot represent."""

    def __init__(
        self, dataset: str, row: int, column: str, header: str, char: str, encoding: str
    ) -> None:
        self.dataset = dataset
        self.row = row  # 1-based data record number; 0 = the header line
        self.column = column
        self.header = header
        self.char = char
        self.encoding = encoding
        where = "表头" if row == 0 else f"第 {row} 条记录"
        super().__init__(
            f"数据集 {dataset}：{where}字段 {column}（{header}）含有 {encoding} 编码无法表示的字符"
            f" {char!r}（U+{ord(char):04X}），文件未写出"
        )


def period_yyyymm(period: str) -> str:
    """Period "2024-03" -> "202403"; anything else raises."""
    match = _PERIOD.match(period)
    if not match:
        raise ValueError(f"期次应为 YYYY-MM 格式，实际为 {period!r}")
    return match.group(1) + match.group(2)


def file_drop_path(ds: DatasetSpec, root: Path, period: str) -> Path:
    """Where `write_file_drop` puts the dataset's file for the period."""
    yyyymm = period_yyyymm(period)
    template = ds.delivery.file_name
    if not template:
        raise ValueError(f"数据集 {ds.id}：delivery.file_name 未配置")
    name = template.replace("{period}", yyyymm)
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise ValueError(f"数据集 {ds.id}：文件名 {name!r} 不能包含路径")
    return Path(root) / "landing" / ds.provider / ds.id / period / name


def frontdb_path(root: Path, period: str, provider: str) -> Path:
    """The department's 前置库 file for the period."""
    period_yyyymm(period)
    return Path(root) / "frontdb" / period / f"{provider}.sqlite"


# ---------------------------------------------------------------------------- input checks


def _headers(ds: DatasetSpec) -> list[str]:
    headers = [f.header for f in ds.fields]
    dupes = sorted({h for h in headers if headers.count(h) > 1})
    if dupes:
        raise ValueError(f"数据集 {ds.id}：表头重复 {dupes}")
    return headers


def _prepare(ds: DatasetSpec, table: pa.Table) -> pa.Table:
    """The table's columns in field order, all `string`; missing or extra columns raise."""
    columns = [f.column for f in ds.fields]
    missing = [c for c in columns if c not in table.column_names]
    extra = [c for c in table.column_names if c not in columns]
    if missing or extra:
        raise ValueError(f"数据集 {ds.id}：表的列与登记的字段不一致，缺少 {missing}，多出 {extra}")
    if len(set(table.column_names)) != len(table.column_names):
        raise ValueError(f"数据集 {ds.id}：表中有重名列")
    arrays = []
    for column in columns:
        array = table.column(column)
        kind = array.type
        if kind in (pa.null(), pa.large_string(), pa.string_view()):
            array = array.cast(pa.string())
        elif not pa.types.is_string(kind):
            raise TypeError(f"数据集 {ds.id}：列 {column} 应为字符串，实际为 {kind}")
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=columns)


# ---------------------------------------------------------------------------- encoding


def _string_bytes(array: pa.Array) -> memoryview:
    """The concatenated UTF-8 bytes of a null-free string array, without copying."""
    if len(array) == 0:
        return memoryview(b"")
    _validity, offsets_buf, data_buf = array.buffers()
    if data_buf is None:
        return memoryview(b"")
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)
    start, end = int(offsets[array.offset]), int(offsets[array.offset + len(array)])
    return memoryview(data_buf)[start:end]


def _locate_unencodable(
    ds: DatasetSpec, batch: pa.RecordBatch, codec: str, first_row: int, encoding: str
) -> UnencodableValueError:
    """The first value (in row order) of the batch that `codec` cannot encode."""
    values = [col.to_pylist() for col in batch.columns]
    for r in range(batch.num_rows):
        for field, col in zip(ds.fields, values, strict=True):
            value = col[r]
            if value is None:
                continue
            for char in value:
                try:
                    char.encode(codec)
                except UnicodeEncodeError:
                    return UnencodableValueError(
                        ds.id, first_row + r, field.column, field.header, char, encoding
                    )
    raise AssertionError("encoding failed but no value is unencodable")


def _encode(
    ds: DatasetSpec,
    text_utf8: memoryview | bytes,
    codec: str,
    encoding: str,
    batch: pa.RecordBatch,
    first_row: int,
) -> bytes | memoryview:
    """UTF-8 text re-encoded in `codec`; an unencodable value raises naming row and column."""
    if codec == "utf-8":
        return text_utf8
    try:
        return str(text_utf8, "utf-8").encode(codec)
    except UnicodeEncodeError:
        raise _locate_unencodable(ds, batch, codec, first_row, encoding) from None


def _encode_header(ds: DatasetSpec, line: str, codec: str, encoding: str) -> bytes:
    try:
        return line.encode(codec)
    except UnicodeEncodeError:
        for field in ds.fields:
            for char in field.header:
                try:
                    char.encode(codec)
                except UnicodeEncodeError:
                    raise UnencodableValueError(
                        ds.id, 0, field.column, field.header, char, encoding
                    ) from None
        raise


def _csv_quote(value: str, lone: bool, sep: str = ",") -> str:
    if value == "" and lone:
        return '""'
    if re.search(_NEEDS_QUOTE, value) or sep in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_field(array: pa.Array, lone: bool) -> pa.Array:
    """Quote only the values that need it (comma, quote, CR, LF); nulls become empty."""
    needs = pc.match_substring_regex(array, _NEEDS_QUOTE)
    if pc.any(needs).as_py():
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(array, '"', '""'), '"', "")
        array = pc.if_else(needs, quoted, array)
    array = pc.fill_null(array, "")
    if lone:
        array = pc.if_else(pc.equal(array, ""), '""', array)
    return array


def _csv_lines(batch: pa.RecordBatch, eol: str) -> memoryview:
    """The batch as CSV records (RFC 4180 quoting, `eol` after each), UTF-8."""
    lone = batch.num_columns == 1
    fields = [_csv_field(col, lone) for col in batch.columns]
    joined = fields[0] if lone else pc.binary_join_element_wise(*fields, ",")
    return _string_bytes(pc.binary_join_element_wise(joined, eol, ""))


def _jsonl_lines(ds: DatasetSpec, batch: pa.RecordBatch) -> bytes:
    headers = [f.header for f in ds.fields]
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    values = [col.to_pylist() for col in batch.columns]
    rows = zip(*values, strict=True)
    text = "".join(encoder.encode(dict(zip(headers, row, strict=True))) + "\n" for row in rows)
    return text.encode("utf-8")


# ---------------------------------------------------------------------------- atomic files


@contextlib.contextmanager
def _atomic(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; on success fsync and rename it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(final.parent)  # makes the rename itself durable


def _write_stream(ds: DatasetSpec, data: pa.Table, tmp: Path, fmt: str) -> None:
    encoding = ds.delivery.encoding or "utf-8"
    if encoding not in _CODECS:
        raise ValueError(f"数据集 {ds.id}：不支持的编码 {encoding!r}")
    codec = _CODECS[encoding]
    eol = "\r\n" if fmt == "csv" and encoding in _CRLF_ENCODINGS else "\n"
    with open(tmp, "wb") as out:
        if encoding == "utf-8-sig":
            out.write(_BOM)
        if fmt == "csv":
            lone = len(ds.fields) == 1
            header = ",".join(_csv_quote(h, lone) for h in _headers(ds)) + eol
            out.write(_encode_header(ds, header, codec, encoding))
        else:
            _headers(ds)
        first_row = 1
        for batch in data.to_batches(max_chunksize=BATCH_ROWS):
            if batch.num_rows == 0:
                continue
            text = _csv_lines(batch, eol) if fmt == "csv" else _jsonl_lines(ds, batch)
            out.write(_encode(ds, text, codec, encoding, batch, first_row))
            first_row += batch.num_rows
        out.flush()


def _sheet_name(name: str) -> str:
    cleaned = _SHEET_BAD_CHARS.sub("_", name).strip("'")[:31]
    return cleaned or "Sheet1"


def _write_xlsx(
    ds: DatasetSpec,
    data: pa.Table,
    tmp: Path,
    period: str,
    provider_name: str | None,
    kinds: set[str] = frozenset(),
) -> None:
    import xlsxwriter  # only file drops in xlsx need it

    title_rows = (ds.delivery.title_rows or 0) + ("title_rows" in kinds)
    headers = _headers(ds)
    width = len(headers)
    if title_rows + 1 + data.num_rows > XLSX_MAX_ROWS:
        raise ValueError(
            f"数据集 {ds.id}：{data.num_rows} 条记录超过 Excel 工作表的 {XLSX_MAX_ROWS} 行上限"
        )
    year, month = int(period[:4]), int(period[5:7])
    # Fixed document time so the same input gives the same bytes: start of the month after.
    created = datetime(year + month // 12, month % 12 + 1, 1)
    workbook = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
    try:
        workbook.set_properties({"created": created})
        sheet = workbook.add_worksheet(_sheet_name(ds.name))
        title_fmt = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
        header_fmt = workbook.add_format({"bold": True, "num_format": "@"})
        text_fmt = workbook.add_format({"num_format": "@"})
        sheet.set_column(0, width - 1, 20)
        titles = [f"{ds.name}（{year}年{month:02d}月）"]
        titles += [f"填报单位：{provider_name or ds.provider}"] * max(title_rows - 1, 0)
        for r, title in enumerate(titles[:title_rows]):
            if width > 1:
                sheet.merge_range(r, 0, r, width - 1, title, title_fmt)
            else:
                sheet.write_string(r, 0, title, title_fmt)
        for c, header in enumerate(headers):
            sheet.write_string(title_rows, c, header, header_fmt)
        if "trailing_empty_columns" in kinds:  # formatted, empty header cells past the data
            for c in range(width, width + 3):
                sheet.write_blank(title_rows, c, None, header_fmt)
        row = title_rows + 1
        record = 1
        for batch in data.to_batches(max_chunksize=BATCH_ROWS):
            values = [col.to_pylist() for col in batch.columns]
            for cells in zip(*values, strict=True):
                for c, value in enumerate(cells):
                    if value is None:
                        # A formatted blank keeps all-null rows (even the last) in the sheet.
                        sheet.write_blank(row, c, None, text_fmt)
                    elif sheet.write_string(row, c, value, text_fmt) == -2:
                        field = ds.fields[c]
                        raise ValueError(
                            f"数据集 {ds.id}：第 {record} 条记录字段 {field.column}"
                            f"（{field.header}）长 {len(value)} 字符，"
                            f"超过 Excel 单元格 {XLSX_MAX_CHARS} 字符上限"
                        )
                row += 1
                record += 1
        if "footer_rows" in kinds:
            sheet.write_string(row, 0, "合计", text_fmt)
            sheet.write_number(row, width - 1 if width > 2 else 1, data.num_rows)
            sheet.write_string(row + 1, 0, f"备注：本表由 {provider_name or ds.provider} 填报")
            row += 2
        if "blank_rows" in kinds:  # a coloured block past the data: cells with format only
            fill = workbook.add_format({"bg_color": "#FFFF99", "num_format": "@"})
            for r in range(row, row + 200):
                for c in range(width + 2):
                    sheet.write_blank(r, c, None, fill)
    finally:
        workbook.close()


def _set_times(path: Path, when: datetime) -> None:
    # Naive datetimes are local time (Python's rule), as the ingest reads them back.
    micros = round(when.timestamp() * 1_000_000)
    os.utime(path, ns=(micros * 1000, micros * 1000))


def write_file_drop(
    ds: DatasetSpec,
    table: pa.Table,
    root: Path,
    period: str,
    delivered_at: datetime,
    *,
    provider_name: str | None = None,
) -> Path:
    """Write the dataset's file for `period` ("YYYY-MM") and date it `delivered_at`.

    `provider_name` fills the xlsx "填报单位" title line (the department code when omitted).
    Returns the final path. Values are written exactly as given.
    """
    delivery = ds.delivery
    if delivery.channel != "file":
        raise ValueError(f"数据集 {ds.id} 的交付方式为 {delivery.channel}，不是文件")
    final = file_drop_path(ds, root, period)
    data = _prepare(ds, table)
    fmt = delivery.format
    if fmt not in ("csv", "jsonl", "xlsx"):
        raise ValueError(f"数据集 {ds.id}：不支持的文件格式 {fmt!r}")
    with _atomic(final) as tmp:
        if fmt == "xlsx":
            _write_xlsx(ds, data, tmp, period, provider_name)
        else:
            _write_stream(ds, data, tmp, fmt)
    _set_times(final, delivered_at)
    return final


# ---------------------------------------------------------------------------- 前置库


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _insert_rows(con: sqlite3.Connection, table: str, data: pa.Table) -> None:
    marks = ",".join("?" * data.num_columns)
    sql = f"INSERT INTO {_quote_ident(table)} VALUES ({marks})"
    for batch in data.to_batches(max_chunksize=BATCH_ROWS):
        con.executemany(sql, zip(*[col.to_pylist() for col in batch.columns], strict=True))


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    # One department file is rebuilt per call: serialise writers of the same period folder.
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_frontdb(
    ds: DatasetSpec,
    table: pa.Table,
    root: Path,
    period: str,
    provider: str | None = None,
) -> Path:
    """Put the dataset's period extract into its department's 前置库 and return the file.

    The SQLite file `frontdb/<period>/<provider>.sqlite` may hold several datasets of the
    department. `provider` defaults to `ds.provider` and must equal it (a 前置库 holds only its
    own department's tables). The table `delivery.table` (name used as one quoted identifier,
    dots included) has the headers as TEXT columns, no primary key (duplicate rows are kept) and
    an index on the watermark column; an existing table of that name is replaced.

    The file is rebuilt from scratch each time (tables in name order, one transaction) and
    renamed into place, so identical content gives identical bytes whatever the write history.
    """
    delivery = ds.delivery
    if delivery.channel != "frontdb":
        raise ValueError(f"数据集 {ds.id} 的交付方式为 {delivery.channel}，不是前置库")
    if provider is not None and provider != ds.provider:
        raise ValueError(f"数据集 {ds.id} 属于 {ds.provider}，不能写入 {provider} 的前置库")
    if not delivery.table:
        raise ValueError(f"数据集 {ds.id}：delivery.table 未配置")
    name = delivery.table
    headers = _headers(ds)
    data = _prepare(ds, table)
    index_column = None
    if delivery.watermark:
        by_column = {f.column: f.header for f in ds.fields}
        if delivery.watermark not in by_column:
            raise ValueError(f"数据集 {ds.id}：水印列 {delivery.watermark} 不是登记的字段")
        index_column = by_column[delivery.watermark]
    final = frontdb_path(root, period, ds.provider)
    final.parent.mkdir(parents=True, exist_ok=True)
    with _folder_lock(final.parent), _atomic(final) as tmp:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            # Page size fixed, no journal: the temporary file is discarded on any failure.
            con.execute("PRAGMA page_size = 4096")
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            kept: dict[str, tuple[str, list[str]]] = {}
            attached = final.exists()
            if attached:
                con.execute("ATTACH DATABASE ? AS old", (str(final),))
                rows = con.execute(
                    "SELECT type, name, tbl_name, sql FROM old.sqlite_master "
                    "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY name"
                ).fetchall()
                for kind, obj, _tbl, sql in rows:
                    if kind == "table" and obj != name:
                        kept[obj] = (sql, [])
                for kind, _obj, tbl, sql in rows:
                    if kind != "table" and tbl in kept:
                        kept[tbl][1].append(sql)
            con.execute("BEGIN")
            for obj in sorted({*kept, name}):
                if obj == name:
                    cols = ", ".join(f"{_quote_ident(h)} TEXT" for h in headers)
                    con.execute(f"CREATE TABLE {_quote_ident(name)} ({cols})")
                    _insert_rows(con, name, data)
                    if index_column is not None:
                        index = re.sub(r"\W", "_", f"idx_{name}_{index_column}")
                        con.execute(
                            f"CREATE INDEX {_quote_ident(index)} "
                            f"ON {_quote_ident(name)} ({_quote_ident(index_column)})"
                        )
                else:
                    create, others = kept[obj]
                    con.execute(create)
                    con.execute(
                        f"INSERT INTO main.{_quote_ident(obj)} "
                        f"SELECT * FROM old.{_quote_ident(obj)} ORDER BY rowid"
                    )
                    for sql in others:
                        con.execute(sql)
            con.execute("COMMIT")
            if attached:
                con.execute("DETACH DATABASE old")
        finally:
            con.close()
    return final


# ---------------------------------------------------------------------------- reading back


def _check_headers(ds: DatasetSpec, found: Sequence[object], path: Path) -> None:
    expected = _headers(ds)
    if list(found) != expected:
        raise ValueError(f"{path}：表头为 {list(found)}，登记为 {expected}")


def _string_table(ds: DatasetSpec, columns: Sequence[Sequence[str | None]]) -> pa.Table:
    names = [f.column for f in ds.fields]
    return pa.Table.from_arrays([pa.array(c, type=pa.string()) for c in columns], names=names)


def _read_csv(path: Path, ds: DatasetSpec) -> pa.Table:
    encoding = ds.delivery.encoding or "utf-8"
    headers = _headers(ds)
    table = pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(encoding=_CODECS[encoding]),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(headers, pa.string()),
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    )
    _check_headers(ds, table.column_names, path)
    return table.rename_columns([f.column for f in ds.fields])


def _read_jsonl(path: Path, ds: DatasetSpec) -> pa.Table:
    encoding = ds.delivery.encoding or "utf-8"
    headers = _headers(ds)
    columns: list[list[str | None]] = [[] for _ in headers]
    with open(path, encoding=encoding, newline="\n") as lines:
        for number, line in enumerate(lines, start=1):
            record = json.loads(line)
            if list(record) != headers:
                raise ValueError(f"{path} 第 {number} 行：键为 {list(record)}，登记为 {headers}")
            for column, header in zip(columns, headers, strict=True):
                column.append(record[header])
    return _string_table(ds, columns)


def _unescape_ooxml(value: str) -> str:
    # Excel stores characters XML cannot hold, and a literal "_x", as _xHHHH_.
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


def _read_xlsx(path: Path, ds: DatasetSpec) -> pa.Table:
    import openpyxl  # calamine reads empty text cells and blank cells alike

    width = len(ds.fields)
    title_rows = ds.delivery.title_rows or 0
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        for _ in range(title_rows):
            next(rows, None)
        header = list(next(rows, ()))
        if any(h is not None for h in header[width:]):
            _check_headers(ds, header, path)
        _check_headers(ds, header[:width], path)
        columns: list[list[str | None]] = [[] for _ in range(width)]
        for row in rows:
            cells = (tuple(row) + (None,) * width)[:width]
            for column, value in zip(columns, cells, strict=True):
                column.append(None if value is None else _unescape_ooxml(str(value)))
    finally:
        workbook.close()
    return _string_table(ds, columns)


def _read_sqlite(path: Path, ds: DatasetSpec) -> pa.Table:
    headers = _headers(ds)
    table = ds.delivery.table or ""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        cursor = con.execute(f"SELECT * FROM {_quote_ident(table)} ORDER BY rowid")
        _check_headers(ds, [d[0] for d in cursor.description], path)
        rows = cursor.fetchall()
    finally:
        con.close()
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in headers]
    return _string_table(ds, columns)


def _artefact_records(path: Path, ds: DatasetSpec) -> pa.Table | None:
    """The complete records of a file written with artefacts, from its truth; None for a file
    without. A file changed since it was written is an error, not a truth."""
    parts = path.parts
    if len(parts) < 5 or parts[-5] != "landing":
        return None
    root, period = Path(*parts[:-5]), parts[-2]
    ledger = artefact_ledger_path(root, period, ds.id)
    if not ledger.exists():
        return None
    truth = json.loads(ledger.read_text(encoding="utf-8"))
    if truth["file"] != path.relative_to(root).as_posix():
        return None
    if hashlib.sha256(path.read_bytes()).hexdigest() != truth["sha256"]:
        raise ValueError(f"{path}：内容与文件瑕疵账本 {ledger} 记录的 sha256 不一致")
    table = pq.read_table(ledger.with_suffix(".parquet"))
    if ds.delivery.format == "csv":  # CSV cannot tell empty from missing: as `_read_csv`
        table = pa.Table.from_arrays(
            [pc.if_else(pc.equal(c, ""), pa.scalar(None, pa.string()), c) for c in table.columns],
            names=table.column_names,
        )
    return table


def read_back(path: Path, ds: DatasetSpec) -> pa.Table:
    """Read a file written here into a string table with the fields' `column` names.

    A file written with artefacts (`write_artefact_drop`) reads back as the complete records its
    truth holds, checked against the file's sha256.

    A faithful reader for round-trip checks that decodes with the declared encoding; it is not
    the platform's ingest (which must detect encodings on its own). CSV empty fields read as null.
    """
    path = Path(path)
    if ds.delivery.channel == "frontdb":
        return _read_sqlite(path, ds)
    clean = _artefact_records(path, ds)
    if clean is not None:
        return clean
    readers = {"csv": _read_csv, "jsonl": _read_jsonl, "xlsx": _read_xlsx}
    fmt = ds.delivery.format
    if fmt not in readers:
        raise ValueError(f"数据集 {ds.id}：不支持的文件格式 {fmt!r}")
    return readers[fmt](path, ds)


# ---------------------------------------------------------------------------- file artefacts

# What a spreadsheet or an editor does to a file on its way to the platform, by format. Each
# leaves every record complete except `cut`, which ends the file inside one more record.
ARTEFACTS: dict[str, tuple[str, ...]] = {
    "csv": (
        "trailing_empty_columns",
        "utf16",
        "unterminated_last_line",
        "cut",
        "title_rows",
        "footer_rows",
        "blank_rows",
        "formula_text",
        "cr_line_ends",
        "mixed_line_ends",
        "nul_padding",
    ),
    "jsonl": ("unterminated_last_line", "cut", "blank_rows", "mixed_line_ends", "nul_padding"),
    "xlsx": ("title_rows", "footer_rows", "blank_rows", "trailing_empty_columns"),
}
# Kinds that cannot share a file: a cut or a missing last line end is what ends the file.
_LAST_LINE = ("cut", "unterminated_last_line", "footer_rows")


def artefact_ledger_path(root: Path, period: str, dataset: str) -> Path:
    """The file-level truth of one artefact-carrying delivery (beside it, `<dataset>.parquet`
    holds its complete records as written, for `read_back`)."""
    return Path(root) / "ledger" / period / "files" / f"{dataset}.json"


def choose_artefacts(ds: DatasetSpec, period: str, share: float, seed: int) -> tuple[str, ...]:
    """The artefacts (none with probability 1 − share) one delivery carries, drawn from its
    format's kinds: one to four of them, at most one of the kinds that end the file."""
    kinds = ARTEFACTS.get(ds.delivery.format or "", ())
    rng = np.random.default_rng([seed, *period_yyyymm(period).encode(), *ds.id.encode(), 7])
    if not kinds or rng.random() >= share:
        return ()
    count = int(rng.integers(1, min(4, len(kinds)) + 1))
    picked: list[str] = []
    for kind in rng.permutation(np.array(kinds, dtype=object)):
        if len(picked) == count:
            break
        if kind in _LAST_LINE and any(k in _LAST_LINE for k in picked):
            continue
        picked.append(str(kind))
    return tuple(sorted(picked))


def write_artefact_drop(
    ds: DatasetSpec,
    table: pa.Table,
    root: Path,
    period: str,
    delivered_at: datetime,
    kinds: Sequence[str],
    *,
    seed: int = 0,
) -> tuple[Path, dict]:
    """Write the dataset's file for `period` carrying the file artefacts `kinds`, and its truth.

    The truth (also written to `artefact_ledger_path`) names the file, its artefacts, how many
    records are complete (all of `table`, in order) and where the cut record lies if one was
    cut: the cut record is one more copy of the last record, ended inside its last value, so
    the complete records stay exactly the table and every value-level ledger row stays true.
    Files are built in memory: artefact deliveries are for tests and demo-sized cities.
    """
    fmt = ds.delivery.format or ""
    unknown = [k for k in kinds if k not in ARTEFACTS.get(fmt, ())]
    if unknown:
        raise ValueError(f"数据集 {ds.id}（{fmt}）不能带有文件瑕疵 {unknown}")
    if sum(k in _LAST_LINE for k in kinds) > 1:
        raise ValueError(f"文件瑕疵 {'、'.join(_LAST_LINE)} 互斥：每个文件只有一个末行")
    if ds.delivery.channel != "file":
        raise ValueError(f"数据集 {ds.id} 的交付方式为 {ds.delivery.channel}，不是文件")
    data = _prepare(ds, table)
    rng = np.random.default_rng([seed, *period_yyyymm(period).encode(), *ds.id.encode()])
    final = file_drop_path(ds, root, period)
    truth = {
        "dataset": ds.id,
        "period": period,
        "format": fmt,
        "file": final.relative_to(Path(root)).as_posix(),
        "artefacts": sorted(set(kinds)),
        "complete_records": data.num_rows,
        "cut_line": None,
        "cut_column": None,
    }
    with _atomic(final) as tmp:
        if fmt == "xlsx":
            _write_xlsx(ds, data, tmp, period, None, kinds=set(kinds))
        else:
            body, cut, applied = _artefact_text(ds, data, set(kinds), rng, period)
            tmp.write_bytes(body)
            truth["artefacts"] = sorted(applied)
            if cut is not None:
                truth["cut_line"], truth["cut_column"] = cut
    _set_times(final, delivered_at)
    truth["sha256"] = hashlib.sha256(final.read_bytes()).hexdigest()
    ledger = artefact_ledger_path(root, period, ds.id)
    with _atomic(ledger.with_suffix(".parquet")) as tmp:
        pq.write_table(data, tmp, compression="zstd")
    with _atomic(ledger) as tmp:
        tmp.write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    return final, truth


def _artefact_text(ds, data: pa.Table, kinds: set[str], rng, period: str):
    """The CSV or JSON-lines file with its artefacts, (line, column) of the cut record, and the
    artefacts the data allowed (no text-forcing without a leading zero, no CR line ends where
    values hold line breaks or line ends are mixed)."""
    applied = set(kinds)
    fmt = ds.delivery.format
    encoding = ds.delivery.encoding or "utf-8"
    codec = _CODECS[encoding]
    sep = "\t" if "utf16" in kinds else ","
    width = len(ds.fields)
    if fmt == "csv":
        if "formula_text" in kinds:
            forced = r"^(0\d{5,})$"
            if not any(pc.any(pc.match_substring_regex(c, forced)).as_py() for c in data.columns):
                applied.discard("formula_text")
            data = pa.Table.from_arrays(
                [pc.replace_substring_regex(c, r"^(0\d{5,})$", r'="\1"') for c in data.columns],
                names=data.column_names,
            )
        extra = sep * 3 if "trailing_empty_columns" in kinds else ""
        header = sep.join(_csv_quote(h, width == 1, sep) for h in _headers(ds)) + extra
        records = [
            sep.join(_csv_quote(v or "", width == 1, sep) for v in row) + extra
            for row in zip(*[c.to_pylist() for c in data.columns], strict=True)
        ]
        lines = [header]
        if "title_rows" in kinds:
            lines.insert(0, f"{ds.name}（{period[:4]}年{period[5:]}月）" + sep * (width - 1))
    else:
        lines = []
        text = "".join(_jsonl_lines(ds, b).decode() for b in data.to_batches())
        records = text.split("\n")[:-1]
    blank = sep * (width - 1) if fmt == "csv" else ""
    body = list(records)
    if "blank_rows" in kinds and body:
        body.insert(len(body) // 2, blank)
    lines += body
    if "blank_rows" in kinds and "cut" not in kinds:
        lines += [blank, blank]
    if "footer_rows" in kinds:
        lines += [f"合计{sep * (width - 1)}{len(records)}", f"备注：本表由 {ds.provider} 填报"]
    eol = "\r\n" if encoding in _CRLF_ENCODINGS and fmt == "csv" else "\n"
    values_break = any("\r" in line or "\n" in line for line in lines)
    if "cr_line_ends" in kinds and not values_break and "mixed_line_ends" not in kinds:
        eol = "\r"
    else:
        applied.discard("cr_line_ends")
    if "mixed_line_ends" in kinds:
        ends = ["\r\n" if i % 2 else "\n" for i in range(len(lines))]
    else:
        ends = [eol] * len(lines)
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    cut = None
    if "unterminated_last_line" in kinds and lines:
        text = text[: -len(ends[-1])]
    elif "cut" in kinds and records:
        last = records[-1]
        column = None
        if fmt == "csv":
            quoted = _csv_quote(data.column(width - 1)[-1].as_py() or "", width == 1, sep)
            end = len(last) - len(extra)
            start = end - len(quoted)
            if len(quoted) >= 2:  # inside the last value: the record keeps its width
                at, column = int(rng.integers(start + 1, end)), width
            else:  # too short to cut inside: the record loses its last fields
                at = int(rng.integers(1, max(start, 2)))
        else:
            at = int(rng.integers(1, len(last)))
        # Physical lines before the cut one: one per line end, plus breaks inside values.
        breaks = len(lines) + sum(line.count("\n") for line in lines)
        cut = (breaks + 1, column)
        text += last[:at]
    if "utf16" in kinds:
        order = "utf-16-le" if rng.integers(2) else "utf-16-be"
        out = ("\ufeff" if rng.integers(2) else "") + text
        data_bytes = out.encode(order)
    else:
        data_bytes = (_BOM if encoding == "utf-8-sig" else b"") + text.encode(codec)
    if "nul_padding" in kinds:
        data_bytes += b"\x00" * (4096 + (-len(data_bytes)) % 4096)
    return data_bytes, cut, applied
