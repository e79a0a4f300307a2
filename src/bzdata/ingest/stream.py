"""数据高铁: near-real-time micro-batches of new 前置库 rows, applied once per record key.

Each `micro_batch` call pulls the rows whose watermark is at or past the stored one and:

1. drops the rows at the stored watermark that an earlier batch already delivered (the state
   keeps a fingerprint count of the rows at that boundary; ties there are always re-read, since a
   row stamped with the same second may have arrived after the last pull);
2. writes the remaining rows as `<out_dir>/<dataset>/batch-<first>-<last>.parquet` (staging name,
   fsync, rename), where first/last are the dataset's running row sequence numbers (`_seq`);
3. merges them into `<out_dir>/<dataset>/current.parquet`, the latest row per record key
   (largest watermark wins, ties broken by the other columns in byte order);
4. only then stores the new watermark, boundary and next sequence number in `state_path` (JSON,
   one entry per dataset, replaced atomically).

A crash anywhere before step 4 leaves the stored state as it was: the next call sweeps batch files
at or past the stored sequence number, re-reads the same rows and merges them again, which changes
nothing that was already applied (at-least-once delivery, exactly-once effect per key).

Deletions: a watermark never shows a deleted row, so every batch also takes the table's key
census (`frontdb.census`, one grouped scan) and the current state keeps only keys the table
still holds. `bzdata.ingest.live` then rewrites the near-real-time 基础库 view.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy.engine import URL

from bzdata import duck
from bzdata.ingest.frontdb import FrontdbError, census, pull
from bzdata.registry.models import Dataset
from bzdata.storage import fsync_path

__all__ = ["BatchResult", "current_state", "micro_batch"]

_BATCH = re.compile(r"^batch-(\d{12})-(\d{12})\.parquet$")
_CURRENT = "current.parquet"


@dataclass(frozen=True)
class BatchResult:
    """What one micro-batch did."""

    dataset: str
    path: Path | None  # the batch file, None when nothing new arrived
    rows_pulled: int  # rows read, boundary re-reads included
    rows_new: int  # rows written to the batch after dropping re-reads
    first_seq: int | None
    last_seq: int | None
    watermark: str | None  # stored watermark after this batch
    state_rows: int  # record keys in the current state


def _fingerprint(values: tuple) -> str:
    # JSON keeps None and "" apart; the digest only needs to tell rows of one watermark apart.
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _fsync_replace(tmp: Path, final: Path) -> None:
    fsync_path(tmp)
    os.replace(tmp, final)
    fsync_path(final.parent)  # the rename itself must survive a crash


def _write_parquet(table: pa.Table, final: Path) -> None:
    tmp = final.with_name(f".{final.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    _fsync_replace(tmp, final)


@contextlib.contextmanager
def _locked(path: Path, what: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FrontdbError(f"{what}正被另一个进程处理（锁文件 {path}），请稍后再试") from None
        yield
    finally:
        os.close(fd)


def _load_states(state_path: Path) -> dict:
    if not state_path.exists():
        return {}
    try:
        return json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FrontdbError(f"数据高铁状态文件 {state_path} 无法读取：{exc}") from exc


def _save_state(state_path: Path, dataset: str, entry: dict) -> None:
    # Several datasets share one file: read-modify-write under its own lock.
    with _locked(state_path.with_name(state_path.name + ".lock"), f"状态文件 {state_path} "):
        states = _load_states(state_path)
        states[dataset] = entry
        tmp = state_path.with_name(f".{state_path.name}.tmp")
        tmp.write_text(
            json.dumps(states, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
        )
        _fsync_replace(tmp, state_path)


def _sweep(folder: Path, next_seq: int) -> None:
    """Remove what a crashed batch left: staging files and batches not yet in the state."""
    for path in folder.iterdir():
        match = _BATCH.match(path.name)
        if (match and int(match.group(1)) >= next_seq) or path.name.endswith(".tmp"):
            path.unlink()


def _rows_at(table: pa.Table, column: str, value: str | None) -> list[tuple[int, tuple]]:
    """(index, row values) of the rows whose `column` equals `value`; none for None."""
    if value is None:
        return []
    indices = pc.indices_nonzero(pc.equal(table.column(column), value))
    rows = table.take(indices)
    values = zip(*(rows.column(c).to_pylist() for c in table.column_names), strict=True)
    return list(zip(indices.to_pylist(), values, strict=True))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _merge_current(folder: Path, ds: Dataset, new_rows: pa.Table, present: pa.Table) -> int:
    """Fold new rows into current.parquet, keeping only keys the 前置库 still holds (`present`,
    its key census); returns the number of record keys."""
    columns = ds.columns
    wm = ds.watermark_field.column  # type: ignore[union-attr]
    path = folder / _CURRENT
    rows = new_rows.select(columns)
    if path.exists():
        rows = pa.concat_tables([pq.read_table(path).select(columns), rows])
    keys = ", ".join(_quote(k) for k in ds.record_key)
    order = ", ".join(
        f"{_quote(c)} DESC NULLS LAST" for c in [wm] + [c for c in columns if c != wm]
    )
    con = duck.connect()
    try:
        con.register("all_rows", rows)
        con.register("present", present.select(ds.record_key))
        on = " AND ".join(
            f"a.{_quote(k)} IS NOT DISTINCT FROM p.{_quote(k)}" for k in ds.record_key
        )
        merged = con.sql(
            f"SELECT {', '.join(_quote(c) for c in columns)} FROM ("
            f"  SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY {order}) AS _rn"
            f"  FROM all_rows AS a WHERE EXISTS (SELECT 1 FROM present AS p WHERE {on}))"
            f" WHERE _rn = 1 ORDER BY {keys} NULLS FIRST"
        ).to_arrow_table()
    finally:
        con.close()
    merged = merged.cast(pa.schema([(c, pa.string()) for c in columns]))
    _write_parquet(merged, path)
    return merged.num_rows


def micro_batch(
    ds: Dataset,
    url: str | URL,
    state_path: Path | str,
    out_dir: Path | str,
    *,
    batch_rows: int = 50_000,
) -> BatchResult:
    """Pull the dataset's new 前置库 rows, write them as one batch and apply them to the current
    state; the stored watermark advances only after both are durably written."""
    state_path = Path(state_path)
    folder = Path(out_dir) / ds.id
    wm = ds.watermark_field.column if ds.watermark_field else None
    if wm is None:
        raise FrontdbError(f"数据集 {ds.id}：登记的水印列 {ds.delivery.watermark} 不是它的字段")
    with _locked(folder / ".lock", f"数据集 {ds.id} 的数据高铁批次"):
        state = _load_states(state_path).get(ds.id, {})
        since: str | None = state.get("watermark")
        boundary = Counter(state.get("boundary", {}))
        next_seq: int = state.get("next_seq", 1)
        _sweep(folder, next_seq)

        result = pull(ds, url, since, batch_rows, inclusive=True)
        present = census(ds, url, batch_rows)
        pulled = result.table.select(ds.columns)
        keep = [True] * pulled.num_rows
        seen = boundary.copy()
        for index, record in _rows_at(pulled, wm, since):
            fp = _fingerprint(record)
            if seen[fp] > 0:  # delivered by an earlier batch
                seen[fp] -= 1
                keep[index] = False
        new_rows = pulled.filter(pa.array(keep, pa.bool_()))
        watermark = result.new_watermark
        # Every row now at the new watermark has been delivered, by this batch or an earlier one.
        next_boundary = Counter(_fingerprint(r) for _, r in _rows_at(pulled, wm, watermark))

        if new_rows.num_rows == 0:
            # Nothing new, but rows may have been deleted since the last batch.
            rows = (
                _merge_current(folder, ds, new_rows, present) if (folder / _CURRENT).exists() else 0
            )
            return BatchResult(ds.id, None, pulled.num_rows, 0, None, None, since, rows)
        first, last = next_seq, next_seq + new_rows.num_rows - 1
        batch = new_rows.append_column("_seq", pa.array(range(first, last + 1), pa.int64()))
        path = folder / f"batch-{first:012d}-{last:012d}.parquet"
        _write_parquet(batch, path)
        state_rows = _merge_current(folder, ds, new_rows, present)
        _save_state(
            state_path,
            ds.id,
            {"watermark": watermark, "boundary": dict(next_boundary), "next_seq": last + 1},
        )
    return BatchResult(
        ds.id, path, pulled.num_rows, new_rows.num_rows, first, last, watermark, state_rows
    )


def current_state(out_dir: Path | str, ds: Dataset) -> pa.Table:
    """The latest row per record key over every applied batch (string columns, key order)."""
    path = Path(out_dir) / ds.id / _CURRENT
    if not path.exists():
        return pa.table({c: pa.array([], pa.string()) for c in ds.columns})
    return pq.read_table(path).select(ds.columns)
