"""DuckDB resources for this machine, in one place: memory limit, threads and spill folder.

DuckDB's default memory limit is 80 % of the machine, which lets one city-scale build take most of
a shared 24 GiB box. Every connection the platform opens (and dbt's profile, through the
environment) gets the limits from here, so they are set once and changed once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bzdata.config import ConfigError

if TYPE_CHECKING:
    import duckdb

ENV_MEMORY = "BZDATA_DUCKDB_MEMORY"
ENV_THREADS = "BZDATA_DUCKDB_THREADS"
DEFAULT_MEMORY = "4GB"
DEFAULT_THREADS = 2
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """What each DuckDB connection may use."""

    memory: str
    threads: int


def limits() -> Limits:
    """Read the limits from the environment; raises ConfigError naming the variable."""
    memory = os.environ.get(ENV_MEMORY, "").strip() or DEFAULT_MEMORY
    if not _MEMORY.match(memory):
        raise ConfigError(f"环境变量 {ENV_MEMORY} 的值“{memory}”无效：应为如 4GB、512MB 的内存大小")
    raw = os.environ.get(ENV_THREADS, "").strip() or str(DEFAULT_THREADS)
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"环境变量 {ENV_THREADS} 的值“{raw}”无效：应为正整数")
    return Limits(memory=memory, threads=int(raw))


def environment() -> dict[str, str]:
    """The limits as environment variables, for child processes (dbt reads them in profiles.yml)."""
    lim = limits()
    return {ENV_MEMORY: lim.memory, ENV_THREADS: str(lim.threads)}


def connect(
    database: str | Path = ":memory:", *, read_only: bool = False, spill: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the machine's limits applied (and a spill folder, if given)."""
    import duckdb  # imported here: DAG files import this package at parse time

    lim = limits()
    config = {"memory_limit": lim.memory, "threads": lim.threads}
    if spill is not None:
        spill.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(spill)
    return duckdb.connect(str(database), read_only=read_only, config=config)
