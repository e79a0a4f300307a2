"""缺报 on the department scorecard: the reported plan indicators each department owed for the
period and did not report by the due day, against the synthetic ledger (the truth)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bzdata.indicators.channel import collect_period
from bzdata.ingest import Paths, ingest_dataset
from bzdata.registry import load_registry
from bzdata.synth import generate

PERIODS = ("2023-01", "2023-02", "2023-03")
SEED = 20230101
REFUSING = ("wrong_period", "wrong_unit", "out_of_range")


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> Path:
    from bzdata.scorecard import build_scorecard

    work = tmp_path_factory.mktemp("work")
    generate(work / "synth", scale="demo", months=len(PERIODS), seed=SEED)
    paths, registry = Paths.from_work(work), load_registry()
    for period in PERIODS:
        year, month = int(period[:4]), int(period[5:])
        moment = datetime(year, month + 1, 21, tzinfo=UTC)
        for ds in registry.datasets:
            ingest_dataset(ds.id, period, moment, paths, "test")
        collect_period(registry, paths.landing, paths.lake, period)
    for period in PERIODS:
        build_scorecard(work, period, png=False)
    return work


def _ledger(work: Path, period: str) -> list[dict]:
    return pq.read_table(work / "synth" / "ledger" / period / "indicators.parquet").to_pylist()


def _listed(work: Path, period: str) -> dict[str, set[tuple[str, int]]]:
    document = json.loads((work / "scorecard" / period / "scores.json").read_text("utf-8"))
    listed: dict[str, set[tuple[str, int]]] = {"缺报": set(), "被拒": set(), "逾期": set()}
    for dept in document["departments"]:
        for gap in dept["indicator_gaps"]:
            listed[gap["kind"]].add((dept["code"], gap["indicator_no"]))
    return listed


@pytest.mark.parametrize("period", PERIODS)
def test_missing_reports_on_the_scorecard_equal_the_ledger(scored, period):
    ledger = _ledger(scored, period)

    def kinds(*names: str) -> set[tuple[str, int]]:
        return {(r["department"], r["indicator_no"]) for r in ledger if r["defect_kind"] in names}

    listed = _listed(scored, period)
    assert listed["缺报"] == kinds("missing_report")
    assert listed["被拒"] == kinds(*REFUSING) - kinds("missing_report")
    assert listed["逾期"] == kinds("late") - kinds("missing_report", *REFUSING)


def test_the_three_periods_exercise_missing_and_refused_reports(scored):
    listed = [_listed(scored, p) for p in PERIODS]
    assert any(item["缺报"] for item in listed)
    assert any(item["被拒"] for item in listed)


def test_the_department_page_names_each_missing_indicator(scored):
    registry = load_registry()
    for period in PERIODS:
        for dept, no in _listed(scored, period)["缺报"]:
            page = (scored / "scorecard" / period / "report" / f"{dept}.html").read_text("utf-8")
            assert registry.indicator(no).name in page and "缺报" in page
