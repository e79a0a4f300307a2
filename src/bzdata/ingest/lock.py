"""The warehouse's single-writer lock: DuckDB takes one writer process per file, so every writer
(the ingest CLI, the warehouse refresh, dbt runs) holds `warehouse/bzdata.lock` first.

The lock is an fcntl lock on that file, released by the kernel when the holder exits, so a killed
run never leaves a stale lock behind. The file holds JSON naming the holder, which a second writer
reads to say in Chinese who is busy instead of failing with a stack trace.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from bzdata.ingest.paths import Paths

# Lock files this process holds, with nesting depth: flock conflicts even within one process
# (each open() is its own lock), so `bzdata ingest` can hold the lock around refresh_warehouse.
_held: dict[str, int] = {}


class WriterBusy(RuntimeError):
    """Another process holds the warehouse writer lock; the message names it (Chinese)."""

    def __init__(self, holder: dict) -> None:
        self.holder = holder
        if holder:
            who = (
                f"运行 {holder.get('run_id', '?')}（进程 {holder.get('pid', '?')}，"
                f"主机 {holder.get('host', '?')}，开始于 {holder.get('started_at', '?')}，"
                f"命令：{holder.get('command', '?')}）"
            )
        else:
            who = "另一个进程（其登记信息尚未写入）"
        super().__init__(
            f"数据仓库正在被写入，当前写入者：{who}。DuckDB 同一时间只允许一个写入进程，"
            "请等它结束后重试；锁随写入进程退出自动释放，无需删除锁文件。"
        )


@contextlib.contextmanager
def writer_lock(paths: Paths, run_id: str, command: str) -> Iterator[dict]:
    """Hold the warehouse writer lock; raise WriterBusy at once if another process holds it."""
    path = paths.lock_file
    key = os.path.abspath(path)
    if _held.get(key):
        _held[key] += 1
        try:
            yield _read(path)
        finally:
            _held[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WriterBusy(_read(path)) from None
        holder = {
            "run_id": run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder, ensure_ascii=False).encode(), 0)
        os.fsync(fd)
        _held[key] = 1
        try:
            yield holder
        finally:
            _held.pop(key, None)
            os.ftruncate(fd, 0)  # an empty file means nobody holds it
    finally:
        os.close(fd)  # closing releases the flock


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
