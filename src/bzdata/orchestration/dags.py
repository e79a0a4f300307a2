"""The DAG factory: Airflow DAGs generated from the registry, one collect DAG per update cycle.

A data engineer adds a dataset by adding its registry YAML; the next parse gives it an ingest
task in the DAG of its 更新周期. Each DAG is a chain of stages built by STAGES, in order:

    ingest_<dataset id> (one per dataset, parallel)  →  refresh_warehouse (the one DuckDB writer)

A later stage (dbt build, quality checks, scorecard) is one StageBuilder appended to STAGES.
Every task is a transaction (STYLE point 9): it writes whole partitions of the period named by
the run's logical date (see bzdata.orchestration.schedule), so clearing a run redoes it exactly.

Parsing is cheap: the registry YAML is read, nothing else. Task bodies import the ingest code
when they run, never at parse time, and open no connection before then.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, CronTriggerTimetable, task

from bzdata.orchestration.home import WAREHOUSE_POOL
from bzdata.orchestration.schedule import (
    TIMEZONE,
    TIMEZONE_NAME,
    CollectSchedule,
    collect_schedules,
    period_of,
)
from bzdata.registry import Dataset, Registry, load_registry

# The first period the platform collects; with catchup off the scheduler starts at the latest.
START_DATE = datetime(2023, 1, 1, tzinfo=TIMEZONE)
OWNER = "bzdata"
TAGS = ("bzdata", "汇聚")
# A scheduler retries transient failures (a 前置库 briefly down); in-process runs fail fast.
RETRIES = 2
RETRY_DELAY = timedelta(minutes=10)

INGEST_PREFIX = "ingest_"
REFRESH_TASK_ID = "refresh_warehouse"
BUILD_TASK_ID = "dbt_build"
QUALITY_TASK_ID = "check_quality"
GATE_TASK_ID = "quality_gate"
SCORECARD_TASK_ID = "scorecard"


def ingest_task_id(dataset_id: str) -> str:
    return f"{INGEST_PREFIX}{dataset_id}"


# --- task bodies (plain functions: callable without Airflow, as the tests do) ----------------


def _run_moment(logical_date: datetime | None) -> tuple[datetime, str]:
    if logical_date is None:
        raise ValueError("该运行没有逻辑日期（logical_date），无法确定报送期；请按时间调度运行")
    local = logical_date.astimezone(TIMEZONE)
    # A plain datetime (not pendulum's subclass), so what ingest stamps does not depend on pendulum.
    moment = datetime(*local.timetuple()[:6], local.microsecond, tzinfo=TIMEZONE)
    return moment, period_of(moment)


def collect_dataset(dataset_id: str, logical_date: datetime | None, run_id: str) -> dict[str, Any]:
    """Ingest one dataset's deliveries of the run's period; returns a summary for XCom."""
    from bzdata import config
    from bzdata.ingest import Paths, ingest_dataset

    moment, period = _run_moment(logical_date)
    paths = Paths.from_work(config.settings().work_dir)
    rows = ingest_dataset(dataset_id, period, moment, paths, run_id)
    return {
        "dataset": dataset_id,
        "period": period,
        "deliveries": len(rows),
        "statuses": dict(Counter(str(row.get("status")) for row in rows)),
        "rows_accepted": sum(int(row.get("rows_accepted") or 0) for row in rows),
        "rows_rejected": sum(int(row.get("rows_rejected") or 0) for row in rows),
    }


def refresh(logical_date: datetime | None, run_id: str) -> dict[str, Any]:
    """Rebuild the warehouse views over the lake (the one DuckDB writer step)."""
    from bzdata import config
    from bzdata.ingest import Paths, refresh_warehouse

    _, period = _run_moment(logical_date)
    refresh_warehouse(Paths.from_work(config.settings().work_dir), run_id=run_id)
    return {"period": period}


def build_libraries(logical_date: datetime | None, run_id: str) -> dict[str, Any]:
    """One `dbt build` of the whole project for the run's period (the DuckDB writer)."""
    from bzdata import config
    from bzdata.build.dbt import build

    _, period = _run_moment(logical_date)
    result = build(config.settings().work_dir, period=period)
    if not result.success:
        raise RuntimeError("dbt build 未通过：\n" + "\n".join(result.problems))
    return {"period": period, "run_id": run_id, "seconds": round(result.seconds, 1)}


