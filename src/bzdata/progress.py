"""Progress reporting for long-running commands.

On a terminal a rich progress bar is drawn on stderr; elsewhere (CI logs, redirected output)
plain Chinese lines with counts, percentage and elapsed seconds are printed instead. Setting
BZDATA_QUIET=1 silences everything (used by the tests).

    with progress.step("生成合成滨州数据"):
        with progress.task("生成人口", total=n) as advance:
            advance(1000)
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Advance = Callable[..., None]

# Plain mode prints at every tenth of the total, or this often when the total is unknown.
PLAIN_INTERVAL_SECONDS = 5.0


def is_quiet() -> bool:
    """True when BZDATA_QUIET asks for no progress output."""
    return os.environ.get("BZDATA_QUIET", "").strip().lower() in {"1", "true", "yes"}


def _stream() -> TextIO:
    # Looked up at call time so redirected or captured stderr is honoured.
    return sys.stderr


def _emit(line: str) -> None:
    stream = _stream()
    print(line, file=stream, flush=True)


def _seconds(start: float) -> str:
    return f"{time.monotonic() - start:.1f}"


@contextmanager
def step(name: str) -> Iterator[None]:
    """Announce one named stage: "▶ name" on entry, "✔ name（12.3 秒）" on success."""
    if is_quiet():
        yield
        return
    start = time.monotonic()
    _emit(f"▶ {name}")
    try:
        yield
    except BaseException:
        _emit(f"✘ {name} 失败（{_seconds(start)} 秒）")
        raise
    _emit(f"✔ {name}（{_seconds(start)} 秒）")


@contextmanager
def task(description: str, total: int | None = None) -> Iterator[Advance]:
    """Track work items; yields `advance(k=1)` to report k more items done."""
    if is_quiet():
        yield _ignore
    elif _stream().isatty():
        with _rich_task(description, total) as advance:
            yield advance
    else:
        with _plain_task(description, total) as advance:
            yield advance


def _ignore(k: int = 1) -> None:
    del k


@contextmanager
def _rich_task(description: str, total: int | None) -> Iterator[Advance]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=Console(file=_stream())) as bar:
        task_id = bar.add_task(description, total=total)

        def advance(k: int = 1) -> None:
            bar.advance(task_id, k)

        yield advance


def _format_count(done: int, total: int | None) -> str:
    if total:
        return f"{done:,}/{total:,}（{done * 100 // total}%）"
    return f"{done:,}"


class _PlainCounter:
    """Counts items and prints a line at each tenth of the total (or every few seconds)."""

    def __init__(self, description: str, total: int | None) -> None:
        self.description = description
        self.total = total
        self.start = self.last = time.monotonic()
        self.done = 0
        self.tenth = 0

    def advance(self, k: int = 1) -> None:
        self.done += k
        now = time.monotonic()
        if self.total:
            tenth = min(self.done * 10 // self.total, 10)
            # The final tenth is left to finish(), which also prints the total time.
            due = self.tenth < tenth < 10
            if due:
                self.tenth = tenth
        else:
            due = now - self.last >= PLAIN_INTERVAL_SECONDS
        if due:
            self.last = now
            counts = _format_count(self.done, self.total)
            _emit(f"  {self.description}：{counts}，已用 {_seconds(self.start)} 秒")

    def finish(self) -> None:
        counts = _format_count(self.done, self.total)
        _emit(f"  {self.description}：完成 {counts}，用时 {_seconds(self.start)} 秒")


@contextmanager
def _plain_task(description: str, total: int | None) -> Iterator[Advance]:
    counter = _PlainCounter(description, total)
    yield counter.advance
    counter.finish()


class Meter:
    """Rows done, rate and time left of one long piece of work whose size is known in bytes
    (or not at all): a line every PLAIN_INTERVAL_SECONDS, and a closing line if any was printed.
    Plain lines on any stream, so that terminals and task logs (Airflow) show the same text."""

    def __init__(self, description: str, total_bytes: int | None) -> None:
        self.description = description
        self.total = total_bytes or None
        self.start = self.last = time.monotonic()
        self.spoke = False

    def update(self, rows: int, done_bytes: int | None = None) -> None:
        now = time.monotonic()  # called per record: the cheap test first
        if now - self.last < PLAIN_INTERVAL_SECONDS or is_quiet():
            return
        self.last, self.spoke = now, True
        _emit(f"  {self.description}：{self.status(rows, done_bytes, now)}")

    def status(self, rows: int, done_bytes: int | None, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.start, 1e-9)
        text = f"已处理 {rows:,} 行，每秒 {rows / elapsed:,.0f} 行"
        if self.total and done_bytes:
            share = min(done_bytes / self.total, 1.0)
            left = elapsed * (1 - share) / share if share else 0.0
            text += f"，{share:.0%}，预计还需 {left:.0f} 秒"
        return text + f"，已用 {elapsed:.0f} 秒"

    def finish(self, rows: int) -> None:
        if self.spoke and not is_quiet():
            elapsed = time.monotonic() - self.start
            _emit(f"  {self.description}：完成 {rows:,} 行，用时 {elapsed:.1f} 秒")
