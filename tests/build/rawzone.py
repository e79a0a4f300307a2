"""A stand-in raw zone for the build tests: synthetic deliveries read back as delivered text.

It follows the raw-zone contract of the ingest (lake/raw/<dataset>/period=<YYYY-MM>/*.parquet,
every registry column as a string plus the lineage columns; one view per dataset in schema `raw`
of the warehouse) without its decoding, rejects or manifest: files are read with the synthetic
city's own reader. A 前置库 table is pulled as the ingest pulls it ("delta": the whole table the
first month, then rows whose watermark is past the last one seen) or whole every month ("full"),
with its key census (rows per record key) as the ingest writes it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bzdata.registry import Registry, load_registry
from bzdata.synth import writers

LINEAGE = ("_batch_id", "_source", "_row_number", "_loaded_at")


def _deliveries(synth: Path) -> list[dict]:
    return [d for d in json.loads((synth / "synth.json").read_text())["deliveries"] if d["file"]]


def _pull(table: pa.Table, watermark: str, seen: dict[str, str], key: str) -> pa.Table:
    """Rows past the last watermark seen (all rows the first time); remembers the new maximum."""
    stamps = table.column(watermark)
    if key in seen:
        table = table.filter(pc.greater(stamps, seen[key]))
    if table.num_rows:
        seen[key] = max(seen.get(key, ""), pc.max(table.column(watermark)).as_py())
    return table


def build_raw_zone(
    synth: Path, work: Path, registry: Registry | None = None, frontdb: str = "delta"
) -> Path:
    """Write the raw zone under `work/lake/raw` and its views into the warehouse of `work`."""
    registry = registry or load_registry()
    synth, work = Path(synth), Path(work)
    raw = work / "lake" / "raw"
    watermarks: dict[str, str] = {}
    for delivery in _deliveries(synth):
        ds = registry.dataset(delivery["dataset"])
        period = delivery["period"]
        source = synth / delivery["file"]
        table = writers.read_back(source, ds)
        if ds.is_frontdb:
            census = table.group_by(list(ds.record_key)).aggregate([([], "count_all")])
            census = census.rename_columns({"count_all": "_row_count"})
            folder = work / "lake" / "census" / ds.id / f"period={period}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(census, folder / "census.parquet")
        if ds.is_frontdb and frontdb == "delta":
            table = _pull(table, ds.watermark_field.column, watermarks, ds.id)
        n = table.num_rows
        batch = f"{ds.id}-{period}"
        loaded = datetime.fromisoformat(f"{period}-01T00:00:00+00:00")
        table = (
            table.append_column("_batch_id", pa.array([batch] * n, pa.string()))
            .append_column("_source", pa.array([delivery["file"]] * n, pa.string()))
            .append_column("_row_number", pa.array(range(1, n + 1), pa.int64()))
            .append_column("_loaded_at", pa.array([loaded] * n, pa.timestamp("us", tz="UTC")))
        )
        folder = raw / ds.id / f"period={period}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "part-000.parquet")
    warehouse = work / "warehouse" / "bzdata.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists raw")
        for ds in registry.datasets:
            columns = ", ".join(f'"{c}"' for c in ds.columns)
            lineage = ", ".join(LINEAGE)
            parts = sorted((raw / ds.id).glob("period=*/*.parquet"))
            if parts:
                body = (
                    f"select {columns}, {lineage}, period from read_parquet("
                    f"'{raw / ds.id}/period=*/*.parquet', hive_partitioning = true, "
                    "hive_types = {'period': varchar})"
                )
            else:  # nothing delivered yet (e.g. a quarterly dataset): same columns, no rows
                typed = ", ".join(f'cast(null as varchar) as "{c}"' for c in ds.columns)
                body = (
                    f"select {typed}, cast(null as varchar) as _batch_id, "
                    "cast(null as varchar) as _source, cast(null as bigint) as _row_number, "
                    "cast(null as timestamptz) as _loaded_at, cast(null as varchar) as period "
                    "where false"
                )
            con.execute(f"create or replace view raw.{ds.id} as {body}")
            if ds.is_frontdb:
                con.execute(
                    f"create or replace view raw.{ds.id}__census as select * from read_parquet("
                    f"'{work}/lake/census/{ds.id}/period=*/*.parquet', hive_partitioning = true, "
                    "hive_types = {'period': varchar})"
                )
    finally:
        con.close()
    return warehouse
