"""The raw schema of the warehouse: a view per dataset, the manifest and the rejects."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq

from bzdata.ingest import refresh_warehouse
from bzdata.registry import load_registry

BIRTH = "wjw_csyxzm"
HEADER = ",".join(load_registry().dataset(BIRTH).headers)
ROW = "Q371600000,37162120230112075X,任军振,1,2023-01-12,371621199804191747,贾涵,医院"


def _query(paths, sql: str) -> list[tuple]:
    con = duckdb.connect(str(paths.database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_fresh_platform_has_an_empty_typed_view_per_dataset(paths):
    refresh_warehouse(paths)
    views = {
        name
        for (name,) in _query(
            paths, "select view_name from duckdb_views() where schema_name = 'raw'"
        )
    }
    registry = load_registry()
    censuses = {f"{ds.id}__census" for ds in registry.datasets if ds.is_frontdb}
    assert censuses
    assert views == {ds.id for ds in registry.datasets} | {"manifest", "rejects"} | censuses
    assert _query(paths, f"select count(*) from raw.{BIRTH}") == [(0,)]
    types = dict(
        _query(paths, "select column_name, column_type from (describe raw.gaj_hjrk__census)")
    )
    assert types == {"citizen_id": "VARCHAR", "_row_count": "BIGINT", "period": "VARCHAR"}
    types = dict(_query(paths, f"select column_name, column_type from (describe raw.{BIRTH})"))
    assert types["citizen_id"] == "VARCHAR" and types["_row_number"] == "BIGINT"
    assert types["_loaded_at"] == "TIMESTAMP WITH TIME ZONE" and types["period"] == "VARCHAR"
    assert _query(paths, "select count(*) from raw.manifest") == [(0,)]


def test_views_show_loaded_partitions_manifest_and_rejects(paths, drop, ingest):
    drop(BIRTH, f"{HEADER}\n{ROW}\nQ1,2\n".encode())
    ingest(BIRTH)
    drop(BIRTH, f"{HEADER}\n{ROW}\n".encode(), period="2023-02")
    ingest(BIRTH, period="2023-02")
    refresh_warehouse(paths)
    rows = _query(paths, f"select period, citizen_id from raw.{BIRTH} order by period")
    assert rows == [("2023-01", "37162120230112075X"), ("2023-02", "37162120230112075X")]
    manifest = _query(
        paths, f"select period, status from raw.manifest where dataset = '{BIRTH}' order by 1"
    )
    assert manifest == [("2023-01", "loaded"), ("2023-02", "loaded")]
    assert _query(paths, "select line, raw from raw.rejects") == [(3, "Q1,2")]


def test_field_registered_after_loading_reads_as_null(paths, drop, ingest, raw):
    drop(BIRTH, f"{HEADER}\n{ROW}\n".encode())
    ingest(BIRTH)
    part = paths.lake / "raw" / BIRTH / "period=2023-01" / "part-000.parquet"
    pq.write_table(raw(BIRTH).drop_columns(["hospital_name"]), part)  # as if written before
    refresh_warehouse(paths)
    rows = _query(paths, f"select citizen_id, hospital_name from raw.{BIRTH}")
    assert rows == [("37162120230112075X", None)]
