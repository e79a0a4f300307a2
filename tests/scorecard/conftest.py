"""A 3-month demo city built once per session through the real pipeline: synthetic deliveries
(with a few deliberately broken ones) → ingest manifest → dbt build → the GX quality checks of
each period → scorecards of two periods. No quality output is derived from the synthetic
ledger: the scorecard is judged on what the checks really wrote."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bzdata.build import dbt
from bzdata.ingest import Paths, ingest_dataset, refresh_warehouse
from bzdata.quality import run_checks
from bzdata.registry import load_registry
from bzdata.synth import generate

PERIODS = ("2023-01", "2023-02", "2023-03")
SEED = 20230101


@dataclass(frozen=True)
class ScoredCity:
    work: Path
    synth: Path
    lake: Path
    folders: dict[str, Path]  # period → its scorecard folder

    def scorecard(self, period: str) -> Path:
        return self.folders[period]


def logical_date(period: str) -> datetime:
    year, month = int(period[:4]), int(period[5:])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def break_some_deliveries(landing: Path) -> None:
    """February gets one delivery of each kind the manifest can record besides a clean load."""
    # missing: 市统计局 delivers nothing
    shutil.rmtree(landing / "tjj" / "tjj_zyjjzb" / "2023-02")
    # quarantined: an unreadable workbook beside 市发改委's good file
    bad = landing / "fgw" / "fgw_tzxm" / "2023-02" / "投资项目_补报.xlsx"
    bad.write_bytes(b"not a workbook")
    # duplicate: January's file delivered again under another name
    jan = next((landing / "dsj" / "dsj_dzzz" / "2023-01").iterdir())
    again = landing / "dsj" / "dsj_dzzz" / "2023-02" / f"重报_{jan.name}"
    shutil.copy2(jan, again)
    # rejected rows: a line with too few columns at the end of 市人社局's CSV
    csv = next((landing / "rsj" / "rsj_shbx" / "2023-02").glob("*.csv"))
    stat = csv.stat()
    with open(csv, "ab") as f:
        f.write("坏行,只有两列\r\n".encode())
    os.utime(csv, (stat.st_atime, stat.st_mtime))  # keep its arrival time


@pytest.fixture(scope="session")
def scored_city(tmp_path_factory: pytest.TempPathFactory) -> ScoredCity:
    from bzdata.scorecard import build_scorecard

    work = tmp_path_factory.mktemp("scorecard")
    synth = work / "synth"
    generate(synth, scale="demo", months=len(PERIODS), seed=SEED, start_period=PERIODS[0])
    break_some_deliveries(synth / "landing")
    paths = Paths.from_work(work)
    registry = load_registry()
    for period in PERIODS:
        for ds in registry.datasets:
            ingest_dataset(ds.id, period, logical_date(period), paths, "test")
        refresh_warehouse(paths)
        built = dbt.build(work, period=period, docs=False)
        assert built.success, built.problems
        run_checks(work, period, data_docs=period == PERIODS[-1])
    folders = {
        "2023-02": build_scorecard(work, "2023-02", png=False),
        "2023-03": build_scorecard(work, "2023-03"),
    }
    return ScoredCity(work, synth, paths.lake, folders)
