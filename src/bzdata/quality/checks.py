"""Run every quality rule on one period and write rule results, issues and issue statuses.

    summary = run_checks(work_dir, "2023-03")          # GX checkpoint + issue ledger
    if summary.stop_downstream: ...                     # a 严重 rule failed

Great Expectations is the one engine: it decides every verdict and lists every failing record.

1. The warehouse must have been built for the period (intermediate.int_build_period), since
   quality.consistency_checks holds that period's 多源校核 only.
2. Each dataset's relations (bzdata.quality.relations) are materialised, with a `__rowid` per
   row, into <work>/quality/relations.duckdb: one DuckDB pass per relation, read from the
   warehouse opened read-only, so GX's many metric queries scan a plain table.
3. GX validates them with the committed suites in one checkpoint (bzdata.quality.gx_project);
   Data Docs are updated. GX's unexpected_index_list names the `__rowid` of every failing row;
   for each rule the run asserts that GX listed as many rows as it counted, else the rule is
   an error (GX cuts such lists at partial_unexpected_count, which gx_project lifts).
4. Each failing row GX listed is an issue with a stable id; compared with the previous
   period's statuses it is new, still open or reopened, and an issue open before that is not
   failing now is rectified if its record was looked at again this period (a snapshot dataset
   re-delivered whole, or the record re-delivered or re-pulled; for copies in a 前置库 table,
   its key counted once in the pull's key census), else it stays open.

A rule GX could not evaluate (an exception in its result) is written to rule_results with its
error and the run raises QualityError: an error of the platform is never a pass or a fail.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from bzdata import duck, progress
from bzdata.periods import is_period
from bzdata.quality import outputs, relations
from bzdata.quality.generate import suite_name, suites
from bzdata.quality.gx_project import ROW_ID, ValidationError
from bzdata.quality.rules import SUITES_DIR, RuleSet, default_root, load_rules
from bzdata.quality.templates import Check, compile_rule, lit
from bzdata.registry import Dataset, Registry, load_registry
from bzdata.registry.plan import GBT2260_TABLE, census_model, staging_model
from bzdata.sharing import mask_many

ENGINE = "gx"
_NO_LIMIT = 2**62  # row-count bounds when a rule has no history yet (it is then not evaluated)
ASSETS = ("records", "pulls", "consistency", "delivery")
REL = "rel"  # the relations file, attached read-only beside the warehouse


class QualityError(ValidationError):
    """The checks could not run or a rule could not be evaluated (message in Chinese)."""


@dataclass
class RuleResult:
    check: Check
    element_count: int
    unexpected_count: int | None
    success: bool
    evaluated: bool
    error: str | None = None
    listed: int | None = None  # failing rows GX listed (must equal unexpected_count)


@dataclass
class CheckSummary:
    """What one run found; `stop_downstream` is True when a 严重 rule failed."""

    period: str
    rules: int
    evaluated: int
    failed: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    issues: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    materialise_seconds: float = 0.0
    validation_seconds: float = 0.0
    listing_seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    data_docs: str | None = None
    # rule id -> (failing rows GX counted, failing rows GX listed); equal for every rule of a run
    counts: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)

    @property
    def stop_downstream(self) -> bool:
        return bool(self.blocking)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stop_downstream": self.stop_downstream}


@dataclass
class _Plan:
    """One dataset's asset for the period: its checks and relation."""

    ds: Dataset
    asset: str
    checks: list[Check]
    sql: str

    @property
    def name(self) -> str:
        return suite_name(self.ds.id, self.asset)

    @property
    def table(self) -> str:
        """Its table in the relations file."""
        return f"{self.ds.id}__{self.asset}"

    @property
    def rel(self) -> str:
        return f"{REL}.main.{self.table}"


def warehouse_path(work_dir: Path) -> Path:
    return Path(work_dir) / "warehouse" / "bzdata.duckdb"


def relations_path(work_dir: Path) -> Path:
    return Path(work_dir) / "quality" / "relations.duckdb"