def check_quality(logical_date: datetime | None, run_id: str) -> dict[str, Any]:
    """The period's quality rules over the built warehouse (read-only); an erroring validation
    raises, so it fails the task instead of counting as a pass or fail."""
    from bzdata import config
    from bzdata.quality import run_checks

    _, period = _run_moment(logical_date)
    return run_checks(config.settings().work_dir, period).to_dict()


def quality_gate(summary: dict[str, Any]) -> dict[str, Any]:
    """Stops what hangs below it when a 严重 rule failed; the scorecard does not wait for it,
    since bad data is exactly what it must show."""
    if summary.get("stop_downstream"):
        from airflow.exceptions import AirflowFailException

        raise AirflowFailException(
            "严重级质量规则未通过：" + "、".join(summary.get("blocking", []))
        )
    return {"passed": True}


def build_scorecard(logical_date: datetime | None, run_id: str) -> dict[str, Any]:
    """The 数据晾晒台 of the run's period."""
    from bzdata import config
    from bzdata.scorecard import build_scorecard as build

    _, period = _run_moment(logical_date)
    folder = build(config.settings().work_dir, period)
    return {"period": period, "folder": str(folder)}


def _ingest_callable(dataset_id: str, logical_date=None, run_id=None) -> dict[str, Any]:
    # Airflow fills logical_date and run_id from the task context by parameter name.
    return collect_dataset(dataset_id, logical_date, str(run_id))


def _refresh_callable(logical_date=None, run_id=None) -> dict[str, Any]:
    return refresh(logical_date, str(run_id))


# --- stages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageContext:
    """What a stage builder knows about the DAG it adds tasks to."""

    dag: DAG
    schedule: CollectSchedule
    datasets: tuple[Dataset, ...]


# A builder adds its tasks to ctx.dag downstream of `upstream` (the previous stage's last tasks)
# and returns its own last tasks, which the next stage hangs off.
StageBuilder = Callable[[StageContext, Sequence[Any]], list[Any]]


@dataclass(frozen=True)
class Stage:
    name: str
    build: StageBuilder


def ingest_stage(ctx: StageContext, upstream: Sequence[Any]) -> list[Any]:
    """One task per dataset: they write separate Parquet partitions, so they run in parallel."""
    tasks = []
    for dataset in ctx.datasets:
        ingest = task(
            python_callable=_ingest_callable,
            task_id=ingest_task_id(dataset.id),
            doc_md=f"汇聚 **{dataset.name}**（{dataset.id}，{dataset.provider}）本报送期的报送",
        )(dataset.id)
        for item in upstream:
            item >> ingest
        tasks.append(ingest)
    return tasks


def warehouse_stage(ctx: StageContext, upstream: Sequence[Any]) -> list[Any]:
    """Refresh the DuckDB views once everything upstream wrote its Parquet."""
    refresh_task = task(
        python_callable=_refresh_callable,
        task_id=REFRESH_TASK_ID,
        pool=WAREHOUSE_POOL,
        doc_md="刷新 DuckDB 仓库中 raw 层的视图（仓库只允许一个写入者）",
    )()
    for item in upstream:
        item >> refresh_task
    return [refresh_task]


def _build_callable(logical_date=None, run_id=None) -> dict[str, Any]:
    return build_libraries(logical_date, str(run_id))


def build_stage(ctx: StageContext, upstream: Sequence[Any]) -> list[Any]:
    """dbt as ONE task: one process per model (Cosmos) costs seconds each and DuckDB takes a
    single writer, so per-model tasks would queue on the pool anyway (measured in the notes)."""
    build_task = task(
        python_callable=_build_callable,
        task_id=BUILD_TASK_ID,
        pool=WAREHOUSE_POOL,
        doc_md="dbt build：staging → 基础库 → 一致性校核（整个项目一个进程）",
    )()
    for item in upstream:
        item >> build_task
    return [build_task]


def _quality_callable(logical_date=None, run_id=None) -> dict[str, Any]:
    return check_quality(logical_date, str(run_id))


def _scorecard_callable(logical_date=None, run_id=None) -> dict[str, Any]:
    return build_scorecard(logical_date, str(run_id))


