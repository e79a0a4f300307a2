"""Where the collect step reads and writes: landing zone, 前置库 sources, lake and warehouse.

Two layouts, chosen explicitly, never by what happens to exist:

    Paths.from_work(work)   the synthetic city's layout (landing and 前置库 files under
                            <work>/synth): the demo, and tests that build a city in a tmp folder
    Paths.for_env()         the layout BZDATA_ENV names: the demo layout for BZDATA_ENV=demo,
                            otherwise the configured landing directory and 前置库 connections
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from bzdata import config

WAREHOUSE_NAME = "bzdata.duckdb"


def warehouse_dir(work_dir: Path | str) -> Path:
    """The one spelling of the warehouse folder of a work folder."""
    return Path(work_dir) / "warehouse"


def warehouse_file(work_dir: Path | str) -> Path:
    """The one spelling of the warehouse DuckDB file of a work folder."""
    return warehouse_dir(work_dir) / WAREHOUSE_NAME


@dataclass(frozen=True)
class Paths:
    """Roots of one deployment; every ingest function takes them explicitly (tests use tmp dirs).

    landing:      `<dept>/<dataset id>/<YYYY-MM>/<file>` file drops (None: not configured)
    frontdb:      `<YYYY-MM>/<dept>.sqlite` 前置库 files of the synthetic city, or None
    lake:         raw/, rejects/, quarantine/, manifest/ (Parquet)
    warehouse:    bzdata.duckdb and its writer lock
    frontdb_urls: (dept, SQLAlchemy URL) of 前置库 resolved from Airflow Connections
    synthetic:    True for the synthetic city, where an unconfigured 前置库 is simply absent;
                  False for real sources, where it is an error naming what to set
    """

    landing: Path | None
    frontdb: Path | None
    lake: Path
    warehouse: Path
    frontdb_urls: tuple[tuple[str, str], ...] = ()
    synthetic: bool = True

    @classmethod
    def from_work(cls, work_dir: Path | str) -> Paths:
        """The synthetic city's layout under a work folder."""
        work = Path(work_dir)
        return cls(
            landing=work / "synth" / "landing",
            frontdb=work / "synth" / "frontdb",
            lake=work / "lake",
            warehouse=warehouse_dir(work),
        )

    @classmethod
    def for_env(
        cls,
        settings: config.Settings | None = None,
        frontdb_urls: dict[str, str] | None = None,
        work_dir: Path | str | None = None,
    ) -> Paths:
        """The layout of the configured environment (see bzdata.config)."""
        chosen = settings or config.settings()
        work = Path(work_dir) if work_dir else chosen.work_dir
        urls = tuple(sorted((frontdb_urls or {}).items()))
        if chosen.is_demo:
            return replace(cls.from_work(work), frontdb_urls=urls)
        landing = chosen.landing_dir if chosen.landing_dir and chosen.landing_dir.is_dir() else None
        return cls(
            landing=landing,
            frontdb=None,
            lake=work / "lake",
            warehouse=warehouse_dir(work),
            frontdb_urls=urls,
            synthetic=False,
        )

    def require_landing(self) -> Path:
        """The landing directory, or ConfigError naming BZDATA_LANDING."""
        if self.landing is not None:
            return self.landing
        return config.settings().landing()  # raises with the setting's name

    @property
    def database(self) -> Path:
        return self.warehouse / WAREHOUSE_NAME

    @property
    def lock_file(self) -> Path:
        return self.warehouse / "bzdata.lock"