def run_checks(
    work_dir: Path | str,
    period: str,
    *,
    data_docs: bool = True,
    rules_root: Path | None = None,
    registry: Registry | None = None,
) -> CheckSummary:
    """Check `period` (YYYY-MM) on `<work_dir>/warehouse/bzdata.duckdb`; write the three
    outputs under `<work_dir>/lake/quality/`. Raises QualityError (see the module docstring)."""
    start = time.monotonic()
    if not is_period(str(period)):
        raise QualityError(f"报送期应为 YYYY-MM 格式，例如 2023-03，实际为 {period!r}")
    work = Path(work_dir)
    db = warehouse_path(work)
    registry = registry or load_registry()
    root = Path(rules_root) if rules_root is not None else default_root()
    rules = load_rules(root, registry)
    checks = [compile_rule(rule, registry) for rule in rules.rules]
    committed = _committed_suites(root, rules, registry)
    plans = _plans(checks, registry, period)
    rel_db = relations_path(work)
    with progress.step(f"质量校核 {period}：{len(checks)} 条规则"):
        with _connect(db) as con:
            _check_build_period(con, period)
        _materialise(db, plans, period, rel_db)
        summary = CheckSummary(period, len(checks), 0)
        summary.materialise_seconds = time.monotonic() - start
        with _connect(db, rel_db) as con:
            counts = _counts(con, plans)
            parameters, history = _row_count_bounds(con, checks, registry, period, counts)
        validated = time.monotonic()
        from bzdata.quality.gx_project import AssetRun, data_docs_index, run_checkpoint

        runs = [AssetRun(p.name, p.table, committed[p.name]) for p in plans]
        try:
            found = run_checkpoint(rel_db, work, runs, period, parameters, data_docs)
        except ValidationError as exc:
            raise QualityError(str(exc), exc.errors) from exc
        outcomes = {o.rule_id: o for o in found}
        summary.data_docs = str(data_docs_index(work)) if data_docs else None
        summary.validation_seconds = time.monotonic() - validated
        listed = time.monotonic()
        results = _results(checks, counts, history, outcomes)
        rule_table = _rule_results_table(results, period)
        errors = [r for r in results if r.error]
        if errors:
            # Recorded, then raised: the scorecard shows these rules as not evaluated.
            outputs.write(work, outputs.RULE_RESULTS, period, rule_table)
            lines = "\n".join(f"- {r.check.rule.id}：{r.error}" for r in errors)
            raise QualityError(
                f"质量校验执行出错，结果不算通过也不算不通过：\n{lines}",
                [{"rule_id": r.check.rule.id, "error": r.error} for r in errors],
            )
        with _connect(db, rel_db) as con:
            import duckdb

            try:  # every failing row GX listed, into temp table `fails` with its issue text
                _list_failing(con, plans, registry, period, parameters, outcomes, results)
            except duckdb.Error as exc:
                raise QualityError(f"列出不通过记录的查询无法执行：{exc}") from exc
            summary.listing_seconds = time.monotonic() - listed
            issues, status = _ledger(con, work, results, registry, plans, period)
    for kind, table in (
        (outputs.RULE_RESULTS, rule_table),
        (outputs.ISSUES, issues),
        (outputs.ISSUE_STATUS, status),
    ):
        summary.outputs[kind] = str(outputs.write(work, kind, period, table))
    summary.evaluated = sum(r.evaluated for r in results)
    summary.counts = {r.check.rule.id: (r.unexpected_count, r.listed) for r in results}
    summary.failed = [r.check.rule.id for r in results if r.evaluated and not r.success]
    summary.blocking = [
        r.check.rule.id
        for r in results
        if r.evaluated and not r.success and r.check.rule.severity == "严重"
    ]
    summary.issues = issues.num_rows
    summary.statuses = dict(Counter(status.column("status_code").to_pylist()))
    summary.seconds = time.monotonic() - start
    return summary


# --------------------------------------------------------------------------- preparation


