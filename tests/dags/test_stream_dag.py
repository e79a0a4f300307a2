"""数据高铁 through Airflow: two scheduled micro-batch runs against a real PostgreSQL 前置库."""

from __future__ import annotations

import shutil
from datetime import datetime

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from bzdata.ingest.frontdb import load_frontdb
from bzdata.ingest.stream import current_state
from bzdata.orchestration.home import AirflowHome
from bzdata.orchestration.schedule import TIMEZONE
from bzdata.registry import load_registry
from bzdata.synth.writers import frontdb_path

pytest_plugins = ["tests.ingest.pg"]  # pg_url: a real PostgreSQL server


def _latest_rows(engine: sa.Engine, ds) -> set[tuple]:
    """Latest row per record key in the 前置库 table, computed here independently."""
    headers = {f.column: f.header for f in ds.fields}
    wm = headers[ds.delivery.watermark]
    with engine.connect() as con:
        rows = [
            dict(r._mapping) for r in con.execute(sa.text(f"select * from {ds.delivery.table}"))
        ]
    latest: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[headers[c]] for c in ds.record_key)
        best = latest.get(key)
        if best is None or (row[wm], sorted(map(str, row.values()))) > (
            best[wm],
            sorted(map(str, best.values())),
        ):
            latest[key] = row
    return {tuple(r[headers[c]] for c in ds.columns) for r in latest.values()}


@pytest.mark.integration
@pytest.mark.slow
def test_stream_dag_applies_each_change_once(
    migrated_home: AirflowHome, airflow_env: AirflowHome, pg_url: str, monkeypatch, tmp_path
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from bzdata.synth import generate

    work = migrated_home.work_dir  # shared by the session's DAG tests
    for name in ("stream", "live"):  # another test's stream state would move the watermarks
        shutil.rmtree(work / "lake" / name, ignore_errors=True)
    synth = tmp_path / "synth"
    generate(synth, scale="demo", months=2)
    registry = load_registry()
    frontdb = [d for d in registry.datasets if d.delivery.channel == "frontdb"]
    for ds in frontdb:
        monkeypatch.setenv(f"BZDATA_FRONTDB_URL_{ds.provider.upper()}", pg_url)
    engine = sa.create_engine(pg_url)
    dag = DagBag(dag_folder=str(migrated_home.dags_folder)).dags["bzdata_stream_frontdb"]
    for minute, period in ((0, "2023-01"), (5, "2023-02")):
        for ds in frontdb:
            load_frontdb(frontdb_path(synth, period, ds.provider), ds.delivery.table, pg_url)
        when = datetime(2023, 3, 1, 9, minute, tzinfo=TIMEZONE)
        run = dag.test(logical_date=when, run_after=when)
        assert str(run.state) == "success"
    out = migrated_home.work_dir / "lake" / "stream"
    for ds in frontdb:
        state = current_state(out, ds)
        got = {tuple(row[c] for c in ds.columns) for row in state.to_pylist()}
        expected = _latest_rows(engine, ds)
        assert expected <= got, ds.id  # every change applied, each once (state is keyed)
        # Beyond that only records the 前置库 no longer has (a key fixed or deleted): a
        # watermark pull cannot see a deletion.
        positions = [ds.columns.index(c) for c in ds.record_key]
        live_keys = {tuple(row[i] for i in positions) for row in expected}
        assert all(tuple(row[i] for i in positions) not in live_keys for row in got - expected)
        batches = sorted((out / ds.id).glob("batch-*.parquet"))
        assert len(batches) == 2  # the whole table, then only what February changed
        assert pq.read_metadata(batches[1]).num_rows < pq.read_metadata(batches[0]).num_rows
