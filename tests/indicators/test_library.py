"""The 指标库 of a period: computed values recomputed by independent queries, 44 from the
需求满足率 Parquet, every indicator with a status and a reason, on-track right at the boundaries."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
import yaml

from bzdata import config
from bzdata.catalog.demand import CITY, SATISFACTION_SCHEMA, satisfaction_file
from bzdata.indicators.library import library, on_track, path_value
from bzdata.registry import load_registry
from bzdata.storage import write_parquet

REGISTRY = load_registry()
ROOT = config.project_root() / "catalog" / "registry"


def _with_target(no: int, target: float):
    return REGISTRY.indicator(no).model_copy(update={"target": target})


# --- on track: a straight path from the 基期 to the 2025 target at 2025-12 -----------------------


def test_on_the_path_exactly_is_on_track_and_just_below_is_not():
    item = _with_target(42, 100)  # >=
    # 12 months from 2024-12 to 2025-12; half way (2025-06) the path stands at 40 + 60 / 2.
    assert path_value(40.0, "2024-12", 100.0, "2025-06") == 70.0
    assert on_track(item, 70.0, 40.0, "2024-12", "2025-06") is True
    assert on_track(item, 69.99, 40.0, "2024-12", "2025-06") is False
    assert on_track(item, 100.0, 40.0, "2024-12", "2025-12") is True


def test_a_lower_is_better_target_like_pue_is_on_track_at_or_below_the_path():
    pue = _with_target(6, 1.25)
    assert pue.comparator == "<="
    # From 1.5 at 2024-12 to 1.25 at 2025-12: 1.375 at 2025-06.
    assert path_value(1.5, "2024-12", 1.25, "2025-06") == 1.375
    assert on_track(pue, 1.375, 1.5, "2024-12", "2025-06") is True
    assert on_track(pue, 1.3, 1.5, "2024-12", "2025-06") is True
    assert on_track(pue, 1.38, 1.5, "2024-12", "2025-06") is False


def test_the_first_period_is_its_own_baseline_and_gets_no_judgement():
    assert on_track(_with_target(42, 100), 50.0, 50.0, "2023-03", "2023-03") is None


# --- the library on the demo city ---------------------------------------------------------------


def _registry_files(kind: str) -> list[dict]:
    return [yaml.safe_load(p.read_text("utf-8")) for p in sorted((ROOT / kind).glob("*.yaml"))]


def test_computed_indicators_equal_an_independent_query_over_the_warehouse(reported_city):
    rows = {
        r["indicator_no"]: r for r in library(REGISTRY, reported_city.work, reported_city.period)
    }
    datasets = _registry_files("datasets")
    eligible = [d for d in datasets if d["security_level"] != "核心"]
    opened = [d for d in eligible if d["open"]["type"] != "不予开放"]
    assert rows[42]["value"] == pytest.approx(100 * len(opened) / len(eligible))
    con = duckdb.connect(str(reported_city.work / "warehouse" / "bzdata.duckdb"), read_only=True)
    try:
        open_rows = 0
        for d in datasets:
            if d["open"]["type"] != "不予开放":
                dept, name = d["id"].split("_", 1)
                table = f"intermediate.int_{dept}__{name}__latest"
                open_rows += con.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        con.close()
    assert open_rows > 0
    assert rows[43]["value"] == pytest.approx(open_rows / 1e8)
    lists = yaml.safe_load((ROOT / "code_lists.yaml").read_text("utf-8"))["code_lists"]
    assert rows[45]["value"] == sum(1 for c in lists if not c.get("standard")) + 1
    for no in (42, 43, 45):
        assert rows[no]["status"] == "已计算" and rows[no]["method_note"]


def test_indicator_44_reads_the_demand_satisfaction_parquet(reported_city, tmp_path):
    import shutil

    work = tmp_path / "work"
    shutil.copytree(reported_city.work / "lake" / "indicators", work / "lake" / "indicators")
    period = reported_city.period
    assert library(REGISTRY, work, period)[43]["status"] == "无数据"
    rates = [
        {"period": period, "provider": "gaj", "due": 3, "satisfied": 2, "rate": 2 / 3},
        {"period": period, "provider": "rsj", "due": 4, "satisfied": 4, "rate": 1.0},
        {"period": period, "provider": CITY, "due": 7, "satisfied": 6, "rate": 6 / 7},
    ]
    path = satisfaction_file(work, period)
    write_parquet(pa.Table.from_pylist(rates, SATISFACTION_SCHEMA), path)
    expected = (
        duckdb.connect()
        .execute(
            "select 100.0 * satisfied / due from read_parquet(?) where provider = ?",
            [str(path), CITY],
        )
        .fetchone()[0]
    )
    row = library(REGISTRY, work, period)[43]
    assert row["indicator_no"] == 44 and row["status"] == "已计算"
    assert row["value"] == pytest.approx(expected)
    assert row["is_met"] is False  # 约束性 100 %


def test_no_indicator_is_left_without_a_status_and_a_reason(reported_city):
    rows = library(REGISTRY, reported_city.work, reported_city.period)
    assert len(rows) == 45
    names = {d.code: d.name for d in REGISTRY.departments}
    for row in rows:
        assert row["status"] != "待填报"
        if row["value"] is None:
            assert row["status_note"], row["indicator_no"]
        if row["status"] in ("缺报", "被拒"):
            assert row["status_note"].startswith(names[row["department"]])
        if row["status"] == "无责任部门":
            assert row["department"] is None
    # Reported values carry their provenance.
    taken = [r for r in rows if r["status"] in ("已填报", "逾期填报")]
    assert taken and all("指标填报_" in r["status_note"] for r in taken)
