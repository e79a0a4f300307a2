"""A small published city once per session: synthetic deliveries of two months → ingest →
issues from the defect ledger (the quality stage's outputs) → dbt's manifest of the real project
(`dbt parse`) → catalogue (with the city's 6,000 registered entries) → scorecards → snapshot.

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
from bzdata.build import dbt
from bzdata.catalog.build import build_catalogue
from bzdata.ingest import Paths, ingest_dataset
from bzdata.registry import load_registry
from bzdata.synth import generate

_spec = importlib.util.spec_from_file_location(
    "quality_fixture", Path(__file__).parent / "ledger_issues.py"
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
    parsed = dbt.invoke(["parse"], dbt.Paths(work), description="dbt parse")
    assert parsed.returncode == 0, parsed.errors
    build_catalogue(work)
    build_scorecard(work, PERIODS[0], png=False)
    snapshot.publish(work, PERIODS[0])
    build_scorecard(work, PERIODS[1], png=False)
    return PortalCity(work, PERIODS)


@dataclass
class Served:
    url: str
    server: object


def free_port() -> int:
    """A loopback port nothing listens on now."""
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
    for user, dept in (("gaj_web", "gaj"), ("wjw_web", "wjw"), ("dsj_web", "dsj")):
        with contextlib.suppress(acc.AccountError):
            store.add(user, dept, PASSWORD)
    port = free_port()
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
