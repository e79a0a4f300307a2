"""质量校核 (quality checks) time: GX validation vs one single-pass DuckDB query per relation.

    .venv/bin/python benchmarks/quality_validate.py                   # a 3-month demo city
    .venv/bin/python benchmarks/quality_validate.py --work /tmp/cityw --period 2023-01

Without --work a demo city is generated, ingested and built period by period in a temporary
folder. With --work an existing work folder (warehouse built for --period by `bzdata build`,
its lake, and `synth/`) is used read-only: its warehouse file is copied to a temporary work
folder whose lake points back at the original, so nothing is written into it.

For the last period it prints, on the same data:
- the whole `run_checks` (GX is the only engine) twice in one process: the first pays GX's
  import and set-up, the second shows what a later period of the same run pays; each split
  into materialising the relations, the GX checkpoint and the issue listing;
- the single-pass DuckDB floor: per relation one `select count(*) filter (where <rule>) …`
  over all of its rules, the rules written by hand in SQL from the expectations' kwargs (what
  a hand-written DuckDB check would do), read from the warehouse; its counts must equal GX's;
and recall and precision per defect kind against the synthetic ledger (all periods).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from bzdata.quality import checks, run_checks
from bzdata.quality.evaluate import KIND_CLASSES, Evaluator
from bzdata.quality.id_sql import gb11643_sql, gb32100_sql, region_sql
from bzdata.quality.relations import asset_sql
from bzdata.quality.rules import load_rules
from bzdata.quality.templates import compile_rule, lit
from bzdata.registry import load_registry


def _logical(period: str) -> datetime:
    year, month = int(period[:4]), int(period[5:])
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def _demo(root: Path, months: int) -> tuple:
    from bzdata.build import dbt
    from bzdata.ingest import Paths, ingest_dataset, refresh_warehouse
    from bzdata.synth import generate

    work = root / "work"
    start = time.perf_counter()
    periods = generate(work / "synth", scale="demo", months=months).periods
    print(f"synth demo, {months} months: {time.perf_counter() - start:.1f} s")
    paths = Paths.from_work(work)
    return work, periods, paths, ingest_dataset, refresh_warehouse, dbt


def _copy(source: Path, root: Path) -> Path:
    """A work folder with a copy of the warehouse and the original lake (read-only)."""
    work = root / "work"
    (work / "warehouse").mkdir(parents=True)
    start = time.perf_counter()
    shutil.copy(source / "warehouse" / "bzdata.duckdb", work / "warehouse" / "bzdata.duckdb")
    print(f"copied warehouse: {time.perf_counter() - start:.1f} s")
    (work / "lake").mkdir()
    for name in ("raw", "manifest", "rejects"):
        if (source / "lake" / name).exists():
            (work / "lake" / name).symlink_to((source / "lake" / name).resolve())
    (work / "synth").symlink_to((source / "synth").resolve())
    return work


def _quoted(values: list) -> str:
    return ", ".join(lit(v) for v in values)


def _condition(expectation: dict) -> str:
    """A hand-written DuckDB predicate for the rows the expectation finds unexpected."""
    kind, k = expectation["type"], expectation["kwargs"]
    c = k.get("column")
    conditions = {
        "expect_column_values_to_not_be_null": lambda: f"r.{c} is null",
        "expect_column_values_to_be_in_set": lambda: f"r.{c} not in ({_quoted(k['value_set'])})",
        "expect_column_values_to_not_be_in_set": lambda: f"r.{c} in ({_quoted(k['value_set'])})",
        "expect_column_values_to_match_regex": lambda: (
            f"not regexp_matches(r.{c}, {lit(k['regex'])})"
        ),
        "expect_column_values_to_be_valid_gb11643": lambda: f"not {gb11643_sql(f'r.{c}')}",
        "expect_column_values_to_be_valid_gb32100": lambda: f"not {gb32100_sql(f'r.{c}')}",
        "expect_column_values_to_be_current_gbt2260": lambda: (
            f"not {region_sql(f'r.{c}', current=True)}"
        ),
        "expect_column_values_to_be_between": lambda: " or ".join(
            f"r.{c} {op} {lit(k[bound])}"
            for bound, op in (("min_value", "<"), ("max_value", ">"))
            if bound in k
        ),
        "expect_column_pair_values_to_be_equal": lambda: f"r.{k['column_A']} <> r.{k['column_B']}",
        "expect_column_pair_values_a_to_be_greater_than_b": lambda: (
            f"r.{k['column_A']} < r.{k['column_B']}"
        ),
    }
    where = f"coalesce({conditions[kind]()}, false)"
    if c is not None and kind != "expect_column_values_to_not_be_null":
        where = f"r.{c} is not null and {where}"
    condition = k.get("row_condition")
    if condition:
        where = f"r.{condition['column']['name']} = {lit(condition['parameter'])} and {where}"
    return where


def single_pass(db: Path, period: str) -> tuple[float, int, dict[str, int]]:
    """Every record rule's failing count with one aggregate query per relation, straight from
    the warehouse; (seconds, queries, counts by rule)."""
    registry = load_registry()
    compiled = [compile_rule(rule, registry) for rule in load_rules(registry=registry).rules]
    con = duckdb.connect(str(db), read_only=True)
    con.execute("set enable_progress_bar = false")
    queries = 0
    counts: dict[str, int] = {}
    start = time.perf_counter()
    try:
        for ds in registry.datasets:
            for asset in checks.ASSETS:
                mine = [c for c in compiled if c.rule.dataset == ds.id and c.asset == asset]
                plain = [c for c in mine if not c.aggregate]
                if not plain:
                    continue
                filters = ", ".join(
                    f"count(*) filter (where {_condition(c.expectation)})" for c in plain
                )
                sql = asset_sql(asset, ds, mine, period, registry)
                row = con.execute(f"select count(*), {filters} from ({sql}) as r").fetchone()
                counts |= {c.rule.id: n for c, n in zip(plain, row[1:], strict=True)}
                queries += 1
    finally:
        con.close()
    return time.perf_counter() - start, queries, counts


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="existing built work folder (read-only)")
    parser.add_argument("--period", help="period the warehouse of --work was built for")
    parser.add_argument("--months", type=int, default=3, help="demo months (default 3)")
    args = parser.parse_args()
    os.environ.setdefault("BZDATA_QUIET", "1")
    with tempfile.TemporaryDirectory(prefix="bzdata-quality-bench-") as tmp:
        root = Path(tmp)
        evaluator_periods: list[str]
        if args.work is None:
            work, periods, paths, ingest_dataset, refresh_warehouse, dbt = _demo(root, args.months)
            evaluator = Evaluator(work, work / "synth")
            for period in periods:
                start = time.perf_counter()
                for ds in load_registry().datasets:
                    ingest_dataset(ds.id, period, _logical(period), paths, "benchmark")
                refresh_warehouse(paths)
                built = dbt.build(work, period=period, docs=False)
                assert built.success, built.problems
                print(f"{period}: ingest + dbt build {time.perf_counter() - start:.1f} s")
                if period != periods[-1]:
                    run_checks(work, period, data_docs=False)
                    with duckdb.connect(str(checks.warehouse_path(work)), read_only=True) as con:
                        evaluator.period(period, con)
            evaluator_periods = periods
        else:
            if not args.period:
                parser.error("--work needs --period")
            work = _copy(args.work, root)
            evaluator = Evaluator(work, work / "synth")
            evaluator_periods = [args.period]
        period = evaluator_periods[-1]
        db = checks.warehouse_path(work)
        with duckdb.connect(str(db), read_only=True) as con:
            sizes = con.execute(
                "select sum(estimated_size) from duckdb_tables() where schema_name = 'staging'"
            ).fetchone()[0]
        print(f"period {period}: staged rows (all periods) ≈ {sizes:,}")

        seconds, queries, floor = single_pass(db, period)
        seconds_again, _, _ = single_pass(db, period)  # warm, like the runs below
        print(
            f"single-pass DuckDB floor: {queries} queries, {seconds:.1f} s cold, "
            f"{seconds_again:.1f} s warm"
        )
        runs = []
        for label in ("first (GX import + set-up)", "again (same process)"):
            start = time.perf_counter()
            run = run_checks(work, period, data_docs=False)
            total = time.perf_counter() - start
            runs.append(total)
            print(
                f"run_checks {label}: {total:.1f} s (relations {run.materialise_seconds:.1f} s, "
                f"GX checkpoint {run.validation_seconds:.1f} s, listing "
                f"{run.listing_seconds:.1f} s), {run.rules} rules, {run.issues:,} issues"
            )
        listed = all(counted == listed for counted, listed in run.counts.values())
        same = {r: n for r, n in floor.items() if run.counts[r][0] != n}
        print(
            f"GX listed every row it counted: {listed}; floor counts = GX counts: "
            f"{not same}{'' if not same else f' (differ: {sorted(same)[:5]})'}"
        )
        print(
            f"ratio run_checks (again) / single-pass floor (warm): "
            f"{runs[-1] / seconds_again:.1f}×; peak RSS {_peak_mib():,.0f} MiB"
        )
        with duckdb.connect(str(db), read_only=True) as con:
            evaluator.period(period, con)
        result = evaluator.result
        print(f"\nrecall / precision per defect kind ({'、'.join(evaluator_periods)}):")
        print("class          kind                   truth    found   recall   issues  precision")
        rows = sorted(
            result.table(), key=lambda r: list(KIND_CLASSES.values()).index(KIND_CLASSES[r["kind"]])
        )
        for row in rows:
            print(
                f"{KIND_CLASSES[row['kind']]:12} {row['kind']:20} {row['truth']:7,}  "
                f"{row['found']:7,}  {row['recall']:7.2%}  {row['issues']:7,}  "
                f"{row['precision']:7.2%}"
            )
        per_class: dict[str, list[str]] = {}
        for kind, cls in KIND_CLASSES.items():
            per_class.setdefault(cls, []).append(kind)
        print(
            f"{len(KIND_CLASSES)} kinds in {len(per_class)} classes: "
            + "; ".join(f"{cls} {len(kinds)}" for cls, kinds in per_class.items())
        )
        low = [r["kind"] for r in rows if r["recall"] < 0.995 or r["precision"] < 0.995]
        print(f"kinds below 99.5 % recall or precision: {low or 'none'}")
        reasons: dict[str, int] = {}
        for entry in result.invisible:
            reasons[entry["reason"]] = reasons.get(entry["reason"], 0) + 1
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print(f"  not visible by design: {n:,} × {reason}")
        explained: dict[str, int] = {}
        for issue in result.explained:
            explained[issue["reason"]] = explained.get(issue["reason"], 0) + 1
        for reason, n in explained.items():
            print(f"  issues explained, not scored: {n:,} × {reason}")
        if result.missed or result.false_issues:
            missed, false = len(result.missed), len(result.false_issues)
            print(f"  unexplained: {missed:,} missed, {false:,} false")
        if result.status:
            print(f"status agreement with the ledger: {result.status_agreement():.2%}")


if __name__ == "__main__":
    main()
