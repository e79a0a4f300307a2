"""数据高铁 into the 基础库: a birth, a changed address and a deleted record written to the
PostgreSQL 前置库 are in the near-real-time population library after ONE stream run."""

from __future__ import annotations

import shutil
from datetime import datetime

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from stdnum.cn import ric

from bzdata.ingest.frontdb import load_frontdb
from bzdata.ingest.live import live_file
from bzdata.orchestration.home import AirflowHome
from bzdata.orchestration.schedule import TIMEZONE
from bzdata.registry import load_registry
from bzdata.synth.writers import frontdb_path

pytest_plugins = ["tests.ingest.pg"]  # pg_url: a real PostgreSQL server

PERIOD = "2023-01"
LIBRARY = "lib_population"
NEW_ADDRESS = "山东省滨州市滨城区市中街道黄河五路100号3号楼1单元101室"


def _keys(engine: sa.Engine, table: str, key: str) -> set[str]:
    """The record keys the 前置库 holds now, by a query of its own."""
    with engine.connect() as con:
        return {r[0] for r in con.execute(sa.text(f'select distinct "{key}" from {table}'))}


def _live(work) -> dict[str, dict]:
    return {r["citizen_id"]: r for r in pq.read_table(live_file(work, LIBRARY)).to_pylist()}


@pytest.mark.integration
@pytest.mark.slow
def test_a_change_in_the_frontdb_is_in_the_live_library_after_one_stream_run(
    migrated_home: AirflowHome, airflow_env: AirflowHome, pg_url: str, monkeypatch, tmp_path
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from bzdata.synth import generate

    work = migrated_home.work_dir
    for name in ("stream", "live"):  # the stream's own state from earlier tests goes
        shutil.rmtree(work / "lake" / name, ignore_errors=True)
    shutil.rmtree(work / "publish" / "base", ignore_errors=True)  # no monthly build here
    synth = tmp_path / "synth"
    generate(synth, scale="demo", months=1, start_period=PERIOD)
    registry = load_registry()
    for ds in (d for d in registry.datasets if d.is_frontdb):
        monkeypatch.setenv(f"BZDATA_FRONTDB_URL_{ds.provider.upper()}", pg_url)
        load_frontdb(frontdb_path(synth, PERIOD, ds.provider), ds.delivery.table, pg_url)
    ds = registry.dataset("gaj_hjrk")
    header = {f.column: f.header for f in ds.fields}
    table, key, wm = ds.delivery.table, header["citizen_id"], header[ds.delivery.watermark]
    engine = sa.create_engine(pg_url)
    dag = DagBag(dag_folder=str(migrated_home.dags_folder)).dags["bzdata_stream_frontdb"]

    def stream_run(minute: int) -> None:
        when = datetime(2023, 2, 10, 9, minute, tzinfo=TIMEZONE)
        assert str(dag.test(logical_date=when, run_after=when).state) == "success"

    stream_run(0)
    before = _live(work)
    assert set(before) == _keys(engine, table, key)

    deleted, moved, parent = sorted(before)[:3]
    born = "37160220230209123"
    born += ric.calc_check_digit(born)
    assert born not in before
    with engine.begin() as con:
        latest = con.execute(sa.text(f'select max("{wm}") from {table}')).scalar_one()
        later = str(int(latest[:4]) + 1) + latest[4:]  # same spelling, after every row
        con.execute(sa.text(f'delete from {table} where "{key}" = :k'), {"k": deleted})
        con.execute(
            sa.text(
                f'update {table} set "{header["domicile_address"]}" = :a, "{wm}" = :t '
                f'where "{key}" = :k'
            ),
            {"a": NEW_ADDRESS, "t": later, "k": moved},
        )
        row = dict(
            con.execute(sa.text(f'select * from {table} where "{key}" = :k limit 1'), {"k": parent})
            .mappings()
            .one()
        )
        row.update({key: born, header["birth_date"]: "2023-02-09", wm: later})
        columns = ", ".join(f'"{c}"' for c in row)
        values = ", ".join(f":p{i}" for i in range(len(row)))
        con.execute(
            sa.text(f"insert into {table} ({columns}) values ({values})"),
            {f"p{i}": v for i, v in enumerate(row.values())},
        )

    stream_run(5)  # one stream interval later
    after = _live(work)
    assert set(after) == _keys(engine, table, key)
    assert born in after and str(after[born]["birth_date"]).startswith("2023-02-09")
    assert deleted not in after
    assert after[moved]["domicile_address"] == NEW_ADDRESS
    assert before[moved]["domicile_address"] != NEW_ADDRESS
