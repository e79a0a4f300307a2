"""Ingest one dataset's deliveries for one period into the raw zone: the body of 汇聚.

`ingest_dataset` reads every file the department dropped for the period (or pulls its 前置库
table), writes the rows as text with lineage columns into a staging partition, swaps it in
whole, and records one manifest row per file or pull. It writes Parquet only, never DuckDB, so
several datasets can be ingested by parallel processes; `refresh_warehouse` then exposes them.

Reruns are transactions: the same landing files and logical date give byte-identical Parquet
(`_loaded_at` and `_batch_id` come from the logical date and file contents, never the clock).
"""

from __future__ import annotations

import calendar
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bzdata import progress
from bzdata.ingest import manifest as mf
from bzdata.ingest.paths import Paths
from bzdata.ingest.readers import Chunk, Quarantine, Reject, open_file
from bzdata.periods import is_period
from bzdata.registry import Dataset, load_registry
from bzdata.storage import publish_dir, remove_dir, staging_dir, sweep, write_parquet

# Rows converted to Arrow per step: bounds memory whatever the file size.
BATCH_ROWS = 100_000
NOT_CONFIGURED = "前置库通道未配置"
_ENCODING_FAMILY = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "gbk": "GB",
    "gb18030": "GB",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
}


def due_at(ds: Dataset, period: str) -> datetime | None:
    """End of the `delivery.due_day` of the month after the period (local wall time)."""
    if ds.delivery.due_day is None:
        return None
    year, month = int(period[:4]), int(period[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, ds.delivery.due_day, 23, 59, 59)


@dataclass
class _Run:
    """One dataset and period being ingested: context plus what has been produced so far."""

    ds: Dataset
    period: str
    loaded_at: datetime
    paths: Paths
    run_id: str
    staging: Path
    quarantine: Path
    rows: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    parts: int = 0

    @property
    def batch_prefix(self) -> str:
        return f"{self.ds.id}-{self.period.replace('-', '')}-{self.loaded_at:%Y%m%dT%H%M%SZ}"

    def row(self, source: str, status: str, **values: object) -> dict:
        """A manifest row; its delivery id ends with the file (or table) name."""
        item = "未报送" if status == "missing" else source.rsplit("/", 1)[-1]
        row = {
            "delivery_id": f"{self.ds.id}/{self.period}/{item}",
            "dataset": self.ds.id,
            "department": self.ds.provider,
            "period": self.period,
            "channel": self.ds.delivery.channel,
            "source": source,
            "sha256": None,
            "bytes": None,
            "encoding": None,
            "arrived_at": None,
            "due_at": due_at(self.ds, self.period),
            "late": False,
            "rows_read": 0,
            "rows_accepted": 0,
            "rows_rejected": 0,
            "status": status,
            "reason": None,
            "batch_id": None,
            "schema_drift": None,
            "watermark": None,
            "run_id": self.run_id,
            "loaded_at": self.loaded_at,
            "artefacts": None,
        }
        row.update(values)
        mf.check_counts(row)
        return row


def ingest_dataset(
    dataset_id: str, period: str, logical_date: datetime, paths: Paths, run_id: str
) -> list[dict]:
    """Load every delivery of the dataset for `period` (YYYY-MM); return the manifest rows.

    `logical_date` (a naive value is taken as UTC) stamps `_loaded_at`; `run_id` only goes into
    the manifest, so reruns with the same logical date give byte-identical raw Parquet.
    """
    if not is_period(period):
        raise ValueError(f"期次应为 YYYY-MM 格式，例如 2023-01，实际为 {period!r}")
    ds = load_registry().dataset(dataset_id)
    if logical_date.tzinfo is None:
        logical_date = logical_date.replace(tzinfo=UTC)
    lake = Path(paths.lake)
    raw_parent, quarantine_parent = mf.raw_parent(lake, ds.id), mf.quarantine_parent(lake, ds.id)
    partition = f"period={period}"
    sweep(raw_parent, partition)
    sweep(quarantine_parent, period)
    run = _Run(
        ds=ds,
        period=period,
        loaded_at=logical_date.astimezone(UTC),
        paths=paths,
        run_id=run_id,
        staging=staging_dir(raw_parent, partition),
        quarantine=staging_dir(quarantine_parent, period),
    )
    if ds.is_frontdb:
        _pull(run)
    else:
        _files(run)
    publish_dir(run.staging, raw_parent / partition)
    if any(run.quarantine.iterdir()):
        publish_dir(run.quarantine, quarantine_parent / period)
    else:
        run.quarantine.rmdir()
        remove_dir(quarantine_parent / period)
    rejects = pa.Table.from_pylist(run.rejects, schema=mf.REJECT_SCHEMA)
    write_parquet(rejects, mf.rejects_file(lake, ds.id, period))
    write_parquet(mf.manifest_table(run.rows), mf.manifest_file(lake, ds.id, period))
    return run.rows


# ---------------------------------------------------------------------------- file drops


def _files(run: _Run) -> None:
    ds, period = run.ds, run.period
    landing = Path(run.paths.landing)
    folder = landing / ds.provider / ds.id / period
    files = []
    if folder.is_dir():
        # Hidden names are half-written uploads (temporary files renamed into place when done).
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        if ds.is_due(period):
            deadline = due_at(ds, period)
            when = f"（应于 {deadline:%Y-%m-%d} 前报送）" if deadline else ""
            source = folder.relative_to(landing).as_posix()
            reason = f"截至本次运行，{source}/ 中没有 {period} 期文件{when}"
            run.rows.append(run.row(source, "missing", reason=reason))
        return
    earlier = _earlier_loaded(Path(run.paths.lake), ds.id, period)
    for path in files:
        name = path.relative_to(landing).as_posix()
        sha256, size = _digest(path)
        arrived = datetime.fromtimestamp(int(path.stat().st_mtime))
        deadline = due_at(ds, period)
        late = deadline is not None and arrived > deadline
        facts = {
            "sha256": sha256,
            "bytes": size,
            "arrived_at": arrived,
            "late": late,
            "batch_id": f"{run.batch_prefix}-{sha256[:8]}",
        }
        notes = (
            [f"迟报：应于 {deadline:%Y-%m-%d} 前报送，{arrived:%Y-%m-%d %H:%M} 到达"]
            if late
            else []
        )
        if sha256 in earlier:
            where, source = earlier[sha256]
            notes.insert(
                0, f"与 {where} 期已入库的 {source} 内容完全相同（sha256 一致），未重复入库"
            )
            run.rows.append(run.row(name, "duplicate", reason="；".join(notes), **facts))
            continue
        try:
            loaded = _load_file(run, path, name, facts["batch_id"])
        except Quarantine as exc:
            _quarantine(run, path, name, exc, sha256)
            notes.insert(0, exc.reason)
            reason = "；".join(notes)
            run.rows.append(
                run.row(name, "quarantined", encoding=exc.encoding, reason=reason, **facts)
            )
            continue
        earlier[sha256] = (period, name)
        notes = loaded.pop("notes") + notes
        run.rows.append(run.row(name, "loaded", reason="；".join(notes) or None, **facts, **loaded))


def _digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _earlier_loaded(lake: Path, dataset: str, period: str) -> dict[str, tuple[str, str]]:
    """sha256 -> (period, source) of files of this dataset loaded in earlier periods."""
    seen: dict[str, tuple[str, str]] = {}
    for row in _earlier_rows(lake, dataset, period):
        if row["status"] == "loaded" and row["sha256"]:
            seen.setdefault(row["sha256"], (row["period"], row["source"]))
    return seen


def _earlier_rows(lake: Path, dataset: str, period: str) -> list[dict]:
    files = sorted((lake / "manifest").glob(f"period=*/{dataset}.parquet"))
    rows: list[dict] = []
    for path in files:
        if path.parent.name.removeprefix("period=") < period:
            rows += pq.read_table(path).to_pylist()
    return sorted(rows, key=lambda r: (r["period"], r["delivery_id"]))


def _load_file(run: _Run, path: Path, name: str, batch_id: str) -> dict:
    """Stream one file into the next part file; raises Quarantine with nothing written."""
    opened = open_file(path, run.ds, name)
    part = run.staging / f"part-{run.parts:03d}.parquet"
    writer = _PartWriter(part, run, opened.match.positions, batch_id, name, opened.empty_is_null)
    accepted = rejected = 0
    items = opened.items
    size = opened.position[1] if opened.position else None
    meter = progress.Meter(f"汇聚 {name}", size)
    while True:
        meter.update(accepted + rejected, opened.position[0] if opened.position else None)
        try:
            item = next(items, None)
        except AssertionError:
            raise  # a bug of the platform, not of the file
        except Exception as exc:
            # A file that breaks mid-way (e.g. a damaged workbook part) is quarantined whole.
            writer.abort()
            del run.rejects[len(run.rejects) - rejected :]
            raise Quarantine(
                f"文件 {name} 读到第 {accepted + rejected + 1} 条记录附近时出错："
                f"{type(exc).__name__}: {exc}",
                expected="完整可读的文件",
                encoding=opened.encoding,
            ) from exc
        if item is None:
            break
        if isinstance(item, Reject):
            rejected += 1
            run.rejects.append(
                {
                    "dataset": run.ds.id,
                    "period": run.period,
                    "source": name,
                    "line": item.line,
                    "raw": item.raw,
                    "reason": item.reason,
                    "batch_id": batch_id,
                }
            )
        elif isinstance(item, Chunk):
            writer.add_chunk(item)
            accepted += item.table.num_rows
        else:
            writer.add(*item)
            accepted += 1
    writer.close()
    meter.finish(accepted + rejected)
    run.parts += 1
    notes = []
    declared = run.ds.delivery.encoding
    detected = opened.encoding
    if declared and detected and _ENCODING_FAMILY[declared] != _ENCODING_FAMILY[detected]:
        notes.append(f"登记编码为 {declared}，实际检测为 {detected}，已按 {detected} 读取")
    notes += opened.artefacts.notes()
    if rejected:
        notes.append(f"{rejected} 行被拒收，原文与原因见拒收表")
    drift = opened.match.drift()
    if drift:
        notes.append(json.loads(drift)["advice"])
    return {
        "encoding": detected,
        "rows_read": accepted + rejected,
        "rows_accepted": accepted,
        "rows_rejected": rejected,
        "schema_drift": drift,
        "artefacts": opened.artefacts.to_json(),
        "notes": notes,
    }


def _quarantine(run: _Run, path: Path, name: str, exc: Quarantine, sha256: str) -> None:
    """Copy the file into the quarantine area with its reason (the landing copy stays)."""
    shutil.copy2(path, run.quarantine / path.name)
    reason = {
        "file": name,
        "dataset": run.ds.id,
        "period": run.period,
        "sha256": sha256,
        "encoding": exc.encoding,
        "line": exc.line,
        "column": exc.column,
        "expected": exc.expected,
        "reason": exc.reason,
    }
    text = json.dumps(reason, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    (run.quarantine / f"{path.name}.reason.json").write_text(text, encoding="utf-8")


class _PartWriter:
    """Rows of one source to one Parquet part, converted to Arrow in batches."""

    def __init__(
        self,
        path: Path,
        run: _Run,
        positions: list[int | None],
        batch_id: str,
        source: str,
        empty_is_null: bool,
    ) -> None:
        self.path = path
        self.schema = mf.raw_schema(run.ds)
        self.positions = positions
        self.lineage = (batch_id, source, run.loaded_at)
        self.empty_is_null = empty_is_null
        self.rows: list = []
        self.lines: list[int] = []
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")

    def add(self, line: int, values: object) -> None:
        self.rows.append(values)
        self.lines.append(line)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        n = len(self.rows)
        if not n:
            return
        delivered = list(zip(*self.rows, strict=False))
        arrays = []
        for position in self.positions:
            if position is None:
                arrays.append(pa.nulls(n, pa.string()))
                continue
            array = pa.array(delivered[position], pa.string())
            if self.empty_is_null:
                array = pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)
            arrays.append(array)
        arrays += _lineage(self.lineage, self.lines)
        self.writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self.rows, self.lines = [], []

    def add_chunk(self, chunk: Chunk) -> None:
        self.flush()  # keeps file order
        n = chunk.table.num_rows
        arrays = [
            pa.nulls(n, pa.string()) if p is None else chunk.table.column(p).combine_chunks()
            for p in self.positions
        ]
        arrays += _lineage(self.lineage, pa.array(chunk.lines, pa.int64()))
        self.writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.flush()
        self.writer.close()

    def abort(self) -> None:
        self.writer.close()
        self.path.unlink(missing_ok=True)


def _lineage(lineage: tuple[str, str, datetime], lines: list[int] | pa.Array) -> list[pa.Array]:
    batch_id, source, loaded_at = lineage
    n = len(lines)
    return [
        pa.repeat(pa.scalar(batch_id, pa.string()), n),
        pa.repeat(pa.scalar(source, pa.string()), n),
        lines.cast(pa.int64()) if isinstance(lines, pa.Array) else pa.array(lines, pa.int64()),
        pa.repeat(pa.scalar(loaded_at, pa.timestamp("us", tz="UTC")), n),
    ]


# ---------------------------------------------------------------------------- 前置库


def _pull(run: _Run) -> None:
    """Pull the dataset's 前置库 table for the period from where the earlier periods stopped."""
    ds, period = run.ds, run.period
    census_path = mf.census_file(Path(run.paths.lake), ds.id, period)
    # A failed pull must not leave an earlier run's census beside an empty partition.
    census_path.unlink(missing_ok=True)
    try:
        from bzdata.ingest import frontdb
    except ImportError:
        frontdb = None
    url = frontdb.frontdb_url(ds, period, run.paths) if frontdb else None
    if url is None:
        reason = (
            (
                f"{NOT_CONFIGURED}：未设置 {frontdb.URL_ENV_PREFIX}{ds.provider.upper()}，"
                f"也没有 {period} 期的本地前置库文件"
            )
            if frontdb
            else NOT_CONFIGURED
        )
        run.rows.append(run.row(f"{ds.provider}#{ds.delivery.table}", "missing", reason=reason))
        return
    since = None
    for row in _earlier_rows(Path(run.paths.lake), ds.id, period):
        if row["status"] == "loaded" and row["watermark"] is not None:
            since = row["watermark"]  # rows are in period order: the latest one wins
    batch_id = f"{run.batch_prefix}-pull"
    try:
        result = frontdb.pull(ds, url, since)
        census = frontdb.census(ds, url)
    except frontdb.SchemaDriftError as exc:
        # No file to set aside: the reason on the manifest row is the whole quarantine record.
        source = frontdb.source_of(url, ds.delivery.table)
        run.rows.append(run.row(source, "quarantined", reason=str(exc), batch_id=batch_id))
        return
    except frontdb.FrontdbConnectionError:
        raise  # transient (refused, timeout): the caller retries or records 抽取失败
    except frontdb.FrontdbError as exc:
        source = frontdb.source_of(url, ds.delivery.table)
        run.rows.append(run.row(source, "missing", reason=str(exc), batch_id=batch_id))
        return
    watermark, notes = (
        result.new_watermark,
        [f"自水印 {since} 之后增量抽取" if since else "首次全量抽取"],
    )
    period_end = f"{period}-{calendar.monthrange(int(period[:4]), int(period[5:]))[1]:02d} 23:59:59"
    if watermark is not None and watermark > period_end:
        # A stamp from the future (a clock or data defect) would make the next pull skip every
        # change made before it; the next period re-reads from the end of this one instead.
        notes.append(f"最大水印 {watermark} 晚于本期期末，按 {period_end} 记录")
        watermark = period_end
    table = result.table
    numbers = table.column("_row_number").combine_chunks()
    lineage = _lineage((batch_id, result.source, run.loaded_at), numbers)
    arrays = [table.column(c).combine_chunks() for c in ds.columns] + lineage
    data = pa.Table.from_arrays(arrays, schema=mf.raw_schema(ds))
    pq.write_table(data, run.staging / "part-000.parquet", compression="zstd")
    write_parquet(census, census_path)
    run.rows.append(
        run.row(
            result.source,
            "loaded",
            rows_read=result.rows_read,
            rows_accepted=data.num_rows,
            reason="；".join(notes),
            batch_id=batch_id,
            watermark=watermark,
        )
    )
