"""Airflow's own services over a work folder: api-server, scheduler and dag-processor.

`bzdata airflow ui` (README) starts them on the demo's metadata database to open the Airflow UI;
the real-scheduler integration test starts them on a PostgreSQL metadata database. LocalExecutor,
loopback only, one API worker and minimal parallelism (the machine is shared; DuckDB takes one
writer anyway). Nothing here reaches the network.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import Request

from bzdata.orchestration.home import AirflowHome, environment

PROCESSES = ("api-server", "scheduler", "dag-processor")


def service_environment(
    home: AirflowHome, port: int, sql_conn: str | None = None, *, fast: bool = False
) -> dict[str, str]:
    """The variables the three services share (one JWT secret, one execution API URL)."""
    values = environment(home)
    if sql_conn:
        values["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = sql_conn
        if sql_conn.startswith("postgresql+psycopg://"):
            # Airflow would pick asyncpg for its async engine; psycopg 3 serves both.
            values["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = sql_conn.replace(
                "postgresql+psycopg://", "postgresql+psycopg_async://", 1
            )
    values.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": os.environ.get(
                "AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_urlsafe(64)
            ),
            "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            # Task processes call the execution API of the one api-server worker: on a loaded
            # machine Airflow's 5-second default turns a slow answer into a failed task.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        }
    )
    if fast:  # tests: short heartbeats and polls, so a bounded wait stays short
        values.update(
            {
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
                "AIRFLOW__SCHEDULER__PARSING_CLEANUP_INTERVAL": "600",
            }
        )
    return values


@dataclass
class Services:
    """The running services; `stop()` ends exactly the processes started here."""

    port: int
    logs: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    call_timeout: float = 60  # one HTTP call; the machine is shared and may be loaded
    api_timeout: float = 300  # all retries of one call together
    token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def dead(self) -> list[str]:
        return [name for name, proc in self.processes.items() if proc.poll() is not None]

    def log_tail(self, chars: int = 3000) -> str:
        parts = []
        for name in self.processes:
            path = self.logs / f"{name}.log"
            with contextlib.suppress(OSError):
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)

    # --- the REST API (loopback) ---

    def _token(self) -> str:
        """One JWT for the session (simple auth manager, every user an admin): the first call
        on a loaded machine can take long, so it is fetched once and kept."""
        if self.token is None:
            body = self._request(Request(f"{self.url}/auth/token"))
            self.token = str(body["access_token"])
        return self.token

    def _request(self, request: Request) -> dict:
        """Send one request; a timeout is retried until `api_timeout` has passed in total."""
        deadline = time.monotonic() + self.api_timeout
        while True:
            try:
                with urllib.request.urlopen(request, timeout=self.call_timeout) as resp:
                    return json.loads(resp.read() or b"{}")
            except (TimeoutError, urllib.error.URLError) as exc:
                reason = getattr(exc, "reason", exc)
                transient = isinstance(exc, TimeoutError) or isinstance(
                    reason, (TimeoutError, ConnectionError)
                )
                if isinstance(exc, urllib.error.HTTPError) or not transient:
                    raise
                if time.monotonic() >= deadline or self.dead():
                    raise TimeoutError(
                        f"Airflow API {request.full_url} 在 {self.api_timeout:.0f} 秒内未应答"
                        f"\n{self.log_tail()}"
                    ) from exc
                time.sleep(1)

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = Request(
            f"{self.url}/api/v2{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self._token()}",
                "Content-Type": "application/json",
            },
        )
        return self._request(request)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=30):
                return True
        except (OSError, ValueError):
            return False

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.dead():
                raise RuntimeError(f"Airflow 服务退出：{self.dead()}\n{self.log_tail()}")
            if self.healthy():
                return
            time.sleep(1)
        raise TimeoutError(f"api-server 未在 {timeout:.0f} 秒内就绪\n{self.log_tail()}")


def start(env: dict[str, str], port: int, logs: Path) -> Services:
    """Start api-server, scheduler and dag-processor with `env` (each in its own process group)."""
    logs.mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).with_name("airflow"))
    services = Services(port=port, logs=logs)
    full = {**os.environ, **env}
    for name in PROCESSES:
        with open(logs / f"{name}.log", "ab") as out:  # the child keeps its own descriptor
            services.processes[name] = subprocess.Popen(
                [airflow, name],
                env=full,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    return services


@contextlib.contextmanager
def running(env: dict[str, str], port: int, logs: Path) -> Iterator[Services]:
    services = start(env, port, logs)
    try:
        services.wait_ready()
        yield services
    finally:
        services.stop()
