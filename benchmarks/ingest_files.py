"""汇聚 of file drops: throughput and peak memory, next to DuckDB's own CSV → Parquet.

    .venv/bin/python benchmarks/ingest_files.py --synth /tmp/city   # an existing synth run
    .venv/bin/python benchmarks/ingest_files.py --scale city        # generate one month first

Every file dataset of one period is ingested by `ingest_dataset` in a child process, so its peak
resident memory is measured on its own (it must stay flat however large the files are). The
baseline is DuckDB reading the same UTF-8 CSV files with `read_csv(..., all_varchar = true)` and
writing Parquet: the speed of a C++ CSV reader with no row accounting. DuckDB cannot decode
GBK/GB18030, so those files are left out of the comparison (the ingest reads them all).

XLSX files are read by python-calamine where that is exact and by openpyxl otherwise; the last
table times every XLSX file both ways in one run (`--xlsx-rows N` adds a generated sheet of N
rows, since demo sheets are small).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

_CHILD = """
import json, resource, sys, time
from datetime import datetime, UTC
from pathlib import Path
from bzdata.ingest import Paths, ingest_dataset
from bzdata.registry import load_registry

synth, lake, period = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
paths = Paths(synth / "landing", None, lake, lake / "warehouse")
result = []
for ds in load_registry().datasets:
    if ds.is_frontdb:
        continue
    start = time.perf_counter()
    rows = ingest_dataset(ds.id, period, datetime(2000, 1, 1, tzinfo=UTC), paths, "bench")
    seconds = time.perf_counter() - start
    for row in rows:
        if row["status"] == "loaded":
            result.append({"dataset": ds.id, "source": row["source"], "bytes": row["bytes"],
                           "rows": row["rows_read"], "encoding": row["encoding"],
                           "seconds": seconds / len(rows)})
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"files": result, "peak_mib": peak}))
"""

_XLSX = """
import json, sys, time
from pathlib import Path
from bzdata.ingest import readers
from bzdata.registry import load_registry

registry = load_registry()
out = []
for arg in sys.argv[1:]:
    dataset, path = arg.split("=", 1)
    ds, times = registry.dataset(dataset), {}
    real = readers._calamine_rows
    sum(1 for _ in readers.open_file(Path(path), ds, path).items)  # imports and caches warm
    for reader, fast in (("openpyxl", lambda p: None), ("calamine", real)):
        readers._calamine_rows = fast
        start = time.perf_counter()
        opened = readers.open_file(Path(path), ds, path)
        rows = sum(1 for _ in opened.items)
        times[reader] = time.perf_counter() - start
    readers._calamine_rows = real
    out.append({"file": Path(path).name, "rows": rows, **times,
                "exact": real(Path(path)) is not None})
