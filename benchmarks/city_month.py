"""One city month end to end, then the next, next to plain DuckDB on the same data.

    .venv/bin/python benchmarks/city_month.py --work /data/cityw          # synth in <work>/synth
    .venv/bin/python benchmarks/city_month.py --work /tmp/w --synth /data/city/synth

The work folder holds a synth (`bzdata synth --scale city --months 2 --out <work>/synth`), or
--synth names one (linked in as <work>/synth); a period already collected there is refused,
since collecting it again would only find duplicate deliveries.
Each period is run by `bzdata run --demo --period P --work <work>` in a child process: the
collect DAGs and the publish DAG under `dag.test()`, the path the scheduler runs. Per stage
(ingest, warehouse refresh, dbt build, checks, scorecard, catalogue) the wall time comes from
the task instances in Airflow's metadata database, and the peak RSS from sampling the run's
whole process tree (the dbt child included) while that stage's task ran.

After each period, on the same data and in the same run, the plain-DuckDB baselines:
- ingest: DuckDB's read_csv(all_varchar) → Parquet on the period's UTF-8 CSV deliveries without
  file artefacts (benchmarks/ingest_files.py), against the platform's ingest tasks of exactly
  those datasets;
- dbt build: one hand-written CREATE TABLE AS per 基础库 from the raw zone: every column trimmed,
  identifiers upper-cased, dates parsed, the latest row per record key up to the period, and the
  library's other datasets joined on its main dataset's subject column;
- checks: one single-pass query per relation over all its record rules
  (benchmarks/quality_validate.py), read from the warehouse the run built.
Ratios are platform ÷ baseline seconds. The machine may be shared: the load average at the start
and end of each stage is printed beside the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pyarrow.parquet as pq

from bzdata import duck
from bzdata.ingest.manifest import read_manifest
from bzdata.quality import outputs
from bzdata.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]
STAGES = (
    ("ingest", "汇聚"),
    ("refresh", "刷新数仓视图"),
    ("build", "dbt build"),
    ("checks", "质量校核"),
    ("scorecard", "晾晒台"),
    ("catalogue", "资源目录"),
    ("other", "其余任务"),
)
TASK_STAGE = {
    "refresh_warehouse": "refresh",
    "dbt_build": "build",
    "check_quality": "checks",
    "scorecard": "scorecard",
    "catalogue": "catalogue",
}


def _module(name: str):
    """A sibling benchmark, imported for the piece it owns (one home per concern)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Sampler:
    """Resident memory of a process tree, sampled every `interval` seconds."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.root: psutil.Process | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            procs = [self.root] if self.root else [psutil.Process()]
            with contextlib.suppress(psutil.Error):
                procs += procs[0].children(recursive=True)
            total = 0
            for proc in procs:
                with contextlib.suppress(psutil.Error):  # a child may have just ended
                    total += proc.memory_info().rss
            self.samples.append((time.time(), total))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> int:
        return max((rss for t, rss in self.samples if start <= t <= end), default=0)


def _task_times(work: Path, since: datetime) -> list[tuple[str, str, float, float]]:
    """(dag, task, start, end) of every task instance that started since `since` (epoch s)."""
    con = sqlite3.connect(f"file:{work / 'airflow' / 'airflow.db'}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "select dag_id, task_id, start_date, end_date from task_instance "
            "where start_date >= ? and end_date is not null order by start_date",
            [since.strftime("%Y-%m-%d %H:%M:%S")],
        ).fetchall()
    finally:
        con.close()

    def epoch(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()

    return [(dag, task, epoch(start), epoch(end)) for dag, task, start, end in rows]


def _stage_of(task: str) -> str:
    return "ingest" if task.startswith("ingest_") else TASK_STAGE.get(task, "other")


def run_platform(work: Path, period: str) -> dict:
    """`bzdata run --demo` for the period in a child process; per stage seconds and peak RSS."""
    env = {**os.environ, **duck.environment(), "BZDATA_QUIET": "1"}
    since = datetime.now(UTC).replace(microsecond=0)
    load = [os.getloadavg()[0]]
    with Sampler() as sampler:
        start = time.time()
        child = subprocess.Popen(
            [str(ROOT / ".venv/bin/bzdata"), "run", "--demo", "--period", period],
            cwd=ROOT,
            env={**env, "BZDATA_WORK": str(work)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        sampler.root = psutil.Process(child.pid)
        log = child.communicate()[0]
        wall = time.time() - start
    load.append(os.getloadavg()[0])
    (work / f"city_month_run_{period}.log").write_text(log, encoding="utf-8")
    if child.returncode != 0:
        raise SystemExit(
            f"bzdata run --period {period} failed ({child.returncode}):\n{log[-3000:]}"
        )
    stages: dict[str, dict] = {}
    tasks = _task_times(work, since)
    for _dag, task, t0, t1 in tasks:
        item = stages.setdefault(_stage_of(task), {"seconds": 0.0, "peak": 0, "tasks": {}})
        item["seconds"] += t1 - t0
        item["peak"] = max(item["peak"], sampler.peak(t0, t1))
        item["tasks"][task] = t1 - t0
    return {
        "wall": wall,
        "peak": max((rss for _, rss in sampler.samples), default=0),
        "stages": stages,
        "load": load,
        "tasks": tasks,
    }


def _rows(work: Path, period: str) -> dict[str, int]:
    """Rows each stage handled in the period (read from what it wrote)."""
    manifest = read_manifest(work / "lake", period).to_pylist()
    raw = sum(
        pq.ParquetFile(p).metadata.num_rows for p in (work / "lake" / "raw").glob("*/*/*.parquet")
    )
    con = duck.connect(work / "warehouse" / "bzdata.duckdb", read_only=True)
    try:
        built = con.execute(
            "select coalesce(sum(estimated_size), 0) from duckdb_tables() "
            "where schema_name not in ('raw', 'reference')"
        ).fetchone()[0]
        staged = 0
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name = 'staging' "
            "and table_name not like '%census%'"
        ).fetchall():
            staged += con.execute(
                f'select count(*) from "{schema}"."{table}" where period = ?', [period]
            ).fetchone()[0]
    finally:
        con.close()
    issues_file = outputs.output_file(work, outputs.ISSUES, period)
    issues = pq.ParquetFile(issues_file).metadata.num_rows if issues_file.is_file() else 0
    return {
        "ingest": sum(int(r["rows_read"] or 0) for r in manifest),
        "refresh": raw,
        "build": int(built),
        "checks": staged,
        "scorecard": issues,
        "catalogue": 0,
        "other": 0,
        "manifest": manifest,
    }


def _latest_sql(ds, raw: Path, subject: str | None) -> str:
    """Plain DuckDB: one dataset's rows up to the period, normalised, latest per key (or per
    `subject` column, when it is joined onto a library's main dataset)."""
    registry = load_registry()
    cols = []
    for item in ds.fields:
        el = registry.element(item.element)
        text = f"nullif(trim(r.{item.column}), '')"
        if el.type == "date":
            cols.append(f"cast(try_strptime(upper({text}), '%Y%m%d') as date) as {item.column}")
        elif el.format is None and el.type == "string":
            cols.append(f"{text} as {item.column}")
        else:
            cols.append(f"upper(replace({text}, ' ', '')) as {item.column}")
    key = [subject] if subject else list(ds.record_key)
    glob = str(raw / ds.id / "*" / "*.parquet").replace("'", "''")
    return (
        f"select {', '.join(cols)}, r.period from read_parquet('{glob}', hive_partitioning = true)"
        f" as r where r.period <= $period qualify row_number() over (partition by "
        f"{', '.join(f'upper(trim(r.{k}))' for k in key)} order by r.period desc, "
        f"r._loaded_at desc) = 1"
    )


