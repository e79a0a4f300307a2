"""Where the collect step reads and writes: landing zone, 前置库 files, lake and warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    """Roots of one deployment; every ingest function takes them explicitly (tests use tmp dirs).

    landing:   `<dept>/<dataset id>/<YYYY-MM>/<file>` file drops
    frontdb:   `<YYYY-MM>/<dept>.sqlite` 前置库 files of the synthetic city, or None
    lake:      raw/, rejects/, quarantine/, manifest/ (Parquet)
    warehouse: bzdata.duckdb and its writer lock
    """

    landing: Path
    frontdb: Path | None
    lake: Path
    warehouse: Path

    @classmethod
    def from_work(cls, work_dir: Path | str) -> Paths:
        work = Path(work_dir)
        return cls(
            landing=work / "synth" / "landing",
            frontdb=work / "synth" / "frontdb",
            lake=work / "lake",
            warehouse=work / "warehouse",
        )

    @property
    def database(self) -> Path:
        return self.warehouse / "bzdata.duckdb"

    @property
    def lock_file(self) -> Path:
        return self.warehouse / "bzdata.lock"
