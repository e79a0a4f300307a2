"""Synthetic Binzhou generation: wall time, peak memory and throughput at a given scale.

    .venv/bin/python benchmarks/synth_generate.py --scale city --months 1

Generation runs in a child process so its peak resident memory is measured on its own. The
baseline is plain DuckDB writing the same number of bytes of CSV from the truth Parquet the run
produced: the I/O floor of this machine for text extracts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb


def main() -> int:
    parser = argparse.ArgumentParser(description="合成滨州生成性能基准")
    parser.add_argument("--scale", default="city", choices=["demo", "city"])
    parser.add_argument("--months", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20230101)
    parser.add_argument(
        "--out", type=Path, default=None, help="输出目录（默认临时目录，结束后删除）"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bzdata-bench-") as tmp:
        out = args.out or Path(tmp) / "synth"
        code = (
            "import sys; from bzdata.synth import generate; "
            f"generate({str(out)!r}, scale={args.scale!r}, months={args.months}, seed={args.seed})"
        )
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code], check=True, env={**os.environ, "BZDATA_QUIET": "1"}
        )
        seconds = time.perf_counter() - start
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        meta = json.loads((out / "synth.json").read_text())
        rows = sum(d["rows"] for d in meta["deliveries"])
        extract_bytes = sum(
            p.stat().st_size
            for sub in ("landing", "frontdb")
            for p in (out / sub).rglob("*")
            if p.is_file()
        )
        ledger = (
            duckdb.connect()
            .execute(f"select count(*) from read_parquet('{out}/ledger/*/defects.parquet')")
            .fetchone()[0]
        )
        base_s, base_bytes = _duckdb_baseline(out, Path(tmp))
    print(f"规模 {args.scale}（{meta['persons']:,} 人），{args.months} 个月，种子 {args.seed}")
    print(f"生成用时        {seconds:8.1f} 秒")
    print(f"峰值内存        {peak_mib:8.0f} MiB")
    print(f"报送记录        {rows:12,} 行（{rows / seconds:,.0f} 行/秒）")
    mib = extract_bytes / 2**20
    print(f"报送文件        {mib:8.0f} MiB（{mib / seconds:.1f} MiB/秒）")
    print(f"缺陷台账        {ledger:12,} 条")
    print(
        f"基线：DuckDB 由真实世界 Parquet 写 CSV {base_bytes / 2**20:.0f} MiB，"
        f"{base_s:.1f} 秒（{base_bytes / 2**20 / base_s:.1f} MiB/秒）"
    )
    return 0


def _duckdb_baseline(out: Path, tmp: Path) -> tuple[float, int]:
    con = duckdb.connect()
    target = tmp / "baseline"
    target.mkdir(exist_ok=True)
    start = time.perf_counter()
    for name in ("persons", "entities", "estates", "addresses"):
        con.execute(
            f"copy (select * from read_parquet('{out}/truth/*/{name}.parquet')) "
            f"to '{target}/{name}.csv' (header)"
        )
    seconds = time.perf_counter() - start
    return seconds, sum(p.stat().st_size for p in target.iterdir())


if __name__ == "__main__":
    raise SystemExit(main())
