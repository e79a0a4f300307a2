"""Portal latency under bounded concurrent load on loopback: p50/p95 per page.

    .venv/bin/python benchmarks/portal_load.py [--entries 20000] [--clients 20] [--requests 400]
    .venv/bin/python benchmarks/portal_load.py --work work     # a work folder's own snapshot
    .venv/bin/python benchmarks/portal_load.py --workers 2     # bzdata serve --workers 2

Without --work a city-sized catalogue (the registry's datasets + synth/catalogue.py's registered
entries) is written to a temporary work folder and published there as the only file of a
snapshot, laid out as bzdata.snapshot publishes it. The portal runs with uvicorn in its own
process (as `bzdata serve`), then `--clients` clients issue `--requests` requests per page.

The search page is measured twice: with words never asked before (each request a new word from
the catalogue's names, its pinyin or initials: the search runs every time) and with four common
words (answered from the snapshot's search memory after the first time).

Baselines, next to the pages: a static file (the floor of the HTTP stack), the same FTS5 query
run directly on the catalogue file with plain sqlite3, and a DuckDB `LIKE` scan of the entries
table loaded into memory — each also run from `--clients` threads at once. The machine's load
average belongs next to the figures: on a shared 2-core machine it moves them more than the code,
so the server's CPU time per request (all its processes, from /proc) is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bzdata import snapshot

SEARCHES = ("人口", "rk", "养老机构", "dengji")
LIKE_QUERIES = ("人口", "养老机构", "登记")  # LIKE cannot read pinyin: the Chinese ones only


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_ms(pid: int) -> float:
    """CPU time (user + system) the server's processes have used so far, in ms. Unlike latency
    it hardly moves with what else the shared machine runs."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids += [int(c) for c in children]
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _load(urls: list[str], clients: int, requests: int) -> list[float]:
    times: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(urls[i % len(urls)])

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            target = queue.get_nowait()
            start = time.perf_counter()
            r = await client.get(target)
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200, (target, r.status_code)

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return times


def _threaded(run, clients: int, requests: int) -> list[float]:
    """`run(i)` from `clients` threads, `requests` calls in all; latency of each call in ms."""
    times: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        state = {}
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            start = time.perf_counter()
            run(i, state)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                times.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def _distinct_queries(con: sqlite3.Connection, n: int = 1200) -> list[str]:
    """Words of the catalogue's own names, their full pinyin and initials, shuffled: each
    request of the cold run asks something the portal has not answered before."""
    import random

    from bzdata.catalog.search import pinyin_of, words

    found: set[str] = set()
    for (name,) in con.execute("select name from entries order by random() limit 3000"):
        for word in words(name):
            if len(word) >= 2 and not word.isascii():
                found |= {word, *pinyin_of(word)}
    queries = sorted(q for q in found if len(q) >= 2)
    random.Random(7).shuffle(queries)
    return queries[:n]


def _city_snapshot(work: Path, entries: int) -> Path:
    """A snapshot holding only a city-sized catalogue (same layout as bzdata.snapshot)."""
    from bzdata.catalog.build import dataset_entries
    from bzdata.catalog.store import write_catalogue
    from bzdata.registry import load_registry
    from bzdata.synth.catalogue import city_entries

    registry = load_registry()
    folder = snapshot.root(work) / snapshot.SNAPSHOTS / "2023-01-bench"
    start = time.perf_counter()
    write_catalogue(
        folder / "catalog.sqlite",
        dataset_entries(registry) + city_entries(registry, n=entries),
        [],
    )
    print(f"目录重建：{time.perf_counter() - start:.1f} 秒")
    manifest = {"period": "2023-01", "periods": [], "files": ["catalog.sqlite"]}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    os.symlink(Path(snapshot.SNAPSHOTS) / folder.name, snapshot.root(work) / snapshot.POINTER)
    return folder / "catalog.sqlite"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, help="a work folder with a published snapshot")
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--workers", type=int, default=1, help="bzdata serve --workers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp) / "work"
        if args.work is None:
            catalogue_file = _city_snapshot(work, args.entries)
        else:
            snap = snapshot.current(work)
            if snap is None or not (snap.path / "catalog.sqlite").is_file():
                raise SystemExit(f"{work} 没有带目录的已发布快照：先运行 make demo")
            catalogue_file = snap.path / "catalog.sqlite"
        run(work, catalogue_file, args)


