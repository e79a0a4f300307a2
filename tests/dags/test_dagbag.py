"""Tier 1: dags/ imports through a DagBag without errors; the DAGs are what the registry says."""

from __future__ import annotations

import ast
import itertools
from datetime import UTC, datetime

import pytest

from bzdata.config import project_root
from bzdata.orchestration.home import WAREHOUSE_POOL, AirflowHome
from bzdata.orchestration.schedule import TIMEZONE, period_of
from bzdata.registry import load_registry

DAG_FILE = project_root() / "dags" / "bzdata_dags.py"
SLUGS = {"每月": "monthly", "每季": "quarterly", "每年": "yearly"}


def _expected() -> dict[str, set[str]]:
    """dag_id -> ingest task ids, worked out from the registry independently of the factory."""
    expected: dict[str, set[str]] = {}
    for dataset in load_registry().datasets:
        dag_id = f"bzdata_collect_{SLUGS[dataset.update_cycle]}"
        expected.setdefault(dag_id, set()).add(f"ingest_{dataset.id}")
    # The monthly collect also takes the departments' 指标 returns.
    expected["bzdata_collect_monthly"].add("ingest_indicator_reports")
    return expected


@pytest.fixture(scope="module")
def dagbag(session_home: AirflowHome):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(session_home.dags_folder))


def test_dagbag_imports_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == set(_expected()) | {"bzdata_stream_frontdb", "bzdata_publish"}


def test_one_ingest_task_per_registry_dataset_then_one_collected_asset(dagbag) -> None:
    expected = _expected()
    assert sum(len(ids) for ids in expected.values()) == len(load_registry().datasets) + 1
    for dag_id, ingest_ids in expected.items():
        dag = dagbag.dags[dag_id]
        assert {item.task_id for item in dag.tasks} == ingest_ids | {"mark_collected"}
        done = dag.get_task("mark_collected")
        assert done.upstream_task_ids == ingest_ids
        assert done.trigger_rule == "all_done"  # a failed dataset does not stop the period
        assert [a.name for a in done.outlets] == [dag_id.replace("collect", "collected")]
        for task_id in ingest_ids:
            assert dag.get_task(task_id).upstream_task_ids == set()
            assert dag.get_task(task_id).owner == "bzdata"


def test_the_publish_dag_waits_on_every_collect_asset_then_builds_once(dagbag) -> None:
    dag = dagbag.dags["bzdata_publish"]
    collected = {dag_id.replace("collect", "collected") for dag_id in _expected()}
    assert {a.name for a in dag.timetable.asset_condition.objects} == collected
    chain = [
        "wait_for_deliveries",
        "refresh_warehouse",
        "dbt_build",
        "snapshot_libraries",
        "check_quality",
        "severity_hold",
        "scorecard",
        "record_publication",
    ]
    for upstream, downstream in itertools.pairwise(chain):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    for task_id in ("refresh_warehouse", "dbt_build", "snapshot_libraries", "check_quality"):
        assert dag.get_task(task_id).pool == WAREHOUSE_POOL
    # The catalogue (then the portal's snapshot) is rebuilt before OpenMetadata gets it, and
    # both sit behind the severity hold.
    assert dag.get_task("catalogue").upstream_task_ids == {
        "wait_for_deliveries",
        "severity_hold",
        "scorecard",
    }
    assert dag.get_task("publish_openmetadata").upstream_task_ids == {
        "wait_for_deliveries",
        "severity_hold",
        "scorecard",
        "catalogue",
    }
    assert dag.get_task("indicator_report").upstream_task_ids == {
        "wait_for_deliveries",
        "severity_hold",
        "scorecard",
        "catalogue",
    }
    assert {"catalogue", "publish_openmetadata", "indicator_report"} <= dag.get_task(
        "record_publication"
    ).upstream_task_ids
    assert dag.doc_md and "每个报送期一次" in dag.doc_md
    assert all(t.doc_md for t in dag.tasks)


def test_dags_run_after_the_latest_due_day_in_beijing_time(dagbag) -> None:
    registry = load_registry()
    for dag_id, dag in dagbag.dags.items():
        if not dag_id.startswith("bzdata_collect_"):
            continue
        cycle = next(name for name, slug in SLUGS.items() if dag_id.endswith(slug))
        due = [d.delivery.due_day for d in registry.datasets if d.update_cycle == cycle]
        cron = dag.timetable.expression
        assert cron.split()[:3] == ["0", "2", str(min(max(due) + 1, 28))]
        assert str(dag.timetable.timezone) == "Asia/Shanghai"
        assert dag.catchup is False
        assert dag.default_args["retries"] >= 1


@pytest.mark.parametrize("period", [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01"])
def test_scheduler_and_period_rule_agree(dagbag, period: str) -> None:
    """The first run Airflow schedules after a period ends is the one that collects it."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    from bzdata.orchestration.dags import collect_schedules_of

    year, month = int(period[:4]), int(period[5:])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    period_end = datetime(year, month, 1, tzinfo=TIMEZONE).astimezone(UTC)
    for schedule in collect_schedules_of():
        timetable = coerce_to_core_timetable(dagbag.dags[schedule.dag_id].timetable)
        info = timetable.next_dagrun_info(
            last_automated_data_interval=None,
            restriction=TimeRestriction(earliest=period_end, latest=None, catchup=True),
        )
        if schedule.is_due(period):
            assert info.logical_date == schedule.logical_date(period)
            assert period_of(info.logical_date) == period
        else:
            assert period_of(info.logical_date) != period


def test_dag_file_only_wires() -> None:
    source = DAG_FILE.read_text(encoding="utf-8")
    assert len(source.splitlines()) < 60
    imports = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert [(node.module, node.level) for node in imports if isinstance(node, ast.ImportFrom)] == [
        ("bzdata.orchestration.dags", 0),
        ("bzdata.orchestration.stream", 0),
    ]
    assert not [node for node in imports if isinstance(node, ast.Import)]
    # Airflow's DagBag skips files whose text mentions neither "airflow" nor "dag".
    assert "airflow" in source.lower() and "dag" in source.lower()


def test_the_stream_dag_micro_batches_every_frontdb_dataset(dagbag) -> None:
    frontdb = {d.id for d in load_registry().datasets if d.delivery.channel == "frontdb"}
    dag = dagbag.dags["bzdata_stream_frontdb"]
    assert {t.task_id for t in dag.tasks} == {f"stream_{i}" for i in frontdb}
    assert dag.timetable.expression == "*/5 * * * *"
    assert dag.max_active_runs == 1 and dag.catchup is False