def baseline_build(work: Path, period: str, tmp: Path) -> tuple[float, int]:
    """One hand-written CREATE TABLE AS per 基础库 from the raw zone; (seconds, rows)."""
    raw = work / "lake" / "raw"
    registry = load_registry()
    con = duck.connect(tmp / "baseline.duckdb", spill=tmp / "spill")
    rows = 0
    start = time.perf_counter()
    try:
        for number, datasets in enumerate(registry.base_libraries().values()):
            present = [d for d in datasets if (raw / d.id).is_dir()]
            if not present:
                continue
            main, others = present[0], present[1:]
            subject = main.record_key[0]
            joins, picked = [], [f"m.{c}" for c in main.columns] + ["m.period"]
            for index, other in enumerate(others):
                if subject not in other.columns:
                    continue
                alias = f"o{index}"
                joins.append(
                    f"left join ({_latest_sql(other, raw, subject)}) as {alias} "
                    f"on {alias}.{subject} = m.{subject}"
                )
                picked += [f"{alias}.{c} as {other.id}__{c}" for c in other.columns if c != subject]
            sql = (
                f"create or replace table lib_{number} as select {', '.join(picked)} "
                f"from ({_latest_sql(main, raw, None)}) as m {' '.join(joins)}"
            )
            con.execute(sql.replace("$period", "?"), [period] * sql.count("$period"))
            rows += con.execute(f"select count(*) from lib_{number}").fetchone()[0]
    finally:
        con.close()
    return time.perf_counter() - start, rows


