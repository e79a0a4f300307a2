"""The scorecard's figures and scores, computed with DuckDB SQL over the lake's Parquet.

Sources (all read-only):

    lake/manifest/period=*/*.parquet                        deliveries (归集)
    lake/quality/rule_results/period=*/rule_results.parquet  rule pass rates (质量)
    lake/quality/issues/period=*/issues.parquet              failing records (质量)
    lake/quality/issue_status/period=*/issue_status.parquet  issue life cycle (整改)
    catalog/registry/                                        编目 entries, expected deliveries

Each section has one SQL query (printed in the report's 计算方法) that returns one row per period
and department for every month up to the report period, so the trend is the same computation as
the month itself. Scores are simple formulas of those figures (see `score_row`), with the weights
and thresholds of catalog/scorecard.yaml.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from bzdata import duck
from bzdata.dimensions import DIMENSION_KEYS
from bzdata.periods import is_period
from bzdata.quality import outputs as quality_outputs
from bzdata.registry import Registry
from bzdata.scorecard.config import SECTIONS, ScorecardConfig

SEVERITY_KEYS: dict[str, str] = {"严重": "severe", "一般": "general", "提示": "hint"}

# The columns of the quality outputs the scorecard reads (the agreed contract; the checks write
# them with bzdata.quality.outputs and may add more, which are ignored here).
# The quality checks' output contract has one home: bzdata.quality.outputs.
QUALITY_TABLES: dict[str, pa.Schema] = quality_outputs.SCHEMAS


class ScorecardError(ValueError):
    """The scorecard cannot be built for this period; the message is for the user (Chinese)."""


# --- periods ---------------------------------------------------------------------------------


def check_period(period: str) -> str:
    if not is_period(period or ""):
        raise ScorecardError(f"报告期应为 YYYY-MM 格式，例如 2023-02，而不是 {period!r}")
    return period


def month_index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def period_of_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def previous_period(period: str) -> str:
    return period_of_index(month_index(period) - 1)


def months_between(first: str, last: str) -> list[str]:
    return [period_of_index(i) for i in range(month_index(first), month_index(last) + 1)]


def chinese_period(period: str) -> str:
    """2023-02 → 2023年02月 (as in the workbook's file name)."""
    return f"{period[:4]}年{period[5:7]}月"


# --- sources ---------------------------------------------------------------------------------


def quality_files(lake: Path, table: str) -> list[str]:
    root = Path(lake) / "quality" / table
    return sorted(str(p) for p in root.glob(f"period=*/{table}.parquet"))


def manifest_files(lake: Path) -> list[str]:
    return sorted(str(p) for p in (Path(lake) / "manifest").glob("period=*/*.parquet"))


@dataclass(frozen=True)
class Sources:
    """Everything the SQL reads, registered in one in-memory DuckDB connection."""

    con: duckdb.DuckDBPyConnection
    period: str
    periods: tuple[str, ...]
    quality_periods: frozenset[str]
    status_periods: frozenset[str]


def _file_view(
    con: duckdb.DuckDBPyConnection, name: str, files: Sequence[str], schema: pa.Schema
) -> None:
    if not files:
        con.register(f"{name}_empty", schema.empty_table())
        con.execute(f"create view {name} as select * from {name}_empty")
        return
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    columns = ", ".join(f'"{c}"' for c in schema.names)
    # hive_partitioning off: `period` is a real column of every file, never the folder name.
    con.execute(
        f"create view {name} as select {columns} from read_parquet([{listed}], "
        "hive_partitioning = false, union_by_name = true)"
    )


def expected_deliveries(registry: Registry, periods: Iterable[str]) -> pa.Table:
    """One row per (period, dataset) the registry's 更新周期 expects a delivery for."""
    rows = [
        {
            "period": period,
            "dataset": ds.id,
            "department": ds.provider,
            "update_cycle": ds.update_cycle,
            "channel": ds.delivery.channel,
        }
        for period in periods
        for ds in sorted(registry.datasets, key=lambda d: d.id)
        if ds.is_due(period)
    ]
    schema = pa.schema(
        [(c, pa.string()) for c in ("period", "dataset", "department", "update_cycle", "channel")]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def department_table(registry: Registry, responsible: Iterable[str] = ()) -> pa.Table:
    """Departments that provide a dataset or are responsible for an issue, in registry order."""
    scored = {ds.provider for ds in registry.datasets} | set(responsible)
    rows = [
        {"code": d.code, "name": d.name, "short_name": d.short_name, "ord": i}
        for i, d in enumerate(registry.departments)
        if d.code in scored
    ]
    schema = pa.schema(
        [
            ("code", pa.string()),
            ("name", pa.string()),
            ("short_name", pa.string()),
            ("ord", pa.int64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def open_sources(
    lake: Path, registry: Registry, period: str, entries: pa.Table, findings: pa.Table
) -> Sources:
    """A DuckDB connection with every source as a view or registered table."""
    check_period(period)
    lake = Path(lake)
    con = duck.connect()
    _file_view(con, "manifest", manifest_files(lake), _manifest_schema())
    for table, schema in QUALITY_TABLES.items():
        _file_view(con, table, quality_files(lake, table), schema)
    known = [
        row[0]
        for row in con.execute(
            "select distinct period from manifest where period <= ? order by period", [period]
        ).fetchall()
    ]
    if period not in known:
        raise ScorecardError(
            f"报告期 {period} 没有归集清单（{lake / 'manifest' / f'period={period}'}）："
            "请先运行该期的汇聚"
        )
    periods = tuple(months_between(known[0], period))

    def periods_of(table: str) -> frozenset[str]:
        rows = con.execute(f"select distinct period from {table}").fetchall()
        return frozenset(row[0] for row in rows)

    responsible = [
        row[0]
        for table in QUALITY_TABLES
        for row in con.execute(f"select distinct department from {table}").fetchall()
    ]
    con.register("departments", department_table(registry, responsible))
    con.register("periods", pa.table({"period": pa.array(periods, pa.string())}))
    con.register("expected_deliveries", expected_deliveries(registry, periods))
    con.register("catalog_entries", entries)
    con.register("catalog_findings", findings)
    quality = periods_of("rule_results") & set(periods)
    status = periods_of("issue_status") & set(periods)
    con.register("quality_periods", pa.table({"period": pa.array(sorted(quality), pa.string())}))
    con.register("status_periods", pa.table({"period": pa.array(sorted(status), pa.string())}))
    return Sources(con, period, periods, frozenset(quality), frozenset(status))


def _manifest_schema() -> pa.Schema:
    from bzdata.ingest.manifest import MANIFEST_SCHEMA

    return MANIFEST_SCHEMA


# --- the SQL of each section ----------------------------------------------------------------

GRID_CTE = """grid as (
    select p.period, d.code as department, d.ord
    from periods as p
    cross join departments as d
)"""

CATALOG_SQL = f"""
with
{GRID_CTE},
per_department as (
    select
        department,
        count(*) as datasets_registered,
        count(*) filter (where qualified) as datasets_catalogued,
        sum(items_filled) as metadata_items_filled,
        sum(items_total) as metadata_items_total,
        sum(errors) as lint_errors,
        sum(warnings) as lint_warnings
    from catalog_entries
    where department is not null
    group by department
)
select
    g.period,
    g.department,
    coalesce(c.datasets_registered, 0) as datasets_registered,
    coalesce(c.datasets_catalogued, 0) as datasets_catalogued,
    coalesce(c.metadata_items_filled, 0) as metadata_items_filled,
    coalesce(c.metadata_items_total, 0) as metadata_items_total,
    coalesce(c.lint_errors, 0) as lint_errors,
    coalesce(c.lint_warnings, 0) as lint_warnings
from grid as g
left join per_department as c on c.department = g.department
order by g.period, g.ord
"""

COLLECTION_SQL = f"""
with
{GRID_CTE},
delivered as (
    select
        period,
        dataset,
        bool_or(status = 'loaded' and not coalesce(late, false)) as on_time,
        bool_or(status = 'loaded') as loaded
    from manifest
    group by period, dataset
),
outcomes as (
    select
        e.period,
        e.department,
        e.dataset,
        case
            when d.on_time then 'on_time'
            when d.loaded then 'late'
            else 'missing'
        end as outcome
    from expected_deliveries as e
    left join delivered as d on d.period = e.period and d.dataset = e.dataset
),
per_outcome as (
    select
        period,
        department,
        count(*) as deliveries_expected,
        count(*) filter (where outcome = 'on_time') as deliveries_on_time,
        count(*) filter (where outcome = 'late') as deliveries_late,
        count(*) filter (where outcome = 'missing') as deliveries_missing
    from outcomes
    group by period, department
),
files as (
    select
        period,
        department,
        count(*) filter (where status = 'loaded') as files_loaded,
        count(*) filter (where status = 'quarantined') as files_quarantined,
        count(*) filter (where status = 'duplicate') as files_duplicate,
        coalesce(sum(rows_read) filter (where status = 'loaded'), 0) as rows_read,
        coalesce(sum(rows_accepted) filter (where status = 'loaded'), 0) as rows_received,
        coalesce(sum(rows_rejected) filter (where status = 'loaded'), 0) as rows_rejected
    from manifest
    group by period, department
)
select
    g.period,
    g.department,
    coalesce(o.deliveries_expected, 0) as deliveries_expected,
    coalesce(o.deliveries_on_time, 0) as deliveries_on_time,
    coalesce(o.deliveries_late, 0) as deliveries_late,
    coalesce(o.deliveries_missing, 0) as deliveries_missing,
    coalesce(f.files_loaded, 0) as files_loaded,
    coalesce(f.files_quarantined, 0) as files_quarantined,
    coalesce(f.files_duplicate, 0) as files_duplicate,
    coalesce(f.rows_read, 0) as rows_read,
    coalesce(f.rows_received, 0) as rows_received,
    coalesce(f.rows_rejected, 0) as rows_rejected
from grid as g
left join per_outcome as o on o.period = g.period and o.department = g.department
left join files as f on f.period = g.period and f.department = g.department
order by g.period, g.ord
"""


def _quality_sql() -> str:
    dims = ",\n        ".join(
        f"sum(element_count) filter (where dimension = '{name}') as elements_{key},\n"
        f"        sum(unexpected_count) filter (where dimension = '{name}') as unexpected_{key}"
        for name, key in DIMENSION_KEYS.items()
    )
    dim_cols = ",\n    ".join(
        f"case when q.period is null then null else coalesce(r.elements_{key}, 0) end"
        f" as elements_{key},\n"
        f"    case when q.period is null then null else coalesce(r.unexpected_{key}, 0) end"
        f" as unexpected_{key}"
        for key in DIMENSION_KEYS.values()
    )
    severities = ",\n        ".join(
        f"count(*) filter (where severity = '{name}') as issues_{key}"
        for name, key in SEVERITY_KEYS.items()
    )
    severity_cols = ",\n    ".join(
        f"case when q.period is null then null else coalesce(i.issues_{key}, 0) end as issues_{key}"
        for key in SEVERITY_KEYS.values()
    )
    return f"""
with
{GRID_CTE},
checked as (
    select * from rule_results where error is null
),
per_dimension as (
    select
        period,
        department,
        count(*) as rules_checked,
        {dims}
    from checked
    group by period, department
),
errored as (
    select period, department, count(*) as rules_errored
    from rule_results
    where error is not null
    group by period, department
),
records as (
    select period, department, sum(records) as records_checked
    from (
        select period, department, dataset, max(element_count) as records
        from checked
        group by period, department, dataset
    )
    group by period, department
),
open_issues as (
    select
        period,
        department,
        count(*) as issues_open,
        {severities}
    from issues
    group by period, department
)
select
    g.period,
    g.department,
    q.period is not null as quality_available,
    case when q.period is null then null else coalesce(r.rules_checked, 0) end as rules_checked,
    case when q.period is null then null else coalesce(e.rules_errored, 0) end as rules_errored,
    case when q.period is null then null else coalesce(n.records_checked, 0) end
        as records_checked,
    {dim_cols},
    case when q.period is null then null else coalesce(i.issues_open, 0) end as issues_open,
    {severity_cols}
from grid as g
left join quality_periods as q on q.period = g.period
left join per_dimension as r on r.period = g.period and r.department = g.department
left join errored as e on e.period = g.period and e.department = g.department
left join records as n on n.period = g.period and n.department = g.department
left join open_issues as i on i.period = g.period and i.department = g.department
order by g.period, g.ord
"""


QUALITY_SQL = _quality_sql()

RECTIFICATION_SQL = f"""
with
{GRID_CTE},
month_numbers as (
    select
        *,
        cast(left(period, 4) as integer) * 12 + cast(right(period, 2) as integer)
            as period_month,
        cast(left(first_period, 4) as integer) * 12 + cast(right(first_period, 2) as integer)
            as first_month
    from issue_status
),
carried as (
    -- every issue still open at the end of a period is followed into the next period
    select
        strftime(strptime(period || '-01', '%Y-%m-%d') + interval 1 month, '%Y-%m') as period,
        issue_id,
        department
    from issue_status
    where status_code <> 'rectified'
),
followed as (
    select c.period, c.department, c.issue_id, s.status_code
    from carried as c
    left join issue_status as s on s.period = c.period and s.issue_id = c.issue_id
),
per_carried as (
    select
        period,
        department,
        count(*) as prev_open_issues,
        count(*) filter (where status_code = 'rectified') as rectified,
        count(*) filter (where status_code is distinct from 'rectified') as still_open
    from followed
    group by period, department
),
per_status as (
    select
        period,
        department,
        count(*) filter (where status_code = 'reopened') as reopened,
        median(period_month - first_month) filter (where status_code = 'rectified')
            as median_months_to_rectify
    from month_numbers
    group by period, department
),
available as (
    select s.period
    from status_periods as s
    inner join status_periods as p
        on p.period = strftime(strptime(s.period || '-01', '%Y-%m-%d') - interval 1 month, '%Y-%m')
)
select
    g.period,
    g.department,
    a.period is not null as rectification_available,
    case when a.period is null then null else coalesce(c.prev_open_issues, 0) end
        as prev_open_issues,
    case when a.period is null then null else coalesce(c.rectified, 0) end as rectified,
    case when a.period is null then null else coalesce(c.still_open, 0) end as still_open,
    case when a.period is null then null else coalesce(s.reopened, 0) end as reopened,
    case when a.period is null then null else s.median_months_to_rectify end
        as median_months_to_rectify
from grid as g
left join available as a on a.period = g.period
left join per_carried as c on c.period = g.period and c.department = g.department
left join per_status as s on s.period = g.period and s.department = g.department
order by g.period, g.ord
"""

SECTION_SQL: dict[str, str] = {
    "catalog": CATALOG_SQL,
    "collection": COLLECTION_SQL,
    "quality": QUALITY_SQL,
    "rectification": RECTIFICATION_SQL,
}


# --- figures and scores ----------------------------------------------------------------------


def section_figures(sources: Sources) -> dict[str, list[dict]]:
    """Each section's figure rows, one per period and department, in grid order."""
    out: dict[str, list[dict]] = {}
    for section, sql in SECTION_SQL.items():
        cursor = sources.con.execute(sql)
        names = [d[0] for d in cursor.description]
        out[section] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return out


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _clamp(value: float) -> float:
    return min(100.0, max(0.0, value))


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value + 0.0, digits)


def derived(row: dict) -> dict:
    """Rates computed from the raw figures of one (period, department) row."""
    out = {
        "metadata_completeness": _ratio(row["metadata_items_filled"], row["metadata_items_total"]),
        "catalogued_rate": _ratio(row["datasets_catalogued"], row["datasets_registered"]),
        "on_time_rate": _ratio(row["deliveries_on_time"], row["deliveries_expected"]),
        "reject_rate": _ratio(row["rows_rejected"], row["rows_read"]) or 0.0,
        "issues_per_10k": None,
        "rectification_rate": _ratio(row["rectified"], row["prev_open_issues"]),
    }
    if row["issues_open"] is not None and row["records_checked"]:
        out["issues_per_10k"] = row["issues_open"] / row["records_checked"] * 10_000
    for key in DIMENSION_KEYS.values():
        elements = row[f"elements_{key}"]
        out[f"pass_rate_{key}"] = None if not elements else 1 - row[f"unexpected_{key}"] / elements
    return out


def score_row(row: dict, cfg: ScorecardConfig) -> dict[str, float | None]:
    """The four section scores and the composite of one row (figures and derived rates)."""
    scores: dict[str, float | None] = {}
    c = cfg.catalog
    if row["datasets_registered"]:
        scores["catalog"] = _clamp(
            100
            * (
                c.qualified_weight * row["catalogued_rate"]
                + (1 - c.qualified_weight) * (row["metadata_completeness"] or 0.0)
            )
            - c.warning_penalty * row["lint_warnings"]
        )
    else:
        scores["catalog"] = None
    k = cfg.collection
    if row["deliveries_expected"]:
        credit = row["deliveries_on_time"] + k.late_credit * row["deliveries_late"]
        scores["collection"] = _clamp(
            100 * credit / row["deliveries_expected"] * (1 - row["reject_rate"])
            - k.quarantine_penalty * row["files_quarantined"]
        )
    else:
        scores["collection"] = None
    q = cfg.quality
    weighted = total = 0.0
    for name, key in DIMENSION_KEYS.items():
        rate = row[f"pass_rate_{key}"]
        weight = q.dimensions[name]
        if rate is None or weight <= 0:
            continue
        weighted += weight * _clamp(100 * (rate - q.pass_rate_floor) / (1 - q.pass_rate_floor))
        total += weight
    scores["quality"] = weighted / total if total else None
    if not row["rectification_available"]:
        scores["rectification"] = None
    elif not row["prev_open_issues"]:
        scores["rectification"] = 100.0
    else:
        rectified = row["rectified"] - cfg.rectification.reopen_weight * row["reopened"]
        scores["rectification"] = _clamp(100 * rectified / row["prev_open_issues"])
    scores = {s: _round(v) for s, v in scores.items()}
    taken = [(cfg.weights.of(s), scores[s]) for s in SECTIONS if scores[s] is not None]
    weight_sum = sum(w for w, _ in taken)
    scores["composite"] = (
        _round(sum(w * v for w, v in taken) / weight_sum) if taken and weight_sum > 0 else None
    )
    return scores


def rank(rows: Sequence[dict]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4) by composite score; unscored departments get no rank."""
    scored = sorted((r for r in rows if r["composite"] is not None), key=lambda r: -r["composite"])
    ranks: dict[str, int] = {}
    for position, row in enumerate(scored, start=1):
        previous = scored[position - 2] if position > 1 else None
        if previous is not None and previous["composite"] == row["composite"]:
            ranks[row["department"]] = ranks[previous["department"]]
        else:
            ranks[row["department"]] = position
    return ranks


def scorecard_rows(sources: Sources, cfg: ScorecardConfig) -> list[dict]:
    """One merged row per period and department: figures, rates, scores, rank and movement."""
    figures = section_figures(sources)
    merged: list[dict] = []
    for parts in zip(*(figures[s] for s in SECTIONS), strict=True):
        row: dict = {}
        for part in parts:
            assert part["department"] == parts[0]["department"], "sections out of step"
            row.update(part)
        row.update(derived(row))
        scores = score_row(row, cfg)
        row.update({f"{s}_score": scores[s] for s in SECTIONS})
        row["composite"] = scores["composite"]
        merged.append(row)
    by_period: dict[str, list[dict]] = {}
    for row in merged:
        by_period.setdefault(row["period"], []).append(row)
    previous: dict[str, int] = {}
    for period in sources.periods:
        ranks = rank(by_period.get(period, []))
        for row in by_period.get(period, []):
            row["rank"] = ranks.get(row["department"])
            row["prev_rank"] = previous.get(row["department"])
            row["rank_change"] = (
                None
                if row["rank"] is None or row["prev_rank"] is None
                else row["prev_rank"] - row["rank"]
            )
        previous = ranks
    for row in merged:
        for key, value in row.items():
            if isinstance(value, float) and math.isnan(value):
                row[key] = None
    return merged


# --- what each section shows -----------------------------------------------------------------

# figure key → (Chinese label, kind); kind is one of count, rate (0..1), number, flag.
FIGURES: dict[str, dict[str, tuple[str, str]]] = {
    "catalog": {
        "datasets_registered": ("已登记数据集", "count"),
        "datasets_catalogued": ("编目合格数据集", "count"),
        "catalogued_rate": ("编目合格率", "rate"),
        "metadata_items_filled": ("已填核心元数据项", "count"),
        "metadata_items_total": ("应填核心元数据项", "count"),
        "metadata_completeness": ("元数据完整率", "rate"),
        "lint_errors": ("编目错误", "count"),
        "lint_warnings": ("编目警告", "count"),
    },
    "collection": {
        "deliveries_expected": ("应报数据集", "count"),
        "deliveries_on_time": ("按时报送", "count"),
        "deliveries_late": ("逾期报送", "count"),
        "deliveries_missing": ("缺报", "count"),
        "on_time_rate": ("按时报送率", "rate"),
        "files_loaded": ("入库文件/抽取", "count"),
        "files_quarantined": ("隔离文件", "count"),
        "files_duplicate": ("重复文件", "count"),
        "rows_read": ("读取行数", "count"),
        "rows_received": ("接收行数", "count"),
        "rows_rejected": ("拒收行数", "count"),
        "reject_rate": ("拒收行占比", "rate"),
    },
    "quality": {
        "rules_checked": ("检查规则数", "count"),
        "rules_errored": ("检查出错规则数", "count"),
        "records_checked": ("检查记录数", "count"),
        **{f"pass_rate_{key}": (f"{name}通过率", "rate") for name, key in DIMENSION_KEYS.items()},
        "issues_open": ("未整改问题", "count"),
        "issues_severe": ("其中严重", "count"),
        "issues_general": ("其中一般", "count"),
        "issues_hint": ("其中提示", "count"),
        "issues_per_10k": ("每万条记录问题数", "number"),
    },
    "rectification": {
        "prev_open_issues": ("上期未整改问题", "count"),
        "rectified": ("已整改", "count"),
        "still_open": ("仍未整改", "count"),
        "rectification_rate": ("整改率", "rate"),
        "reopened": ("复发问题", "count"),
        "median_months_to_rectify": ("整改用时中位数（月）", "number"),
    },
}

_INT_COLUMNS = {
    "ord",
    "rank",
    "prev_rank",
    "rank_change",
    *(f"elements_{k}" for k in DIMENSION_KEYS.values()),
    *(f"unexpected_{k}" for k in DIMENSION_KEYS.values()),
}
_BOOL_COLUMNS = {"quality_available", "rectification_available"}


def _arrow_type(column: str) -> pa.DataType:
    if column in ("period", "department"):
        return pa.string()
    if column in _BOOL_COLUMNS:
        return pa.bool_()
    if column in _INT_COLUMNS:
        return pa.int64()
    for section in FIGURES.values():
        if column in section:
            return pa.int64() if section[column][1] == "count" else pa.float64()
    return pa.float64()


def scores_table(rows: Sequence[dict]) -> pa.Table:
    """scores.parquet: every period and department, figures, rates, scores and ranks."""
    first = [
        "period",
        "department",
        "rank",
        "prev_rank",
        "rank_change",
        "composite",
        *(f"{s}_score" for s in SECTIONS),
    ]
    rest = sorted({key for row in rows for key in row} - set(first) - {"ord"})
    schema = pa.schema([(c, _arrow_type(c)) for c in first + rest])
    return pa.Table.from_pylist([{c: row.get(c) for c in schema.names} for row in rows], schema)
