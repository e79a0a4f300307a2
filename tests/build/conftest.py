"""A 2-month demo city built once per session: synthetic deliveries → raw zone → `dbt build`."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from bzdata.build import dbt
from bzdata.registry import Registry, load_registry
from bzdata.synth import generate

_spec = importlib.util.spec_from_file_location("rawzone", Path(__file__).with_name("rawzone.py"))
rawzone = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rawzone)

MONTHS = 2


@dataclass(frozen=True)
class City:
    synth: Path
    work: Path
    result: dbt.BuildResult
    registry: Registry
    periods: list[str]

    @property
    def period(self) -> str:
        return self.periods[-1]

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the built warehouse with the truth and ledger as views."""
        con = duckdb.connect(str(self.work / "warehouse" / "bzdata.duckdb"), read_only=True)
        for name in ("persons", "entities"):
            con.execute(
                f"create temp view truth_{name} as select * from "
                f"read_parquet('{self.synth}/truth/{self.period}/{name}.parquet')"
            )
        con.execute(
            "create temp view ledger as select * from "
            f"read_parquet('{self.synth}/ledger/*/defects.parquet')"
        )
        return con


@pytest.fixture(scope="session")
def synth_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(out, scale="demo", months=MONTHS)
    return out


@pytest.fixture(scope="session")
def city(synth_city: Path, tmp_path_factory: pytest.TempPathFactory) -> City:
    """The raw zone as the ingest writes it (前置库 pulled incrementally), built with dbt."""
    work = tmp_path_factory.mktemp("work")
    registry = load_registry()
    rawzone.build_raw_zone(synth_city, work, registry)
    result = dbt.build(work, threads=2)
    periods = sorted(p.name for p in (synth_city / "truth").iterdir())
    return City(synth_city, work, result, registry, periods)