@contextmanager
def _connect(db: Path, rel_db: Path | None = None) -> Iterator[Any]:
    """A read-only DuckDB connection that is always closed (the file lock goes with it), with
    the relations file attached read-only as `rel` when given."""
    import duckdb

    if not db.is_file():
        raise QualityError(f"找不到数据仓库 {db}：请先运行汇聚和治理（bzdata build）")
    try:
        con = duck.connect(db, read_only=True)
    except duckdb.Error as exc:
        raise QualityError(f"无法只读打开数据仓库（治理是否仍在写入？）：{exc}") from exc
    try:
        con.execute("set enable_progress_bar = false")  # long queries would draw on stderr
        if rel_db is not None:
            con.execute(f"attach {lit(str(rel_db))} as {REL} (read_only)")
        yield con
    finally:
        con.close()


def _materialise(db: Path, plans: list[_Plan], period: str, rel_db: Path) -> None:
    """Each plan's relation as a table of the relations file, rows numbered `__rowid`, read
    from the warehouse attached read-only; written beside and renamed into place, so a killed
    run leaves no half file for GX to read."""
    import duckdb

    rel_db.parent.mkdir(parents=True, exist_ok=True)
    staging = rel_db.with_name(rel_db.name + ".tmp")
    staging.unlink(missing_ok=True)
    con = duck.connect(staging, spill=rel_db.parent / "spill")
    try:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach {lit(str(db))} as warehouse (read_only)")
        # The reference tables the expectations look codes up in, beside the relations.
        schema = GBT2260_TABLE.split(".")[0]
        con.execute(f"create schema {_stem(staging)}.{schema}")
        con.execute(
            f"create table {_stem(staging)}.{GBT2260_TABLE} as "
            f"select * from warehouse.{GBT2260_TABLE}"
        )
        con.execute("use warehouse")
        for plan in plans:
            source = f"({plan.sql})"
            if plan.asset == "consistency":
                # Where the copy's record came from, for the issue's delivered value.
                source = (
                    f"(select c.*, l.period, l._batch_id, l._row_number from {source} as c "
                    f"left join {_lineage(plan.ds, period)} as l on l.record_key = c.record_key)"
                )
            con.execute(
                f"create table {_stem(staging)}.main.{plan.table} as "
                f"select row_number() over () as {ROW_ID}, r.* from {source} as r"
            )
        con.execute("checkpoint")
    except duckdb.Error as exc:
        raise QualityError(f"校核关系无法生成：{exc}") from exc
    finally:
        con.close()
    os.replace(staging, rel_db)
    rel_db.with_name(staging.name + ".wal").unlink(missing_ok=True)


def _stem(path: Path) -> str:
    """DuckDB's catalog name of a database file it opened."""
    return '"' + path.name.split(".")[0] + '"'


def _committed_suites(root: Path, rules: RuleSet, registry: Registry) -> dict[str, dict]:
    """The committed GX suites, which must be what the rules compile to."""
    compiled = suites(rules, registry)
    stale = []
    committed = {}
    for name, suite in compiled.items():
        path = root / SUITES_DIR / f"{name}.json"
        if not path.is_file():
            stale.append(f"缺少 {SUITES_DIR}/{name}.json")
            continue
        committed[name] = json.loads(path.read_text(encoding="utf-8"))
        if committed[name] != json.loads(json.dumps(suite, ensure_ascii=False)):
            stale.append(f"与规则不一致 {SUITES_DIR}/{name}.json")
    if stale:
        raise QualityError(
            "GX 校验套件与规则文件不一致，请运行 bzdata quality rules 重新生成：" + "；".join(stale)
        )
    return committed


def _plans(checks: list[Check], registry: Registry, period: str) -> list[_Plan]:
    plans = []
    for ds in registry.datasets:
        mine = [c for c in checks if c.rule.dataset == ds.id]
        for asset in ASSETS:
            chosen = [c for c in mine if c.asset == asset]
            if chosen:
                sql = relations.asset_sql(asset, ds, chosen, period, registry)
                plans.append(_Plan(ds, asset, chosen, sql))
    return plans


