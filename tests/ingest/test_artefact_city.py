"""A demo city month in which every file delivery carries file artefacts (`file_artefacts=1`):
ingest loads every record the generator delivered, byte for byte, and flags every cut record,
judged against the generator's file-level ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from bzdata.ingest import Paths, ingest_dataset
from bzdata.registry import load_registry
from bzdata.synth import generate, writers

pytestmark = pytest.mark.slow

PERIOD = "2023-03"  # quarter end: the quarterly datasets deliver too


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("artefact-city")
    generate(root / "synth", months=1, start_period=PERIOD, file_artefacts=1.0)
    paths = Paths.from_work(root)
    rows = {}
    for ds in load_registry().datasets:
        if not ds.is_frontdb:
            for row in ingest_dataset(ds.id, PERIOD, datetime(2023, 4, 30, tzinfo=UTC), paths, "a"):
                rows[ds.id] = row
    return root, paths, rows


def test_every_file_delivery_carries_artefacts_recorded_in_the_ledger(city):
    root, _paths, _rows = city
    deliveries = json.loads((root / "synth" / "synth.json").read_text())["deliveries"]
    files = [d for d in deliveries if d["file"] and d["file"].startswith("landing/")]
    assert files and all(d["artefacts"] for d in files)
    kinds = {k for d in files for k in d["artefacts"]}
    assert len(kinds) >= 8, kinds
    for d in files:
        truth = json.loads(
            writers.artefact_ledger_path(root / "synth", PERIOD, d["dataset"]).read_text()
        )
        assert truth["artefacts"] == d["artefacts"] and truth["file"] == d["file"]


def test_every_delivered_record_loads_and_every_cut_record_is_flagged(city):
    root, paths, rows = city
    registry = load_registry()
    for d in json.loads((root / "synth" / "synth.json").read_text())["deliveries"]:
        ds = registry.dataset(d["dataset"])
        if not d["file"] or ds.is_frontdb:
            continue
        row = rows[ds.id]
        truth = json.loads(writers.artefact_ledger_path(root / "synth", PERIOD, ds.id).read_text())
        expected = writers.read_back(root / "synth" / d["file"], ds)
        assert expected.num_rows == d["rows"] == truth["complete_records"]
        loaded = pq.read_table(paths.lake / "raw" / ds.id / f"period={PERIOD}").select(ds.columns)
        assert loaded.slice(0, d["rows"]).equals(expected), (ds.id, truth["artefacts"])
        assert row["rows_read"] == row["rows_accepted"] + row["rows_rejected"]
        if truth["cut_line"] is None:
            assert (row["rows_accepted"], row["rows_rejected"]) == (d["rows"], 0), row["reason"]
            continue
        line = truth["cut_line"]
        rejected = (
            pq.read_table(paths.lake / "rejects" / ds.id / f"period={PERIOD}" / "rejects.parquet")
            .column("line")
            .to_pylist()
        )
        if rejected:
            assert rejected == [line] and row["rows_accepted"] == d["rows"]
        else:  # loaded last, and the manifest names the line as possibly cut
            assert row["rows_accepted"] == d["rows"] + 1
            assert f"文件末行（第 {line} 行）没有换行符，可能被截断" in row["reason"]
