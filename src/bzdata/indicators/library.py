"""The 指标库 of a period: every one of the plan's 45 indicators with its value and where it comes
from — computed in the warehouse (dbt marts/indicator), the 需求满足率 of the 共享需求清单 (44), or
the responsible department's return — its series, completion and whether it is on track.

    library(registry, work, period)        -> one row per indicator (dicts, plan order)
    department_gaps(registry, lake, period) -> per department: reported indicators due and not
                                              reported by the due day (缺报 / 被拒 / 逾期)
    write_library(work, period)            -> lake/indicators/library/period=<P>/library.parquet

On track: a straight path from the first value of the series (its 基期) to the 2025 target at
2025-12; a value on or beyond the path (≥ targets: at or above it; ≤ targets such as PUE: at or
below it) is on track. A series of one period is its own 基期 and gets no judgement.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bzdata.indicators.channel import (
    due_at,
    read_file_rejects,
    read_rejects,
    read_values,
)
from bzdata.registry import Indicator, Registry

TARGET_PERIOD = "2025-12"
DEMAND_INDICATOR = 44
# A value counts as computed when the warehouse's mart says so.
COMPUTED_STATUS = "已计算"

STATUS_COMPUTED = "已计算"
STATUS_REPORTED = "已填报"
STATUS_LATE = "逾期填报"
STATUS_REFUSED = "被拒"
STATUS_MISSING = "缺报"
STATUS_NO_DEPT = "无责任部门"
STATUS_NO_DATA = "无数据"

LIBRARY_SCHEMA = pa.schema(
    [
        ("period", pa.string()),
        ("indicator_no", pa.int64()),
        ("indicator_name", pa.string()),
        ("unit", pa.string()),
        ("category", pa.string()),
        ("indicator_attribute", pa.string()),
        ("comparator", pa.string()),
        ("target_value", pa.float64()),
        ("value_source", pa.string()),
        ("department", pa.string()),
        ("value", pa.float64()),
        ("status", pa.string()),
        ("status_note", pa.string()),
        ("method_note", pa.string()),
        ("baseline_period", pa.string()),
        ("baseline_value", pa.float64()),
        ("path_value", pa.float64()),
        ("completion_rate", pa.float64()),
        ("is_met", pa.bool_()),
        ("on_track", pa.bool_()),
    ]
)


def month_number(period: str) -> int:
    year, month = (int(x) for x in period.split("-"))
    return year * 12 + month - 1


def path_value(baseline: float, baseline_period: str, target: float, period: str) -> float | None:
    """The linear path's value in `period` from (baseline_period, baseline) to the target."""
    span = month_number(TARGET_PERIOD) - month_number(baseline_period)
    if span <= 0:
        return target
    done = min(max(month_number(period) - month_number(baseline_period), 0), span) / span
    return baseline + (target - baseline) * done


def on_track(
    item: Indicator, value: float, baseline: float, baseline_period: str, period: str
) -> bool | None:
    """Whether `value` in `period` is on or beyond the path; None when the period is the 基期."""
    if period == baseline_period:
        return None
    expected = path_value(baseline, baseline_period, float(item.target), period)
    return value >= expected if item.comparator == ">=" else value <= expected


def completion(item: Indicator, value: float) -> float:
    target = float(item.target)
    if item.comparator == ">=":
        return min(value / target, 1.0) if target else 1.0
    return 1.0 if value <= 0 else min(target / value, 1.0)


# --- sources ----------------------------------------------------------------------------------


def warehouse_values(warehouse: Path, period: str) -> dict[int, tuple[float, str]]:
    """indicator_no -> (value, method) of what the warehouse's mart computed for `period`
    (read-only); empty when the warehouse holds another period's build."""
    from bzdata import duck

    if not Path(warehouse).is_file():
        return {}
    con = duck.connect(warehouse, read_only=True)
    try:
        rows = con.execute(
            "select indicator_no, indicator_value, method_note from indicator.indicator_library "
            "where value_status = ? and indicator_value is not null and period = ?",
            [COMPUTED_STATUS, period],
        ).fetchall()
    finally:
        con.close()
    return {int(no): (float(value), note) for no, value, note in rows}


def demand_rate(work: Path, period: str) -> float | None:
    """City-wide 需求满足率 of the period in percent (lake/catalog/demand_satisfaction), if any."""
    from bzdata.catalog import CITY, demand_satisfaction

    city = demand_satisfaction(work, period).get(CITY)
    rate = city.rate if city is not None else None
    return None if rate is None else 100.0 * rate


def _reported(lake: Path) -> dict[tuple[int, str], dict]:
    """(indicator, period) -> the latest accepted version."""
    return {
        (r["indicator_no"], r["period"]): r for r in read_values(lake).to_pylist() if r["is_latest"]
    }