def _check_build_period(con: Any, period: str) -> None:
    try:
        row = con.execute("select target_period from intermediate.int_build_period").fetchone()
    except Exception as exc:
        raise QualityError(
            f"数据仓库尚未治理（没有 intermediate.int_build_period）：{exc}"
        ) from exc
    built = row[0] if row else None
    if built != period:
        raise QualityError(
            f"数据仓库是按 {built} 期治理的，不能校核 {period} 期（多源校核只反映治理期）："
            f"请先运行 bzdata build --period {period}"
        )


def _counts(con: Any, plans: list[_Plan]) -> dict[str, int]:
    """Rows each check looks at: '<plan name>' for the asset, '<plan>#<column>' per copy."""
    counts: dict[str, int] = {}
    for plan in plans:
        if plan.asset == "consistency":
            sql = f"select r.holder_column, count(*) from {plan.rel} as r group by 1"
            by_column = dict(con.execute(sql).fetchall())
            counts[plan.name] = sum(by_column.values())
            for column, n in by_column.items():
                counts[f"{plan.name}#{column}"] = n
        else:
            counts[plan.name] = con.execute(f"select count(*) from {plan.rel}").fetchone()[0]
    return counts


def _row_count_bounds(
    con: Any, checks: list[Check], registry: Registry, period: str, counts: dict[str, int]
) -> tuple[dict[str, Any], dict[str, bool]]:
    """Parameters of the 表行数波动 rules from recent periods' row counts, and which of them can
    be evaluated (delivered this period, at least one earlier delivery)."""
    parameters: dict[str, Any] = {}
    evaluable: dict[str, bool] = {}
    for check in checks:
        if check.rule.template != "row_count":
            continue
        ds = registry.dataset(check.rule.dataset)
        lookback = check.rule.lookback or 3
        rows = con.execute(
            f"select period, count(*) from {relations.staging_table(ds)} "
            f"where period < {lit(period)} group by 1 order by 1 desc limit {lookback}"
        ).fetchall()
        delivered = counts.get(suite_name(ds.id, "records"), 0) > 0
        low_name, high_name = check.parameters
        if rows and delivered:
            mean = sum(n for _, n in rows) / len(rows)
            band = check.rule.band or 0
            parameters[low_name] = math.floor(mean * (1 - band))
            parameters[high_name] = math.ceil(mean * (1 + band))
            evaluable[check.rule.id] = True
        else:
            parameters[low_name], parameters[high_name] = 0, _NO_LIMIT
            evaluable[check.rule.id] = False
    return parameters, evaluable


# --------------------------------------------------------------------------- failing records


def _fill(sql: str, parameters: dict[str, Any]) -> str:
    for name, value in parameters.items():
        sql = sql.replace("{" + name + "}", str(value))
    return sql


def _list_failing(
    con: Any,
    plans: list[_Plan],
    registry: Registry,
    period: str,
    parameters: dict[str, Any],
    outcomes: dict[str, Any],
    results: list[RuleResult],
) -> None:
    con.execute(
        "create or replace temp table fails (dataset varchar, rule_id varchar, record_key "
        "varchar, field varchar, row_period varchar, batch_id varchar, row_number bigint, "
        "value varchar, message varchar, authority_value varchar, delivered_value varchar)"
    )
    con.execute(
        "create or replace temp table fails_one (rule_id varchar, record_key varchar, "
        "field varchar, row_period varchar, batch_id varchar, row_number bigint, "
        "value varchar, message varchar, authority_value varchar)"
    )
    failed = {r.check.rule.id for r in results if r.evaluated and not r.success}
    for dataset in dict.fromkeys(plan.ds.id for plan in plans):
        ds = registry.dataset(dataset)
        con.execute("delete from fails_one")
        for plan in (p for p in plans if p.ds.id == dataset):
            _failing_of_plan(con, plan, parameters, outcomes, failed)
        # A 前置库 record may have been pulled in any earlier period; a file's rows are this one's.
        pruned = "" if ds.is_frontdb else f"raw.period = {lit(period)} and "
        con.execute(
            f"insert into fails select {lit(dataset)}, f.*, "
            f"{_delivered_sql(ds)} from fails_one as f "
            f"left join raw.{ds.id} as raw on {pruned}raw.period = f.row_period "
            "and raw._batch_id = f.batch_id and raw._row_number = f.row_number"
        )


