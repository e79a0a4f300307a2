"""治理 (dbt build) time on a synthetic city: raw zone → staging → 基础库 → 多源校核.

    .venv/bin/python benchmarks/dbt_build.py                    # a 2-month demo city, generated
    .venv/bin/python benchmarks/dbt_build.py --synth /tmp/city  # an existing synth run (city scale)

The raw zone is written by the build tests' stand-in (tests/build/rawzone.py, 前置库 pulled
incrementally as the ingest does); the figure printed is one whole `dbt build` (one process,
threads as given), without `dbt docs generate`, then with it.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path

import duckdb

from bzdata.build import dbt
from bzdata.synth import generate

ROOT = Path(__file__).resolve().parents[1]


def _rawzone():
    spec = importlib.util.spec_from_file_location("rawzone", ROOT / "tests/build/rawzone.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synth", type=Path, help="existing synth output (default: generate demo)")
    parser.add_argument("--months", type=int, default=2, help="months to generate (default 2)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        synth = args.synth
        if synth is None:
            synth = Path(tmp) / "synth"
            start = time.perf_counter()
            generate(synth, scale="demo", months=args.months)
            print(f"synth demo, {args.months} months: {time.perf_counter() - start:.1f} s")
        work = Path(tmp) / "work"
        start = time.perf_counter()
        _rawzone().build_raw_zone(synth, work)
        print(f"raw zone: {time.perf_counter() - start:.1f} s")
        for docs in (False, True):
            result = dbt.build(work, threads=args.threads, docs=docs)
            label = "dbt build + docs generate" if docs else "dbt build"
            print(f"{label}: {result.seconds:.1f} s, ok={result.success}, {result.counts}")
        con = duckdb.connect(str(work / "warehouse" / "bzdata.duckdb"), read_only=True)
        for table in ("base.lib_population", "base.lib_legal_entity", "quality.consistency_checks"):
            print(f"  {table}: {con.execute(f'select count(*) from {table}').fetchone()[0]:,} rows")


if __name__ == "__main__":
    main()
