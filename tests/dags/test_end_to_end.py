"""Tier 3: `bzdata run` on one month of synthetic Binzhou, real ingest, through `dag.test()`."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bzdata.indicators.channel import LANDING_FOLDER, read_deliveries, read_file_rejects
from bzdata.ingest import Paths
from bzdata.orchestration.home import AirflowHome
from bzdata.registry import load_registry


def _manifest(lake: Path, period: str) -> pa.Table:
    files = sorted((lake / "manifest" / f"period={period}").glob("*.parquet"))
    return pa.concat_tables([pq.read_table(f) for f in files])


def _raw_digests(lake: Path) -> dict[str, str]:
    return {
        p.relative_to(lake).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((lake / "raw").rglob("*.parquet"))
    }


@pytest.mark.integration
@pytest.mark.slow
def test_run_collects_every_file_drop_of_the_latest_period(
    migrated_home: AirflowHome, airflow_env: AirflowHome
) -> None:
    from bzdata.orchestration.runner import run_period
    from bzdata.synth import generate

    work = migrated_home.work_dir
    paths = Paths.from_work(work)
    generate(work / "synth", scale="demo", months=1)

    started = time.monotonic()
    lines: list[str] = []
    report = run_period(None, work, echo=lines.append)  # default: the latest landed period
    wall = time.monotonic() - started

    assert report.period == "2023-01"
    assert report.ok, "\n".join(lines)
    manifest = _manifest(paths.lake, "2023-01").to_pylist()
    drops = {
        p.relative_to(paths.landing).as_posix()
        for p in paths.landing.glob("*/*/2023-01/*")
        if p.is_file() and p.parent.parent.name != LANDING_FOLDER
    }
    assert drops
    assert drops <= {row["source"] for row in manifest}
    # The departments' 指标 returns went through the channel: each taken or refused by name.
    returns = {p.name for p in paths.landing.glob(f"*/{LANDING_FOLDER}/2023-01/*.xlsx")}
    taken = set(read_deliveries(paths.lake).column("source_file").to_pylist())
    refused = set(read_file_rejects(paths.lake).column("source_file").to_pylist())
    assert returns and taken | refused == returns and not taken & refused
    monthly = {d.id for d in load_registry().datasets if d.update_cycle == "每月"}
    assert {row["dataset"] for row in manifest} == monthly
    assert len({row["run_id"] for row in manifest}) == 1
    assert all(row["rows_read"] == row["rows_accepted"] + row["rows_rejected"] for row in manifest)
    assert paths.database.is_file()
    # The portal's 指标库 is the period's library: each of the plan's indicators shows a value,
    # or a status with its reason (never a bare placeholder), and the report was written.
    from bzdata import snapshot

    published = snapshot.current(work)
    assert published is not None
    shown = pq.read_table(published.path / "indicators.parquet").to_pylist()
    plan = {i.no for i in load_registry().indicators}
    assert {row["indicator_no"] for row in shown} == plan
    for row in shown:
        assert row["indicator_value"] is not None or "：" in row["value_status"], row
    assert (work / "indicators" / "2023-01" / "index.html").is_file()

    # Tasks are transactions: rerunning the period rewrites the same bytes.
    first = _raw_digests(paths.lake)
    again = run_period("2023-01", work, echo=lines.append)
    assert again.ok
    assert _raw_digests(paths.lake) == first

    timings = "，".join(f"{k} {v:.1f} 秒" for k, v in report.timings.items())
    print(f"\nbzdata run 2023-01：{timings}；合计 {wall:.1f} 秒")
