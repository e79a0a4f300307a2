"""Tier 4: the DAGs under a real Airflow — api-server, scheduler and dag-processor on loopback,
LocalExecutor, a real PostgreSQL server as metadata database — for the quarter-end month 2023-03
of the synthetic city (monthly and quarterly deliveries both due).

The scheduler runs what the test triggers through the REST API, exactly as a data engineer
would: first the quarterly collect DAG alone (its Asset triggers the publish DAG, which must
publish nothing while the monthly deliveries are outstanding), then the monthly one (the publish
DAG then builds, checks and scores the period — once). The outputs are compared with those of
`bzdata run --period 2023-03` on a copy of the same city.

Lean on purpose: one API worker, parallelism 2, 1-second heartbeats, bounded waits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from bzdata.orchestration.home import airflow_home
from bzdata.orchestration.services import Services, running, service_environment

pytest_plugins = ["tests.ingest.pg"]

PERIOD = "2023-03"
QUARTERLY = ("bzdata_collect_quarterly", "2023-04-16T02:00:00+08:00")
MONTHLY = ("bzdata_collect_monthly", "2023-04-21T02:00:00+08:00")
PUBLISH = "bzdata_publish"
WAIT_S = 900  # bound of each wait; a run takes about a minute on an idle machine
ENV = {"BZDATA_ENV": "demo", "BZDATA_LAST_PERIOD": PERIOD}


def _metadata_db(pg_url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    name = f"airflow_{uuid.uuid4().hex[:8]}"
    conninfo = (
        f"host={url.host} port={url.port} user={url.username} password={url.password} "
        "dbname=postgres"
    )
    with psycopg.connect(conninfo, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return url.set(database=name).render_as_string(hide_password=False)


def _python(code: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bzdata.synth import generate

    base = tmp_path_factory.mktemp("city")
    generate(base / "synth", scale="demo", months=1, start_period=PERIOD)
    return base / "synth"


@pytest.fixture(scope="module")
def scheduler(
    pg_url: str, city: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Services, Path]]:
    from tests.ingest.pg import free_port

    work = tmp_path_factory.mktemp("scheduled") / "work"
    shutil.copytree(city, work / "synth")
    port = free_port()
    home = airflow_home(work)
    env = {
        **service_environment(home, port, _metadata_db(pg_url), fast=True),
        **ENV,
        "BZDATA_WORK": str(work),
    }
    env.pop("AIRFLOW__LOGGING__LOGGING_LEVEL", None)
    (work / "airflow").mkdir(parents=True, exist_ok=True)
    _python(
        "from airflow.utils.db import upgradedb; upgradedb()\n"
        "from bzdata.orchestration.home import ensure_pools; ensure_pools()",
        env,
    )
    with running(env, port, work / "airflow" / "logs") as services:
        _wait_for_dags(services, {QUARTERLY[0], MONTHLY[0], PUBLISH})
        for dag_id in (QUARTERLY[0], MONTHLY[0], PUBLISH):
            services.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})
        yield services, work


def _wait_for_dags(services: Services, wanted: set[str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = {d["dag_id"] for d in services.api("GET", "/dags?limit=100")["dags"]}
        if wanted <= found:
            return
        assert not services.dead(), services.log_tail()
        time.sleep(2)
    pytest.fail(f"dag-processor 未在时限内解析出 {wanted}\n{services.log_tail()}")


def _runs(services: Services, dag_id: str) -> list[dict]:
    return services.api("GET", f"/dags/{dag_id}/dagRuns?limit=50&order_by=run_after")["dag_runs"]


def _tasks(services: Services, dag_id: str, run_id: str) -> dict[str, str]:
    items = services.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")[
        "task_instances"
    ]
    return {t["task_id"]: t["state"] for t in items}


def _wait_finished(services: Services, dag_id: str, count: int) -> list[dict]:
    """Wait (bounded) until `dag_id` has `count` runs, all finished."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        runs = _runs(services, dag_id)
        if len(runs) >= count and all(r["state"] in ("success", "failed") for r in runs):
            return runs
        assert not services.dead(), services.log_tail()
        time.sleep(2)
    pytest.fail(
        f"{dag_id} 未在 {WAIT_S} 秒内完成 {count} 次运行：{_runs(services, dag_id)}\n"
        f"{services.log_tail()}"
    )


def _trigger(services: Services, dag_id: str, logical_date: str) -> None:
    services.api("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": logical_date, "conf": {}})


