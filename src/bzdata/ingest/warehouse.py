"""Expose the raw zone in the warehouse: schema `raw` of warehouse/bzdata.duckdb.

One view per registry dataset over its Parquet partitions (with the partition's `period`), plus
`raw.manifest` and `raw.rejects`, and for each 前置库 dataset `raw.<dataset>__census` (the
table's rows per record key at each period's pull). Views read the lake at query time, so the
warehouse file stays small and the ingest itself never opens DuckDB. A dataset with no partition
yet gets an empty view of the right columns and types, so dbt models compile on a fresh platform.
"""

from __future__ import annotations

import glob as globlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from bzdata import duck
from bzdata.ingest import manifest as mf
from bzdata.ingest.lock import writer_lock
from bzdata.ingest.paths import Paths
from bzdata.registry import load_registry

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

_DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.bool_(): "BOOLEAN",
    pa.timestamp("s"): "TIMESTAMP",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
}


def refresh_warehouse(paths: Paths, *, run_id: str | None = None) -> None:
    """(Re)create schema `raw` under the writer lock; raises WriterBusy if another writer runs."""
    run_id = run_id or f"refresh-{os.getpid()}"
    lake = Path(paths.lake).resolve()
    views = [
        (ds.id, mf.raw_schema(ds).append(pa.field("period", pa.string())), True)
        for ds in load_registry().datasets
    ]
    views += [("manifest", mf.MANIFEST_SCHEMA, False), ("rejects", mf.REJECT_SCHEMA, False)]
    globs = {
        "manifest": lake / "manifest" / "period=*" / "*.parquet",
        "rejects": lake / "rejects" / "*" / "period=*" / "*.parquet",
    }
    for ds in load_registry().datasets:
        if ds.is_frontdb:
            name = census_view(ds.id)
            views.append((name, mf.census_schema(ds).append(pa.field("period", pa.string())), True))
            globs[name] = mf.census_file(lake, ds.id, "*").parent / "*.parquet"
    with writer_lock(paths, run_id, "refresh_warehouse"):
        paths.database.parent.mkdir(parents=True, exist_ok=True)
        con = duck.connect(paths.database)
        try:
            con.execute("BEGIN")
            con.execute("DROP SCHEMA IF EXISTS raw CASCADE")
            con.execute("CREATE SCHEMA raw")
            for name, schema, hive in views:
                glob = globs.get(name) or mf.raw_parent(lake, name) / "period=*" / "*.parquet"
                con.execute(_view(con, name, schema, glob, hive))
            con.execute("COMMIT")
        finally:
            con.close()


def census_view(dataset: str) -> str:
    """Name (in schema `raw`) of a 前置库 dataset's key census view."""
    return f"{dataset}__census"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _view(con: DuckDBPyConnection, name: str, schema: pa.Schema, glob: Path, hive: bool) -> str:
    """CREATE VIEW over the files; columns the files lack (a field registered after they were
    written) read as typed nulls, and no files at all give an empty view of the same shape."""
    columns = [(f.name, _DUCKDB_TYPES[f.type]) for f in schema]
    if not globlib.glob(str(glob)):
        select = ", ".join(f"CAST(NULL AS {t}) AS {_quote(c)}" for c, t in columns)
        return f"CREATE VIEW raw.{_quote(name)} AS SELECT {select} WHERE false"
    # DDL takes no bind parameters: the path is a literal with quotes doubled.
    literal = "'" + str(glob).replace("'", "''") + "'"
    # Manifest and rejects carry `period` inside the file; only raw takes it from the path.
    hive_options = "true, hive_types = {'period': VARCHAR}" if hive else "false"
    source = f"read_parquet({literal}, union_by_name = true, hive_partitioning = {hive_options})"
    present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    select = ", ".join(
        f"CAST({_quote(c) if c in present else 'NULL'} AS {t}) AS {_quote(c)}" for c, t in columns
    )
    return f"CREATE VIEW raw.{_quote(name)} AS SELECT {select} FROM {source}"
