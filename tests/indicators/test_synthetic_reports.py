"""The synthetic city's 指标 returns through the real channel: what ingest took and refused,
per defect kind, against the ledger the generator wrote (the truth)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bzdata.indicators.channel import (
    collect_period,
    due_at,
    read_deliveries,
    read_file_rejects,
    read_rejects,
    read_values,
)
from bzdata.registry import load_registry
from bzdata.synth.indicators import DEFECT_KINDS, write_reports

REGISTRY = load_registry()
PERIODS = [f"2023-{m:02d}" for m in range(1, 9)]
SEED = 20230101


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("city")
    write_reports(out / "synth", REGISTRY, PERIODS, SEED)
    for period in PERIODS:
        collect_period(REGISTRY, out / "synth" / "landing", out / "lake", period)
    return out


def _ledger(city: Path) -> list[dict]:
    rows = []
    for period in PERIODS:
        rows += pq.read_table(city / "synth" / "ledger" / period / "indicators.parquet").to_pylist()
    return rows


def _due() -> set[tuple[str, int]]:
    return {
        (period, item.no)
        for period in PERIODS
        for item in REGISTRY.indicators
        if item.source == "reported" and item.department
    }


def _kind(ledger: list[dict], kind: str) -> set[tuple[str, int]]:
    return {(r["period"], r["indicator_no"]) for r in ledger if r["defect_kind"] == kind}


def test_every_defect_kind_is_exercised(city):
    ledger = _ledger(city)
    assert {r["defect_kind"] for r in ledger} == set(DEFECT_KINDS)


def test_accepted_values_are_exactly_the_rows_without_a_refusing_defect(city):
    ledger = _ledger(city)
    refused = set()
    for kind in ("missing_report", "wrong_period", "wrong_unit", "out_of_range"):
        refused |= _kind(ledger, kind)
    accepted = {(r["period"], r["indicator_no"]) for r in read_values(city / "lake").to_pylist()}
    assert accepted == _due() - refused
    for row in read_values(city / "lake").to_pylist():
        low, high = REGISTRY.indicator(row["indicator_no"]).bounds
        assert row["value"] >= low and (high is None or row["value"] <= high)


def test_out_of_range_and_wrong_unit_rows_are_rejected_with_file_row_and_reason(city):
    ledger = _ledger(city)
    rejects = read_rejects(city / "lake").to_pylist()
    by_key = {(r["period"], r["indicator_no"]): r for r in rejects}
    assert set(by_key) == _kind(ledger, "out_of_range") | _kind(ledger, "wrong_unit")
    files = {(r["period"], r["indicator_no"]): r["source_file"] for r in ledger}
    for key in _kind(ledger, "out_of_range"):
        assert "超出范围" in by_key[key]["reason"]
        assert by_key[key]["source_file"] == files[key] and by_key[key]["source_row"] >= 2
    for key in _kind(ledger, "wrong_unit"):
        assert "单位应为" in by_key[key]["reason"]
    for delivery in read_deliveries(city / "lake").to_pylist():
        assert delivery["rows_read"] == delivery["rows_accepted"] + delivery["rows_rejected"]


def test_wrong_period_files_are_refused_whole_and_named(city):
    ledger = _ledger(city)
    expected = {
        (r["period"], r["department"], r["source_file"])
        for r in ledger
        if r["defect_kind"] == "wrong_period"
    }
    refused = read_file_rejects(city / "lake").to_pylist()
    assert {(r["period"], r["department"], r["source_file"]) for r in refused} == expected
    for row in refused:
        assert "报送期" in row["reason"] and row["source_file"] in row["reason"]


def test_late_reports_are_taken_and_arrive_after_the_due_day(city):
    ledger = _ledger(city)
    late = _kind(ledger, "late")
    refused = set()
    for kind in ("wrong_unit", "out_of_range", "missing_report"):
        refused |= _kind(ledger, kind)
    values = read_values(city / "lake").to_pylist()
    arrived_late = {
        (r["period"], r["indicator_no"]) for r in values if r["received_at"] > due_at(r["period"])
    }
    assert arrived_late == late - refused
    assert arrived_late
