"""Portal latency under bounded concurrent load on loopback: p50/p95 per page.

    .venv/bin/python benchmarks/portal_load.py --work work [--clients 20] [--requests 400]

Serves the work folder's published snapshot with uvicorn (one process, as `bzdata serve`),
then 20 clients issue a bounded number of requests per page. Baseline on the same server: a
static file (the floor of the HTTP stack itself). Pages: 晾晒台 ranking, a department page,
指标库. (The catalogue search and dataset pages are not in the portal yet.)
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bzdata import snapshot


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(url: str, clients: int, requests: int) -> list[float]:
    times: list[float] = []
    queue = asyncio.Queue()
    for _ in range(requests):
        queue.put_nowait(url)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            target = queue.get_nowait()
            start = time.perf_counter()
            r = await client.get(target)
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200, (target, r.status_code)

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("work"))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    snap = snapshot.current(args.work)
    if snap is None:
        raise SystemExit(f"{args.work} 没有发布的快照：先运行 make demo")
    port = _port()
    # The server runs in its own process, as `bzdata serve` does, so the clients' event loop
    # does not share its interpreter lock (rate limit lifted: the load is the point).
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, uvicorn; from bzdata.portal.app import create_app; "
            "uvicorn.run(create_app(sys.argv[1], rate_limit=10**9), host='127.0.0.1', "
            "port=int(sys.argv[2]), log_level='warning')",
            str(args.work),
            str(port),
        ]
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(base + "/static/style.css", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    import json

    doc = json.loads((snap.path / "scorecard" / snap.period / "scores.json").read_text("utf-8"))
    pages = {
        "基线：静态文件": "/static/style.css",
        "晾晒台排名": "/scorecard",
        "部门页": f"/scorecard/{snap.period}/dept/{doc['departments'][0]['code']}",
        "指标库": "/indicators",
    }
    print(f"快照 {snap.id}，{args.clients} 个并发客户端，每页 {args.requests} 个请求")
    for name, path in pages.items():
        asyncio.run(_load(base + path, args.clients, 20))  # warm-up
        times = sorted(asyncio.run(_load(base + path, args.clients, args.requests)))
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"  {name:<10} p50 {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms")
    server.terminate()
    server.wait(timeout=10)


if __name__ == "__main__":
    main()