def quality_stage(ctx: StageContext, upstream: Sequence[Any]) -> list[Any]:
    """Checks, then a gate beside the next stage: severities decide what may go on."""
    check = task(
        python_callable=_quality_callable,
        task_id=QUALITY_TASK_ID,
        pool=WAREHOUSE_POOL,  # reads the DuckDB file, which a writer would lock
        doc_md="一数一源校核：按 GB/T 36344 维度的质量规则，每条不合格记录进入问题清单",
    )()
    task(python_callable=quality_gate, task_id=GATE_TASK_ID, doc_md="严重级规则未通过时阻断下游")(
        check
    )
    for item in upstream:
        item >> check
    return [check]


def scorecard_stage(ctx: StageContext, upstream: Sequence[Any]) -> list[Any]:
    scorecard = task(
        python_callable=_scorecard_callable,
        task_id=SCORECARD_TASK_ID,
        doc_md="数据晾晒台：各部门编目、归集、质量、整改得分与赛马排名",
    )()
    for item in upstream:
        item >> scorecard
    return [scorecard]


def _catalogue_callable(logical_date=None, run_id=None) -> dict[str, Any]:
    from bzdata import config
    from bzdata.catalog.build import rebuild_for_period
    from bzdata.snapshot import publish_task

    work, period = config.settings().work_dir, _run_moment(logical_date)[1]
    result = rebuild_for_period(work, period)
    # Last step of the period: the portal switches to a snapshot holding this period's catalogue.
    publish_task(work, period)
    return result


def catalogue_stage(ctx: StageContext, upstream: Sequence[Any]) -> list[Any]:
    rebuild = task(
        python_callable=_catalogue_callable,
        task_id="catalogue",
        doc_md=(
            "公共数据资源目录：从登记册、dbt 产物、报送台账和质量结果重建目录与检索索引，"
            "然后发布门户读取的快照"
        ),
    )()
    for item in upstream:
        item >> rebuild
    return [rebuild]


# The order of the stages in every collect DAG. Append a stage here to add it to all of them.
STAGES: tuple[Stage, ...] = (
    Stage("ingest", ingest_stage),
    Stage("warehouse", warehouse_stage),
    Stage("build", build_stage),
    Stage("quality", quality_stage),
    Stage("scorecard", scorecard_stage),
    Stage("catalogue", catalogue_stage),
)


# --- DAGs -------------------------------------------------------------------------------------


def _doc(schedule: CollectSchedule, datasets: Sequence[Dataset], stages: Sequence[Stage]) -> str:
    listed = "\n".join(f"- `{item.id}` {item.name}" for item in datasets)
    return (
        f"### 汇聚：更新周期 {schedule.cycle.update_cycle}\n\n"
        f"{schedule.describe()}；报送期 = 逻辑日期（北京时间）所在月份的上一个月。"
        f"运行日为本周期各数据集最晚报送日（due_day）的次日，此时所有报送均已到期。\n\n"
        f"阶段：{' → '.join(stage.name for stage in stages)}。\n\n"
        f"数据集（由 catalog/registry 生成）：\n\n{listed}\n"
    )


def build_collect_dag(
    schedule: CollectSchedule,
    datasets: Sequence[Dataset],
    stages: Sequence[Stage] = STAGES,
) -> DAG:
    """The collect DAG of one update cycle with the given stages in order."""
    dag = DAG(
        dag_id=schedule.dag_id,
        description=f"汇聚（{schedule.cycle.update_cycle}）：{schedule.describe()}",
        schedule=CronTriggerTimetable(schedule.cron, timezone=TIMEZONE_NAME),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # periods advance one at a time, like the manifest they write
        default_args={"owner": OWNER, "retries": RETRIES, "retry_delay": RETRY_DELAY},
        tags=[*TAGS, schedule.cycle.update_cycle],
        doc_md=_doc(schedule, datasets, stages),
    )
    ctx = StageContext(dag=dag, schedule=schedule, datasets=tuple(datasets))
    with dag:
        upstream: list[Any] = []
        for stage in stages:
            upstream = stage.build(ctx, upstream)
    return dag


def collect_schedules_of(registry: Registry | None = None) -> list[CollectSchedule]:
    """The schedules of the collect DAGs the registry gives (no Airflow objects built)."""
    return [item for item, _ in collect_schedules((registry or load_registry()).datasets)]


def build_collect_dags(
    registry: Registry | None = None,
    stages: Sequence[Stage] = STAGES,
) -> dict[str, DAG]:
    """dag_id -> DAG for every update cycle that has datasets in the registry."""
    chosen = registry or load_registry()
    return {
        schedule.dag_id: build_collect_dag(schedule, members, stages)
        for schedule, members in collect_schedules(chosen.datasets)
    }
