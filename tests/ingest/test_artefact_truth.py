"""Ingest against the synthetic writer's file-level truth: for every file dataset of the registry
and every artefact its format can carry, every complete record loads exactly, every cut record is
rejected or flagged at its line, and each artefact is recorded in the manifest (per-kind recall
and precision ≥ 99.5 %)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bzdata.ingest import Paths, ingest_dataset
from bzdata.registry import load_registry
from bzdata.synth import writers

PERIOD = "2023-03"  # quarterly datasets are due too
DELIVERED = datetime(2023, 4, 2, 10, 0)
ROWS = 30
# What ingest records for each writer artefact (a cut may instead be a plain reject).
RECORDED = {
    "utf16": {"utf16"},
    "cut": {"truncated", "unterminated_last_line"},
    "mixed_line_ends": set(),  # read as it is: nothing to tolerate
}


def _table(ds, seed: int) -> pa.Table:
    """Values of the shapes departments send: IDs with leading zeros, dates, codes, names."""
    columns = {}
    for j, field in enumerate(ds.fields):
        values = []
        for i in range(ROWS):
            n = (i * 7919 + j * 104729 + seed) % 1_000_000
            if j == 0:
                values.append(f"0{n:06d}{i:04d}3716")
            elif "date" in field.column or "日期" in field.header:
                values.append(f"2023-{1 + n % 3:02d}-{1 + n % 28:02d}")
            elif j % 3 == 1:
                values.append(f"滨州市{'惠民阳信无棣博兴'[n % 4]}县第{n % 97}号")
            else:
                values.append(str(n % 100000))
        columns[field.column] = pa.array(values, pa.string())
    return pa.table(columns)


def _cases():
    for ds in sorted(load_registry().datasets, key=lambda d: d.id):
        if ds.delivery.channel != "file":
            continue
        kinds = writers.ARTEFACTS[ds.delivery.format]
        for kind in kinds:
            yield ds.id, (kind,)
        others = [k for k in kinds if k not in ("cut", "unterminated_last_line", "footer_rows")]
        yield ds.id, (*others, "cut") if "cut" in kinds else tuple(others)
        if ds.delivery.format == "csv":  # CR line ends in UTF-16, which mixed line ends preclude
            yield ds.id, ("utf16", "cr_line_ends", "nul_padding", "unterminated_last_line")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("artefacts")
    registry = load_registry()
    out = []
    for number, (dataset, kinds) in enumerate(_cases()):
        ds = registry.dataset(dataset)
        base = root / str(number)
        table = _table(ds, number)
        _path, truth = writers.write_artefact_drop(
            ds, table, base, PERIOD, DELIVERED, kinds, seed=number
        )
        on_disk = json.loads(writers.artefact_ledger_path(base, PERIOD, ds.id).read_text())
        assert on_disk == truth
        paths = Paths(base / "landing", None, base / "lake", base / "warehouse")
        [row] = ingest_dataset(ds.id, PERIOD, datetime(2023, 4, 30, tzinfo=UTC), paths, "t")
        loaded = pq.read_table(base / "lake" / "raw" / ds.id / f"period={PERIOD}")
        rejects = pq.read_table(
            base / "lake" / "rejects" / ds.id / f"period={PERIOD}" / "rejects.parquet"
        ).to_pylist()
        out.append((ds, table, truth, row, loaded, rejects))
    return out


def test_every_complete_record_loads_exactly(results):
    for ds, table, truth, row, loaded, rejects in results:
        assert row["status"] == "loaded", (truth, row["reason"])
        # A cut record that is not rejected is loaded last, and flagged (next test).
        flagged_cut = truth["cut_line"] is not None and not rejects
        expected = truth["complete_records"] + flagged_cut
        assert row["rows_accepted"] == expected, (truth, row["reason"])
        assert loaded.select(ds.columns).slice(0, table.num_rows).equals(table), truth


def test_every_cut_record_is_rejected_or_flagged_at_its_line(results):
    cut = 0
    for ds, _table, truth, row, _loaded, rejects in results:
        lines = {r["line"]: r["reason"] for r in rejects}
        flagged = {a["line"] for a in json.loads(row["artefacts"] or "[]")}
        if truth["cut_line"] is None:
            assert not lines, (truth, lines)  # nothing complete is ever rejected
            continue
        cut += 1
        line = truth["cut_line"]
        assert set(lines) <= {line}, (truth, lines)
        assert line in lines or line in flagged, (truth, row["reason"])
        if line not in lines:  # loaded: the manifest names the line as possibly cut
            assert f"文件末行（第 {line} 行）没有换行符，可能被截断" in row["reason"]
        if line in lines and truth["cut_column"]:
            header = ds.fields[truth["cut_column"] - 1].header
            assert f"第 {line} 行第 {truth['cut_column']} 列（{header}）" in lines[line]
    assert cut >= 10


def test_each_artefact_is_recorded_per_kind(results):
    truth_count, hit, recorded, right = Counter(), Counter(), Counter(), Counter()
    for _ds, _table, truth, row, _loaded, _rejects in results:
        kinds = {a["kind"] for a in json.loads(row["artefacts"] or "[]")}
        expected = set()
        for kind in truth["artefacts"]:
            wanted = RECORDED.get(kind, {kind})
            expected |= wanted
            truth_count[kind] += 1
            cut_rejected = kind == "cut" and row["rows_rejected"] == 1
            hit[kind] += bool(wanted & kinds) or not wanted or cut_rejected
        for kind in kinds - {"tab_separated"}:
            recorded[kind] += 1
            right[kind] += kind in expected
    for kind, n in truth_count.items():
        assert hit[kind] / n >= 0.995, (kind, hit[kind], n)
    for kind, n in recorded.items():
        assert right[kind] / n >= 0.995, (kind, right[kind], n)
    assert set(truth_count) == {k for ks in writers.ARTEFACTS.values() for k in ks}
