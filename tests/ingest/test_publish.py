"""Partitions are replaced whole: a run that dies while publishing leaves the previous partition
readable, and the next run sweeps what it left and completes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from bzdata import storage as publish
from bzdata.registry import load_registry

BIRTH = "wjw_csyxzm"
HEADER = ",".join(load_registry().dataset(BIRTH).headers)
ROW = "Q37160000{},37162120230112075X,任军振,1,2023-01-12,371621199804191747,贾涵,医院"


def _data(n: int) -> bytes:
    return "\n".join([HEADER, *(ROW.format(i) for i in range(n)), ""]).encode()


def _leftovers(paths) -> list[str]:
    return sorted(
        p.name for p in paths.lake.rglob("*") if p.name.startswith((publish.STAGING, publish.OLD))
    )


@pytest.fixture
def loaded_once(drop, ingest, raw):
    """Period 2023-01 loaded with three rows, and a two-row correction dropped in its place."""
    drop(BIRTH, _data(3))
    ingest(BIRTH)
    assert raw(BIRTH).num_rows == 3
    drop(BIRTH, _data(2))


def test_failure_before_the_swap_keeps_the_previous_partition(
    loaded_once, ingest, raw, paths, monkeypatch
):
    real = publish.fsync_path

    def failing(path):
        if path.name.startswith(publish.STAGING):
            raise OSError("磁盘故障（模拟）")
        real(path)

    monkeypatch.setattr(publish, "fsync_path", failing)
    with pytest.raises(OSError):
        ingest(BIRTH)
    assert raw(BIRTH).num_rows == 3
    assert _leftovers(paths)
    monkeypatch.setattr(publish, "fsync_path", real)
    ingest(BIRTH)
    assert raw(BIRTH).num_rows == 2
    assert _leftovers(paths) == []


def test_failed_second_rename_puts_the_previous_partition_back(
    loaded_once, ingest, raw, paths, monkeypatch
):
    monkeypatch.setattr(publish, "_exchange", lambda a, b: False)  # the two-rename path
    real = os.rename

    def failing(src, dst):
        if str(src).rsplit("/", 1)[-1].startswith(publish.STAGING):
            raise OSError("重命名失败（模拟）")
        real(src, dst)

    monkeypatch.setattr(publish.os, "rename", failing)
    with pytest.raises(OSError):
        ingest(BIRTH)
    assert raw(BIRTH).num_rows == 3
    monkeypatch.setattr(publish.os, "rename", real)
    ingest(BIRTH)
    assert raw(BIRTH).num_rows == 2
    assert _leftovers(paths) == []


def test_kill_between_the_two_renames_is_repaired_by_the_next_run(loaded_once, ingest, raw, paths):
    parent = paths.lake / "raw" / BIRTH
    final = parent / "period=2023-01"
    staging = publish.staging_dir(parent, "period=2023-01")
    os.rename(final, parent / f"{publish.OLD}period=2023-01-999-dead")  # state after a kill
    publish.sweep(parent, "period=2023-01")
    assert raw(BIRTH).num_rows == 3 and not staging.exists()
    ingest(BIRTH)
    assert raw(BIRTH).num_rows == 2
    assert _leftovers(paths) == []


def test_process_killed_during_publish(loaded_once, ingest, raw, paths):
    script = textwrap.dedent(
        f"""
        import os, signal
        from datetime import datetime, UTC
        from pathlib import Path
        from bzdata import storage as publish
        from bzdata.ingest import Paths, ingest_dataset
        # Die the hard way just before the staged partition would be swapped in.
        publish._exchange = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)
        paths = Paths(Path({str(paths.landing)!r}), None, Path({str(paths.lake)!r}),
                      Path({str(paths.warehouse)!r}))
        ingest_dataset({BIRTH!r}, "2023-01", datetime(2023, 2, 1, tzinfo=UTC), paths, "killed")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()
    assert raw(BIRTH).num_rows == 3
    assert any(name.startswith(publish.STAGING) for name in _leftovers(paths))
    ingest(BIRTH)
    assert raw(BIRTH).num_rows == 2
    assert _leftovers(paths) == []
