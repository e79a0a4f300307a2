"""A real PostgreSQL server for the tests, standing in for a department's 前置库.

Test modules load it with `pytest_plugins = ["tests.ingest.pg"]` and take `pg_url` as an argument;
one server serves the whole session. `load_frontdb` (re-exported from bzdata.ingest.frontdb)
copies a synthetic 前置库 table into it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bzdata.ingest.frontdb import load_frontdb

__all__ = ["free_port", "load_frontdb", "pg_binaries", "pg_url"]

_BINARIES = ("initdb", "pg_ctl", "postgres")
_USER = "bzdata"
_PASSWORD = "pw-secret-4711"  # throwaway server; tests check it never leaks
_DATABASE = "frontdb"


def pg_binaries() -> Path:
    """The folder holding initdb, pg_ctl and postgres: beside `initdb` on PATH, else the newest
    /usr/lib/postgresql/<version>/bin. Fails the test (never skips) when none is installed."""
    candidates: list[Path] = []
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(
        (Path(v) for v in versions), key=lambda p: int(p.parent.name), reverse=True
    )
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in _BINARIES):
            return folder
    pytest.fail(
        "找不到 PostgreSQL 服务端程序（initdb、pg_ctl、postgres）：PATH 与 "
        "/usr/lib/postgresql/*/bin 中都没有。请安装 postgresql（Debian：apt-get install -y "
        "postgresql），集成测试需要真实的 PostgreSQL。",
        pytrace=False,
    )


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args: list[str], account: pwd.struct_passwd | None, home: Path) -> None:
    """Run a server program, as `account` when given (we are root), in the C locale."""
    ids = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []} if account else {}
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "HOME": str(home)}
    subprocess.run(args, check=True, capture_output=True, env=env, **ids)


def _unprivileged_account() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.fail("以 root 运行测试时需要系统账户 nobody 来启动 PostgreSQL", pytrace=False)


def _log_tail(log: Path) -> str:
    with contextlib.suppress(OSError):
        return log.read_text(errors="replace")[-2000:]
    return ""


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """SQLAlchemy URL (`postgresql+psycopg://`) of a fresh PostgreSQL server and database.

    initdb writes a cluster into a new temporary folder; postgres listens on 127.0.0.1 only, on a
    free port, with its unix socket in that folder (nothing shared with a system server). Host
    connections need the password (scram-sha-256), so tests can check it never leaks into
    messages. The server is stopped and the folder removed at the end of the session, also when
    tests fail.

    PostgreSQL refuses to run as root. When the tests run as root, initdb, pg_ctl and postgres
    are started as the unprivileged account `nobody` (subprocess user=/group=, no sudo needed)
    in a folder under /tmp owned by it; pytest's own tmp folder is not used because it is
    private to root and `nobody` could not enter it.
    """
    binaries = pg_binaries()
    account = _unprivileged_account()
    base = Path(tempfile.mkdtemp(prefix="bzdata-pg-"))
    if account:
        os.chown(base, account.pw_uid, account.pw_gid)
    data, log, pwfile = base / "data", base / "server.log", base / "pwfile"
    started = False
    try:
        pwfile.write_text(_PASSWORD + "\n")
        if account:
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        try:
            _run(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    _USER,
                    "--pwfile",
                    str(pwfile),
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                account,
                base,
            )
        except subprocess.CalledProcessError as exc:
            pytest.fail(f"initdb 失败：{exc.stderr.decode(errors='replace')}", pytrace=False)
        port = 0
        for _attempt in range(5):  # another process may take the port between probe and start
            port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {base} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                _run(
                    [
                        str(binaries / "pg_ctl"),
                        "-D",
                        str(data),
                        "-l",
                        str(log),
                        "-o",
                        options,
                        "-w",
                        "-t",
                        "60",
                        "start",
                    ],
                    account,
                    base,
                )
                started = True
                break
            except subprocess.CalledProcessError:
                continue
        if not started:
            pytest.fail(f"PostgreSQL 未能启动，日志：\n{_log_tail(log)}", pytrace=False)
        import psycopg

        conninfo = f"host=127.0.0.1 port={port} user={_USER} password={_PASSWORD} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as con:
            con.execute(f"CREATE DATABASE {_DATABASE}")
        yield f"postgresql+psycopg://{_USER}:{_PASSWORD}@127.0.0.1:{port}/{_DATABASE}"
    finally:
        if started:
            with contextlib.suppress(subprocess.CalledProcessError):
                _run(
                    [str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                    account,
                    base,
                )
        shutil.rmtree(base, ignore_errors=True)
