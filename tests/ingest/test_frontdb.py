"""前置库 pulls: whole and incremental reads against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import socket
import sqlite3
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from bzdata.ingest.frontdb import (
    FrontdbConnectionError,
    FrontdbError,
    SchemaDriftError,
    census,
    load_frontdb,
    pull,
    source_of,
)
from bzdata.registry import load_registry
from bzdata.registry.models import Dataset
from bzdata.synth import generate

pytest_plugins = ["tests.ingest.pg"]  # the pg_url fixture: a real PostgreSQL server
PERIODS = ("2023-01", "2023-02")


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(out, scale="demo", months=len(PERIODS), start_period=PERIODS[0])
    return out


def free_port() -> int:
    """A loopback port nothing listens on (the module imports nothing from the pg plugin, so
    pytest can still rewrite its asserts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dataset(dataset_id: str, table: str | None = None) -> Dataset:
    ds = load_registry().dataset(dataset_id)
    if table is None:
        return ds
    return ds.model_copy(update={"delivery": ds.delivery.model_copy(update={"table": table})})


def _sqlite_file(synth: Path, period: str, ds: Dataset) -> Path:
    return synth / "frontdb" / period / f"{ds.provider}.sqlite"


def _sqlite_rows(path: Path, table: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(f'SELECT * FROM "{table}"').fetchall()
    finally:
        con.close()


def _rows(table: pa.Table, ds: Dataset) -> list[tuple]:
    return list(zip(*(table.column(c).to_pylist() for c in ds.columns), strict=True))


def _pull_order(rows: list[tuple], ds: Dataset) -> list[tuple]:
    """Watermark first, then every column; NULL first; Python str order = UTF-8 byte order."""
    wm = ds.columns.index(ds.watermark_field.column)
    positions = [wm] + [i for i in range(len(ds.columns)) if i != wm]
    return sorted(rows, key=lambda r: [(r[i] is not None, r[i] or "") for i in positions])


def test_pull_sqlite_whole_table(synth: Path) -> None:
    ds = _dataset("gaj_hjrk")
    path = _sqlite_file(synth, PERIODS[0], ds)
    url = f"sqlite:///{path}"
    result = pull(ds, url, None, batch_rows=3_000)  # several batches
    expected = _sqlite_rows(path, "t_rk_hjxx")
    assert result.rows_read == len(expected) == result.table.num_rows
    assert result.table.schema == pa.schema(
        [(c, pa.string()) for c in ds.columns] + [("_row_number", pa.int64())]
    )
    assert _rows(result.table, ds) == _pull_order(expected, ds)
    assert result.table.column("_row_number").to_pylist() == list(range(1, len(expected) + 1))
    assert result.new_watermark == max(r[-1] for r in expected)
    assert result.source == f"{url}#t_rk_hjxx"


def test_pull_since_latest_watermark_returns_nothing_and_keeps_it(synth: Path) -> None:
    ds = _dataset("scjgj_sczt")
    url = f"sqlite:///{_sqlite_file(synth, PERIODS[0], ds)}"
    first = pull(ds, url, None)
    again = pull(ds, url, first.new_watermark)
    assert again.rows_read == 0 and again.table.num_rows == 0
    assert again.new_watermark == first.new_watermark
    tied = pull(ds, url, first.new_watermark, inclusive=True)
    assert tied.rows_read >= 1
    assert set(tied.table.column("gxsj").to_pylist()) == {first.new_watermark}


def test_census_counts_rows_per_key_and_shows_a_deleted_copy(synth: Path, tmp_path: Path) -> None:
    ds = _dataset("scjgj_sczt")
    path = tmp_path / "copy.sqlite"
    path.write_bytes(_sqlite_file(synth, PERIODS[0], ds).read_bytes())
    url = f"sqlite:///{path}"
    key, table = ds.field(ds.record_key[0]).header, ds.delivery.table
    counts = Counter(row[0] for row in _sqlite_rows_of(path, f'SELECT "{key}" FROM "{table}"'))
    first = census(ds, url, batch_rows=500)  # several batches
    assert first.schema == pa.schema([("uscc", pa.string()), ("_row_count", pa.int64())])
    got = _counts(first)
    assert got == dict(counts)
    assert first.column("uscc").to_pylist() == sorted(got, key=lambda k: (k is not None, k or ""))
    single = next(k for k, n in counts.items() if n == 1 and k)
    con = sqlite3.connect(path)
    with con:  # the department copies a row, then deletes another record
        con.execute(f'INSERT INTO "{table}" SELECT * FROM "{table}" WHERE "{key}" = ?', [single])
        gone = next(k for k, n in counts.items() if n == 1 and k and k != single)
        con.execute(f'DELETE FROM "{table}" WHERE "{key}" = ?', [gone])
    con.close()
    after = census(ds, url)
    now = _counts(after)
    assert now[single] == 2 and gone not in now
    assert len(now) == len(got) - 1


def _counts(table: pa.Table) -> dict:
    keys, counts = table.column("uscc").to_pylist(), table.column("_row_count").to_pylist()
    return dict(zip(keys, counts, strict=True))


def _sqlite_rows_of(path: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_source_and_connection_error_hide_the_password() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://dept:s3cret-pw@127.0.0.1:{port}/qzk"
    assert (
        source_of(url, "t_rk_hjxx") == f"postgresql+psycopg://dept@127.0.0.1:{port}/qzk#t_rk_hjxx"
    )
    with pytest.raises(FrontdbConnectionError) as caught:
        pull(_dataset("gaj_hjrk"), url, None)
    message = str(caught.value)
    assert f"无法连接前置库 127.0.0.1:{port}/qzk" in message
    assert "s3cret-pw" not in message


# ------------------------------------------------------------------------- real PostgreSQL


def _pg_url_with_port(url: str, port: int) -> str:
    return sa.make_url(url).set(port=port).render_as_string(hide_password=False)


@pytest.mark.integration
@pytest.mark.parametrize("dataset_id", ["scjgj_sczt", "gaj_hjrk"])
def test_incremental_pull_returns_exactly_the_changed_rows(
    synth: Path,
    pg_url: str,
    dataset_id: str,
) -> None:
    ds = _dataset(dataset_id)
    table = ds.delivery.table
    before = _sqlite_file(synth, PERIODS[0], ds)
    after = _sqlite_file(synth, PERIODS[1], ds)

    assert load_frontdb(before, table, pg_url) == len(_sqlite_rows(before, table))
    first = pull(ds, pg_url, None, batch_rows=700)  # server-side cursor, several round trips
    from_sqlite = pull(ds, f"sqlite:///{before}", None)
    assert first.table.equals(from_sqlite.table)  # same rows, same order, on both backends
    assert Counter(_rows(first.table, ds)) == Counter(_sqlite_rows(before, table))
    assert "pw-secret" not in first.source and first.source.endswith(f"/frontdb#{table}")

    load_frontdb(after, table, pg_url)
    second = pull(ds, pg_url, first.new_watermark)
    # Changed rows computed from the two files alone: rows of the new month not in the old one.
    changed = Counter(_sqlite_rows(after, table)) - Counter(_sqlite_rows(before, table))
    assert sum(changed.values()) > 0
    assert Counter(_rows(second.table, ds)) == changed
    assert second.rows_read == sum(changed.values())
    assert second.new_watermark == max(r[-1] for r in changed)


def _create_text_table(url: str, name: str, headers: list[str], rows: list[tuple]) -> None:
    meta = sa.MetaData()
    table = sa.Table(name, meta, *[sa.Column(h, sa.Text) for h in headers])
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        table.drop(conn, checkfirst=True)
        table.create(conn)
        conn.execute(table.insert(), [dict(zip(headers, r, strict=True)) for r in rows])
    engine.dispose()


def _execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


@pytest.mark.integration
def test_ids_nulls_and_empty_strings_arrive_as_stored(pg_url: str) -> None:
    ds = _dataset("gaj_hjrk", "t_ids")
    base = ("2", "01", "19591128", "371621", "地址", "0000123", "02", "1")
    rows = [
        ("37162119591128174X", "王兰清", *base, "2023-01-05 08:00:00"),
        ("011234567890123456", None, *base, "2023-01-05 08:00:01"),
        ("371602196806251755", "", *base, "2023-01-05 08:00:02"),
    ]
    _create_text_table(pg_url, "t_ids", ds.headers, rows)
    result = pull(ds, pg_url, None)
    got = {r["citizen_id"]: r for r in result.table.to_pylist()}
    assert set(got) == {"37162119591128174X", "011234567890123456", "371602196806251755"}
    assert got["011234567890123456"]["person_name"] is None
    assert got["371602196806251755"]["person_name"] == ""
    assert {r["household_no"] for r in got.values()} == {"0000123"}
    assert {r["nation"] for r in got.values()} == {"01"}
    later = pull(ds, pg_url, "2023-01-05 08:00:00")
    assert later.table.column("citizen_id").to_pylist() == [
        "011234567890123456",
        "371602196806251755",
    ]


@pytest.mark.integration
def test_typed_columns_are_rendered_as_text_by_the_database(pg_url: str) -> None:
    ds = _dataset("gaj_hjrk", "t_typed")
    headers = ds.headers
    columns = ", ".join(
        f"{h} timestamp" if h == "gxsj" else f"{h} date" if h == "csrq" else f"{h} text"
        for h in headers
    )
    _execute(
        pg_url,
        "DROP TABLE IF EXISTS t_typed",
        f"CREATE TABLE t_typed ({columns})",
        "INSERT INTO t_typed VALUES ('37162119591128174X', '王', '2', '01', '1959-11-28', "
        "'371621', '地址', '1', '02', '1', '2023-01-05 08:00:00'), ('371602196806251755', '葛', "
        "'1', '01', NULL, '371602', '地址', '2', '02', '1', '2023-01-06 09:30:00')",
    )
    result = pull(ds, pg_url, "2023-01-05 08:00:00")
    assert result.table.to_pylist() == [
        {
            "citizen_id": "371602196806251755",
            "person_name": "葛",
            "gender": "1",
            "nation": "01",
            "birth_date": None,
            "domicile_region": "371602",
            "domicile_address": "地址",
            "household_no": "2",
            "household_relation": "02",
            "hukou_status": "1",
            "gxsj": "2023-01-06 09:30:00",
            "_row_number": 1,
        }
    ]
    assert result.new_watermark == "2023-01-06 09:30:00"
    assert pull(ds, pg_url, None).table.column("birth_date").to_pylist() == ["1959-11-28", None]


@pytest.mark.integration
def test_schema_drift_names_table_and_column(synth: Path, pg_url: str) -> None:
    ds = _dataset("gaj_hjrk")
    load_frontdb(_sqlite_file(synth, PERIODS[0], ds), "t_rk_hjxx", pg_url)
    _execute(
        pg_url,
        "DROP TABLE IF EXISTS t_drift",
        "CREATE TABLE t_drift AS SELECT * FROM t_rk_hjxx LIMIT 10",
        "ALTER TABLE t_drift DROP COLUMN xb",
    )
    drifted = _dataset("gaj_hjrk", "t_drift")
    with pytest.raises(SchemaDriftError) as caught:
        pull(drifted, pg_url, None)
    assert caught.value.missing == ["xb"] and caught.value.extra == []
    assert "前置库表 t_drift 的结构与登记不一致" in str(caught.value)
    assert "缺少列 xb" in str(caught.value)

    _execute(pg_url, "ALTER TABLE t_drift ADD COLUMN xb text", "ALTER TABLE t_drift ADD bz text")
    with pytest.raises(SchemaDriftError, match="多出列 bz"):
        pull(drifted, pg_url, None)
    _execute(pg_url, "ALTER TABLE t_drift DROP COLUMN bz")
    assert pull(drifted, pg_url, None).rows_read == 10  # column order does not matter


@pytest.mark.integration
def test_wrong_port_and_missing_table(pg_url: str) -> None:
    port = free_port()
    with pytest.raises(FrontdbConnectionError) as caught:
        pull(_dataset("gaj_hjrk"), _pg_url_with_port(pg_url, port), None)
    assert f"无法连接前置库 127.0.0.1:{port}/frontdb（用户 bzdata）" in str(caught.value)
    assert "pw-secret" not in str(caught.value)
    with pytest.raises(FrontdbError, match="中没有表 t_nowhere"):
        pull(_dataset("gaj_hjrk", "t_nowhere"), pg_url, None)


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "gaj.sqlite"
    with pytest.raises(FrontdbConnectionError, match="文件不存在"):
        pull(_dataset("gaj_hjrk"), f"sqlite:///{path}", None)
    assert not path.exists()