def _hits(plan: _Plan, outcomes: dict[str, Any]) -> pa.Table:
    """(check index, __rowid) of every failing row GX listed for the plan's checks."""
    index: list[int] = []
    rowids: list[int] = []
    for i, check in enumerate(plan.checks):
        listed = outcomes[check.rule.id].rowids or ()
        index += [i] * len(listed)
        rowids += listed
    return pa.table({"hit": pa.array(index, pa.int32()), ROW_ID: pa.array(rowids, pa.int64())})


def _failing_of_plan(
    con: Any, plan: _Plan, parameters: dict[str, Any], outcomes: dict[str, Any], failed: set
) -> None:
    """The rows GX listed for the plan's checks, with their issue texts, into `fails_one`."""
    listed = [c for c in plan.checks if not c.aggregate]
    con.register("hits", _hits(plan, outcomes))
    if plan.asset in ("records", "pulls"):
        key, lineage = "r.__record_key", "r.period, r._batch_id, r._row_number"
    else:
        key = "r.record_key" if plan.asset == "consistency" else "'*'"
        lineage = (
            "r.period, r._batch_id, r._row_number"
            if plan.asset == "consistency"
            else "null, null, null"
        )

    def by_hit(sql_of: Any) -> str:
        """SQL picking the failing check's expression (message, value, authority)."""
        branches = " ".join(
            f"when {i} then cast({_fill(sql_of(c), parameters)} as varchar)"
            for i, c in enumerate(plan.checks)
            if not c.aggregate and sql_of(c) is not None
        )
        return f"case h.hit {branches} end" if branches else "cast(null as varchar)"

    if listed:
        con.execute(
            f"""
            insert into fails_one
            select
                [{", ".join(lit(c.rule.id) for c in plan.checks)}][h.hit + 1],
                {key},
                [{", ".join(lit(c.field) for c in plan.checks)}][h.hit + 1],
                {lineage},
                {by_hit(lambda c: c.value)},
                {by_hit(lambda c: c.message)},
                {by_hit(lambda c: c.authority)}
            from hits as h
            join {plan.rel} as r on r.{ROW_ID} = h.{ROW_ID}
            """
        )
    con.unregister("hits")
    for check in plan.checks:
        if not check.aggregate or check.rule.id not in failed:
            continue
        # A whole-table expectation (e.g. row count) that failed: one issue for the dataset.
        con.execute(
            f"""
            insert into fails_one
            select {lit(check.rule.id)}, '*', cast(null as varchar), cast(null as varchar),
                cast(null as varchar), cast(null as bigint),
                cast({_fill(check.value or "null", parameters)} as varchar),
                cast({_fill(check.message, parameters)} as varchar), cast(null as varchar)
            from (select count(*) as n from {plan.rel}) as r
            """
        )


def _lineage(ds: Dataset, period: str) -> str:
    """The staged row of each record key of the period (the latest, as the 基础库 takes it)."""
    key = relations.record_key_sql(ds, "s")
    return (
        f"(select {key} as record_key, s.period, s._batch_id, s._row_number\n"
        f"from staging.{staging_model(ds)} as s where s.period = {lit(period)}\n"
        f"qualify row_number() over (partition by {key} order by s._row_number desc) = 1)"
    )


def _delivered_sql(ds: Dataset) -> str:
    """The delivered text of the issue's field (raw zone), or the value of a whole-dataset one."""
    branches = " ".join(f"when {lit(c)} then raw.{c}" for c in ds.columns)
    return f"case when f.field is null then f.value else (case f.field {branches} end) end"


