"""The DAG factory: Airflow DAGs generated from the registry.

    bzdata_collect_<cycle>   one per 更新周期, on its cron (bzdata.orchestration.schedule):
        ingest_<dataset> (one per dataset, parallel) → mark_collected
          ⇒ Asset bzdata_collected_<cycle>
    bzdata_publish           scheduled on those Assets (any of them), once per period:
        wait_for_deliveries → refresh_warehouse → dbt_build → snapshot_libraries → check_quality
          → severity_hold → scorecard → <PUBLISH_STEPS, each gated by the hold> → record_publication

A data engineer adds a dataset by adding its registry YAML; the next parse gives it an ingest
task in the DAG of its cycle, and the publish DAG waits for it in the periods it is due. A team
adds a downstream publish step with one line in bzdata.orchestration.publish.PUBLISH_STEPS.

Parsing is cheap: the registry YAML is read, nothing else. Task bodies (bzdata.orchestration
.tasks) import the heavy code when they run and open no connection before then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, AssetAny, CronTriggerTimetable, Param, TriggerRule, task

from bzdata.orchestration import tasks
from bzdata.orchestration.home import WAREHOUSE_POOL
from bzdata.orchestration.publish import PUBLISH_STEPS, PublishStep
from bzdata.orchestration.schedule import (
    TIMEZONE,
    TIMEZONE_NAME,
    CollectSchedule,
    collect_schedules,
)
from bzdata.registry import Dataset, Registry, load_registry

# The first period the platform collects; with catchup off the scheduler starts at the latest.
START_DATE = datetime(2023, 1, 1, tzinfo=TIMEZONE)
OWNER = "bzdata"
TAGS = ("bzdata",)
# Transient source errors (a 前置库 briefly down) are retried; every other error fails at once.
RETRIES = 2
RETRY_DELAY = timedelta(minutes=10)

INGEST_PREFIX = "ingest_"
COLLECTED_TASK_ID = "mark_collected"
# The monthly collect DAG also takes the departments' 指标 returns (bzdata.indicators).
INDICATOR_TASK_ID = "ingest_indicator_reports"
INDICATOR_CYCLE = "monthly"
PUBLISH_DAG_ID = "bzdata_publish"
WAIT_TASK_ID = "wait_for_deliveries"
REFRESH_TASK_ID = "refresh_warehouse"
BUILD_TASK_ID = "dbt_build"
SNAPSHOT_TASK_ID = "snapshot_libraries"
QUALITY_TASK_ID = "check_quality"
HOLD_TASK_ID = "severity_hold"
SCORECARD_TASK_ID = "scorecard"
RECORD_TASK_ID = "record_publication"


def ingest_task_id(dataset_id: str) -> str:
    return f"{INGEST_PREFIX}{dataset_id}"


def collected_asset(schedule: CollectSchedule) -> Asset:
    """Emitted once a cycle's collection of a period is over; extra = {"period": "YYYY-MM"}."""
    return Asset(name=f"bzdata_collected_{schedule.cycle.slug}", group="bzdata")


# --- callables: Airflow fills logical_date, run_id, ti, params… by parameter name ------------


def _ingest_callable(dataset_id: str, logical_date=None, run_id=None, ti=None) -> dict[str, Any]:
    return tasks.collect_dataset(
        dataset_id,
        logical_date,
        str(run_id),
        try_number=int(getattr(ti, "try_number", 1) or 1),
        max_tries=int(getattr(ti, "max_tries", 0) or 0),
    )


def _indicator_callable(logical_date=None, run_id=None) -> dict[str, Any]:
    return tasks.ingest_indicator_reports(logical_date, str(run_id))


def _collected_callable(
    dataset_ids: list[str], asset_name: str, logical_date=None, run_id=None, outlet_events=None
) -> dict[str, Any]:
    result = tasks.mark_collected(dataset_ids, logical_date, str(run_id))
    if outlet_events is not None:
        outlet_events[Asset(name=asset_name, group="bzdata")].extra = {"period": result["period"]}
    return result


def _wait_callable(params=None, dag_run=None, triggering_asset_events=None) -> str | bool:
    import logging

    from bzdata import config
    from bzdata.ingest import Paths
    from bzdata.orchestration.publish import period_from, readiness

    conf = dict(getattr(dag_run, "conf", None) or {})
    chosen = dict(params or {})
    chosen.update({k: v for k, v in conf.items() if v is not None})
    period = period_from(chosen, triggering_asset_events)
    if not period:
        raise ValueError(
            "无法确定报送期：请在运行参数中给出 period（YYYY-MM），或由汇聚 DAG 的资产事件触发"
        )
    settings = config.settings()
    state = readiness(
        settings.work_dir, Paths.for_env(settings).lake, period, force=bool(chosen.get("force"))
    )
    logging.getLogger(__name__).info(state.describe())
    return period if state.go else False


def _refresh_callable(period: str, run_id=None) -> dict[str, Any]:
    return tasks.refresh(period, str(run_id))


def _build_callable(period: str, run_id=None) -> dict[str, Any]:
    return tasks.build_libraries(period, str(run_id))