print(json.dumps(out))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description="汇聚文件通道性能基准")
    parser.add_argument("--synth", type=Path, help="已有的 bzdata synth 输出目录")
    parser.add_argument("--scale", default="demo", choices=["demo", "city"])
    parser.add_argument("--period", help="期次 YYYY-MM（默认 synth 的第一期）")
    parser.add_argument(
        "--xlsx-rows", type=int, default=0, help="另生成一个 N 行的 xlsx 参与读取器对比"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bzdata-bench-") as tmp:
        synth = args.synth
        if synth is None:
            synth = Path(tmp) / "synth"
            print(f"生成合成滨州（{args.scale}，1 个月）…", flush=True)
            code = (
                "from bzdata.synth import generate; "
                f"generate({str(synth)!r}, scale={args.scale!r}, months=1)"
            )
            subprocess.run(
                [sys.executable, "-c", code], check=True, env={**os.environ, "BZDATA_QUIET": "1"}
            )
        meta = json.loads((synth / "synth.json").read_text())
        period = args.period or meta["periods"][0]
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(synth), str(Path(tmp) / "lake"), period],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "BZDATA_QUIET": "1"},
        )
        wall = time.perf_counter() - start
        report = json.loads(done.stdout)
        files = report["files"]
        csv_utf8 = [
            f
            for f in files
            if f["source"].endswith(".csv") and f["encoding"] in ("utf-8", "utf-8-sig")
        ]
        baseline = {threads: _duckdb(synth, csv_utf8, Path(tmp), threads) for threads in (1, 2)}
        xlsx = [
            f"{f['dataset']}={synth / 'landing' / f['source']}"
            for f in files
            if f["source"].endswith(".xlsx")
        ]
        if args.xlsx_rows:
            xlsx.append(_big_xlsx(Path(tmp), args.xlsx_rows))
        done = subprocess.run(
            [sys.executable, "-c", _XLSX, *xlsx],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "BZDATA_QUIET": "1"},
        )
        readers = json.loads(done.stdout)

    print(f"合成滨州 {meta['scale']}（{meta['persons']:,} 人），期次 {period}")
    widths = (14, 11, 12, 9, 8, 12, 8)
    print(_line(("数据集", "编码", "行数", "MB", "秒", "行/秒", "MB/秒"), widths))
    for f in files:
        mb = f["bytes"] / 1e6
        cells = (
            f["dataset"],
            f["encoding"] or "xlsx",
            f"{f['rows']:,}",
            f"{mb:.1f}",
            f"{f['seconds']:.2f}",
            f"{f['rows'] / f['seconds']:,.0f}",
            f"{mb / f['seconds']:.1f}",
        )
        print(_line(cells, widths))
    rows, mb, secs = _totals(files)
    print(
        f"本平台汇聚（单进程，全部 {len(files)} 个文件）：{rows:,} 行，{mb:.1f} MB，{secs:.1f} 秒"
        f"（含进程启动共 {wall:.1f} 秒），{rows / secs:,.0f} 行/秒，{mb / secs:.1f} MB/秒，"
        f"峰值内存 {report['peak_mib']:.0f} MiB"
    )
    rows, mb, secs = _totals(csv_utf8)
    print(
        f"同一批 UTF-8 CSV（{len(csv_utf8)} 个，{rows:,} 行，{mb:.1f} MB）："
        f"本平台 {secs:.2f} 秒（{rows / secs:,.0f} 行/秒，{mb / secs:.1f} MB/秒）"
    )
    for threads, seconds in baseline.items():
        print(
            f"DuckDB read_csv(all_varchar) → Parquet，{threads} 线程：{seconds:.2f} 秒"
            f"（{rows / seconds:,.0f} 行/秒，{mb / seconds:.1f} MB/秒），"
            f"本平台用时为其 {secs / seconds:.1f} 倍"
        )
    print("XLSX 读取（同一进程内先后两种读取器，含表头识别与逐行检查）：")
    widths = (34, 10, 12, 12, 8, 8)
    print(_line(("文件", "行数", "openpyxl 秒", "calamine 秒", "倍数", "精确"), widths))
    for r in readers:
        cells = (
            r["file"],
            f"{r['rows']:,}",
            f"{r['openpyxl']:.2f}",
            f"{r['calamine']:.2f}" if r["exact"] else "—",
            f"{r['openpyxl'] / r['calamine']:.1f}" if r["exact"] else "—",
            "是" if r["exact"] else "否（含空文本单元格，用 openpyxl）",
        )
        print(_line(cells, widths))
    return 0


def _big_xlsx(tmp: Path, rows: int) -> str:
    """A social-relief sheet of `rows` records written by the synthetic department."""
    from datetime import datetime

    import pyarrow as pa

    from bzdata.registry import load_registry
    from bzdata.synth import writers

    ds = load_registry().dataset("mzj_shjz")
    values = {
        c: pa.array([f"0{i:017d}" if j == 0 else f"{c}{i}" for i in range(rows)])
        for j, c in enumerate(ds.columns)
    }
    path = writers.write_file_drop(
        ds, pa.table(values), tmp / "big", "2023-01", datetime(2023, 2, 2)
    )
    return f"{ds.id}={path}"


def _line(cells: tuple[str, ...], widths: tuple[int, ...]) -> str:
    """Cells padded to display width (a CJK character takes two columns); numbers right."""
    out = []
    for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        space = " " * (width - sum(2 if ord(c) > 0x2E80 else 1 for c in cell))
        out.append(cell + space if index < 2 else space + cell)
    return "".join(out)


def _totals(files: list[dict]) -> tuple[int, float, float]:
    return (
        sum(f["rows"] for f in files),
        sum(f["bytes"] for f in files) / 1e6,
        sum(f["seconds"] for f in files),
    )


def _duckdb(synth: Path, files: list[dict], tmp: Path, threads: int) -> float:
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    start = time.perf_counter()
    for number, f in enumerate(files):
        source = str(synth / "landing" / f["source"]).replace("'", "''")
        target = str(tmp / f"duckdb-{threads}-{number}.parquet").replace("'", "''")
        con.execute(
            f"COPY (SELECT * FROM read_csv('{source}', all_varchar = true, header = true)) "
            f"TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
        )
    seconds = time.perf_counter() - start
    con.close()
    return seconds


if __name__ == "__main__":
    sys.exit(main())
