"""The DAG factory: registry-driven DAGs, the period rule, and stages added in one place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bzdata.orchestration.schedule import (
    CYCLES,
    TIMEZONE,
    CollectSchedule,
    ScheduleError,
    collect_schedules,
    parse_period,
    period_of,
    run_day,
)
from bzdata.registry import Dataset, Registry, load_registry


def _with_datasets(registry: Registry, *extra: Dataset) -> Registry:
    return registry.model_copy(update={"datasets": (*registry.datasets, *extra)})


def _copy(dataset: Dataset, **update: object) -> Dataset:
    return dataset.model_copy(update=update)


# --- the period rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logical_date", "period"),
    [
        (datetime(2023, 2, 21, 2, tzinfo=TIMEZONE), "2023-01"),
        (datetime(2023, 1, 16, 2, tzinfo=TIMEZONE), "2022-12"),
        # 2023-02-28 17:00 UTC is already 1 March in Beijing: the period is February.
        (datetime(2023, 2, 28, 17, tzinfo=UTC), "2023-02"),
        (datetime(2023, 2, 28, 15, 59, tzinfo=UTC), "2023-01"),
    ],
)
def test_period_is_the_month_before_the_logical_month_in_beijing(logical_date, period) -> None:
    assert period_of(logical_date) == period


def test_period_needs_an_aware_logical_date() -> None:
    with pytest.raises(ScheduleError, match="时区"):
        period_of(datetime(2023, 2, 21))


@pytest.mark.parametrize("text", ["2023-13", "2023-1", "202301", "23-01", ""])
def test_bad_periods_are_refused_in_chinese(text: str) -> None:
    with pytest.raises(ScheduleError, match="YYYY-MM"):
        parse_period(text)


def test_run_for_a_period_produces_that_period() -> None:
    monthly = CollectSchedule(CYCLES["每月"], day=21)
    for month in range(1, 13):
        period = f"2023-{month:02d}"
        assert period_of(monthly.logical_date(period)) == period
    assert monthly.logical_date("2023-12") == datetime(2024, 1, 21, 2, tzinfo=TIMEZONE)


def test_quarterly_runs_only_for_quarter_end_periods() -> None:
    quarterly = CollectSchedule(CYCLES["每季"], day=16)
    assert quarterly.cron == "0 2 16 1,4,7,10 *"
    assert [m for m in range(1, 13) if quarterly.is_due(f"2023-{m:02d}")] == [3, 6, 9, 12]
    assert quarterly.logical_date("2023-03") == datetime(2023, 4, 16, 2, tzinfo=TIMEZONE)
    with pytest.raises(ScheduleError, match="2023-02"):
        quarterly.logical_date("2023-02")


def test_run_day_follows_the_latest_due_day_and_stays_in_every_month() -> None:
    registry = load_registry()
    base = registry.datasets[0]
    with_due = [
        _copy(base, delivery=base.delivery.model_copy(update={"due_day": d})) for d in (5, 9)
    ]
    assert run_day(with_due) == 10
    late = _copy(base, delivery=base.delivery.model_copy(update={"due_day": 28}))
    assert run_day([late]) == 28  # the 29th would skip February
    no_due = _copy(base, delivery=base.delivery.model_copy(update={"due_day": None}))
    assert run_day([no_due]) == 1


# --- registry drives the DAGs -------------------------------------------------------------------


def test_adding_a_dataset_to_the_registry_adds_its_task() -> None:
    from bzdata.orchestration.dags import build_collect_dags

    registry = load_registry()
    template = next(d for d in registry.datasets if d.update_cycle == "每月")
    new = _copy(template, id=f"{template.provider}_xinzeng", resource_code="371600-NEW-0001")
    dags = build_collect_dags(_with_datasets(registry, new))
    monthly = dags["bzdata_collect_monthly"]
    assert "ingest_" + new.id in monthly.task_ids
    assert "ingest_" + new.id in monthly.get_task("mark_collected").upstream_task_ids
    assert new.name in monthly.doc_md


def test_a_yearly_dataset_gets_a_yearly_dag() -> None:
    from bzdata.orchestration.dags import build_collect_dags

    registry = load_registry()
    template = registry.datasets[0]
    yearly = _copy(template, id=f"{template.provider}_niandu", update_cycle="每年")
    dags = build_collect_dags(_with_datasets(registry, yearly))
    assert dags["bzdata_collect_yearly"].task_ids == ["ingest_" + yearly.id, "mark_collected"]
    assert dags["bzdata_collect_yearly"].timetable.expression.endswith(" 1 *")


def test_a_cycle_without_a_collect_dag_is_an_error_naming_the_dataset() -> None:
    registry = load_registry()
    daily = _copy(registry.datasets[0], id="gaj_meiri", update_cycle="每日")
    with pytest.raises(ScheduleError, match=r"gaj_meiri.*每日"):
        collect_schedules(_with_datasets(registry, daily).datasets)


def test_a_publish_step_is_added_in_one_place_behind_the_hold() -> None:
    from bzdata.orchestration.dags import build_publish_dag, collect_schedules_of
    from bzdata.orchestration.publish import PublishStep

    step = PublishStep("publish_catalog", "发布资源目录", lambda ctx: None)
    dag = build_publish_dag(collect_schedules_of(), steps=(step,))
    assert dag.get_task("publish_catalog").upstream_task_ids == {
        "wait_for_deliveries",
        "severity_hold",
        "scorecard",
    }
    assert {"scorecard", "publish_catalog"} <= dag.get_task("record_publication").upstream_task_ids