def _snapshot_callable(period: str, run_id=None) -> dict[str, Any]:
    return tasks.snapshot_libraries(period, str(run_id))


def _quality_callable(period: str, run_id=None) -> dict[str, Any]:
    return tasks.check_quality(period, str(run_id))


def _hold_callable(period: str) -> dict[str, Any]:
    from bzdata import config
    from bzdata.orchestration.publish import write_holds

    held = write_holds(config.settings().work_dir, period)
    return {"period": period, "held": held}


def _scorecard_callable(period: str, run_id=None) -> dict[str, Any]:
    return tasks.build_scorecard(period, str(run_id))


def _step_callable(period: str, step_task_id: str) -> Any:
    from bzdata import config
    from bzdata.orchestration import publish

    step = {s.task_id: s for s in publish.PUBLISH_STEPS}[step_task_id]
    return step.run(publish.publish_context(config.settings().work_dir, period))


def _record_callable(period: str, run_id=None) -> dict[str, Any]:
    from bzdata import config
    from bzdata.ingest import Paths
    from bzdata.orchestration.publish import record_publication

    settings = config.settings()
    return record_publication(settings.work_dir, Paths.for_env(settings).lake, period, str(run_id))


# --- collect DAGs -----------------------------------------------------------------------------


def _collect_doc(schedule: CollectSchedule, datasets: Sequence[Dataset]) -> str:
    listed = "\n".join(f"- `{item.id}` {item.name}（{item.provider}）" for item in datasets)
    return (
        f"### 汇聚：更新周期 {schedule.cycle.update_cycle}\n\n"
        f"{schedule.describe()}；报送期 = 逻辑日期（北京时间）所在月份的上一个月。"
        "运行日为本周期各数据集最晚报送日（due_day）的次日，此时仍未到的报送记为缺报。\n\n"
        "每个数据集一个入湖任务（互不影响：一个前置库连不上只让它自己记为“抽取失败”）；"
        f"`{COLLECTED_TASK_ID}` 在全部入湖任务结束后发出资产事件 "
        f"`{collected_asset(schedule).name}`，由 `{PUBLISH_DAG_ID}` "
        "在该期全部到期报送汇聚后统一构建、校核、晾晒和发布。\n\n"
        "只有前置库连接被拒或超时才重试；"
        "坏文件隔离、配置缺失立即失败并写明原因（`bzdata status`）。\n\n"
        f"数据集（由 catalog/registry 生成）：\n\n{listed}\n"
    )


def build_collect_dag(
    schedule: CollectSchedule, datasets: Sequence[Dataset], end_date: datetime | None = None
) -> DAG:
    """The collect DAG of one update cycle."""
    asset = collected_asset(schedule)
    dag = DAG(
        dag_id=schedule.dag_id,
        description=f"汇聚（{schedule.cycle.update_cycle}）：{schedule.describe()}",
        schedule=CronTriggerTimetable(schedule.cron, timezone=TIMEZONE_NAME),
        start_date=START_DATE,
        end_date=end_date,
        catchup=False,
        max_active_runs=1,  # periods advance one at a time, like the manifest they write
        default_args={"owner": OWNER, "retries": RETRIES, "retry_delay": RETRY_DELAY},
        tags=[*TAGS, "汇聚", schedule.cycle.update_cycle],
        doc_md=_collect_doc(schedule, datasets),
    )
    with dag:
        ingests = [
            task(
                python_callable=_ingest_callable,
                task_id=ingest_task_id(item.id),
                doc_md=f"汇聚 **{item.name}**（{item.id}，{item.provider}，"
                f"{'前置库' if item.is_frontdb else '文件报送'}）本报送期的报送",
            )(item.id)
            for item in datasets
        ]
        if schedule.cycle.slug == INDICATOR_CYCLE:
            ingests.append(
                task(
                    python_callable=_indicator_callable,
                    task_id=INDICATOR_TASK_ID,
                    retries=0,  # a bad return is recorded, not retried
                    doc_md="接收各部门本报送期回报的指标填报文件：校验后按版本保存，"
                    "拒收的文件和行写明文件、行和原因",
                )()
            )
        done = task(
            python_callable=_collected_callable,
            task_id=COLLECTED_TASK_ID,
            outlets=[asset],
            retries=0,
            trigger_rule=TriggerRule.ALL_DONE,  # a failed dataset is recorded, the period goes on
            doc_md=(
                "本周期汇聚结束：补记未留下记录的数据集，"
                f"发出资产事件 `{asset.name}`（extra.period）"
            ),
        )([item.id for item in datasets], asset.name)
        for item in ingests:
            item >> done
    return dag


# --- the publish DAG --------------------------------------------------------------------------

