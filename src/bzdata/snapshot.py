"""Published snapshots: what readers (the portal) see, never the live warehouse or lake.

At the end of a period the pipeline copies what the portal shows into an immutable folder and
then switches one pointer (a symlink, replaced by rename) to it:

    <work>/published/
        current -> snapshots/<period>-<token>      the one pointer readers follow
        snapshots/<period>-<token>/
            manifest.json                         period, periods, files
            scorecard/<YYYY-MM>/...               hard links of the scorecard folders
            issues/<YYYY-MM>.parquet              record-level issues, keys masked
            indicators.parquet                    the indicator library (every column it has)
            catalog.sqlite                        the embedded catalogue, when built
            rule_results/<YYYY-MM>.parquet        the quality rule results (the dataset pages'
                                                  pass rate by dimension and its monthly trend)
            samples/<dataset>.parquet             a few masked rows of each dataset whose
                                                  开放属性 is not 不予开放 (others never leave)

A run that is still writing never touches `current`, so readers keep the previous snapshot until
the switch; a killed publish leaves only a hidden staging folder that the next publish removes.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bzdata import duck
from bzdata.periods import is_period
from bzdata.storage import fsync_path

ROOT = "published"
POINTER = "current"
SNAPSHOTS = "snapshots"
STAGING = ".staging-"
KEEP = 3  # snapshots kept besides the current one, for readers that still hold an older one
# Columns of the issue list that never leave the lake: the value as delivered is unmasked.
PRIVATE_ISSUE_COLUMNS = ("delivered_value",)
SAMPLE_ROWS = 10
CLOSED = "不予开放"  # rows of a dataset with this 开放属性 are never published, not even masked


class SnapshotError(RuntimeError):
    """No snapshot can be read or written; the message is for people (Chinese)."""


@dataclass(frozen=True)
class Snapshot:
    """One published snapshot folder and its manifest."""

    path: Path
    manifest: dict

    @property
    def period(self) -> str:
        return str(self.manifest["period"])

    @property
    def periods(self) -> list[str]:
        return list(self.manifest.get("periods", []))

    @property
    def id(self) -> str:
        return self.path.name


def root(work_dir: Path | str) -> Path:
    return Path(work_dir) / ROOT


def current(work_dir: Path | str) -> Snapshot | None:
    """The snapshot the pointer names now, or None before the first publish."""
    pointer = root(work_dir) / POINTER
    try:
        target = os.readlink(pointer)
    except OSError:
        return None
    path = (pointer.parent / target).resolve()
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Snapshot(path, manifest)


def _link_tree(src: Path, dst: Path) -> list[str]:
    """Hard-link (or copy across devices) every file of src under dst; returns relative paths."""
    files = []
    for path in sorted(src.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(src).parts):
            continue
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
        files.append(str(target.relative_to(dst)))
    return files


def _masked_issues(table: pa.Table, masker) -> pa.Table:
    keep = [name for name in table.column_names if name not in PRIVATE_ISSUE_COLUMNS]
    table = table.select(keep)
    if "record_key" in table.column_names and "dataset" in table.column_names:
        keys = [
            masker(ds, key)
            for ds, key in zip(
                table.column("dataset").to_pylist(),
                table.column("record_key").to_pylist(),
                strict=True,
            )
        ]
        index = table.column_names.index("record_key")
        table = table.set_column(index, "record_key", pa.array(keys, pa.string()))
    return table


def _indicators(work: Path, stage: Path, previous: Snapshot | None, period: str) -> str | None:
    """The period's 指标库 (every indicator with its value or its status and reason, see
    bzdata.indicators.library); else the warehouse's indicator mart, read-only; else the
    previous copy."""
    import duckdb

    from bzdata.indicators.library import library_file

    target = stage / "indicators.parquet"
    library = library_file(work / "lake", period)
    if library.is_file():
        rows = pq.read_table(library).to_pylist()
        for row in rows:
            row["indicator_value"] = row["value"]
            note = f"：{row['status_note']}" if row["status_note"] else ""
            row["value_status"] = f"{row['status']}{note}"
        pq.write_table(pa.Table.from_pylist(rows), target, compression="zstd")
        return target.name
    warehouse = work / "warehouse" / "bzdata.duckdb"
    if warehouse.is_file():
        try:
            with duck.connect(warehouse, read_only=True) as con:
                table = con.execute("select * from indicator.indicator_library").to_arrow_table()
            pq.write_table(table, target, compression="zstd")
            return target.name
        except duckdb.Error:
            pass  # no library built yet, or a writer holds the file: keep what was published
    if previous is not None and (previous.path / "indicators.parquet").is_file():
        shutil.copy2(previous.path / "indicators.parquet", target)
        return target.name
    return None


def _rule_results(work: Path, stage: Path, period: str) -> tuple[list[str], list[str]]:
    """Hard links of the periods' rule results (files the quality stage replaces by rename)."""
    from bzdata.quality import outputs

    periods = [p for p in outputs.periods(work, outputs.RULE_RESULTS) if p <= period]
    files = []
    for p in periods:
        target = stage / "rule_results" / f"{p}.parquet"
        target.parent.mkdir(exist_ok=True)
        source = outputs.output_file(work, outputs.RULE_RESULTS, p)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
        files.append(f"rule_results/{p}.parquet")
    return periods, files


