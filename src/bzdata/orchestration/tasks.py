"""Task bodies of the collect, publish and 数据高铁 DAGs: plain functions, callable without a
scheduler (tests and `bzdata run` call them through the same DAG objects).

Every body names its period from the run (STYLE point 9) and writes whole partitions of it, so
clearing a run redoes it exactly. Failures stay local: a dataset whose collection fails gets a
`failed` manifest row with its reason (bzdata.ingest.failures) and the period goes on without it.
Only transient source errors (connection refused, timeout) are left to Airflow's retries; any
other error fails at once (AirflowFailException), since retrying a bad file changes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from bzdata import config
from bzdata.orchestration.schedule import TIMEZONE, period_of

__all__ = [
    "build_libraries",
    "build_scorecard",
    "check_quality",
    "collect_dataset",
    "ingest_indicator_reports",
    "mark_collected",
    "refresh",
]


def run_moment(logical_date: datetime | None) -> tuple[datetime, str]:
    if logical_date is None:
        raise ValueError("该运行没有逻辑日期（logical_date），无法确定报送期；请按时间调度运行")
    local = logical_date.astimezone(TIMEZONE)
    # A plain datetime (not pendulum's subclass), so what ingest stamps does not depend on pendulum.
    moment = datetime(*local.timetuple()[:6], local.microsecond, tzinfo=TIMEZONE)
    return moment, period_of(moment)


def _work() -> Path:
    return config.settings().work_dir


def source_paths(dataset_id: str | None = None):
    """The ingest Paths of the configured environment, 前置库 Connections resolved (in a task)."""
    from bzdata.ingest import Paths
    from bzdata.registry import load_registry

    registry = load_registry()
    chosen = [registry.dataset(dataset_id)] if dataset_id else list(registry.datasets)
    departments = sorted({d.provider for d in chosen if d.is_frontdb})
    urls: dict[str, str] = {}
    if departments:
        from bzdata.orchestration.sources import frontdb_urls

        urls = frontdb_urls(departments)
    return Paths.for_env(frontdb_urls=urls)


def collect_dataset(
    dataset_id: str,
    logical_date: datetime | None,
    run_id: str,
    *,
    try_number: int = 1,
    max_tries: int = 0,
) -> dict[str, Any]:
    """Ingest one dataset's deliveries of the run's period; returns a summary for XCom.

    A transient source error is re-raised while retries remain (Airflow retries the task); on
    the last try, and at once for every other error, the failure is recorded in the manifest.
    """
    from bzdata.ingest import Paths, ingest_dataset
    from bzdata.ingest.failures import record_failure
    from bzdata.ingest.frontdb import FrontdbConnectionError
    from bzdata.registry import load_registry

    moment, period = run_moment(logical_date)
    ds = load_registry().dataset(dataset_id)
    try:
        paths = source_paths(dataset_id)
        if not ds.is_frontdb:
            paths.require_landing()
        rows = ingest_dataset(dataset_id, period, moment, paths, run_id)
    except FrontdbConnectionError as exc:
        if try_number <= max_tries:
            raise  # transient: Airflow retries after retry_delay
        record_failure(dataset_id, period, moment, Paths.for_env(), run_id, str(exc))
        raise
    except Exception as exc:
        from airflow.sdk.exceptions import AirflowFailException

        record_failure(dataset_id, period, moment, Paths.for_env(), run_id, str(exc))
        raise AirflowFailException(f"{dataset_id} {period} 抽取失败（不重试）：{exc}") from exc
    return {
        "dataset": dataset_id,
        "period": period,
        "deliveries": len(rows),
        "statuses": dict(Counter(str(row.get("status")) for row in rows)),
        "rows_accepted": sum(int(row.get("rows_accepted") or 0) for row in rows),
        "rows_rejected": sum(int(row.get("rows_rejected") or 0) for row in rows),
    }


def ingest_indicator_reports(logical_date: datetime | None, run_id: str) -> dict[str, Any]:
    """The period's 指标 returns from the landing zone into the 指标 store; every refused file
    and row is logged with file, row and reason (and kept in lake/indicators/)."""
    import logging

    from bzdata.indicators.channel import collect_period, read_rejects
    from bzdata.ingest import Paths
    from bzdata.registry import load_registry

    _, period = run_moment(logical_date)
    paths = Paths.for_env()
    log = logging.getLogger(__name__)
    if paths.landing is None:
        log.warning("未配置落地区，本期没有可接收的指标填报文件")
        return {"period": period, "files": 0, "rows_accepted": 0, "rows_rejected": 0}
    summary = collect_period(load_registry(), paths.landing, paths.lake, period)
    for item in summary["files_rejected"]:
        log.warning(
            "拒收文件 %s（%s）：%s", item["source_file"], item["department"], item["reason"]
        )
    rejects = [r for r in read_rejects(paths.lake).to_pylist() if r["period"] == period]
    for item in rejects:
        log.warning("拒收 %s 第 %s 行：%s", item["source_file"], item["source_row"], item["reason"])
    summary["rejects"] = [
        {k: item[k] for k in ("source_file", "source_row", "reason")} for item in rejects
    ]
    return summary


def mark_collected(dataset_ids: list[str], logical_date: datetime | None, run_id: str) -> dict:
    """The cycle's collection of the period is over: every dataset without a manifest (its task
    died without recording why) gets a `failed` row, so the publish DAG never waits for it."""
    from bzdata.ingest import Paths
    from bzdata.ingest import manifest as mf
    from bzdata.ingest.failures import record_failure

    moment, period = run_moment(logical_date)
    paths = Paths.for_env()
    unrecorded = [d for d in dataset_ids if not mf.manifest_file(paths.lake, d, period).is_file()]
    for dataset_id in unrecorded:
        record_failure(dataset_id, period, moment, paths, run_id, "汇聚任务未完成，未留下报送记录")
    return {"period": period, "datasets": len(dataset_ids), "unrecorded": unrecorded}


def refresh(period: str, run_id: str) -> dict[str, Any]:
    """Rebuild the warehouse views over the lake (the one DuckDB writer step)."""
    from bzdata.ingest import Paths, refresh_warehouse

    refresh_warehouse(Paths.for_env(config.settings()), run_id=run_id)
    return {"period": period}


def build_libraries(period: str, run_id: str) -> dict[str, Any]:
    """One `dbt build` of the whole project for the period (the DuckDB writer)."""
    from bzdata.build.dbt import build

    result = build(_work(), period=period)
    if not result.success:
        raise RuntimeError("dbt build 未通过：\n" + "\n".join(result.problems))
    return {"period": period, "run_id": run_id, "seconds": round(result.seconds, 1)}


def snapshot_libraries(period: str, run_id: str) -> dict[str, Any]:
    """Publish the built 基础库 as Parquet snapshots (what readers and the live view read)."""
    from bzdata.ingest.live import snapshot_base

    written = snapshot_base(_work())
    return {"period": period, "libraries": sorted(written)}


def check_quality(period: str, run_id: str) -> dict[str, Any]:
    """The period's quality rules over the built warehouse (read-only); an erroring validation
    raises, so it fails the task instead of counting as a pass or fail."""
    from bzdata.quality import run_checks

    # Great Expectations is the one check engine (bzdata.quality.checks).
    return run_checks(_work(), period).to_dict()


def build_scorecard(period: str, run_id: str) -> dict[str, Any]:
    """The 数据晾晒台 of the period."""
    from bzdata.scorecard import build_scorecard as build

    folder = build(_work(), period)
    return {"period": period, "folder": str(folder)}
