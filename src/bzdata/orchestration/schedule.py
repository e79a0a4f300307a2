"""When each collect DAG runs and which period (报送期) a run collects, from the logical date alone.

One collect DAG per update cycle (更新周期) of the registry. A run fires at 02:00 Beijing time on
the day after the LATEST `delivery.due_day` of the cycle's datasets, in the month after the
period, so every delivery of the period is due before the run starts (a daily catch-up cron
would instead mark files as missing before they are due). Files that arrive even later are
picked up by clearing the run, which reloads the period whole.

    period = the calendar month before the logical date's month, in Asia/Shanghai

Airflow 3 gives cron schedules a zero-length data interval (CronTriggerTimetable: start == end
== logical date), so the period is named by this rule rather than read from the interval; the
scheduler, a backfill and `bzdata run --period` therefore agree. Nothing here reads the clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bzdata.registry.models import PERIOD_MONTHS, Dataset

TIMEZONE_NAME = "Asia/Shanghai"
TIMEZONE = ZoneInfo(TIMEZONE_NAME)
RUN_HOUR = 2  # quiet hour: departments' 前置库 are not being written at night
LATEST_RUN_DAY = 28  # the last day that exists in every month, so cron never skips February
DEFAULT_RUN_DAY = 1  # a cycle whose datasets name no due day: the period is over, collect at once

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class ScheduleError(ValueError):
    """A period or update cycle the collect DAGs cannot handle; the message is Chinese."""


@dataclass(frozen=True)
class Cycle:
    """An update cycle (更新周期) that has a collect DAG."""

    update_cycle: str  # as written in the registry, e.g. 每月
    slug: str  # ASCII name used in the DAG id
    period_months: tuple[int, ...]  # months whose period this cycle delivers


CYCLES: dict[str, Cycle] = {
    item.update_cycle: item
    for item in (
        Cycle("每月", "monthly", PERIOD_MONTHS["每月"]),
        Cycle("每季", "quarterly", PERIOD_MONTHS["每季"]),
        Cycle("每年", "yearly", PERIOD_MONTHS["每年"]),
    )
}


def parse_period(text: str) -> tuple[int, int]:
    """'2023-01' -> (2023, 1); ScheduleError (Chinese) otherwise."""
    match = _PERIOD.fullmatch(text.strip())
    if not match:
        raise ScheduleError(f"报送期应为 YYYY-MM 格式（如 2023-01），而不是“{text}”")
    return int(match[1]), int(match[2])


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def period_of(logical_date: datetime) -> str:
    """The period a run collects: the month before the logical date's month, Beijing time."""
    if logical_date.tzinfo is None:
        raise ScheduleError(f"逻辑日期 {logical_date} 缺少时区，无法确定报送期")
    local = logical_date.astimezone(TIMEZONE)
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    return f"{year:04d}-{month:02d}"


def cycle_of(update_cycle: str, dataset_id: str = "") -> Cycle:
    """The collect cycle of a registry 更新周期; ScheduleError naming the dataset if unsupported."""
    try:
        return CYCLES[update_cycle]
    except KeyError:
        who = f"数据集 {dataset_id} 的" if dataset_id else ""
        raise ScheduleError(
            f"{who}更新周期“{update_cycle}”没有对应的汇聚 DAG：湖按月分区（period=YYYY-MM），"
            f"目前支持 {'、'.join(CYCLES)}；请在 bzdata.orchestration.schedule.CYCLES 中增加该周期"
        ) from None


@dataclass(frozen=True)
class CollectSchedule:
    """When the collect DAG of one cycle fires; `cron` and `logical_date` come from one rule."""

    cycle: Cycle
    day: int
    hour: int = RUN_HOUR

    @property
    def dag_id(self) -> str:
        return f"bzdata_collect_{self.cycle.slug}"

    @property
    def run_months(self) -> tuple[int, ...]:
        return tuple(sorted(_next_month(2000, month)[1] for month in self.cycle.period_months))

    @property
    def cron(self) -> str:
        months = self.run_months
        month_field = "*" if len(months) == 12 else ",".join(str(m) for m in months)
        return f"0 {self.hour} {self.day} {month_field} *"

    def is_due(self, period: str) -> bool:
        return parse_period(period)[1] in self.cycle.period_months

    def logical_date(self, period: str) -> datetime:
        """The logical date of the run that collects `period` (ScheduleError if none does)."""
        year, month = parse_period(period)
        if month not in self.cycle.period_months:
            raise ScheduleError(
                f"{self.cycle.update_cycle}报送的数据没有 {period} 这一报送期"
                f"（只有 {'、'.join(f'{m} 月' for m in self.cycle.period_months)}）"
            )
        run_year, run_month = _next_month(year, month)
        return datetime(run_year, run_month, self.day, self.hour, tzinfo=TIMEZONE)

    def describe(self) -> str:
        """Chinese one-liner for DAG docs and the CLI."""
        if len(self.run_months) == 12:
            when = "每月"
        else:
            when = "每年 " + "、".join(str(m) for m in self.run_months) + " 月"
        return f"{when} {self.day} 日 {self.hour:02d}:00（北京时间）运行，汇聚上一个月的报送期"


def run_day(datasets: Iterable[Dataset]) -> int:
    """The day after the latest due day of the datasets, at most the 28th."""
    due_days = [item.delivery.due_day for item in datasets if item.delivery.due_day is not None]
    if not due_days:
        return DEFAULT_RUN_DAY
    return min(max(due_days) + 1, LATEST_RUN_DAY)


def collect_schedules(datasets: Iterable[Dataset]) -> list[tuple[CollectSchedule, list[Dataset]]]:
    """Group datasets by cycle (registry order kept) with the schedule of each cycle's DAG.

    Raises ScheduleError for a dataset whose 更新周期 has no collect cycle, so a registry entry
    is never silently left uncollected.
    """
    groups: dict[str, list[Dataset]] = {}
    for item in datasets:
        groups.setdefault(cycle_of(item.update_cycle, item.id).update_cycle, []).append(item)
    order = list(CYCLES)
    return [
        (CollectSchedule(CYCLES[name], run_day(members)), members)
        for name, members in sorted(groups.items(), key=lambda pair: order.index(pair[0]))
    ]


LAST_PERIOD_VAR = "BZDATA_LAST_PERIOD"


def schedule_end() -> datetime | None:
    """The collect DAGs' end_date when BZDATA_LAST_PERIOD=YYYY-MM bounds the history (the
    synthetic city has a few months; a scheduler then creates no runs past them, while runs
    triggered for those periods still execute). None: no end."""
    import os

    text = os.environ.get(LAST_PERIOD_VAR, "").strip()
    if not text:
        return None
    year, month = _next_month(*parse_period(text))
    return datetime(year, month, LATEST_RUN_DAY, 23, 59, tzinfo=TIMEZONE)