# --------------------------------------------------------------------------- rule results


def _results(
    checks: list[Check],
    counts: dict[str, int],
    row_count_evaluable: dict[str, bool],
    outcomes: dict[str, Any],
) -> list[RuleResult]:
    """One result per check from GX's outcome; a result GX could not give, or whose listing
    differs from its count, is an error."""
    results = []
    for check in checks:
        rule = check.rule
        name = suite_name(rule.dataset, check.asset)
        if check.asset == "consistency":
            elements = counts.get(f"{name}#{rule.column}", 0)
        else:
            elements = counts.get(name, 0)
        if check.aggregate:
            evaluated = row_count_evaluable.get(rule.id, False)
            elements = 1 if evaluated else 0
        else:
            evaluated = elements > 0
        result = RuleResult(check, elements, None, True, evaluated)
        outcome = outcomes.get(rule.id)
        if outcome is None:
            result.error = "GX 没有返回该规则的结果"
        elif outcome.error:
            result.error = outcome.error
        elif check.aggregate:
            result.success = outcome.success or not evaluated
            result.unexpected_count = result.listed = 0 if result.success else 1
        else:
            result.success = outcome.success or not evaluated
            result.unexpected_count = int(outcome.unexpected_count or 0)
            result.listed = None if outcome.rowids is None else len(set(outcome.rowids))
            if result.listed != result.unexpected_count:
                result.error = (
                    f"GX 判定不通过 {result.unexpected_count} 条，列出 {result.listed} 条，"
                    "两者应相同"
                )
        if result.error:
            result.unexpected_count = None
        results.append(result)
    return results


def _rule_results_table(results: list[RuleResult], period: str) -> pa.Table:
    rows = []
    for r in results:
        rule = r.check.rule
        evaluated = r.evaluated and r.unexpected_count is not None
        rows.append(
            {
                "period": period,
                "dataset": rule.dataset,
                "department": rule.department,
                "rule_id": rule.id,
                "rule_name": rule.name,
                "template": rule.template,
                "dimension": rule.dimension,
                "severity": rule.severity,
                "element_count": r.element_count,
                "unexpected_count": r.unexpected_count if r.evaluated or r.error else 0,
                "pass_rate": (1 - r.unexpected_count / r.element_count)
                if evaluated and r.element_count
                else None,
                "engine": ENGINE,
                "error": r.error,
            }
        )
    return pa.Table.from_pylist(rows, schema=outputs.RULE_RESULTS_SCHEMA)


# --------------------------------------------------------------------------- issue ledger


def _rule_meta(results: list[RuleResult], registry: Registry) -> pa.Table:
    rows = []
    for r in results:
        rule = r.check.rule
        ds = registry.dataset(rule.dataset)
        rows.append(
            {
                "rule_id": rule.id,
                "department": rule.department,
                "rule_name": rule.name,
                "dimension": rule.dimension,
                "severity": rule.severity,
                "header": ds.field(rule.column).header if r.check.field else None,
                "authority_department": r.check.authority_department,
                "record_level": r.check.record_level,
                "evaluated": r.evaluated,
                "full_scope": _full_scope(ds, r.check.asset),
            }
        )
    return pa.Table.from_pylist(rows)


def _full_scope(ds: Dataset, asset: str) -> bool:
    """Whether a run looks at every record the rule covers again: a snapshot file is delivered
    whole, a 前置库 table's state is checked whole; increments and pulls only bring some."""
    if ds.is_frontdb:
        return asset == "records"
    return ds.extract == "snapshot" and asset in ("records", "consistency")


