"""Cost per row of the staging normalisation macros, rendered from dbt_project/macros and run in
DuckDB on one thread, next to the plain-DuckDB expression each one wraps (the baseline).

    .venv/bin/python benchmarks/staging_expressions.py [--rows 300000]

A macro far above its baseline does per-row work that should be done once or skipped (the
full-width translate() was the stg_gaj__hjrk hot spot: ~7 µs per value whatever the text).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb
import jinja2

DBT = Path(__file__).resolve().parents[1] / "dbt_project"
MACROS = DBT / "macros"
FULLWIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
HALFWIDTH = "".join(chr(c) for c in range(0x21, 0x7F)) + " "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    rows = parser.parse_args().rows
    source = "".join(
        p.read_text(encoding="utf-8")
        for p in sorted(MACROS.glob("*.sql"))
        if p.name in ("identifiers.sql", "normalise.sql", "placeholders.sql")
    )
    env = jinja2.Environment()
    env.globals["ref"] = lambda name: name  # the one seed the macros read: gbt2260, below
    macros = env.from_string(source).module
    con = duckdb.connect(config={"threads": 1})
    con.execute(
        "create table gbt2260 as select * from read_csv(?, header = true, "
        "columns = {'code': 'varchar', 'name': 'varchar', 'first_year': 'integer', "
        "'last_year': 'integer', 'in_force': 'boolean'})",
        [str(DBT / "seeds" / "gbt2260.csv")],
    )
    con.execute(
        "create table s as select lpad(cast(hash(i) % 999999999999999999 as varchar), 18, '3') "
        "as cid, '山东省滨州市滨城区黄河五路' || i || '号' as addr, "
        "'2023-01-0' || (i % 9 + 1) as d from range(?) t(i)",
        [rows],
    )
    translate = "translate(x.{col}, '" + FULLWIDTH + "', '" + HALFWIDTH.replace("'", "''") + "')"
    cases = [
        ("bz_halfwidth(addr)", macros.bz_halfwidth("x.addr"), translate.replace("{col}", "addr")),
        ("bz_identifier(cid)", macros.bz_identifier("x.cid"), "upper(trim(x.cid))"),
        ("bz_text(addr)", macros.bz_text("x.addr"), "trim(x.addr)"),
        ("bz_date(d)", macros.bz_date("x.d"), "try_strptime(x.d, '%Y-%m-%d')"),
        ("bz_ric(cid)", macros.bz_ric("x.cid"), "x.cid"),
        ("bz_ric_is_valid(cid)", macros.bz_ric_is_valid("x.cid"), "length(x.cid) = 18"),
        ("bz_is_placeholder(cid)", macros.bz_is_placeholder("x.cid"), "x.cid in ('无', '-')"),
        ("bz_is_placeholder(addr)", macros.bz_is_placeholder("x.addr"), "x.addr in ('无', '-')"),
    ]
    print(f"{'表达式':24s} {'宏 µs/行':>10s} {'基线 µs/行':>10s} {'倍数':>6s}   基线")
    for label, ours, baseline in cases:
        timing = []
        for expr in (ours, baseline):
            start = time.perf_counter()
            # hash(): count(f(x)) of a null-preserving f is answered from x alone
            con.execute(f"select sum(hash({expr})) from s as x").fetchall()
            timing.append((time.perf_counter() - start) / rows * 1e6)
        print(
            f"{label:24s} {timing[0]:10.2f} {timing[1]:10.2f} {timing[0] / timing[1]:6.1f}   "
            f"{baseline[:40]}"
        )


if __name__ == "__main__":
    main()
