"""`bzdata serve --workers 2`: two processes answer on one port, each opening the published
snapshot read-only; a session and its CSRF tokens made by one are honoured by the other, and
two answers to one demand arriving at once in different processes still let only one win."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from bzdata import snapshot
from bzdata.portal import accounts as acc

from .conftest import PASSWORD, free_port
from .test_demand_race import race

BIN = Path(sys.executable).parent


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(c) for c in text.split()]


def _opened(pid: int, path: Path) -> list[int]:
    """The access modes (O_ACCMODE bits of the open flags) with which `pid` holds `path`."""
    modes = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd) == str(path):
                info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text().splitlines()
                flags = next(line for line in info if line.startswith("flags"))
                modes.append(int(flags.split()[1], 8) & os.O_ACCMODE)
    return modes


@pytest.mark.integration
def test_two_workers_each_read_the_snapshot_read_only(portal_city):
    accounts = acc.Accounts(portal_city.work)
    for user in ("gaj_wk_a", "gaj_wk_b"):
        with contextlib.suppress(acc.AccountError):
            accounts.add(user, "gaj", PASSWORD)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "BZDATA_WORK"}
    server = subprocess.Popen(
        [
            str(BIN / "bzdata"),
            "serve",
            "--work",
            str(portal_city.work),
            "--port",
            str(port),
            "--workers",
            "2",
            "--rate-limit",
            "100000",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    catalogue = snapshot.current(portal_city.work).path / "catalog.sqlite"
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while True:  # new connections until both workers have answered a search
            assert server.poll() is None, server.stderr.read()
            assert time.monotonic() < deadline, f"workers {workers} did not both answer"
            with contextlib.suppress(httpx.HTTPError), httpx.Client(base_url=base) as client:
                assert client.get("/catalog?q=" + quote("人口"), timeout=30).status_code == 200
            workers = [p for p in _children(server.pid) if _opened(p, catalogue)]
            if len(workers) == 2:
                break
        spawned = [
            p
            for p in _children(server.pid)
            if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()
        ]  # the worker processes (multiprocessing also starts its resource tracker)
        assert sorted(spawned) == sorted(workers)
        for pid in workers:
            assert set(_opened(pid, catalogue)) == {os.O_RDONLY}, pid
        # Every request on its own connection, so the race's two sessions are answered by
        # whichever process accepts: logins, CSRF tokens and the answer lock hold across both.
        race(base, portal_city.work, ("gaj_wk_a", "gaj_wk_b"), fresh=True)
    finally:
        server.terminate()
        server.wait(timeout=90)  # the supervisor stops its workers first
    assert server.returncode is not None
