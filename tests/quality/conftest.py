"""A 3-month demo city run through the real pipeline once per session: synthetic deliveries →
ingest (manifest, raw zone) → dbt build for each period → quality checks of each period (the
GX checkpoint; Data Docs for the last one). Every period is scored against the defect ledger
right after its check, while the warehouse holds that period's 多源校核.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from bzdata.build import dbt
from bzdata.ingest import Paths, ingest_dataset, refresh_warehouse
from bzdata.quality import run_checks
from bzdata.quality.checks import CheckSummary
from bzdata.quality.evaluate import Evaluation, Evaluator
from bzdata.registry import Registry, load_registry
from bzdata.synth import Rates, generate
from bzdata.synth.defects import DEFAULT_RATES

MONTHS = 3
# Default defect rates, with more late and missing deliveries than usual so that 时效性 and the
# carrying over of a dataset that was not delivered are exercised in three months.
RATES = Rates({**DEFAULT_RATES, "late_delivery": 0.25, "missing_delivery": 0.12})


@dataclass
class QualityCity:
    work: Path
    registry: Registry
    periods: list[str]
    summaries: dict[str, CheckSummary] = field(default_factory=dict)
    evaluation: Evaluation | None = None

    @property
    def synth(self) -> Path:
        return self.work / "synth"

    @property
    def warehouse(self) -> Path:
        return self.work / "warehouse" / "bzdata.duckdb"

    @property
    def period(self) -> str:
        return self.periods[-1]

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.warehouse), read_only=True)


def _logical(period: str) -> datetime:
    year, month = int(period[:4]), int(period[5:])
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def quality_city(tmp_path_factory: pytest.TempPathFactory) -> QualityCity:
    work = tmp_path_factory.mktemp("quality") / "work"
    registry = load_registry()
    summary = generate(work / "synth", scale="demo", months=MONTHS, rates=RATES)
    city = QualityCity(work, registry, summary.periods)
    paths = Paths.from_work(work)
    evaluator = Evaluator(work, city.synth, registry)
    for period in city.periods:
        for ds in registry.datasets:
            ingest_dataset(ds.id, period, _logical(period), paths, "quality-tests")
        refresh_warehouse(paths)
        built = dbt.build(work, period=period, docs=False)
        assert built.success, built.problems
        last = period == city.periods[-1]
        city.summaries[period] = run_checks(work, period, data_docs=last)
        with city.connect() as con:
            evaluator.period(period, con)
    city.evaluation = evaluator.result
    return city
