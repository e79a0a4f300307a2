"""A small published city once per session: synthetic deliveries of two months → ingest →
issues from the defect ledger (the quality stage's outputs) → scorecards → snapshot publish.

Issues come from the synthetic ledger (the truth of which department has which defect), not
from the portal, so what a department sees can be checked against an independent count.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bzdata import snapshot
from bzdata.ingest import Paths, ingest_dataset
from bzdata.registry import load_registry
from bzdata.synth import generate

_spec = importlib.util.spec_from_file_location(
    "quality_fixture", Path(__file__).parents[1] / "scorecard" / "quality_fixture.py"
)
quality_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(quality_fixture)

PERIODS = ("2023-01", "2023-02")
PASSWORD = "portal-test-password"


@dataclass(frozen=True)
class PortalCity:
    work: Path
    periods: tuple[str, ...]

    def lake_issues(self, period: str):
        return pq.read_table(
            self.work / "lake" / "quality" / "issues" / f"period={period}" / "issues.parquet"
        )


def _logical(period: str) -> datetime:
    year, month = int(period[:4]), int(period[5:])
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def portal_city(tmp_path_factory: pytest.TempPathFactory) -> PortalCity:
    from bzdata.scorecard import build_scorecard

    work = tmp_path_factory.mktemp("portal") / "work"
    generate(work / "synth", scale="demo", months=len(PERIODS), start_period=PERIODS[0])
    paths = Paths.from_work(work)
    registry = load_registry()
    for period in PERIODS:
        for ds in registry.datasets:
            ingest_dataset(ds.id, period, _logical(period), paths, "portal-tests")
    quality_fixture.write_quality_from_ledger(work / "synth", paths.lake)
    build_scorecard(work, PERIODS[0], png=False)
    snapshot.publish(work, PERIODS[0])
    build_scorecard(work, PERIODS[1], png=False)
    return PortalCity(work, PERIODS)
