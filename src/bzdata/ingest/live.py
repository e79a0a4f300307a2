"""数据高铁 into the base libraries: a near-real-time view of each 基础库 a 前置库 feeds.

    <work>/publish/base/<library>.parquet   the monthly 基础库 as built (authoritative), written
                                            by the publish DAG after dbt build (snapshot_base)
    <work>/lake/live/<library>.parquet      the live library, rewritten after every stream batch

The live library takes its set of records from the stream's current state of the 前置库 table
(every key the department holds now: new births and registrations appear, deleted rows go) and,
column by column, the stream's value where the 前置库 dataset delivers that column, else the
monthly library's value (columns other departments are authoritative for). The next monthly
build stays the authoritative one; the live view is replaced, never merged into it.
"""

from __future__ import annotations

from pathlib import Path

from bzdata import duck
from bzdata.ingest.paths import warehouse_file
from bzdata.registry.models import Dataset
from bzdata.storage import write_parquet

# 前置库 dataset -> the base library it is the authority for (dbt_project/models/marts/base).
LIVE_LIBRARIES = {"gaj_hjrk": "lib_population", "scjgj_sczt": "lib_legal_entity"}
BASE_SCHEMA = "base"


def snapshot_dir(work_dir: Path | str) -> Path:
    return Path(work_dir) / "publish" / "base"


def live_dir(work_dir: Path | str) -> Path:
    return Path(work_dir) / "lake" / "live"


def live_file(work_dir: Path | str, library: str) -> Path:
    return live_dir(work_dir) / f"{library}.parquet"


def snapshot_base(work_dir: Path | str) -> list[str]:
    """Export every table of schema `base` to Parquet (read-only, each file replaced whole,
    rows sorted so that a rebuild of the same data writes the same file)."""

    con = duck.connect(warehouse_file(work_dir), read_only=True)
    try:
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "order by table_name",
                [BASE_SCHEMA],
            ).fetchall()
        ]
        for name in names:
            # Rows in one fixed order: the same build gives the same snapshot bytes.
            table = con.sql(f'select * from {BASE_SCHEMA}."{name}" order by all').to_arrow_table()
            write_parquet(table, snapshot_dir(work_dir) / f"{name}.parquet")
    finally:
        con.close()
    return names


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def build_live(work_dir: Path | str, ds: Dataset, stream_dir: Path | str) -> Path | None:
    """Rewrite the live library fed by `ds` from its stream state; None if it feeds none."""

    library = LIVE_LIBRARIES.get(ds.id)
    current = Path(stream_dir) / ds.id / "current.parquet"
    if library is None or not current.is_file():
        return None
    monthly = snapshot_dir(work_dir) / f"{library}.parquet"
    con = duck.connect()
    try:
        stream_cols = [
            r[0]
            for r in con.execute(
                f"describe select * from read_parquet({_literal(current)})"
            ).fetchall()
        ]
        keys = [k for k in ds.record_key]
        if monthly.is_file():
            described = con.execute(
                f"describe select * from read_parquet({_literal(monthly)})"
            ).fetchall()
            select = []
            for name, kind, *_ in described:
                q = _quote(name)
                if name in keys:
                    select.append(f"s.{q} as {q}")  # the stream's key, also for new records
                elif name in stream_cols:
                    select.append(f"try_cast(s.{q} as {kind}) as {q}")
                else:
                    select.append(f"m.{q} as {q}")
            on = " and ".join(f"m.{_quote(k)} = s.{_quote(k)}" for k in keys)
            sql = (
                f"select {', '.join(select)} from read_parquet({_literal(current)}) as s "
                f"left join read_parquet({_literal(monthly)}) as m on {on} "
                f"order by {', '.join('s.' + _quote(k) for k in keys)}"
            )
        else:
            order = ", ".join(_quote(k) for k in keys)
            sql = f"select * from read_parquet({_literal(current)}) order by {order}"
        table = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    path = live_file(work_dir, library)
    write_parquet(table, path)
    return path
