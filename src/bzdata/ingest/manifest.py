"""The lake's layout and table shapes: raw partitions, row rejects, quarantine and the manifest.

    lake/raw/<dataset>/period=<YYYY-MM>/part-<nnn>.parquet   delivered text + lineage columns
    lake/rejects/<dataset>/period=<YYYY-MM>/rejects.parquet  rejected rows with raw text, reason
    lake/quarantine/<dataset>/<YYYY-MM>/<file>(.reason.json)  whole files that could not load
    lake/manifest/period=<YYYY-MM>/<dataset>.parquet         one row per file or pull
    lake/census/<dataset>/period=<YYYY-MM>/census.parquet    前置库 rows per record key at the pull

The manifest is kept as one file per dataset and period so that datasets can be ingested by
parallel processes, each replacing only its own files. Its rows obey
rows_read == rows_accepted + rows_rejected (title, blank and footer lines are not records and
are listed in `artefacts` instead). Lateness is the boolean `late` beside `status`
(a late file is still `loaded`), so a late delivery that was also a duplicate or quarantined
keeps both facts. The watermark a 前置库 pull reached is kept on its manifest row: the next
period's pull starts from the latest earlier period, so rerunning any period pulls the same rows.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pds

from bzdata.registry import Dataset

STATUSES = ("loaded", "duplicate", "quarantined", "missing", "failed")

LINEAGE = pa.schema(
    [
        ("_batch_id", pa.string()),
        ("_source", pa.string()),
        ("_row_number", pa.int64()),
        ("_loaded_at", pa.timestamp("us", tz="UTC")),
    ]
)

REJECT_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("period", pa.string()),
        ("source", pa.string()),
        ("line", pa.int64()),
        ("raw", pa.string()),
        ("reason", pa.string()),
        ("batch_id", pa.string()),
    ]
)

MANIFEST_SCHEMA = pa.schema(
    [
        ("delivery_id", pa.string()),
        ("dataset", pa.string()),
        ("department", pa.string()),
        ("period", pa.string()),
        ("channel", pa.string()),
        ("source", pa.string()),
        ("sha256", pa.string()),
        ("bytes", pa.int64()),
        ("encoding", pa.string()),
        ("arrived_at", pa.timestamp("s")),  # file mtime, local wall time like due_at
        ("due_at", pa.timestamp("s")),
        ("late", pa.bool_()),
        ("rows_read", pa.int64()),
        ("rows_accepted", pa.int64()),
        ("rows_rejected", pa.int64()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("batch_id", pa.string()),
        ("schema_drift", pa.string()),
        ("watermark", pa.string()),
        ("run_id", pa.string()),
        ("loaded_at", pa.timestamp("us", tz="UTC")),
        # JSON list of what a spreadsheet or editor did to the file and ingest tolerated:
        # [{"kind", "detail", "line"}]; null when nothing. Added after the first release, so
        # older manifest files lack it (the warehouse view reads it as null there).
        ("artefacts", pa.string()),
    ]
)


def raw_schema(ds: Dataset) -> pa.Schema:
    """Every registry column as text, then the lineage columns."""
    return pa.schema([(c, pa.string()) for c in ds.columns] + list(LINEAGE))


def raw_parent(lake: Path, dataset: str) -> Path:
    return Path(lake) / "raw" / dataset


CENSUS_ROWS = "_row_count"


def census_schema(ds: Dataset) -> pa.Schema:
    """A 前置库 table's key census: the record-key columns as text and the rows per key."""
    return pa.schema([(c, pa.string()) for c in ds.record_key] + [(CENSUS_ROWS, pa.int64())])


def census_file(lake: Path, dataset: str, period: str) -> Path:
    return Path(lake) / "census" / dataset / f"period={period}" / "census.parquet"


def rejects_file(lake: Path, dataset: str, period: str) -> Path:
    return Path(lake) / "rejects" / dataset / f"period={period}" / "rejects.parquet"


def quarantine_parent(lake: Path, dataset: str) -> Path:
    return Path(lake) / "quarantine" / dataset


def manifest_file(lake: Path, dataset: str, period: str) -> Path:
    return Path(lake) / "manifest" / f"period={period}" / f"{dataset}.parquet"


def check_counts(row: dict) -> None:
    """The accounting invariant; a violation is a bug of the platform, never of the data."""
    if row["rows_read"] != row["rows_accepted"] + row["rows_rejected"]:
        raise AssertionError(
            f"清单行 {row['delivery_id']} 行数不平：读取 {row['rows_read']} ≠ "
            f"入库 {row['rows_accepted']} + 拒收 {row['rows_rejected']}"
        )


def manifest_table(rows: list[dict]) -> pa.Table:
    for row in rows:
        check_counts(row)
    return pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA)


def read_manifest(lake: Path | str, period: str | None = None) -> pa.Table:
    """All manifest rows (of one period if given), ordered by period, dataset and delivery."""
    root = Path(lake) / "manifest"
    pattern = f"period={period}/*.parquet" if period else "period=*/*.parquet"
    files = sorted(str(p) for p in root.glob(pattern))
    if not files:
        return MANIFEST_SCHEMA.empty_table()
    table = pds.dataset(files, schema=MANIFEST_SCHEMA, format="parquet").to_table()
    order = pc.sort_indices(
        table, [("period", "ascending"), ("dataset", "ascending"), ("delivery_id", "ascending")]
    )
    return table.take(order)
