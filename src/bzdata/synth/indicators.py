"""The synthetic city's 指标 reports: each responsible department returns the real template of
the 指标 channel every period, filled with values that move toward the plan's 2025 targets, and
some returns go wrong the way they do in a city — recorded in a ledger, the truth tests use.

    landing/<dept>/indicators/<YYYY-MM>/指标填报_<dept>_<YYYYMM>.xlsx   the return (mtime = arrival)
    ledger/<YYYY-MM>/indicators.parquet                               every injected report defect

Defect kinds (one ledger row per indicator affected):

    missing_report  no file that period (缺报), or the row left blank
    wrong_period    last period's template returned into this period's folder (whole file refused)
    late            the file arrives after the due day (its values are still taken, late)
    wrong_unit      the locked 单位 cell changed and the value given in that unit
    out_of_range    a value outside the indicator's range (a percentage over 100, a PUE under 1)

Every draw comes from generators keyed by (seed, what, …) of its own, so adding this changes no
byte of the other extracts.
"""

from __future__ import annotations

import os
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from bzdata.indicators.channel import DUE_DAY, LANDING_FOLDER, Filled, template
from bzdata.registry import Indicator, Registry
from bzdata.storage import write_parquet

LEDGER_SCHEMA = pa.schema(
    [
        ("period", pa.string()),
        ("department", pa.string()),
        ("indicator_no", pa.int64()),
        ("defect_kind", pa.string()),
        ("source_file", pa.string()),
        ("detail", pa.string()),
    ]
)
DEFECT_KINDS = ("missing_report", "wrong_period", "late", "wrong_unit", "out_of_range")
# Chances per department-period (file) and per row.
P_MISSING_FILE = 0.08
P_WRONG_PERIOD = 0.05
P_LATE = 0.12
P_BLANK_ROW = 0.04
P_WRONG_UNIT = 0.05
P_OUT_OF_RANGE = 0.05
# The plan runs 2023-01 … 2025-12; values move along it.
PLAN_START = "2023-01"
PLAN_MONTHS = 36
# A unit a department writes instead of the template's, and the factor its value then carries.
OTHER_UNIT = {"%": ("‰", 10.0), "个": ("万个", 1e-4), "项": ("万项", 1e-4), "人": ("万人", 1e-4)}
OTHER_UNIT |= {"亿元": ("万元", 1e4), "": ("%", 100.0)}


def _rng(seed: int, *keys: object) -> np.random.Generator:
    words = [zlib.crc32(str(k).encode()) for k in ("indicators", *keys)]
    return np.random.default_rng([seed, *words])


def _month_index(period: str) -> int:
    year, month = (int(x) for x in period.split("-"))
    start_year, start_month = (int(x) for x in PLAN_START.split("-"))
    return (year - start_year) * 12 + month - start_month