def _ledger(
    con: Any,
    work: Path,
    results: list[RuleResult],
    registry: Registry,
    plans: list[_Plan],
    period: str,
) -> tuple[pa.Table, pa.Table]:
    """Issues failing now and every issue's status this period."""
    con.register("rule_meta", _rule_meta(results, registry))
    p = lit(period)
    con.execute(
        """
        create or replace temp table now as
        select
            substr(sha1(f.dataset || '|' || f.rule_id || '|' || f.record_key || '|'
                || coalesce(f.field, '')), 1, 16) as issue_id,
            f.*
        from fails as f
        qualify row_number() over (
            partition by f.rule_id, f.record_key, f.field
            order by f.batch_id nulls last, f.row_number nulls last
        ) = 1
        """
    )
    earlier = [q for q in outputs.periods(work, outputs.ISSUE_STATUS) if q < period]
    files = [str(outputs.output_file(work, outputs.ISSUE_STATUS, q)) for q in earlier]
    empty = _empty_status_sql()
    known = f"read_parquet({files!r})" if files else empty
    previous = f"read_parquet({files[-1:]!r})" if files else empty
    con.execute(
        f"create or replace temp table prev_open as select * from {previous} "
        "where status_code in ('new', 'open', 'reopened')"
    )
    con.execute(
        f"create or replace temp table known as select issue_id, min(first_period) as "
        f"first_period from {known} group by 1"
    )
    _scope(con, plans, registry, period)
    con.execute(
        f"""
        create or replace temp table failing_now as
        select
            n.issue_id, {p} as period, n.dataset, m.department, n.rule_id, m.rule_name,
            m.dimension, m.severity, n.record_key, n.field, m.header, n.delivered_value,
            n.authority_value, m.authority_department, n.message,
            case when o.issue_id is not null then 'open'
                 when k.issue_id is not null then 'reopened' else 'new' end as status_code,
            coalesce(o.first_period, k.first_period, {p}) as first_period
        from now as n
        join rule_meta as m using (rule_id)
        left join prev_open as o using (issue_id)
        left join known as k using (issue_id)
        """
    )
    labels = " ".join(f"when '{code}' then '{text}'" for code, text in outputs.STATUS_LABEL.items())
    failing = con.sql(
        f"""
        select *, case status_code {labels} end as status
        from failing_now
        order by dataset, rule_id, record_key, field
        """
    ).to_arrow_table()
    months = (
        f"(cast(left({p}, 4) as integer) * 12 + cast(right({p}, 2) as integer)) - "
        "(cast(left(first_period, 4) as integer) * 12 + cast(right(first_period, 2) as integer))"
        " + 1"
    )
    status = con.sql(
        f"""
        with
        carried as (
            select
                o.issue_id, o.dataset, o.department, o.rule_id, o.dimension, o.severity,
                o.first_period, o.record_key, o.field,
                case
                    when m.evaluated and (not m.record_level or m.full_scope
                        or exists (select 1 from scope_keys as s
                                   where s.dataset = o.dataset and s.record_key = o.record_key)
                        or o.issue_id in (select issue_id from rekeyed))
                    then 'rectified' else 'open'
                end as status_code
            from prev_open as o
            join rule_meta as m using (rule_id)
            where o.issue_id not in (select issue_id from now)
        ),
        every as (
            select issue_id, dataset, department, rule_id, dimension, severity, first_period,
                status_code, record_key, field
            from failing_now
            union all
            select issue_id, dataset, department, rule_id, dimension, severity, first_period,
                status_code, record_key, field
            from carried
        )
        select
            issue_id, {p} as period, dataset, department, rule_id, dimension, severity,
            first_period, status_code, {months} as months_open,
            case when status_code = 'rectified' then {p} end as rectified_period,
            record_key, field
        from every
        order by dataset, rule_id, record_key, field
        """
    ).to_arrow_table()
    return _issues_table(failing, registry), status.cast(outputs.ISSUE_STATUS_SCHEMA)


def _empty_status_sql() -> str:
    columns = ", ".join(
        f"cast(null as {'bigint' if f.type == pa.int64() else 'varchar'}) as {f.name}"
        for f in outputs.ISSUE_STATUS_SCHEMA
    )
    return f"(select {columns} where false)"


