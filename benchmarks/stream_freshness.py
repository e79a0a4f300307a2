"""Freshness lag of 数据高铁: a change written in a 前置库 → visible in the live 基础库
(work/lake/live/lib_population.parquet), on the synthetic city, next to a plain-DuckDB baseline.

    .venv/bin/python benchmarks/stream_freshness.py [--scale demo] [--changes 5]

Each change is a birth (new record), a changed address and a deleted record, written to the
population 前置库 (the synthetic city's SQLite file) with a later watermark. Measured from the
commit of the change until the live file shows all three:

    数据高铁   one micro-batch (watermark pull + key census, bzdata.ingest.stream) and the live
               view rewrite (bzdata.ingest.live), as one task of the stream DAG runs them
    基线       plain DuckDB: read the whole 前置库 table and write the library Parquet again
               (no state, no watermark), the simplest way to get the same view

The stream DAG fires every STREAM_CRON (5 minutes), so the lag a user sees is the wait for the
next run plus the processing: on average interval/2 + processing, at worst interval + processing.
Airflow's own task start-up (seconds) comes on top and is not measured here.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
import unicodedata
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from stdnum.cn import ric

from bzdata.ingest.live import build_live, live_file
from bzdata.ingest.stream import micro_batch
from bzdata.orchestration.stream import STREAM_CRON, stream_folder
from bzdata.registry import load_registry
from bzdata.synth import generate
from bzdata.synth.writers import frontdb_path

PERIOD = "2023-01"
# The stream DAG fires every N minutes (STREAM_CRON is "*/N * * * *").
INTERVAL_S = int(STREAM_CRON.split()[0].removeprefix("*/")) * 60
NEW_ADDRESS = "山东省滨州市滨城区市中街道黄河五路100号3号楼1单元101室"


def _change(db: Path, table: str, header: dict[str, str], wm: str, step: int) -> tuple:
    """A birth, a move and a deletion in one transaction; returns (born, moved, deleted)."""
    key = header["citizen_id"]
    con = sqlite3.connect(db)
    try:
        keys = [r[0] for r in con.execute(f'select "{key}" from {table} order by "{key}" limit 3')]
        deleted, moved, parent = keys
        latest = con.execute(f'select max("{wm}") from {table}').fetchone()[0]
        later = str(int(latest[:4]) + 1) + latest[4:]
        born = f"3716022023021{step:04d}"
        born += ric.calc_check_digit(born)
        with con:
            con.execute(f'delete from {table} where "{key}" = ?', [deleted])
            con.execute(
                f'update {table} set "{header["domicile_address"]}" = ?, "{wm}" = ? '
                f'where "{key}" = ?',
                [f"{NEW_ADDRESS}{step}", later, moved],
            )
            cur = con.execute(f'select * from {table} where "{key}" = ? limit 1', [parent])
            names = [d[0] for d in cur.description]
            row = dict(zip(names, cur.fetchone(), strict=True))
            row.update({key: born, header["birth_date"]: "2023-02-09", wm: later})
            marks = ", ".join("?" for _ in row)
            columns = ", ".join(f'"{c}"' for c in row)
            con.execute(f"insert into {table} ({columns}) values ({marks})", list(row.values()))
    finally:
        con.close()
    return born, moved, deleted


def _visible(path: Path, key: str, born: str, moved: str, deleted: str, address: str) -> bool:
    rows = {r[key]: r for r in pq.read_table(path).to_pylist()}
    return born in rows and deleted not in rows and rows[moved]["domicile_address"] == address


def _baseline(db: Path, table: str, ds, out: Path) -> None:
    """Plain DuckDB: the whole table again, keyed on the latest watermark, written as Parquet."""
    con = sqlite3.connect(db)
    try:
        cur = con.execute(f"select * from {table}")
        names = [d[0] for d in cur.description]
        data = pa.table(dict(zip(names, map(list, zip(*cur.fetchall(), strict=True)), strict=True)))
    finally:
        con.close()
    header = {f.column: f.header for f in ds.fields}
    select = ", ".join(f'"{header[c]}" as {c}' for c in ds.columns)
    key = ", ".join(f'"{header[c]}"' for c in ds.record_key)
    wm = header[ds.delivery.watermark]
    duck = duckdb.connect()
    duck.register("t", data)
    duck.execute(
        f"copy (select {select} from t qualify row_number() over "
        f'(partition by {key} order by "{wm}" desc) = 1 order by {key}) '
        f"to '{out}' (format parquet)"
    )
    duck.close()


def _pad(text: str, width: int, right: bool) -> str:
    """Pad to `width` terminal columns (a CJK character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    space = " " * max(0, width - used)
    return space + text if right else text + space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo", help="合成城市的规模（bzdata synth --scale）")
    parser.add_argument("--changes", type=int, default=5, help="测几次变更（默认 5）")
    parser.add_argument("--keep", type=Path, help="保留工作目录于此（默认用完即删）")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bzdata-freshness-"))
    try:
        generate(work / "synth", scale=args.scale, months=1, start_period=PERIOD)
        ds = load_registry().dataset("gaj_hjrk")
        header = {f.column: f.header for f in ds.fields}
        table, wm = ds.delivery.table, header[ds.delivery.watermark]
        db = frontdb_path(work / "synth", PERIOD, ds.provider)
        url = f"sqlite:///{db}"
        folder = stream_folder(work)
        rows = sqlite3.connect(db).execute(f"select count(*) from {table}").fetchone()[0]

        start = time.perf_counter()
        micro_batch(ds, url, folder / ds.id / "state.json", folder)
        build_live(work, ds, folder)
        first = time.perf_counter() - start

        ours, base = [], []
        baseline_file = work / "baseline.parquet"
        for step in range(1, args.changes + 1):
            born, moved, deleted = _change(db, table, header, wm, step)
            address = f"{NEW_ADDRESS}{step}"
            start = time.perf_counter()
            micro_batch(ds, url, folder / ds.id / "state.json", folder)
            build_live(work, ds, folder)
            ours.append(time.perf_counter() - start)
            assert _visible(
                live_file(work, "lib_population"), "citizen_id", born, moved, deleted, address
            )
            start = time.perf_counter()
            _baseline(db, table, ds, baseline_file)
            base.append(time.perf_counter() - start)
            assert _visible(baseline_file, "citizen_id", born, moved, deleted, address)

        p_ours, p_base = statistics.median(ours), statistics.median(base)
        print(f"合成滨州（{args.scale}）：前置库 {table} {rows:,} 行，{args.changes} 次变更")
        print(f"首次全量抽取并生成实时视图：{first:.2f} 秒")
        head = ("", "处理中位数", "最大", "平均可见延迟", "最坏可见延迟")
        print("  ".join(_pad(text, 18 if i == 0 else 14, i > 0) for i, text in enumerate(head)))
        for label, values, p in (
            ("数据高铁（增量）", ours, p_ours),
            ("基线 DuckDB 全量", base, p_base),
        ):
            cells = (
                label,
                f"{p:.2f} 秒",
                f"{max(values):.2f} 秒",
                f"{INTERVAL_S / 2 + p:.1f} 秒",
                f"{INTERVAL_S + p:.1f} 秒",
            )
            print("  ".join(_pad(c, 18 if i == 0 else 14, i > 0) for i, c in enumerate(cells)))
        print(
            f"可见延迟 = 等待下一次调度（{STREAM_CRON}，间隔 {INTERVAL_S} 秒）+ 处理时间；"
            "Airflow 任务启动开销另计"
        )
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