def _previous(period: str) -> str:
    year, month = (int(x) for x in period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def _digits(item: Indicator) -> int:
    if item.unit in ("个", "项", "人"):
        return 0
    return 2 if item.unit == "" and item.comparator == "<=" else 1


def true_value(item: Indicator, period: str, seed: int) -> float:
    """The city's value of the indicator in the period: a baseline at the plan's start moving
    toward the target at a pace of its own (some ahead of the linear path, some behind)."""
    rng = _rng(seed, "path", item.no)
    low, high = item.bounds
    target = float(item.target)
    if item.comparator == "<=":
        base = target * float(rng.uniform(1.12, 1.25))
    elif item.unit == "%":
        base = target * float(rng.uniform(0.55, 0.85))
    else:
        base = target * float(rng.uniform(0.3, 0.7))
    pace = float(rng.uniform(0.8, 1.2))
    share = min(max(_month_index(period), 0) / PLAN_MONTHS * pace, 1.05)
    noise = float(_rng(seed, "noise", item.no, period).normal(0, 0.01)) * abs(target - base)
    value = base + (target - base) * share + noise
    if high is not None:
        value = min(value, high)
    value = max(value, low if low is not None else 0.0)
    return round(value, _digits(item))


def _out_of_range(item: Indicator, value: float, rng: np.random.Generator) -> float:
    low, high = item.bounds
    if high is not None:
        return round(high + float(rng.uniform(0.5, 30.0)), 1)
    if low is not None and low > 0:
        return round(low - float(rng.uniform(0.05, 0.4)), 2)
    return -max(abs(value), 1.0)


def write_reports(
    out: Path, registry: Registry, periods: list[str], seed: int
) -> dict[str, pa.Table]:
    """Write every department's return for each period and the ledger; returns the ledgers."""
    out = Path(out)
    departments = sorted(
        {i.department for i in registry.indicators if i.source == "reported" and i.department}
    )
    ledgers: dict[str, pa.Table] = {}
    reported: dict[int, float] = {}  # what each department last reported (its 上期值)
    for period in periods:
        rows: list[dict] = []
        taken: dict[int, float] = {}
        for dept in departments:
            rows += _department(out, registry, dept, period, seed, reported, taken)
        reported.update(taken)
        table = pa.Table.from_pylist(rows, LEDGER_SCHEMA)
        write_parquet(table, out / "ledger" / period / "indicators.parquet")
        ledgers[period] = table
    return ledgers


def _department(
    out: Path,
    registry: Registry,
    dept: str,
    period: str,
    seed: int,
    reported: dict[int, float],
    taken: dict[int, float],
) -> list[dict]:
    items = [i for i in registry.indicators if i.department == dept and i.source == "reported"]
    rng = _rng(seed, "report", dept, period)
    draw = float(rng.random())

    def every(kind: str, source_file: str, detail: str) -> list[dict]:
        return [
            {
                "period": period,
                "department": dept,
                "indicator_no": item.no,
                "defect_kind": kind,
                "source_file": source_file,
                "detail": detail,
            }
            for item in items
        ]

    if draw < P_MISSING_FILE:
        return every("missing_report", "", "本期未报送")
    late = float(rng.random()) < P_LATE
    year, month = (int(x) for x in period.split("-"))
    next_month = datetime(year + (month == 12), month % 12 + 1, 1)
    day = int(rng.integers(DUE_DAY + 1, DUE_DAY + 16)) if late else int(rng.integers(1, DUE_DAY))
    arrival = next_month + timedelta(days=day - 1, seconds=int(rng.integers(8 * 3600, 18 * 3600)))
    folder = out / "landing" / dept / LANDING_FOLDER / period
    dept_name = registry.department(dept).name
    if draw < P_MISSING_FILE + P_WRONG_PERIOD:
        stale = _previous(period)
        filled = {
            i.no: Filled(true_value(i, stale, seed), "同上期", f"{dept_name}统计报表")
            for i in items
        }
        path = template(
            registry,
            dept,
            period,
            out,
            folder,
            filled=filled,
            previous={},
            meta_period=stale,
            created=arrival,
        )
        _arrive(path, arrival)
        return every("wrong_period", path.name, f"文件报送期为 {stale}")
    ledger: list[dict] = []
    filled: dict[int, Filled] = {}
    for item in items:
        value = true_value(item, period, seed)
        caliber = f"按《滨州市数字强市建设规划（2023—2025年）》指标口径，{period} 末累计"
        evidence = f"{dept_name}{period[:4]}年{int(period[5:])}月统计报表"
        roll = float(rng.random())
        kind, entry = "", Filled(value, caliber, evidence)
        if roll < P_BLANK_ROW:
            kind, entry = "missing_report", None
        elif roll < P_BLANK_ROW + P_WRONG_UNIT:
            unit, factor = OTHER_UNIT[item.unit]
            shown = round(value * factor, 6)
            kind, entry = "wrong_unit", Filled(shown, caliber, evidence, unit=unit)
        elif roll < P_BLANK_ROW + P_WRONG_UNIT + P_OUT_OF_RANGE:
            kind, entry = "out_of_range", Filled(_out_of_range(item, value, rng), caliber, evidence)
        if entry is not None:
            filled[item.no] = entry
        if kind:
            detail = "" if entry is None else f"{entry.value} {entry.unit or item.unit}".strip()
            ledger.append(
                {
                    "period": period,
                    "department": dept,
                    "indicator_no": item.no,
                    "defect_kind": kind,
                    "source_file": "",
                    "detail": detail,
                }
            )
        else:
            taken[item.no] = value
    previous = {i.no: reported[i.no] for i in items if i.no in reported}
    path = template(
        registry, dept, period, out, folder, filled=filled, previous=previous, created=arrival
    )
    _arrive(path, arrival)
    for row in ledger:
        row["source_file"] = path.name
    if late:
        for item in items:
            ledger.append(
                {
                    "period": period,
                    "department": dept,
                    "indicator_no": item.no,
                    "defect_kind": "late",
                    "source_file": path.name,
                    "detail": arrival.isoformat(sep=" "),
                }
            )
    return ledger


def _arrive(path: Path, arrival: datetime) -> None:
    """The file's time is its arrival (Beijing time), which ingest reads as received_at."""
    from datetime import UTC, timezone

    moment = arrival.replace(tzinfo=timezone(timedelta(hours=8))).astimezone(UTC).timestamp()
    os.utime(path, (moment, moment))
