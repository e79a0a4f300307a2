"""One build → check → score → publish per period, once every delivery due for it is in.

The collect DAGs (one per 更新周期) end in a task that emits the Asset `bzdata_collected_<cycle>`
with the period in the event's extra. The publish DAG is scheduled on any of those Assets; its
first task asks `readiness`: has every dataset due for the period (all cycles: a quarter-end
month waits for the monthly AND the quarterly datasets) a manifest for it? A collect run
happens after its cycle's due day, so a delivery still absent then is recorded as 缺报 and
counts as in. Not ready → the run skips everything (nothing is published for the period).

Published once: after a publish the manifests' fingerprint is stored; a later event for the
same period whose manifests are unchanged publishes nothing again, while a late file that
changes them (a cleared collect run) republishes the period. `bzdata run` forces a publish.

Severity hold: a dataset failing a 严重 rule is written to the period's hold list
(`<work>/publish/period=<P>/holds.json`); every post-scorecard publish step in PUBLISH_STEPS
receives the datasets it may publish and the held ones, so a held dataset reaches no catalogue,
OpenMetadata, share or open-data output until a later period (or rerun) passes its rules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bzdata.registry import Registry, load_registry

PUBLISH_DIR = "publish"
HOLDS_FILE = "holds.json"
STATE_FILE = "published.json"
SEVERE = "严重"


def publish_dir(work_dir: Path | str, period: str) -> Path:
    return Path(work_dir) / PUBLISH_DIR / f"period={period}"


def write_text_atomic(path: Path, text: str) -> None:
    """Replace a small text file whole (tmp, fsync, rename): readers see old or new."""
    import os

    from bzdata.storage import fsync_path

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    fsync_path(tmp)
    os.replace(tmp, path)


# --- readiness --------------------------------------------------------------------------------


def due_datasets(period: str, registry: Registry | None = None) -> list[str]:
    """Every dataset a delivery of `period` is due from, whatever its cycle."""
    return [d.id for d in (registry or load_registry()).datasets if d.is_due(period)]


def waiting_for(lake: Path | str, period: str, registry: Registry | None = None) -> list[str]:
    """Datasets due for `period` whose collection has not run yet (no manifest)."""
    from bzdata.ingest import manifest as mf

    return [
        d for d in due_datasets(period, registry) if not mf.manifest_file(lake, d, period).is_file()
    ]


def fingerprint(lake: Path | str, period: str) -> str:
    """sha256 over the period's manifest files (names and bytes): what a publish consumed."""
    digest = hashlib.sha256()
    for path in sorted((Path(lake) / "manifest" / f"period={period}").glob("*.parquet")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def published_fingerprint(work_dir: Path | str, period: str) -> str | None:
    path = publish_dir(work_dir, period) / STATE_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("fingerprint")


@dataclass(frozen=True)
class Readiness:
    period: str
    waiting: list[str]
    already_published: bool

    @property
    def go(self) -> bool:
        return not self.waiting and not self.already_published

    def describe(self) -> str:
        if self.waiting:
            names = "、".join(self.waiting)
            return f"报送期 {self.period} 还在等待 {len(self.waiting)} 个数据集的汇聚：{names}"
        if self.already_published:
            return f"报送期 {self.period} 已按同样的报送发布过，不再重复构建"
        return f"报送期 {self.period} 的全部到期报送均已汇聚，开始构建、校核、晾晒与发布"


def readiness(
    work_dir: Path | str, lake: Path | str, period: str, *, force: bool = False
) -> Readiness:
    waiting = waiting_for(lake, period)
    published = published_fingerprint(work_dir, period)
    again = not force and published is not None and published == fingerprint(lake, period)
    return Readiness(period, waiting, again)


def record_publication(work_dir: Path | str, lake: Path | str, period: str, run_id: str) -> dict:
    state = {"period": period, "fingerprint": fingerprint(lake, period), "run_id": run_id}
    write_text_atomic(
        publish_dir(work_dir, period) / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=1)
    )
    return state


def period_from(conf: dict | None, events: Any) -> str | None:
    """The period a publish run is for: `conf.period` (manual or `bzdata run`), else the latest
    period named by the triggering asset events' extra."""
    if conf and conf.get("period"):
        return str(conf["period"])
    periods = []
    for _asset, items in dict(events or {}).items():
        for event in items:
            extra = getattr(event, "extra", None) or {}
            if extra.get("period"):
                periods.append(str(extra["period"]))
    return max(periods, default=None)


# --- severity hold ----------------------------------------------------------------------------


def severe_failures(work_dir: Path | str, period: str) -> dict[str, list[str]]:
    """dataset -> 严重 rule ids that failed in the period's quality results."""
    import pyarrow.parquet as pq

    from bzdata.quality import outputs

    path = outputs.output_file(Path(work_dir), outputs.RULE_RESULTS, period)
    held: dict[str, list[str]] = {}
    if not path.is_file():
        return held
    for row in pq.read_table(
        path, columns=["dataset", "rule_id", "severity", "unexpected_count"]
    ).to_pylist():
        if row["severity"] == SEVERE and (row["unexpected_count"] or 0) > 0:
            held.setdefault(row["dataset"], []).append(row["rule_id"])
    return {k: sorted(v) for k, v in sorted(held.items())}


