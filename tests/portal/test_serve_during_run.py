"""A whole pipeline period runs while the portal serves, each in its own process as in production:
`bzdata run` (the warehouse's one writer, publishing the period's snapshot as its last step) and
`bzdata serve`. Every request during the run is answered from the previous snapshot, the portal
never opens a file of the live warehouse or lake, and after the run it shows the new period.

The demo's own path: a synthetic city of two months (demo scale), the first month run and
published before the portal starts, the second run while five pages are requested continuously.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from bzdata import snapshot
from bzdata.catalog.interface import Viewer
from bzdata.catalog.store import EmbeddedCatalogue
from bzdata.synth import generate

from .conftest import free_port

FOOTER = re.compile(r"数据快照：(\d{4})年(\d{1,2})月（([^）<]+)）")
BIN = Path(sys.executable).parent


def _env(work: Path) -> dict[str, str]:
    """This session's variables minus its Airflow home and work folder: each process run here
    configures its own from --work, as on a server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.pop("BZDATA_WORK", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run_period(work: Path, period: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "bzdata"), "run", "--demo", "--period", period, "--work", str(work)],
        env=_env(work),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _open_files(pid: int) -> set[str]:
    """Files the process and its children hold open now (from /proc)."""
    pids, found = [pid], set()
    while pids:
        current = pids.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            fds = list(Path(f"/proc/{current}/fd").iterdir())
        except OSError:
            continue
        pids += [int(c) for c in children]
        for fd in fds:
            with contextlib.suppress(OSError):
                found.add(os.readlink(fd))
    return found


@dataclass
class Answer:
    path: str
    status: int
    period: str | None  # the snapshot's period the page says it was served from
    snapshot: str | None
    finished: float


@pytest.mark.integration
@pytest.mark.slow
def test_every_request_during_a_period_run_is_served_from_the_previous_snapshot(
    tmp_path: Path,
) -> None:
    work = tmp_path / "work"
    generate(work / "synth", scale="demo", months=2, start_period="2023-01")
    first = _run_period(work, "2023-01")
    out, _ = first.communicate(timeout=1800)
    assert first.returncode == 0, out
    old = snapshot.current(work)
    assert old is not None and old.period == "2023-01"

    # The pages to request: taken from the published snapshot, not from the portal.
    scores = json.loads((old.path / "scorecard" / "2023-01" / "scores.json").read_text("utf-8"))
    dept = scores["departments"][0]["code"]
    catalogue = EmbeddedCatalogue(old.path / "catalog.sqlite")
    dataset = catalogue.search_page(
        "", viewer=Viewer.public(), filters={"kind": "dataset"}, limit=1
    ).hits[0]
    catalogue.close()
    paths = (
        "/catalog?q=" + quote("人口"),
        f"/catalog/entry/{dataset.id}",
        "/scorecard",
        f"/scorecard/2023-01/dept/{dept}",
        "/indicators",
    )

    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "bzdata"), "serve", "--work", str(work), "--port", str(port)],
        env=_env(work),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    answers: list[Answer] = []
    held: set[str] = set()
    stop = threading.Event()
    live = (str(work / "warehouse"), str(work / "lake"))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/scorecard", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "portal did not start"
            time.sleep(0.2)

        def hammer(path: str) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                while not stop.is_set():
                    r = client.get(path)
                    found = FOOTER.search(r.text)
                    answers.append(
                        Answer(
                            path,
                            r.status_code,
                            f"{found[1]}-{int(found[2]):02d}" if found else None,
                            found[3] if found else None,
                            time.monotonic(),
                        )
                    )
                    time.sleep(0.12)  # five clients stay well under the portal's rate limit

        def watch() -> None:
            while not stop.is_set():
                held.update(f for f in _open_files(server.pid) if f.startswith(live))
                time.sleep(0.05)

        threads = [threading.Thread(target=hammer, args=(p,)) for p in paths]
        threads.append(threading.Thread(target=watch))
        for t in threads:
            t.start()
        run = _run_period(work, "2023-02")
        switched = None
        while run.poll() is None:
            if switched is None and snapshot.current(work).id != old.id:
                switched = time.monotonic()
            time.sleep(0.05)
        ended = time.monotonic()
        out = run.stdout.read()
        time.sleep(1.0)  # requests after the run: the new period
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert run.returncode == 0, out
        new = snapshot.current(work)
        assert new.period == "2023-02" and new.id != old.id
        switched = switched or ended

        assert answers and all(a.status == 200 for a in answers), [
            (a.path, a.status) for a in answers if a.status != 200
        ][:10]
        assert all(a.snapshot in (old.id, new.id) for a in answers)
        # Until the pointer moved, every page came from the previous snapshot, for every page.
        before = [a for a in answers if a.finished < switched]
        assert before and all(a.snapshot == old.id and a.period == "2023-01" for a in before)
        assert {a.path for a in before} == set(paths)
        assert len(before) >= 5 * len(paths)  # the run really overlapped the requests
        # No page goes back to the old snapshot once one has been served from the new one.
        for path in paths:
            order = [a.snapshot for a in answers if a.path == path]
            assert order == sorted(order, key=lambda s: s == new.id), path
        assert not held, sorted(held)

        after = {p: httpx.get(base + p, timeout=30) for p in paths}
        for p, r in after.items():
            assert r.status_code == 200, p
            found = FOOTER.search(r.text)
            assert found and found[3] == new.id, p
        assert "2023年2月" in after["/scorecard"].text.split("<footer>")[0]
        assert httpx.get(base + "/scorecard/2023-02/dept/" + dept, timeout=30).status_code == 200
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)
