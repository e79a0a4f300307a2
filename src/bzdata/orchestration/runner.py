"""Run one period in this process with `dag.test()`, no scheduler needed: the collect DAGs due
for it, then the publish DAG (build → check → score → publish) once, with the period as conf.

The DAGs are the very objects a scheduler runs, loaded through a DagBag from dags/; only the
retry policy differs: in-process runs fail fast (retries off) instead of waiting out the delay,
and the publish DAG is forced (conf force=true) instead of skipping an unchanged period.

    report = run_period("2023-01", work_dir)   # RunReport: per-DAG and per-task outcomes
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bzdata.orchestration import home as airflow_home
from bzdata.orchestration.schedule import CollectSchedule, parse_period
from bzdata.periods import is_period

STATE_LABELS = {
    "success": "成功",
    "failed": "失败",
    "upstream_failed": "未运行（上游失败）",
    "skipped": "跳过",
    "removed": "已移除",
}
STATUS_LABELS = {
    "loaded": "已入库",
    "late": "迟报",
    "duplicate": "重复报送",
    "quarantined": "已隔离",
    "missing": "未报送",
    "failed": "抽取失败",
}


TIMING_STARTUP = "启动 Airflow"
TIMING_MIGRATE = "元数据库检查与迁移"
TIMING_PARSE = "解析 DAG"


class RunError(Exception):
    """The run could not start (no period, DAG files that do not import); message in Chinese."""


@dataclass(frozen=True)
class TaskOutcome:
    task_id: str
    state: str
    result: Any = None  # the task's return value (XCom), when it succeeded

    @property
    def ok(self) -> bool:
        return self.state in ("success", "skipped")

    def describe(self) -> str:
        label = STATE_LABELS.get(self.state, self.state)
        detail = _describe_result(self.result) if self.ok else ""
        return f"{self.task_id}：{label}{detail}"


@dataclass(frozen=True)
class DagOutcome:
    dag_id: str
    period: str
    logical_date: datetime
    state: str
    tasks: list[TaskOutcome]
    seconds: float

    @property
    def ok(self) -> bool:
        return self.state == "success" and all(item.ok for item in self.tasks)


@dataclass
class RunReport:
    period: str
    work_dir: Path
    dags: list[DagOutcome] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, Chinese names

    @property
    def ok(self) -> bool:
        return bool(self.dags) and all(item.ok for item in self.dags)


def _describe_result(result: Any) -> str:
    if not isinstance(result, dict) or "deliveries" not in result:
        return ""
    statuses: dict[str, int] = result.get("statuses") or {}
    parts = [f"{STATUS_LABELS.get(key, key)} {value}" for key, value in statuses.items()]
    parts.append(f"接收 {result.get('rows_accepted', 0):,} 行")
    parts.append(f"拒收 {result.get('rows_rejected', 0):,} 行")
    return f"（报送 {result['deliveries']} 份：{'，'.join(parts)}）"


# --- which period, which DAGs -------------------------------------------------------------------


def latest_period(landing: Path) -> str | None:
    """The latest <YYYY-MM> folder under landing/<dept>/<dataset>/, or None if there is none."""
    if not landing.is_dir():
        return None
    periods = [
        item.name for item in landing.glob("*/*/*") if item.is_dir() and is_period(item.name)
    ]
    return max(periods, default=None)


def default_period(work_dir: Path) -> str:
    """The latest period present in the work folder's landing zone (RunError if none)."""
    from bzdata.ingest import Paths

    landing = Paths.for_env(work_dir=work_dir).require_landing()
    period = latest_period(landing)
    if period is None:
        raise RunError(
            f"落地区 {landing} 中没有任何报送期目录（<部门>/<数据集>/<YYYY-MM>/）；"
            "请先生成或接收报送数据（如 bzdata synth --out <工作目录>/synth），"
            "或用 --period 指定报送期"
        )
    return period


def due_runs(
    period: str, schedules: list[CollectSchedule]
) -> list[tuple[CollectSchedule, datetime]]:
    """The collect DAGs that collect `period` and their logical dates, earliest first."""
    parse_period(period)
    due = [(item, item.logical_date(period)) for item in schedules if item.is_due(period)]
    return sorted(due, key=lambda pair: (pair[1], pair[0].dag_id))


# --- running ------------------------------------------------------------------------------------


