"""数据高铁 against a real PostgreSQL 前置库: ties at the boundary, re-deliveries and crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from bzdata.ingest import stream
from bzdata.ingest.stream import current_state, micro_batch
from bzdata.registry import load_registry
from bzdata.registry.models import Dataset

pytest_plugins = ["tests.ingest.pg"]  # the pg_url fixture: a real PostgreSQL server
pytestmark = pytest.mark.integration

TABLE = "t_stream_hjxx"
T1, T2, T3, T4, T5 = (f"2023-03-01 0{h}:00:00" for h in range(1, 6))


@pytest.fixture
def ds() -> Dataset:
    base = load_registry().dataset("gaj_hjrk")
    return base.model_copy(update={"delivery": base.delivery.model_copy(update={"table": TABLE})})


@pytest.fixture
def engine(pg_url: str, ds: Dataset):
    engine = sa.create_engine(pg_url)
    table = sa.Table(TABLE, sa.MetaData(), *[sa.Column(h, sa.Text) for h in ds.headers])
    with engine.begin() as conn:
        table.drop(conn, checkfirst=True)
        table.create(conn)
    yield engine
    engine.dispose()


def _row(key: str, watermark: str, name: str | None = "张三", household: str | None = "01") -> dict:
    return {
        "gmsfhm": key,
        "xm": name,
        "xb": "1",
        "mz": "01",
        "csrq": "19800101",
        "hjdqh": "371602",
        "hjdz": "地址",
        "hh": household,
        "yhzgx": "02",
        "hkzt": "1",
        "gxsj": watermark,
    }


def _insert(engine: sa.Engine, *rows: dict) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO {TABLE} VALUES ({_marks()})"), list(rows))


def _marks() -> str:
    return ", ".join(f":{h}" for h in _row("", ""))


def _update(engine: sa.Engine, key: str, name: str, watermark: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"UPDATE {TABLE} SET xm = :name, gxsj = :wm WHERE gmsfhm = :key"),
            {"name": name, "wm": watermark, "key": key},
        )


def _pg_rows(engine: sa.Engine, ds: Dataset) -> list[tuple]:
    with engine.connect() as conn:
        cols = ", ".join(ds.headers)
        return [tuple(r) for r in conn.execute(sa.text(f"SELECT {cols} FROM {TABLE}"))]


def _latest_per_key(rows: list[tuple], ds: Dataset) -> list[dict]:
    """Independent reference: per key the largest (watermark, other columns), NULL lowest."""
    wm = ds.columns.index("gxsj")
    order = [wm] + [i for i in range(len(ds.columns)) if i != wm]
    best: dict[str | None, tuple] = {}
    for row in rows:
        rank = [(row[i] is not None, row[i] or "") for i in order]
        key = row[0]
        if key not in best or rank > [
            (best[key][i] is not None, best[key][i] or "") for i in order
        ]:
            best[key] = row
    return [dict(zip(ds.columns, best[k], strict=True)) for k in sorted(best)]


def _batch_files(out: Path, ds: Dataset) -> list[Path]:
    return sorted((out / ds.id).glob("batch-*.parquet"))


def _state(state_path: Path, ds: Dataset) -> dict:
    return json.loads(state_path.read_text())[ds.id]


def test_micro_batches_apply_each_row_once(
    tmp_path: Path,
    ds: Dataset,
    engine: sa.Engine,
    pg_url: str,
    monkeypatch,
) -> None:
    state_path, out = tmp_path / "state.json", tmp_path / "out"

    # 1. First batch: everything, NULL and '' kept apart.
    _insert(
        engine,
        _row("k1", T1),
        _row("k2", T1),
        _row("k3", T1, name=None, household=""),
        _row("k4", T1),
        _row("k5", T2),
    )
    first = micro_batch(ds, pg_url, state_path, out)
    assert (first.rows_new, first.first_seq, first.last_seq, first.watermark) == (5, 1, 5, T2)
    assert first.path == out / ds.id / "batch-000000000001-000000000005.parquet"
    k3 = next(r for r in current_state(out, ds).to_pylist() if r["citizen_id"] == "k3")
    assert (k3["person_name"], k3["household_no"]) == (None, "")

    # 2. Nothing new: the boundary row is re-read and dropped, no batch written.
    idle = micro_batch(ds, pg_url, state_path, out)
    assert (idle.rows_pulled, idle.rows_new, idle.path, idle.watermark) == (1, 0, None, T2)

    # 3. A row with the boundary watermark arriving late, a re-delivered identical row, an update.
    _insert(engine, _row("k6", T2), _row("k5", T2))
    _update(engine, "k2", "李四", T3)
    third = micro_batch(ds, pg_url, state_path, out)
    assert (third.rows_pulled, third.rows_new, third.watermark) == (4, 3, T3)
    assert third.state_rows == 6  # k5 twice in the 前置库, once in the state

    # 4. Crash after the batch file is written, before the state is merged.
    _insert(engine, _row("k7", T4))
    _update(engine, "k3", "王五", T4)
    with monkeypatch.context() as patch:
        patch.setattr(stream, "_merge_current", _crash)
        with pytest.raises(RuntimeError, match="crash"):
            micro_batch(ds, pg_url, state_path, out)
    assert [p.name for p in _batch_files(out, ds)][-1] == "batch-000000000009-000000000010.parquet"
    assert _state(state_path, ds)["watermark"] == T3

    # 5. Crash after the merge, before the watermark is stored; one more row arrived meanwhile.
    _insert(engine, _row("k8", T4))
    with monkeypatch.context() as patch:
        patch.setattr(stream, "_save_state", _crash)
        with pytest.raises(RuntimeError, match="crash"):
            micro_batch(ds, pg_url, state_path, out)
    assert (_state(state_path, ds)["watermark"], _state(state_path, ds)["next_seq"]) == (T3, 9)

    # 6. Rerun: the orphan batch is replaced, re-read rows are not logged twice.
    rerun = micro_batch(ds, pg_url, state_path, out)
    assert (rerun.rows_pulled, rerun.rows_new, rerun.first_seq, rerun.last_seq) == (4, 3, 9, 11)

    # 7. Two rows of one key with the same watermark: the tie is broken by content, stably.
    _insert(engine, _row("k9", T5, name="乙"), _row("k9", T5, name="甲"))
    last = micro_batch(ds, pg_url, state_path, out)
    assert last.rows_new == 2

    pg = _pg_rows(engine, ds)
    state = current_state(out, ds)
    assert state.to_pylist() == _latest_per_key(pg, ds)
    assert len(set(state.column("citizen_id").to_pylist())) == state.num_rows == 9
    assert next(r for r in state.to_pylist() if r["citizen_id"] == "k9")["person_name"] == "甲"

    # The batch log: contiguous sequence numbers, every 前置库 row delivered, nothing twice.
    batches = [pq.read_table(p) for p in _batch_files(out, ds)]
    seqs = [s for b in batches for s in b.column("_seq").to_pylist()]
    assert seqs == list(range(1, 14))
    logged = [tuple(r[c] for c in ds.columns) for b in batches for r in b.to_pylist()]
    assert set(pg) <= set(logged)
    assert len(logged) == 13  # 5 + 3 + 3 + 2, the identical k5 counted as its own delivery
    assert not list((out / ds.id).glob("*.tmp"))


def _crash(*_args, **_kwargs):
    raise RuntimeError("crash")


def test_empty_table_gives_empty_state(
    tmp_path: Path,
    ds: Dataset,
    engine: sa.Engine,
    pg_url: str,
) -> None:
    result = micro_batch(ds, pg_url, tmp_path / "state.json", tmp_path / "out")
    assert (result.rows_pulled, result.rows_new, result.path, result.watermark) == (
        0,
        0,
        None,
        None,
    )
    assert current_state(tmp_path / "out", ds).num_rows == 0
    assert not (tmp_path / "state.json").exists()
