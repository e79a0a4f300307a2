"""`bzdata airflow ui`: one command starts api-server, scheduler and dag-processor over the work
folder's SQLite metadata database; the UI answers on loopback, lists the platform's DAGs, and a
plain `kill` of the command ends every process it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

WAIT_S = 600  # bounded: the machine is shared and Airflow's start-up is slow under load


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as resp:
        return resp.status, resp.read()


@pytest.mark.integration
@pytest.mark.slow
def test_one_command_opens_the_airflow_ui_and_stops_everything_it_started(
    tmp_path: Path,
) -> None:
    work = tmp_path / "work"
    from tests.ingest.pg import free_port  # here, not at import: pg.py is also a plugin

    port = free_port()
    log = tmp_path / "ui.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("bzdata")),
                "airflow",
                "ui",
                "--demo",
                "--work",
                str(work),
                "--port",
                str(port),
            ],
            env={**os.environ, "BZDATA_WORK": str(work)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + WAIT_S
        url = f"http://127.0.0.1:{port}"
        while f"Airflow 界面：{url}/" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(2)
        started = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in started)
        for service in ("api-server", "scheduler", "dag-processor"):
            assert service in names or service.replace("-", "_") in names, names
        assert (work / "airflow" / "airflow.db").is_file()  # the work folder's own database

        status, page = _get(f"{url}/")
        assert status == 200 and b"<html" in page.lower()
        token = json.loads(_get(f"{url}/auth/token")[1])["access_token"]
        dags: set[str] = set()
        while "bzdata_publish" not in dags:
            assert time.monotonic() < deadline, f"{dags}\n{log.read_text(errors='replace')}"
            body = json.loads(_get(f"{url}/api/v2/dags?limit=100", token)[1])
            dags = {d["dag_id"] for d in body["dags"]}
            time.sleep(2)
        assert {"bzdata_collect_monthly", "bzdata_collect_quarterly"} <= dags
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        leftover = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        for item in leftover:  # never leave a service behind, even when the test fails
            item.kill()
    assert proc.returncode == 0, log.read_text(errors="replace")[-3000:]
    assert "正在停止 Airflow 服务" in log.read_text(errors="replace")
    assert not leftover, [p.pid for p in leftover]
