"""抽取失败: what the lake records when a dataset's collection failed (source down, bad setting).

`record_failure` replaces the dataset's period with an empty partition and ONE manifest row of
status `failed` carrying the reason, so the failure is local and visible: the build sees no rows
of this dataset for the period, the scorecard's 归集 counts it as not delivered, `bzdata status`
shows the reason, and every other dataset goes on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from bzdata.ingest import manifest as mf
from bzdata.ingest.paths import Paths
from bzdata.registry import load_registry
from bzdata.storage import remove_dir, write_parquet

FAILED = "failed"
FAILED_LABEL = "抽取失败"


def record_failure(
    dataset_id: str, period: str, logical_date: datetime, paths: Paths, run_id: str, reason: str
) -> dict:
    """Write the failure of one dataset's collection for `period`; returns the manifest row."""
    from bzdata.ingest.load import due_at

    ds = load_registry().dataset(dataset_id)
    lake = Path(paths.lake)
    if logical_date.tzinfo is None:
        logical_date = logical_date.replace(tzinfo=UTC)
    remove_dir(mf.raw_parent(lake, ds.id) / f"period={period}")
    mf.census_file(lake, ds.id, period).unlink(missing_ok=True)
    source = (
        f"{ds.provider}#{ds.delivery.table}" if ds.is_frontdb else f"{ds.provider}/{ds.id}/{period}"
    )
    row = {
        "delivery_id": f"{ds.id}/{period}/{FAILED_LABEL}",
        "dataset": ds.id,
        "department": ds.provider,
        "period": period,
        "channel": ds.delivery.channel,
        "source": source,
        "sha256": None,
        "bytes": None,
        "encoding": None,
        "arrived_at": None,
        "due_at": due_at(ds, period),
        "late": False,
        "rows_read": 0,
        "rows_accepted": 0,
        "rows_rejected": 0,
        "status": FAILED,
        "reason": f"{FAILED_LABEL}：{reason}",
        "batch_id": None,
        "schema_drift": None,
        "watermark": None,
        "run_id": run_id,
        "loaded_at": logical_date.astimezone(UTC),
    }
    write_parquet(
        pa.Table.from_pylist([], schema=mf.REJECT_SCHEMA), mf.rejects_file(lake, ds.id, period)
    )
    write_parquet(mf.manifest_table([row]), mf.manifest_file(lake, ds.id, period))
    return row