def _scope(con: Any, plans: list[_Plan], registry: Registry, period: str) -> None:
    """scope_keys: record keys looked at again this period where not everything is (increments,
    pulls); rekeyed: open issues on a key column of an increment whose record came back under a
    corrected key (the correction is a new record to the platform)."""
    con.execute("create or replace temp table scope_keys (dataset varchar, record_key varchar)")
    con.execute("create or replace temp table rekeyed (issue_id varchar)")
    p = lit(period)
    for plan in plans:
        ds = plan.ds
        if _full_scope(ds, plan.asset) or plan.asset == "delivery":
            continue
        if plan.asset in ("records", "pulls"):
            key = relations.record_key_sql(ds, "s")
            con.execute(
                f"insert into scope_keys select distinct {lit(ds.id)}, {key} "
                f"from {relations.staging_table(ds)} as s where s.period = {p}"
            )
            if plan.asset == "pulls":
                # The key census recounts every key: one held once can no longer be a copy.
                parts = ", ".join(f"cast(c.{k} as varchar)" for k in ds.record_key)
                con.execute(
                    f"insert into scope_keys select distinct {lit(ds.id)}, "
                    f"concat_ws('|', {parts}) from staging.{census_model(ds)} as c "
                    f"where c.period = {p} and c._row_count = 1 "
                    f"and {relations.key_complete_sql(ds, 'c')}"
                )
        else:
            con.execute(
                f"insert into scope_keys select distinct {lit(ds.id)}, r.record_key "
                f"from {plan.rel} as r"
            )
    for ds in registry.datasets:
        if ds.is_frontdb or ds.extract == "snapshot":
            continue  # re-checked whole each period
        table = relations.staging_table(ds)
        key = relations.record_key_sql(ds, "s")
        for column in ds.record_key:
            rest = [c for c in ds.columns if c not in (column, relations.watermark(ds))]
            digest = relations.content_hash_sql_of(ds, registry, "s", rest)
            con.execute(
                f"""
                insert into rekeyed
                with candidates as (
                    select o.issue_id, o.record_key from prev_open as o
                    where o.dataset = {lit(ds.id)} and o.field = {lit(column)}
                        and not exists (select 1 from scope_keys as k
                            where k.dataset = o.dataset and k.record_key = o.record_key)
                ),
                old as (
                    select c.issue_id, {digest} as h
                    from {table} as s join candidates as c on {key} = c.record_key
                    where s.period < {p}
                    qualify row_number() over (
                        partition by c.issue_id order by s.period desc, s._row_number desc) = 1
                )
                select old.issue_id from old
                where old.h in (select {digest} from {table} as s where s.period = {p})
                """
            )


def _issues_table(failing: pa.Table, registry: Registry) -> pa.Table:
    """The issues as people see them: personal values masked (bzdata.sharing.mask)."""
    datasets = failing.column("dataset").to_pylist()
    fields = failing.column("field").to_pylist()
    shown = failing.column("delivered_value").to_pylist()
    authoritative = failing.column("authority_value").to_pylist()
    by_element: dict[str, list[int]] = {}
    elements: dict[tuple[str, str], str] = {}
    for index, (dataset, column) in enumerate(zip(datasets, fields, strict=True)):
        if column is None:
            continue
        if (dataset, column) not in elements:
            elements[(dataset, column)] = registry.dataset(dataset).field(column).element
        by_element.setdefault(elements[(dataset, column)], []).append(index)
    for element, indexes in by_element.items():
        masked = mask_many([shown[i] for i in indexes], element)
        masked_authority = mask_many([authoritative[i] for i in indexes], element)
        for i, value, authority in zip(indexes, masked, masked_authority, strict=True):
            shown[i], authoritative[i] = value, authority
    table = failing.append_column("shown_value", pa.array(shown, pa.string()))
    table = table.append_column("authoritative_value", pa.array(authoritative, pa.string()))
    return table.select(outputs.ISSUES_SCHEMA.names).cast(outputs.ISSUES_SCHEMA)