def run(work: Path, catalogue_file: Path, args: argparse.Namespace) -> None:
    from urllib.parse import quote

    import duckdb
    import pyarrow as pa

    from bzdata.catalog.search import match_expression
    from bzdata.catalog.store import WEIGHTS

    snap = snapshot.current(work)
    port = _port()
    # The server is `bzdata serve` in its own process(es), so the clients' event loop does not
    # share its interpreter lock (rate limit lifted: the load is the point).
    if args.workers == 1:  # the app as `bzdata serve` runs it, in any version of the portal
        command = [
            sys.executable,
            "-c",
            "import sys, uvicorn; from bzdata.portal.app import create_app; "
            "uvicorn.run(create_app(sys.argv[1], rate_limit=10**9), host='127.0.0.1', "
            "port=int(sys.argv[2]), log_level='warning')",
            str(work),
            str(port),
        ]
    else:
        command = [
            str(Path(sys.executable).parent / "bzdata"),
            "serve",
            *("--work", str(work), "--port", str(port), "--workers", str(args.workers)),
            *("--rate-limit", str(10**9)),
        ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/static/style.css", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        con = sqlite3.connect(f"file:{catalogue_file}?mode=ro", uri=True)
        (count,) = con.execute("select count(*) from entries").fetchone()
        entry_ids = [
            r[0]
            for r in con.execute(
                "select id from entries where open in ('无条件开放', '有条件开放') "
                "order by delivered desc, id limit 20"
            )
        ]
        pages = {
            "基线：静态文件": ["/static/style.css"],
            "检索页·不重复词": [f"/catalog?q={quote(q)}" for q in _distinct_queries(con)],
            "检索页·常用词": [f"/catalog?q={quote(q)}" for q in SEARCHES],
            "目录检索翻页+筛选": [
                f"/catalog?q={quote('登记')}&page=3&update_cycle={quote('每月')}"
            ],
            "数据集页": [f"/catalog/entry/{i}" for i in entry_ids],
        }
        if snap.periods:
            pages["晾晒台排名"] = ["/scorecard"]
            pages["指标库"] = ["/indicators"]
        print(
            f"快照 {snap.id}：目录 {count:,} 条；{args.clients} 个并发客户端，"
            f"每页 {args.requests} 个请求（本机回环）；{args.workers} 个服务进程，"
            f"{os.cpu_count()} 核，负载 {os.getloadavg()[0]:.1f}"
        )
        asyncio.run(_load([base + "/catalog", base + f"/catalog/entry/{entry_ids[0]}"], 4, 40))
        print(f"{'页面':<14}{'p50':>9}{'p95':>9}{'CPU/请求':>10}  (ms)")
        for name, paths in pages.items():
            urls = [base + p for p in paths]
            if name != "检索页·不重复词":
                asyncio.run(_load(urls, args.clients, 40))  # warm-up
            cpu = _cpu_ms(server.pid)
            times = asyncio.run(_load(urls, args.clients, args.requests))
            cpu = (_cpu_ms(server.pid) - cpu) / args.requests
            print(
                f"{name:<14}{statistics.median(times):>9.1f}{_pct(times, 0.95):>9.1f}{cpu:>10.1f}"
            )

        weights = ", ".join(str(w) for w in WEIGHTS)
        fts_sql = (
            f"select e.id, e.name from fts join entries e on e.rowid = fts.rowid "
            f"where fts match ? order by bm25(fts, {weights}) limit 20"
        )
        exprs = [match_expression(q)[0] for q in SEARCHES]

        def fts(i: int, state: dict) -> None:
            if "con" not in state:
                state["con"] = sqlite3.connect(f"file:{catalogue_file}?mode=ro", uri=True)
            state["con"].execute(fts_sql, (exprs[i % len(exprs)],)).fetchall()

        rows = con.execute("select id, name, doc from entries").fetchall()
        table = pa.table({k: [r[i] for r in rows] for i, k in enumerate(("id", "name", "doc"))})
        duck = duckdb.connect(":memory:")
        duck.register("loaded", table)
        duck.execute("create table entries as select * from loaded")

        def like(i: int, state: dict) -> None:
            if "cur" not in state:
                state["cur"] = duck.cursor()
            q = f"%{LIKE_QUERIES[i % len(LIKE_QUERIES)]}%"
            state["cur"].execute(
                "select id, name from entries where name like ? or doc like ? limit 20", [q, q]
            ).fetchall()

        for name, call in (("基线：SQLite FTS5", fts), ("基线：DuckDB LIKE", like)):
            _threaded(call, args.clients, 40)
            times = _threaded(call, args.clients, args.requests)
            print(f"{name:<14}{statistics.median(times):>9.2f}{_pct(times, 0.95):>9.2f}")
    finally:
        server.terminate()
        server.wait(timeout=90)  # workers stop first


if __name__ == "__main__":
    main()