def _samples(work: Path, stage: Path, period: str, registry) -> list[str]:
    """A few masked rows per dataset that may be opened, from its latest period up to `period`."""
    from bzdata.ingest.manifest import raw_parent
    from bzdata.scorecard.masking import HIDDEN
    from bzdata.sharing import mask

    files = []
    for ds in registry.datasets:
        if ds.open.type == CLOSED:
            continue
        parent = raw_parent(work / "lake", ds.id)
        folders = sorted(
            f
            for f in (parent.glob("period=*") if parent.is_dir() else ())
            if f.name.removeprefix("period=") <= period and any(f.glob("*.parquet"))
        )
        if not folders:
            continue
        first = sorted(folders[-1].glob("*.parquet"))[0]
        batch = next(
            pq.ParquetFile(first).iter_batches(batch_size=SAMPLE_ROWS, columns=ds.columns), None
        )
        if batch is None:
            continue
        table = pa.Table.from_batches([batch])
        columns = {}
        for f in ds.fields:
            values = [None if v is None else str(v) for v in table.column(f.column).to_pylist()]
            if f.personal or registry.element(f.element).personal:
                masked = [mask(v, f.element) for v in values]
                # a personal field whose element has no mask of its own is hidden whole
                values = [
                    HIDDEN if m == v and v else m for m, v in zip(masked, values, strict=True)
                ]
            columns[f.column] = pa.array(values, pa.string())
        target = stage / "samples" / f"{ds.id}.parquet"
        target.parent.mkdir(exist_ok=True)
        pq.write_table(pa.table(columns), target)
        files.append(f"samples/{ds.id}.parquet")
    return files


def _sweep(base: Path, keep: set[str]) -> None:
    snapshots = base / SNAPSHOTS
    for path in snapshots.glob(f"{STAGING}*"):
        shutil.rmtree(path, ignore_errors=True)
    done = sorted(
        (p for p in snapshots.iterdir() if not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime_ns,
    )
    for path in done[: max(0, len(done) - KEEP)]:
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def publish(work_dir: Path | str, period: str) -> Snapshot:
    """Publish what the portal shows for `period` and switch the pointer to it atomically."""
    from bzdata.quality import outputs
    from bzdata.registry import load_registry
    from bzdata.scorecard.masking import KeyMasker

    if not is_period(period):
        raise SnapshotError(f"期次应为 YYYY-MM 格式，而不是 {period!r}")
    work = Path(work_dir).resolve()
    base = root(work)
    (base / SNAPSHOTS).mkdir(parents=True, exist_ok=True)
    previous = current(work)
    _sweep(base, {previous.id} if previous else set())
    stage = base / SNAPSHOTS / f"{STAGING}{period}-{secrets.token_hex(4)}"
    stage.mkdir()
    files: list[str] = []

    scorecards = work / "scorecard"
    periods = sorted(
        p.name
        for p in (scorecards.iterdir() if scorecards.is_dir() else ())
        if p.is_dir() and is_period(p.name) and p.name <= period
    )
    if period not in periods:
        shutil.rmtree(stage)
        raise SnapshotError(f"{period} 还没有晾晒台结果（{scorecards / period}）：请先运行晾晒")
    for p in periods:
        files += [f"scorecard/{p}/{f}" for f in _link_tree(scorecards / p, stage / "scorecard" / p)]

    registry = load_registry()
    masker = KeyMasker(registry)
    (stage / "issues").mkdir()
    issue_periods = [p for p in outputs.periods(work, outputs.ISSUES) if p <= period]
    for p in issue_periods:
        table = pq.read_table(outputs.output_file(work, outputs.ISSUES, p))
        pq.write_table(_masked_issues(table, masker), stage / "issues" / f"{p}.parquet")
        files.append(f"issues/{p}.parquet")

    indicators = _indicators(work, stage, previous, period)
    if indicators:
        files.append(indicators)
    catalogue = work / "catalog" / "catalog.sqlite"
    if catalogue.is_file():
        shutil.copy2(catalogue, stage / "catalog.sqlite")
        files.append("catalog.sqlite")
    rule_periods, rule_files = _rule_results(work, stage, period)
    files += rule_files
    files += _samples(work, stage, period, registry)

    manifest = {
        "period": period,
        "periods": periods,
        "issue_periods": issue_periods,
        "rule_periods": rule_periods,
        "files": sorted(files),
    }
    (stage / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    for path in sorted(stage.rglob("*"), reverse=True):
        fsync_path(path)
    fsync_path(stage)
    final = base / SNAPSHOTS / stage.name.removeprefix(STAGING)
    os.rename(stage, final)
    fsync_path(final.parent)
    # The switch: a new symlink under a temporary name renamed over the pointer (atomic).
    tmp = base / f".{POINTER}-{secrets.token_hex(4)}"
    os.symlink(Path(SNAPSHOTS) / final.name, tmp)
    os.replace(tmp, base / POINTER)
    fsync_path(base)
    return Snapshot(final, manifest)


def publish_task(work_dir: Path | str, period: str) -> dict:
    """The pipeline's last step of a period (the DAG calls this): publish, report for XCom."""
    snap = publish(work_dir, period)
    return {"period": snap.period, "snapshot": snap.id, "files": len(snap.manifest["files"])}