def _import_errors_message(errors: dict[str, str]) -> str:
    lines = [f"DAG 文件导入失败（{len(errors)} 个），未运行任何任务："]
    for path, error in sorted(errors.items()):
        last = error.strip().splitlines()[-1] if error.strip() else error
        lines.append(f"  {path}：{last}")
    return "\n".join(lines)


def _task_results(dag_run: Any) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(
            run_id=dag_run.run_id, dag_ids=dag_run.dag_id, key="return_value"
        )
        return {row.task_id: XComModel.deserialize_value(row) for row in session.scalars(query)}


def run_dag(
    dag: Any,
    period: str,
    logical_date: datetime | None,
    run_after: datetime,
    conf: dict | None = None,
) -> DagOutcome:
    """`dag.test()` for one run; the DAG object is run as parsed, retries off."""
    for item in dag.tasks:
        item.retries = 0  # dag.test() would otherwise sleep through each retry delay
    started = time.monotonic()
    dag_run = dag.test(logical_date=logical_date, run_after=run_after, run_conf=conf)
    seconds = time.monotonic() - started
    results = _task_results(dag_run)
    instances = sorted(dag_run.get_task_instances(), key=lambda ti: _task_order(dag, ti.task_id))
    tasks = [
        TaskOutcome(ti.task_id, str(ti.state or "none"), results.get(ti.task_id))
        for ti in instances
    ]
    return DagOutcome(dag.dag_id, period, run_after, str(dag_run.state), tasks, seconds)


def _task_order(dag: Any, task_id: str) -> tuple[int, str]:
    ids = [item.task_id for item in dag.tasks]
    return (ids.index(task_id) if task_id in ids else len(ids), task_id)


def run_period(
    period: str | None = None,
    work_dir: Path | None = None,
    *,
    quiet: bool = True,
    echo: Callable[[str], None] = print,
) -> RunReport:
    """Set up Airflow, then run every collect DAG due for `period` (default: latest landed).

    Raises RunError before running anything when the period or the DAG files are unusable.
    """
    started = time.monotonic()
    work = airflow_home.airflow_home(work_dir).work_dir
    chosen = period or default_period(work)
    parse_period(chosen)
    home = airflow_home.configure(work, quiet=quiet)  # before the first `import airflow`

    from airflow.dag_processing.dagbag import DagBag

    from bzdata.orchestration.dags import PUBLISH_DAG_ID, collect_schedules_of

    report = RunReport(period=chosen, work_dir=home.work_dir)
    report.timings[TIMING_STARTUP] = time.monotonic() - started

    mark = time.monotonic()
    migrated = airflow_home.ensure_migrated(home)
    report.timings[TIMING_MIGRATE] = time.monotonic() - mark
    if migrated:
        echo(f"已初始化 Airflow 元数据库（{report.timings[TIMING_MIGRATE]:.1f} 秒）：{home.home}")

    mark = time.monotonic()
    bag = DagBag(dag_folder=str(home.dags_folder))
    report.timings[TIMING_PARSE] = time.monotonic() - mark
    if bag.import_errors:
        raise RunError(_import_errors_message(bag.import_errors))

    runs = due_runs(chosen, collect_schedules_of())
    if not runs:
        raise RunError(f"没有需要汇聚报送期 {chosen} 的 DAG")
    planned: list[tuple[str, datetime | None, datetime, dict | None]] = [
        (schedule.dag_id, logical_date, logical_date, None) for schedule, logical_date in runs
    ]
    # Once every cycle due for the period is collected: one publish, as the Assets would trigger.
    planned.append((PUBLISH_DAG_ID, None, runs[-1][1], {"period": chosen, "force": True}))
    for dag_id, logical_date, run_after, conf in planned:
        dag = bag.dags.get(dag_id)
        if dag is None:
            raise RunError(f"DAG 文件夹 {home.dags_folder} 中没有 {dag_id}")
        how = "逻辑日期 " + logical_date.isoformat() if logical_date else "资产触发（conf.period）"
        echo(f"▶ {dag_id}：报送期 {chosen}，{how}")
        outcome = run_dag(dag, chosen, logical_date, run_after, conf)
        report.dags.append(outcome)
        report.timings[dag_id] = outcome.seconds
        for item in outcome.tasks:
            echo(f"  {'✔' if item.ok else '✘'} {item.describe()}")
        mark_ok, verdict = ("✔", "成功") if outcome.ok else ("✘", "失败")
        echo(f"{mark_ok} {dag_id}：{verdict}（{outcome.seconds:.1f} 秒）")
    return report
