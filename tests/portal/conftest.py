"""A small published city once per session: synthetic deliveries of two months → ingest →
dbt build → the GX quality checks of each period → scorecards → snapshot publish.

Issues are what the real checks wrote to the lake, read there independently of the portal, so
what a department sees can be checked against a count the portal did not make.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bzdata import snapshot
from bzdata.build import dbt
from bzdata.ingest import Paths, ingest_dataset, refresh_warehouse
from bzdata.quality import run_checks
from bzdata.registry import load_registry
from bzdata.synth import generate

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
        refresh_warehouse(paths)
        built = dbt.build(work, period=period, docs=False)
        assert built.success, built.problems
        run_checks(work, period, data_docs=False)
    build_scorecard(work, PERIODS[0], png=False)
    snapshot.publish(work, PERIODS[0])
    build_scorecard(work, PERIODS[1], png=False)
    return PortalCity(work, PERIODS)


@dataclass
class Served:
    url: str
    server: object


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def served(portal_city: PortalCity):
    """The portal on a loopback port, served by uvicorn in a thread for the whole session."""
    import contextlib
    import threading
    import time

    import uvicorn

    from bzdata.portal import accounts as acc
    from bzdata.portal.app import create_app

    store = acc.Accounts(portal_city.work)
    for user, dept in (("gaj_web", "gaj"), ("wjw_web", "wjw")):
        with contextlib.suppress(acc.AccountError):
            store.add(user, dept, PASSWORD)
    port = _free_port()
    config = uvicorn.Config(
        create_app(portal_city.work, rate_limit=10_000),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield Served(f"http://127.0.0.1:{port}", server)
    server.should_exit = True
    thread.join(timeout=10)