def write_holds(work_dir: Path | str, period: str) -> dict[str, list[str]]:
    """Write the period's hold list (replaced whole: fixed datasets leave it)."""
    held = severe_failures(work_dir, period)
    body = {"period": period, "reason": "严重级质量规则未通过，暂停下游发布直至整改", "held": held}
    write_text_atomic(
        publish_dir(work_dir, period) / HOLDS_FILE, json.dumps(body, ensure_ascii=False, indent=1)
    )
    return held


def read_holds(work_dir: Path | str, period: str) -> dict[str, list[str]]:
    path = publish_dir(work_dir, period) / HOLDS_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8")).get("held", {})


# --- post-scorecard publish steps -------------------------------------------------------------


@dataclass(frozen=True)
class PublishContext:
    """What a publish step gets: the period, the datasets it may publish and those on hold."""

    work_dir: Path
    period: str
    allowed: tuple[str, ...]
    held: dict[str, list[str]]


@dataclass(frozen=True)
class PublishStep:
    task_id: str  # e.g. publish_catalog
    doc_md: str  # Chinese, shown in the Airflow UI
    run: Callable[[PublishContext], Any]  # dotted-path imports inside, nothing at parse time
    after: tuple[str, ...] = ()  # task ids of earlier steps whose output this step reads


def publish_context(
    work_dir: Path | str, period: str, registry: Registry | None = None
) -> PublishContext:
    held = read_holds(work_dir, period)
    allowed = tuple(d.id for d in (registry or load_registry()).datasets if d.id not in held)
    return PublishContext(Path(work_dir), period, allowed, held)


def hold_notice(ctx: PublishContext) -> str:
    """Chinese line naming the datasets a step leaves out, and why ('' when none is held)."""
    if not ctx.held:
        return ""
    names = "；".join(f"{ds}（{'、'.join(rules)}）" for ds, rules in sorted(ctx.held.items()))
    return f"暂停发布 {len(ctx.held)} 个数据集（严重级质量规则未通过，整改后恢复）：{names}"


def _reported(ctx: PublishContext, result: Any) -> Any:
    """The step's result with the held datasets it skipped, also in the task log."""
    import logging

    notice = hold_notice(ctx)
    if notice:
        logging.getLogger(__name__).warning(notice)
    if not isinstance(result, dict):
        result = {"result": result}
    return {**result, "held": sorted(ctx.held), "hold_notice": notice}


def build_catalogue_of(ctx: PublishContext) -> dict[str, Any]:
    """The resource catalogue without what the held datasets alone feed (their entries, raw
    tables and models), and the period's 需求满足率."""
    from bzdata.catalog.build import rebuild_for_period

    result = rebuild_for_period(ctx.work_dir, ctx.period, held=ctx.held)
    return _reported(ctx, result)


def catalogue_step(ctx: PublishContext) -> Any:
    """The resource catalogue of the period and the period's 指标库 (its indicator 44 is the
    需求满足率 just written), then the portal's snapshot holding both."""
    from bzdata.indicators.library import write_library
    from bzdata.snapshot import publish_task

    result = build_catalogue_of(ctx)
    write_library(load_registry(), ctx.work_dir, ctx.period)
    publish_task(ctx.work_dir, ctx.period)
    return result


def openmetadata_step(ctx: PublishContext) -> Any:
    """The period's catalogue (held datasets already left out by the catalogue step) to
    OpenMetadata; skipped when no server is configured, and a failed publish is reported,
    never fatal (the publisher's module pulls in DuckDB, so it is imported when the step runs)."""
    from bzdata.catalog.openmetadata.task import publish_task

    return _reported(ctx, publish_task(work_dir=ctx.work_dir))


def indicator_report_step(ctx: PublishContext) -> Any:
    """The period's 指标库 (computed, reported and 需求满足率 values, each with its status) and
    its report beside the 晾晒台: <work>/indicators/<P>/index.html and the workbook."""
    from bzdata.indicators.report import build_report

    folder, rows = build_report(ctx.work_dir, ctx.period)
    valued = sum(1 for row in rows if row.get("value") is not None)
    return _reported(ctx, {"report": str(folder), "indicators": len(rows), "with_value": valued})


# Downstream steps after the scorecard, each gated by the severity hold. A team adds its step
# with one line here.
PUBLISH_STEPS: tuple[PublishStep, ...] = (
    PublishStep(
        "catalogue",
        "公共数据资源目录：从登记册、dbt 产物、报送台账和质量结果重建目录与检索索引，"
        "然后发布门户读取的快照",
        catalogue_step,
    ),
    PublishStep(
        "publish_openmetadata",
        "把数据资源目录发布到 OpenMetadata（未配置时跳过；失败只报告，不影响本期数据）",
        openmetadata_step,
        after=("catalogue",),  # publishes the catalogue that step has just rebuilt
    ),
    PublishStep(
        "indicator_report",
        "指标库：汇总本期计算指标、部门填报值和需求满足率（指标 44），"
        "写出指标报告（HTML 与 Excel）",
        indicator_report_step,
        after=("catalogue",),  # indicator 44 reads the 需求满足率 the catalogue step writes
    ),
)


def step_ids(steps: Iterable[PublishStep]) -> list[str]:
    return [s.task_id for s in steps]
