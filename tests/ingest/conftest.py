"""Fixtures for the file channel of 汇聚: a throwaway landing zone, lake and warehouse."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bzdata.ingest import Paths, ingest_dataset
from bzdata.registry import load_registry

PERIOD = "2023-01"
LOGICAL = datetime(2023, 2, 1, tzinfo=UTC)
ON_TIME = datetime(2023, 2, 3, 10, 0)  # before every file dataset's due day in February


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(
        landing=tmp_path / "landing",
        frontdb=None,
        lake=tmp_path / "lake",
        warehouse=tmp_path / "warehouse",
    )


@pytest.fixture
def drop(paths: Paths) -> Callable[..., Path]:
    """Put bytes into the landing zone as a department delivery of `dataset`."""

    def put(
        dataset: str,
        data: bytes,
        name: str | None = None,
        period: str = PERIOD,
        arrived: datetime = ON_TIME,
    ) -> Path:
        ds = load_registry().dataset(dataset)
        name = name or (ds.delivery.file_name or "x").replace("{period}", period.replace("-", ""))
        path = paths.landing / ds.provider / ds.id / period / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        stamp = arrived.timestamp()
        os.utime(path, (stamp, stamp))
        return path

    return put


@pytest.fixture
def ingest(paths: Paths) -> Callable[..., list[dict]]:
    """Ingest one dataset and period; every manifest row must balance its row counts."""

    def run(dataset: str, period: str = PERIOD, run_id: str = "test-run") -> list[dict]:
        rows = ingest_dataset(dataset, period, LOGICAL, paths, run_id)
        for row in rows:
            assert row["rows_read"] == row["rows_accepted"] + row["rows_rejected"], row
        return rows

    return run


@pytest.fixture
def raw(paths: Paths) -> Callable[..., pa.Table]:
    def read(dataset: str, period: str = PERIOD) -> pa.Table:
        return pq.read_table(paths.lake / "raw" / dataset / f"period={period}")

    return read


@pytest.fixture
def rejects(paths: Paths) -> Callable[..., list[dict]]:
    def read(dataset: str, period: str = PERIOD) -> list[dict]:
        path = paths.lake / "rejects" / dataset / f"period={period}" / "rejects.parquet"
        return pq.read_table(path).to_pylist()

    return read
