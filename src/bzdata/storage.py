"""Atomic storage, the one home every layer writes through: replacement of lake files and
partitions, and sweeping what killed runs left behind.

A partition directory is built under a hidden staging name beside its final name, every file and
the directory fsynced, then swapped in. On Linux the swap is one `renameat2(RENAME_EXCHANGE)`, so
readers globbing `period=*/*.parquet` see the old partition or the new one, never neither and
never a half-written file (a killed Parquet write leaves a footerless file that breaks every glob
read). Where that call is missing, two renames are used (final → `.old-…`, staging → final); if a
run dies between them, `sweep` puts the old partition back before anything else happens.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

STAGING = ".staging-"
OLD = ".old-"


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def staging_dir(parent: Path, name: str) -> Path:
    """A new empty staging directory for the partition `parent/name`."""
    parent.mkdir(parents=True, exist_ok=True)
    path = parent / f"{STAGING}{name}-{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()
    return path


def sweep(parent: Path, name: str) -> None:
    """Remove staging leftovers of `parent/name`; restore its old copy if the swap was cut."""
    if not parent.is_dir():
        return
    final = parent / name
    for path in sorted(parent.glob(f"{OLD}{name}-*")):
        if final.exists():
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.rename(path, final)  # killed between the two renames: the old copy is the truth
    for path in parent.glob(f"{STAGING}{name}-*"):
        shutil.rmtree(path, ignore_errors=True)


def publish_dir(staging: Path, final: Path) -> None:
    """Swap a complete staging directory in as `final` (see module docstring)."""
    for path in staging.iterdir():
        fsync_path(path)
    fsync_path(staging)
    if final.exists() and _exchange(staging, final):
        fsync_path(final.parent)
        shutil.rmtree(staging)  # now holds the previous partition
        return
    old = None
    if final.exists():
        old = final.parent / f"{OLD}{final.name}-{os.getpid()}-{secrets.token_hex(4)}"
        os.rename(final, old)
    try:
        os.rename(staging, final)
    except BaseException:
        if old is not None:
            os.rename(old, final)
        raise
    fsync_path(final.parent)
    if old is not None:
        shutil.rmtree(old)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step; False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # file system or kernel without RENAME_EXCHANGE
    raise OSError(code, os.strerror(code), str(b))


def remove_dir(final: Path) -> None:
    """Drop a partition atomically: rename it aside, then delete it."""
    if final.exists():
        old = final.parent / f"{OLD}{final.name}-{os.getpid()}-{secrets.token_hex(4)}"
        os.rename(final, old)
        fsync_path(final.parent)
        shutil.rmtree(old)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write `table` to `path` through a temporary name, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)
