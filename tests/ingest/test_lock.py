"""One writer at a time: a second writer is told in Chinese who holds the warehouse."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from bzdata.ingest.lock import WriterBusy, writer_lock


def test_holder_is_recorded_and_cleared(paths):
    with writer_lock(paths, "run-1", "bzdata ingest --period 2023-01") as holder:
        on_disk = json.loads(paths.lock_file.read_text(encoding="utf-8"))
        assert on_disk == holder
        assert (on_disk["run_id"], on_disk["pid"], on_disk["host"]) == (
            "run-1",
            os.getpid(),
            socket.gethostname(),
        )
        with writer_lock(paths, "run-1", "refresh_warehouse"):  # nested in the same process
            pass
        assert json.loads(paths.lock_file.read_text(encoding="utf-8")) == holder
    assert paths.lock_file.read_text(encoding="utf-8") == ""


def test_busy_message_names_the_holder():
    holder = {
        "run_id": "manual__2023-02-01",
        "pid": 4242,
        "host": "etl-1",
        "started_at": "2023-02-01T00:00:05+00:00",
        "command": "dbt build",
    }
    message = str(WriterBusy(holder))
    for part in ("manual__2023-02-01", "4242", "etl-1", "2023-02-01T00:00:05+00:00", "dbt build"):
        assert part in message
    assert message.startswith("数据仓库正在被写入")


def test_concurrent_refresh_in_another_process_fails_with_the_chinese_message(paths):
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from bzdata.ingest import Paths, refresh_warehouse
        from bzdata.ingest.lock import WriterBusy
        paths = Paths(Path({str(paths.landing)!r}), None, Path({str(paths.lake)!r}),
                      Path({str(paths.warehouse)!r}))
        try:
            refresh_warehouse(paths)
        except WriterBusy as exc:
            print(exc)
            sys.exit(75)
        """
    )
    with writer_lock(paths, "run-holding", "bzdata ingest --period 2023-01"):
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 75, done.stderr
    assert "数据仓库正在被写入" in done.stdout
    assert "run-holding" in done.stdout and f"进程 {os.getpid()}" in done.stdout
    assert "bzdata ingest --period 2023-01" in done.stdout
    assert "Traceback" not in done.stderr
    assert not paths.database.exists()


def test_lock_is_free_again_after_an_error(paths):
    with pytest.raises(RuntimeError), writer_lock(paths, "run-1", "x"):
        raise RuntimeError("boom")
    with writer_lock(paths, "run-2", "y") as holder:
        assert holder["run_id"] == "run-2"
