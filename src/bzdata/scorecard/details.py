"""The detail behind a department's scores for one period: its deliveries, its worst rules, its
catalogue findings and its issue list (for the department pages and the workbook)."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from bzdata.scorecard.compute import Sources

DELIVERIES_SQL = """
with
files as (
    select
        period,
        dataset,
        count(*) as files,
        bool_or(status = 'loaded' and not coalesce(late, false)) as on_time,
        bool_or(status = 'loaded') as loaded,
        string_agg(distinct status, '、' order by status) as statuses,
        max(arrived_at) filter (where status = 'loaded') as arrived_at,
        max(due_at) as due_at,
        coalesce(sum(rows_accepted) filter (where status = 'loaded'), 0) as rows_received,
        coalesce(sum(rows_rejected) filter (where status = 'loaded'), 0) as rows_rejected,
        string_agg(reason, '；' order by delivery_id) filter (where status <> 'loaded')
            as reasons
    from manifest
    where period = $period
    group by period, dataset
)
select
    e.department,
    e.dataset,
    e.update_cycle,
    e.channel,
    case
        when f.on_time then 'on_time'
        when f.loaded then 'late'
        else 'missing'
    end as outcome,
    coalesce(f.files, 0) as files,
    f.statuses,
    f.arrived_at,
    f.due_at,
    coalesce(f.rows_received, 0) as rows_received,
    coalesce(f.rows_rejected, 0) as rows_rejected,
    f.reasons
from expected_deliveries as e
left join files as f on f.period = e.period and f.dataset = e.dataset
where e.period = $period
order by e.department, e.dataset
"""

TOP_RULES_SQL = """
with ranked as (
    select
        department,
        dataset,
        rule_id,
        rule_name,
        dimension,
        severity,
        element_count,
        unexpected_count,
        pass_rate,
        row_number() over (
            partition by department
            order by unexpected_count desc, dataset, rule_id
        ) as position
    from rule_results
    where period = $period and error is null and unexpected_count > 0
)
select * exclude (position)
from ranked
where position <= $top
order by department, unexpected_count desc, dataset, rule_id
"""

ERRORED_RULES_SQL = """
select department, dataset, rule_id, rule_name, error
from rule_results
where period = $period and error is not null
order by department, dataset, rule_id
"""

ISSUES_BY_DATASET_SQL = """
select
    department,
    dataset,
    count(*) as issues,
    count(*) filter (where status = '新发现') as new,
    count(*) filter (where status = '未整改') as open,
    count(*) filter (where status = '复发') as reopened
from issues
where period = $period
group by department, dataset
order by department, dataset
"""

ISSUE_LIST_SQL = """
select
    dataset,
    rule_id,
    rule_name,
    dimension,
    severity,
    record_key,
    field,
    header,
    shown_value,
    authoritative_value,
    authority_department,
    status,
    first_period,
    message
from issues
where period = $period and department = $department
order by dataset, rule_id, record_key, field
"""


def _rows(sources: Sources, sql: str, **params: object) -> list[dict]:
    cursor = sources.con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def by_department(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row["department"], []).append(row)
    return out


def deliveries(sources: Sources) -> dict[str, list[dict]]:
    return by_department(_rows(sources, DELIVERIES_SQL, period=sources.period))


def top_rules(sources: Sources, top: int) -> dict[str, list[dict]]:
    return by_department(_rows(sources, TOP_RULES_SQL, period=sources.period, top=top))


def errored_rules(sources: Sources) -> dict[str, list[dict]]:
    return by_department(_rows(sources, ERRORED_RULES_SQL, period=sources.period))


def issues_by_dataset(sources: Sources) -> dict[str, list[dict]]:
    return by_department(_rows(sources, ISSUES_BY_DATASET_SQL, period=sources.period))


def catalog_findings(sources: Sources) -> dict[str | None, list[dict]]:
    rows = _rows(
        sources,
        "select * from catalog_findings order by department nulls first, dataset, rule_id, message",
    )
    return by_department(rows)


def issue_batches(sources: Sources, department: str, limit: int) -> Iterator[list[dict]]:
    """The department's issues of the period in batches (at most `limit` rows in all)."""
    cursor = sources.con.execute(
        ISSUE_LIST_SQL + f" limit {int(limit)}",
        {"period": sources.period, "department": department},
    )
    names = [d[0] for d in cursor.description]
    while True:
        batch = cursor.fetchmany(10_000)
        if not batch:
            return
        yield [dict(zip(names, row, strict=True)) for row in batch]


def issue_count(sources: Sources, department: str) -> int:
    row = sources.con.execute(
        "select count(*) from issues where period = $period and department = $department",
        {"period": sources.period, "department": department},
    ).fetchone()
    return int(row[0]) if row else 0


def empty_like(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()