def department_gaps(registry: Registry, lake: Path, period: str) -> dict[str, list[dict]]:
    """Reported indicators due from each department for the period without a value received
    by the due day: 缺报 (nothing arrived), 被拒 (a return refused: file or row, with the
    reason) or 逾期 (taken, but after the due day)."""
    values = _reported(lake)
    due = due_at(period)
    refused_rows = {
        r["indicator_no"]: r for r in read_rejects(lake).to_pylist() if r["period"] == period
    }
    refused_files = {
        r["department"]: r for r in read_file_rejects(lake).to_pylist() if r["period"] == period
    }
    gaps: dict[str, list[dict]] = {}
    for item in registry.indicators:
        if item.source != "reported" or not item.department:
            continue
        found = values.get((item.no, period))
        if found is not None and found["received_at"] <= due:
            continue
        if found is not None:
            kind = "逾期"
            reason = (
                f"{found['source_file']} 于 {found['received_at']:%Y-%m-%d} 送达，晚于报送截止日"
            )
        elif item.no in refused_rows:
            row = refused_rows[item.no]
            kind = "被拒"
            reason = f"{row['source_file']} 第 {row['source_row']} 行：{row['reason']}"
        elif item.department in refused_files:
            kind, reason = "被拒", refused_files[item.department]["reason"]
        else:
            kind, reason = "缺报", "本期未报送"
        gaps.setdefault(item.department, []).append(
            {
                "indicator_no": item.no,
                "indicator_name": item.name,
                "kind": kind,
                "reason": reason,
                "due_at": due,
            }
        )
    return gaps


# --- the library ------------------------------------------------------------------------------


def history(lake: Path) -> dict[int, dict[str, float]]:
    """indicator_no -> {period: value} from the libraries written for earlier periods and the
    departments' latest accepted versions."""
    series: dict[int, dict[str, float]] = {}
    for path in sorted((Path(lake) / "indicators" / "library").glob("period=*/library.parquet")):
        for row in pq.read_table(path).to_pylist():
            if row["value"] is not None:
                series.setdefault(row["indicator_no"], {})[row["period"]] = row["value"]
    for (no, period), row in _reported(lake).items():
        series.setdefault(no, {})[period] = row["value"]
    return series


def library(registry: Registry, work: Path, period: str) -> list[dict]:
    """The period's 45 rows (LIBRARY_SCHEMA), in plan order."""
    work = Path(work)
    lake = work / "lake"
    computed = warehouse_values(work / "warehouse" / "bzdata.duckdb", period)
    reported = _reported(lake)
    gaps = {
        g["indicator_no"]: g
        for rows in department_gaps(registry, lake, period).values()
        for g in rows
    }
    series = history(lake)
    rows = []
    for item in registry.indicators:
        value, note, method = None, "", ""
        if item.source == "computed" and item.no == DEMAND_INDICATOR:
            value = demand_rate(work, period)
            method = "共享需求清单中截至本期已到期需求的满足率：已满足 / 已到期（全市）"
            status = STATUS_COMPUTED if value is not None else STATUS_NO_DATA
            if value is None:
                note = f"本期（{period}）尚无需求满足率（lake/catalog/demand_satisfaction）"
        elif item.source == "computed":
            value, method = computed.get(item.no, (None, ""))
            status = STATUS_COMPUTED if value is not None else STATUS_NO_DATA
            if value is None:
                note = "数据仓库中没有本期的计算结果（本期指标库尚未构建）"
        elif not item.department:
            status = STATUS_NO_DEPT
            method = "由责任部门填报"
            note = "登记簿未明确责任部门，无法下发填报模板；平台汇聚的数据不含该指标所需数据"
        else:
            method = "由责任部门通过指标填报渠道报送"
            found = reported.get((item.no, period))
            gap = gaps.get(item.no)
            if found is not None:
                value = found["value"]
                status = STATUS_LATE if gap else STATUS_REPORTED
                note = (
                    f"{found['source_file']} 第 {found['source_row']} 行，第 {found['version']} 版"
                )
                if found["caliber"]:
                    note += f"；口径：{found['caliber']}"
            else:
                status = STATUS_REFUSED if gap and gap["kind"] == "被拒" else STATUS_MISSING
                who = registry.department(item.department).name
                note = f"{who}：{gap['reason'] if gap else '本期未报送'}"
        points = dict(series.get(item.no, {}))
        if value is not None:
            points[period] = value
        points = {p: v for p, v in points.items() if p <= period}
        baseline_period = min(points) if points else None
        baseline = points[baseline_period] if baseline_period else None
        track = expected = None
        if value is not None and baseline is not None:
            track = on_track(item, value, baseline, baseline_period, period)
            expected = path_value(baseline, baseline_period, float(item.target), period)
        rows.append(
            {
                "period": period,
                "indicator_no": item.no,
                "indicator_name": item.name,
                "unit": item.unit,
                "category": item.category,
                "indicator_attribute": item.attribute,
                "comparator": item.comparator,
                "target_value": float(item.target),
                "value_source": item.source,
                "department": item.department,
                "value": value,
                "status": status,
                "status_note": note,
                "method_note": method,
                "baseline_period": baseline_period,
                "baseline_value": baseline,
                "path_value": expected,
                "completion_rate": None if value is None else completion(item, value),
                "is_met": None if value is None else item.is_met(value),
                "on_track": track,
            }
        )
    return rows


def library_file(lake: Path, period: str) -> Path:
    return Path(lake) / "indicators" / "library" / f"period={period}" / "library.parquet"


def write_library(registry: Registry, work: Path, period: str) -> tuple[Path, list[dict]]:
    """Write the period's library (replaced whole; later periods' series read it)."""
    from bzdata.storage import write_parquet

    rows = library(registry, work, period)
    path = library_file(Path(work) / "lake", period)
    write_parquet(pa.Table.from_pylist(rows, LIBRARY_SCHEMA), path)
    return path, rows


def series_of(lake: Path, period: str) -> dict[int, list[tuple[str, float]]]:
    """indicator_no -> [(period, value)] up to `period`, in order (what the charts draw)."""
    return {
        no: sorted((p, v) for p, v in points.items() if p <= period)
        for no, points in history(lake).items()
    }