_PUBLISH_DOC = """### 构建 → 校核 → 晾晒 → 发布（每个报送期一次）

由各汇聚 DAG 的资产事件触发（任一周期汇聚结束即触发）。`wait_for_deliveries` 检查该期**所有**
到期的数据集（季末月份：月报和季报）都已汇聚；否则本次运行全部跳过，什么也不发布。
同一期的报送没有变化时不重复构建；手动运行可在参数中给出 `period`，`force` 强制重建。

`severity_hold` 把严重级规则未通过的数据集写入暂停发布清单
（`work/publish/period=<期>/holds.json`），其后的每个发布步骤只发布未被暂停的数据集。晾晒台照常生成：问题正是它要公示的。
"""


def build_publish_dag(
    schedules: Sequence[CollectSchedule], steps: Sequence[PublishStep] = PUBLISH_STEPS
) -> DAG:
    assets = [collected_asset(item) for item in schedules]
    dag = DAG(
        dag_id=PUBLISH_DAG_ID,
        description="每期一次：全部到期报送汇聚后构建基础库、校核、晾晒与发布",
        schedule=AssetAny(*assets),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # one DuckDB writer; periods are published one after another
        default_args={"owner": OWNER, "retries": 0},
        tags=[*TAGS, "治理", "晾晒", "发布"],
        doc_md=_PUBLISH_DOC,
        params={
            "period": Param(
                None,
                type=["null", "string"],
                pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                description="报送期 YYYY-MM（资产触发时由事件给出）",
            ),
            "force": Param(False, type="boolean", description="报送未变时也重新构建"),
        },
    )
    with dag:
        period = task.short_circuit(
            python_callable=_wait_callable,
            task_id=WAIT_TASK_ID,
            doc_md="该期全部到期报送均已汇聚（或已记为缺报/抽取失败）才继续；否则跳过本次运行",
        )()
        # The period's chain, in order: (callable, task id, pool, doc). The warehouse tasks share
        # the one-slot pool because DuckDB takes one writer.
        chain = (
            (
                _refresh_callable,
                REFRESH_TASK_ID,
                WAREHOUSE_POOL,
                "刷新 DuckDB 仓库 raw 层视图（仓库只允许一个写入者）",
            ),
            (
                _build_callable,
                BUILD_TASK_ID,
                WAREHOUSE_POOL,
                "dbt build：staging → 基础库 → 主题库、专题库、指标库（整个项目一个进程）",
            ),
            (
                _snapshot_callable,
                SNAPSHOT_TASK_ID,
                WAREHOUSE_POOL,
                "把基础库发布为 Parquet 快照（读者与数据高铁实时视图读取它）",
            ),
            (
                _quality_callable,
                QUALITY_TASK_ID,
                WAREHOUSE_POOL,
                "一数一源校核：按 GB/T 36344 维度的质量规则，每条不合格记录进入问题清单",
            ),
            (
                _hold_callable,
                HOLD_TASK_ID,
                None,
                "严重级规则未通过的数据集暂停下游发布（写入 holds.json，发布步骤读取）",
            ),
            (
                _scorecard_callable,
                SCORECARD_TASK_ID,
                None,
                "数据晾晒台：各部门编目、归集、质量、整改得分与赛马排名",
            ),
        )
        made = {}
        previous = None
        for callable_, task_id, pool, doc in chain:
            made[task_id] = task(python_callable=callable_, task_id=task_id, pool=pool, doc_md=doc)(
                period
            )
            if previous is not None:
                previous >> made[task_id]
            previous = made[task_id]
        hold, scorecard = made[HOLD_TASK_ID], made[SCORECARD_TASK_ID]
        record = task(
            python_callable=_record_callable,
            task_id=RECORD_TASK_ID,
            doc_md="记录本期已发布（报送指纹），同样的报送不再重复构建",
        )(period)
        last: list[Any] = [scorecard]
        built_steps: dict[str, Any] = {}
        for step in steps:
            published = task(
                python_callable=_step_callable, task_id=step.task_id, doc_md=step.doc_md
            )(period, step.task_id)
            hold >> published
            scorecard >> published
            for earlier in step.after:
                built_steps[earlier] >> published
            built_steps[step.task_id] = published
            last.append(published)
        for item in last:
            item >> record
    return dag


# --- all DAGs ---------------------------------------------------------------------------------


def collect_schedules_of(registry: Registry | None = None) -> list[CollectSchedule]:
    """The schedules of the collect DAGs the registry gives (no Airflow objects built)."""
    return [item for item, _ in collect_schedules((registry or load_registry()).datasets)]


def build_collect_dags(
    registry: Registry | None = None, end_date: datetime | None = None
) -> dict[str, DAG]:
    """dag_id -> DAG for every update cycle that has datasets in the registry."""
    chosen = registry or load_registry()
    return {
        schedule.dag_id: build_collect_dag(schedule, members, end_date)
        for schedule, members in collect_schedules(chosen.datasets)
    }


def build_dags(registry: Registry | None = None) -> dict[str, DAG]:
    """Every collect DAG and the publish DAG scheduled on their Assets."""
    from bzdata.orchestration.schedule import schedule_end

    chosen = registry or load_registry()
    end = schedule_end()
    dags = build_collect_dags(chosen, end)
    dags[PUBLISH_DAG_ID] = build_publish_dag(collect_schedules_of(chosen))
    return dags