def baselines(work: Path, period: str, manifest: list[dict], platform: dict) -> dict:
    """The three plain-DuckDB baselines of the period, with the rows they handled."""
    ingest_files = _module("ingest_files")
    quality = _module("quality_validate")
    synth = work / "synth"
    registry = load_registry()
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bzdata-city-month-") as tmp, Sampler() as sampler:
        by_dataset: dict[str, list[dict]] = {}
        for row in manifest:
            by_dataset.setdefault(row["dataset"], []).append(row)
        plain = {
            ds: rows
            for ds, rows in by_dataset.items()
            if not registry.dataset(ds).is_frontdb
            and all(
                r["status"] == "loaded"
                and str(r["source"]).endswith(".csv")
                and r["encoding"] in ("utf-8", "utf-8-sig")
                and not r["artefacts"]
                for r in rows
            )
        }
        files = [r for rows in plain.values() for r in rows]
        t0 = time.time()
        seconds = ingest_files._duckdb(synth, files, Path(tmp), duck.limits().threads)
        ours = sum(platform["stages"]["ingest"]["tasks"].get(f"ingest_{ds}", 0.0) for ds in plain)
        out["ingest"] = {
            "seconds": seconds,
            "rows": sum(int(r["rows_read"]) for r in files),
            "ours": ours,
            "peak": sampler.peak(t0, time.time()),
            "note": f"{len(files)} 个 UTF-8 CSV（无文件瑕疵）",
        }
        t0 = time.time()
        seconds, rows = baseline_build(work, period, Path(tmp))
        out["build"] = {"seconds": seconds, "rows": rows, "peak": sampler.peak(t0, time.time())}
        t0 = time.time()
        seconds, queries, _ = quality.single_pass(work / "warehouse" / "bzdata.duckdb", period)
        out["checks"] = {
            "seconds": seconds,
            "rows": None,
            "peak": sampler.peak(t0, time.time()),
            "note": f"{queries} 条单遍查询",
        }
    return out


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f}" if n else "—"


def _rate(rows: int | None, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if rows and seconds > 0 else "—"


def report(period: str, platform: dict, rows: dict, base: dict) -> list[str]:
    lines = [
        f"报送期 {period}：端到端 {platform['wall']:.1f} 秒（bzdata run，含 Airflow 启动），"
        f"进程树峰值内存 {_mib(platform['peak'])} MiB；"
        f"负载（1 分钟平均）开始 {platform['load'][0]:.1f}、结束 {platform['load'][1]:.1f}",
        f"{'阶段':<10}{'秒':>9}{'行数':>13}{'行/秒':>11}{'峰值MiB':>9}"
        f"{'基线秒':>9}{'基线行/秒':>12}{'倍数':>7}  基线",
    ]
    for stage, label in STAGES:
        item = platform["stages"].get(stage)
        if item is None:
            continue
        seconds, n = item["seconds"], rows.get(stage) or None
        b = base.get(stage)
        cells = f"{label:<10}{seconds:9.1f}{(f'{n:,}' if n else '—'):>13}{_rate(n, seconds):>11}"
        cells += f"{_mib(item['peak']):>9}"
        if b:
            ours = b.get("ours", seconds)
            brows = b["rows"] or n
            note = b.get("note", "")
            if stage == "ingest":
                note += f"，本平台这些数据集 {ours:.1f} 秒"
            cells += (
                f"{b['seconds']:9.1f}{_rate(brows, b['seconds']):>12}"
                f"{ours / b['seconds']:7.1f}  {note}"
            )
        lines.append(cells)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="work folder with synth/")
    parser.add_argument("--synth", type=Path, help="synth output to link in as <work>/synth")
    parser.add_argument("--periods", nargs="+", help="periods in order (default: first two)")
    args = parser.parse_args()
    work = args.work.resolve()
    if args.synth is not None and not (work / "synth").exists():
        work.mkdir(parents=True, exist_ok=True)
        (work / "synth").symlink_to(args.synth.resolve())
    meta = json.loads((work / "synth" / "synth.json").read_text(encoding="utf-8"))
    periods = args.periods or meta["periods"][:2]
    done = [p for p in periods if (work / "lake" / "manifest" / f"period={p}").is_dir()]
    if done:
        parser.error(f"{work} has already collected {', '.join(done)}: use a fresh work folder")
    limits = duck.limits()
    print(
        f"合成滨州 {meta['scale']}（{meta['persons']:,} 人），{os.cpu_count()} 核，"
        f"DuckDB 内存上限 {limits.memory}、{limits.threads} 线程；本机与他人共用，"
        "耗时随负载波动（见每期的负载）",
        flush=True,
    )
    tables = []
    for period in periods:
        platform = run_platform(work, period)
        rows = _rows(work, period)
        base = baselines(work, period, rows["manifest"], platform)
        lines = report(period, platform, rows, base)
        print("\n".join(lines), flush=True)
        tables.append(platform["wall"])
    if len(tables) > 1:
        print(f"第 2 期 / 第 1 期 端到端：{tables[1] / tables[0]:.2f}（负载不同时不可直接比较）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