@pytest.mark.integration
@pytest.mark.slow
def test_quarterly_first_publishes_nothing_until_the_monthly_deliveries_are_in(scheduler) -> None:
    services, work = scheduler
    _trigger(services, *QUARTERLY)
    (collect,) = _wait_finished(services, QUARTERLY[0], 1)
    assert collect["state"] == "success"
    (publish,) = _wait_finished(services, PUBLISH, 1)  # triggered by the quarterly Asset event
    states = _tasks(services, PUBLISH, publish["dag_run_id"])
    assert states.pop("wait_for_deliveries") == "success"
    assert set(states.values()) == {"skipped"}, states
    assert not (work / "scorecard" / PERIOD).exists()
    assert not (work / "publish" / f"period={PERIOD}").exists()
    assert not (work / "dbt" / "target" / "run_results.json").exists()


def _table(path: Path, drop: tuple[str, ...] = (), work: Path | None = None) -> pa.Table:
    """A Parquet file as read, less `drop`; the work folder's own path (in 前置库 sources such
    as sqlite:///<work>/synth/…) spelt <work>, so two work folders compare."""
    table = pq.read_table(path)
    table = table.drop_columns([c for c in drop if c in table.column_names])
    for name in ("_source", "source"):
        if work is not None and name in table.column_names:
            spelt = pc.replace_substring(table[name], str(work), "<work>")
            table = table.set_column(table.column_names.index(name), name, spelt)
    return table


def assert_same_outputs(work: Path, reference: Path) -> None:
    """Raw lake, quality results, 基础库 snapshots, scores and manifests are equal."""
    from bzdata.quality import outputs

    raw = sorted(p.relative_to(reference) for p in (reference / "lake" / "raw").rglob("*.parquet"))
    assert raw and raw == sorted(
        p.relative_to(work) for p in (work / "lake" / "raw").rglob("*.parquet")
    )
    for rel in raw:
        assert _table(work / rel, work=work).equals(_table(reference / rel, work=reference)), rel
    for kind in (outputs.RULE_RESULTS, outputs.ISSUES, outputs.ISSUE_STATUS):
        ours, theirs = (outputs.output_file(w, kind, PERIOD) for w in (work, reference))
        assert _table(ours).num_rows > 0 or kind != outputs.RULE_RESULTS
        assert _table(ours).equals(_table(theirs)), kind
    snapshots = sorted((reference / "publish" / "base").glob("*.parquet"))
    assert snapshots
    for path in snapshots:
        assert _table(work / "publish" / "base" / path.name).equals(_table(path)), path.name
    rel = Path("scorecard") / PERIOD / "scores.parquet"
    assert _table(work / rel).num_rows > 0
    assert _table(work / rel).equals(_table(reference / rel))
    manifest = Path("lake") / "manifest" / f"period={PERIOD}"
    files = sorted(p.name for p in (reference / manifest).glob("*.parquet"))
    assert files and files == sorted(p.name for p in (work / manifest).glob("*.parquet"))
    for name in files:
        ours = _table(work / manifest / name, ("run_id",), work)
        assert ours.equals(_table(reference / manifest / name, ("run_id",), reference)), name


@pytest.mark.integration
@pytest.mark.slow
def test_quarter_end_month_is_built_and_scored_once_like_bzdata_run(
    scheduler, city: Path, tmp_path: Path
) -> None:
    services, work = scheduler
    _trigger(services, *MONTHLY)
    (collect,) = _wait_finished(services, MONTHLY[0], 1)
    assert collect["state"] == "success"
    runs = _wait_finished(services, PUBLISH, 2)
    assert [r["state"] for r in runs] == ["success", "success"]
    built = [
        r for r in runs if _tasks(services, PUBLISH, r["dag_run_id"]).get("dbt_build") == "success"
    ]
    scored = [
        r for r in runs if _tasks(services, PUBLISH, r["dag_run_id"]).get("scorecard") == "success"
    ]
    assert len(built) == 1 and len(scored) == 1  # built and scored once, with both cycles in

    # The same period through `bzdata run` (dag.test in one process) on a copy of the same city.
    reference = tmp_path / "work"
    shutil.copytree(city, reference / "synth")
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("bzdata")),
            "run",
            "--period",
            PERIOD,
            "--work",
            str(reference),
        ],
        env={**os.environ, **ENV, "BZDATA_WORK": str(reference)},
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    assert_same_outputs(work, reference)
