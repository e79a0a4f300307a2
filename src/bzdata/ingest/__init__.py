"""汇聚 (collect): department deliveries → raw Parquet zone, manifest, rejects and quarantine.

    paths = Paths.from_work(work_dir)
    rows = ingest_dataset("rsj_shbx", "2023-01", logical_date, paths, run_id)  # Parquet only
    refresh_warehouse(paths)  # raw.* views in warehouse/bzdata.duckdb, under the writer lock

File drops are read by `readers` (encoding detected, bad rows rejected with their raw text,
unreadable files quarantined), 前置库 tables are pulled by `frontdb`; `manifest` describes the
lake's layout and `lock` keeps DuckDB to one writer. Heavy modules load on first use, so
importing this package (e.g. while Airflow parses a DAG file) costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bzdata.ingest.paths import Paths

if TYPE_CHECKING:
    from bzdata.ingest.load import ingest_dataset
    from bzdata.ingest.warehouse import refresh_warehouse

__all__ = ["Paths", "ingest_dataset", "refresh_warehouse"]

_LAZY = {"ingest_dataset": "bzdata.ingest.load", "refresh_warehouse": "bzdata.ingest.warehouse"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bzdata.ingest' has no attribute {name!r}")
