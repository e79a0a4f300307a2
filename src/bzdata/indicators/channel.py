"""The reporting channel of the 指标库: templates out, validated values in, every version kept."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bzdata import duck
from bzdata.periods import is_period
from bzdata.registry import Indicator, Registry
from bzdata.storage import write_parquet

SHEET = "指标填报"
META_SHEET = "填报说明"
HEADERS = (
    "序号",
    "指标名称",
    "单位",
    "2025年目标",
    "上期值",
    "本期值",
    "统计口径",
    "佐证材料或数据来源",
)

VALUE_SCHEMA = pa.schema(
    [
        ("indicator_no", pa.int64()),
        ("period", pa.string()),
        ("department", pa.string()),
        ("value", pa.float64()),
        ("caliber", pa.string()),
        ("evidence", pa.string()),
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("received_at", pa.timestamp("s", tz="UTC")),
        ("delivery_id", pa.string()),
    ]
)
REJECT_SCHEMA = pa.schema(
    [
        ("department", pa.string()),
        ("period", pa.string()),
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("indicator_no", pa.int64()),
        ("raw_value", pa.string()),
        ("reason", pa.string()),
        ("delivery_id", pa.string()),
    ]
)
DELIVERY_SCHEMA = pa.schema(
    [
        ("delivery_id", pa.string()),
        ("department", pa.string()),
        ("period", pa.string()),
        ("source_file", pa.string()),
        ("sha256", pa.string()),
        ("received_at", pa.timestamp("s", tz="UTC")),
        ("rows_read", pa.int64()),
        ("rows_accepted", pa.int64()),
        ("rows_rejected", pa.int64()),
    ]
)


FILE_REJECT_SCHEMA = pa.schema(
    [
        ("delivery_id", pa.string()),
        ("department", pa.string()),
        ("period", pa.string()),
        ("source_file", pa.string()),
        ("reason", pa.string()),
    ]
)
# Where a department's returns land: <landing>/<dept>/LANDING_FOLDER/<YYYY-MM>/<file>.xlsx
LANDING_FOLDER = "indicators"
# Reports of a period are due on this day of the following month (like the extracts' due_day).
DUE_DAY = 10


class IndicatorFileError(ValueError):
    """A returned file cannot be read at all; the message names the file and what was expected."""


def indicators_of(registry: Registry, dept: str) -> list[Indicator]:
    """Reported indicators the department is responsible for, in plan order."""
    registry.department(dept)
    return [i for i in registry.indicators if i.department == dept and i.source == "reported"]


def file_name(dept: str, period: str) -> str:
    return f"指标填报_{dept}_{period.replace('-', '')}.xlsx"


def _store(lake: Path, kind: str) -> Path:
    return Path(lake) / "indicators" / kind


@dataclass(frozen=True)
class Filled:
    """What a department types into one row of its template (the synthetic city and tests).

    `unit` left None keeps the registry's unit; a department that changes the locked unit cell
    (it can lift the sheet protection) gives another one.
    """

    value: object
    caliber: str = ""
    evidence: str = ""
    unit: str | None = None


def template(
    registry: Registry,
    dept: str,
    period: str,
    lake: Path,
    out: Path,
    *,
    filled: Mapping[int, Filled] | None = None,
    previous: Mapping[int, float] | None = None,
    meta_period: str | None = None,
    created: datetime | None = None,
) -> Path:
    """Write the department's template for the period into folder `out`; returns the file.

    `filled` writes a department's return instead of a blank template; `previous` gives the
    上期值 instead of the store's; `meta_period` is the 报送期 the file claims (a department
    that fills in an old template); `created` fixes the document time, so the same inputs give
    the same bytes.
    """
    import xlsxwriter

    if not is_period(period):
        raise ValueError(f"报送期应为 YYYY-MM，而不是 {period!r}")
    items = indicators_of(registry, dept)
    if not items:
        raise ValueError(f"部门 {dept} 没有需要填报的指标")
    last = dict(previous) if previous is not None else latest_before(read_values(lake), period)
    filled = filled or {}
    path = Path(out) / file_name(dept, meta_period or period)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    try:
        book.set_properties(
            {"title": f"指标填报 {dept} {period}", "created": created or datetime(2023, 1, 1)}
        )
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        locked = book.add_format({"border": 1, "bg_color": "#F2F2F2"})
        free = book.add_format({"border": 1, "locked": False})
        sheet = book.add_worksheet(SHEET)
        sheet.write_row(0, 0, HEADERS, head)
        for r, item in enumerate(items, start=1):
            low, high = item.bounds
            entry = filled.get(item.no)
            sheet.write_number(r, 0, item.no, locked)
            sheet.write_string(r, 1, item.name, locked)
            unit = entry.unit if entry is not None and entry.unit is not None else item.unit
            sheet.write_string(r, 2, unit, locked)
            sheet.write_number(r, 3, item.target, locked)
            prior = last.get(item.no)
            if prior is None:
                sheet.write_blank(r, 4, None, locked)
            else:
                sheet.write_number(r, 4, prior, locked)
            if entry is None:
                sheet.write_blank(r, 5, None, free)
                sheet.write_blank(r, 6, None, free)
                sheet.write_blank(r, 7, None, free)
            else:
                if isinstance(entry.value, int | float):
                    sheet.write_number(r, 5, entry.value, free)
                else:
                    sheet.write_string(r, 5, str(entry.value), free)
                sheet.write_string(r, 6, entry.caliber, free)
                sheet.write_string(r, 7, entry.evidence, free)
            rule = {"validate": "decimal", "criteria": ">=", "value": low}
            if high is not None:
                rule = {"validate": "decimal", "criteria": "between", "minimum": low}
                rule["maximum"] = high
            rule["error_message"] = f"应为数字，范围 {_range_text(item)}"
            sheet.data_validation(r, 5, r, 5, rule)
        sheet.set_column(1, 1, 40)
        sheet.set_column(6, 7, 30)
        sheet.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
        meta = book.add_worksheet(META_SHEET)
        meta.write_row(0, 0, ("项目", "内容"), head)
        meta.write_row(1, 0, ("部门代码", dept))
        meta.write_row(2, 0, ("部门", registry.department(dept).name))
        meta.write_row(3, 0, ("报送期", meta_period or period))
        meta.write_row(
            4, 0, ("说明", "只填写本期值、统计口径和佐证材料；更正请重新报送，平台保留每个版本。")
        )
    finally:
        book.close()
    return path


def _range_text(item: Indicator) -> str:
    low, high = item.bounds
    return f"{low:g}–{high:g}" if high is not None else f"不小于 {low:g}"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_sheets(path: Path) -> tuple[dict[str, str], list[list[object]]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several error types for a non-XLSX file
        raise IndicatorFileError(f"{path.name}：无法作为 XLSX 读取（{exc}）") from None
    names = book.sheet_names
    for needed in (SHEET, META_SHEET):
        if needed not in names:
            raise IndicatorFileError(f"{path.name}：缺少工作表“{needed}”，应使用平台生成的模板")
    meta = {
        _cell_text(row[0]): _cell_text(row[1])
        for row in book.get_sheet_by_name(META_SHEET).to_python()[1:]
        if len(row) >= 2
    }
    rows = book.get_sheet_by_name(SHEET).to_python()
    header = tuple(_cell_text(c) for c in (rows[0] if rows else ()))[: len(HEADERS)]
    if header != HEADERS:
        raise IndicatorFileError(
            f"{path.name}：第 1 行表头应为 {'、'.join(HEADERS)}，实际为 {'、'.join(header)}"
        )
    return meta, rows[1:]


def _check(
    item: Indicator | None, raw: object, no: str, dept: str, unit: str
) -> tuple[float | None, str]:
    """(value, "") for an acceptable cell, (None, reason) otherwise."""
    if item is None:
        return None, f"序号 {no or '（空）'} 不是 {dept} 负责填报的指标"
    if unit != item.unit:
        return None, (
            f"{item.name} 的单位应为 {item.unit or '（无单位）'}，实际为 {unit or '（空）'}"
            "：请按模板单位换算后填报"
        )
    text = _cell_text(raw)
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None, f"本期值应为数字（单位 {item.unit or '无'}），实际为 {text!r}"
    if not math.isfinite(value):
        return None, f"本期值应为有限数字，实际为 {text!r}"
    low, high = item.bounds
    if (low is not None and value < low) or (high is not None and value > high):
        return None, f"{item.name} 的值 {text} 超出范围 {_range_text(item)}"
    if item.unit in ("个", "项", "人") and not value.is_integer():
        return None, f"{item.name} 以{item.unit}计，应为整数，实际为 {text}"
    return value, ""


def ingest_file(registry: Registry, path: Path, lake: Path) -> dict:
    """Validate one returned template and append it to the store; returns its delivery row.

    Idempotent: the same bytes again are the same delivery (nothing new is written).
    Rows read = rows accepted + rows rejected; a bad row never costs the file's other rows.
    """
    path = Path(path)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    delivery_id = digest[:16]
    meta, rows = _read_sheets(path)
    dept, period = meta.get("部门代码", ""), meta.get("报送期", "")
    if dept not in {d.code for d in registry.departments}:
        raise IndicatorFileError(f"{path.name}：“{META_SHEET}”中的部门代码 {dept!r} 未登记")
    if not is_period(period):
        raise IndicatorFileError(f"{path.name}：报送期应为 YYYY-MM，实际为 {period!r}")
    if path.parent.name != period and is_period(path.parent.name):
        raise IndicatorFileError(
            f"{path.name}：文件中的报送期 {period} 与所在报送期目录 {path.parent.name} 不一致"
        )
    received = datetime.fromtimestamp(int(path.stat().st_mtime), UTC)
    own = {i.no: i for i in indicators_of(registry, dept)}
    accepted: list[dict] = []
    rejected: list[dict] = []
    for number, row in enumerate(rows, start=2):
        cells = [*row, *[None] * len(HEADERS)][: len(HEADERS)]
        # A row left blank is not reported (缺报 if due), not a bad value.
        if _cell_text(cells[5]) == "":
            continue
        no = _cell_text(cells[0])
        item = own.get(int(no)) if no.isdigit() else None
        value, reason = _check(item, cells[5], no, dept, _cell_text(cells[2]))
        base = {"source_file": path.name, "source_row": number, "delivery_id": delivery_id}
        if reason:
            rejected.append(
                {
                    **base,
                    "department": dept,
                    "period": period,
                    "indicator_no": int(no) if no.isdigit() else None,
                    "raw_value": _cell_text(cells[5]),
                    "reason": reason,
                }
            )
            continue
        accepted.append(
            {
                **base,
                "indicator_no": item.no,
                "period": period,
                "department": dept,
                "value": value,
                "caliber": _cell_text(cells[6]),
                "evidence": _cell_text(cells[7]),
                "received_at": received,
            }
        )
    delivery = {
        "delivery_id": delivery_id,
        "department": dept,
        "period": period,
        "source_file": path.name,
        "sha256": digest,
        "received_at": received,
        "rows_read": len(accepted) + len(rejected),
        "rows_accepted": len(accepted),
        "rows_rejected": len(rejected),
    }
    marker = _store(lake, "deliveries") / f"{delivery_id}.parquet"
    if marker.is_file():
        return delivery
    write_parquet(
        pa.Table.from_pylist(accepted, VALUE_SCHEMA),
        _store(lake, "values") / f"{delivery_id}.parquet",
    )
    write_parquet(
        pa.Table.from_pylist(rejected, REJECT_SCHEMA),
        _store(lake, "rejects") / f"{delivery_id}.parquet",
    )
    # Written last: its presence says the delivery is complete.
    write_parquet(pa.Table.from_pylist([delivery], DELIVERY_SCHEMA), marker)
    return delivery


def _read(lake: Path, kind: str, schema: pa.Schema) -> pa.Table:
    done = {p.stem for p in _store(lake, "deliveries").glob("*.parquet")}
    files = sorted(p for p in _store(lake, kind).glob("*.parquet") if p.stem in done)
    tables = [pq.read_table(p, schema=schema) for p in files]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def read_rejects(lake: Path) -> pa.Table:
    return _read(lake, "rejects", REJECT_SCHEMA)


def read_values(lake: Path) -> pa.Table:
    """Every accepted value with its provenance and `version` (1 = first report of that
    indicator and period); `is_latest` marks the version that counts."""

    values = _read(lake, "values", VALUE_SCHEMA)
    con = duck.connect()
    try:
        con.register("reported", values)
        return con.sql(
            """
            select
                *,
                row_number() over w as version,
                row_number() over w = count(*) over (partition by indicator_no, period) as is_latest
            from reported
            window w as (
                partition by indicator_no, period order by received_at, source_file, source_row
            )
            order by indicator_no, period, version
            """
        ).to_arrow_table()
    finally:
        con.close()


def latest_before(values: pa.Table, period: str) -> dict[int, float]:
    """The latest value of each indicator reported for a period before `period`."""
    best: dict[int, tuple[str, float]] = {}
    for row in values.to_pylist():
        no = row["indicator_no"]
        newer = no not in best or best[no][0] < row["period"]
        if row["is_latest"] and row["period"] < period and newer:
            best[no] = (row["period"], row["value"])
    return {no: value for no, (_, value) in best.items()}


def landing_files(landing: Path, period: str) -> list[tuple[str, Path]]:
    """(department folder, file) of every returned template of the period in the landing zone."""
    found = []
    for path in sorted(Path(landing).glob(f"*/{LANDING_FOLDER}/{period}/*.xlsx")):
        found.append((path.parents[2].name, path))
    return found


def collect_period(registry: Registry, landing: Path, lake: Path, period: str) -> dict:
    """Ingest every returned template of the period; a file that cannot be taken at all is kept
    as a file rejection (department, file, reason) instead of stopping the others."""
    summary = {"period": period, "files": 0, "rows_accepted": 0, "rows_rejected": 0}
    rejected_files: list[dict] = []
    for dept, path in landing_files(landing, period):
        summary["files"] += 1
        try:
            row = ingest_file(registry, path, lake)
        except IndicatorFileError as exc:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            reject = {
                "delivery_id": digest,
                "department": dept,
                "period": period,
                "source_file": path.name,
                "reason": str(exc),
            }
            write_parquet(
                pa.Table.from_pylist([reject], FILE_REJECT_SCHEMA),
                _store(lake, "file_rejects") / f"{digest}.parquet",
            )
            rejected_files.append(reject)
            continue
        summary["rows_accepted"] += row["rows_accepted"]
        summary["rows_rejected"] += row["rows_rejected"]
    summary["files_rejected"] = rejected_files
    return summary


def read_file_rejects(lake: Path) -> pa.Table:
    files = sorted(_store(lake, "file_rejects").glob("*.parquet"))
    tables = [pq.read_table(p, schema=FILE_REJECT_SCHEMA) for p in files]
    return pa.concat_tables(tables) if tables else FILE_REJECT_SCHEMA.empty_table()


def read_deliveries(lake: Path) -> pa.Table:
    files = sorted(_store(lake, "deliveries").glob("*.parquet"))
    tables = [pq.read_table(p, schema=DELIVERY_SCHEMA) for p in files]
    return pa.concat_tables(tables) if tables else DELIVERY_SCHEMA.empty_table()


def due_at(period: str) -> datetime:
    """End of the due day (Beijing time, as UTC) for the period's reports."""
    from datetime import timedelta, timezone

    year, month = (int(x) for x in period.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    local = datetime(year, month, DUE_DAY, 23, 59, 59, tzinfo=timezone(timedelta(hours=8)))
    return local.astimezone(UTC)
