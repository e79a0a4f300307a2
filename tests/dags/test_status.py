"""What a data engineer sees of a failure and of a hold: `bzdata status` names a failed
collection 抽取失败 with its reason, and the publish steps leave held datasets out and say so."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bzdata.cli import main
from bzdata.ingest.frontdb import FrontdbConnectionError
from bzdata.orchestration import publish, tasks
from bzdata.orchestration.schedule import TIMEZONE
from bzdata.registry import load_registry

PERIOD = "2023-03"
LOGICAL = datetime(2023, 4, 21, 2, tzinfo=TIMEZONE)  # monthly run of 2023-03
PASSWORD = "s3cret-never-shown"


@pytest.fixture
def demo(tmp_work: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BZDATA_ENV", "demo")
    # No Airflow Connection is defined here (the lookup needs a running task).
    monkeypatch.setattr("bzdata.orchestration.sources.connection_url", lambda conn_id: None)
    return tmp_work


def test_status_names_a_refused_frontdb_extraction_failed_with_its_reason(
    demo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = next(d for d in load_registry().datasets if d.is_frontdb)
    from tests.ingest.pg import free_port  # here, not at import: pg.py is also a plugin

    port = free_port()  # nothing listens there: the connection is refused
    monkeypatch.setenv(
        f"BZDATA_FRONTDB_URL_{ds.provider.upper()}",
        f"postgresql+psycopg://u:{PASSWORD}@127.0.0.1:{port}/frontdb",
    )
    with pytest.raises(FrontdbConnectionError):  # the last try: recorded, then failed
        tasks.collect_dataset(ds.id, LOGICAL, "r1", try_number=1, max_tries=0)

    assert main(["status", "--period", PERIOD, "--work", str(demo)]) == 0
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if line.startswith(f"{PERIOD}  {ds.id} ")]
    assert "抽取失败" in row and "failed" not in row
    (note,) = [line for line in out.splitlines() if line.startswith(f"- {PERIOD} {ds.id} ")]
    assert "抽取失败：无法连接前置库" in note and f"127.0.0.1:{port}" in note
    assert PASSWORD not in out


def _severe_failure(work: Path, dataset: str, rule: str) -> None:
    from bzdata.quality import outputs

    def row(dataset: str, rule: str, severity: str, failing: int) -> dict:
        return {
            "period": PERIOD,
            "dataset": dataset,
            "department": dataset.split("_")[0],
            "rule_id": rule,
            "rule_name": rule,
            "template": "not_null",
            "dimension": "完整性",
            "severity": severity,
            "element_count": 100,
            "unexpected_count": failing,
            "pass_rate": 1 - failing / 100,
            "engine": "great_expectations",
            "error": None,
        }

    rows = [row(dataset, rule, "严重", 2), row("rsj_shbx", "r_minor", "一般", 9)]
    path = outputs.output_file(work, outputs.RULE_RESULTS, PERIOD)
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=outputs.RULE_RESULTS_SCHEMA), path)


def _dataset_entries(work: Path) -> set[str]:
    from bzdata.catalog.store import catalogue_path

    with sqlite3.connect(catalogue_path(work)) as con:
        return {r[0] for r in con.execute("select id from entries where kind = 'dataset'")}


def test_the_catalogue_step_leaves_held_datasets_out_and_says_so(
    demo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = load_registry()
    _severe_failure(demo, "gaj_hjrk", "r_severe")
    publish.write_holds(demo, PERIOD)
    ctx = publish.publish_context(demo, PERIOD)

    with caplog.at_level("WARNING"):
        result = publish.build_catalogue_of(ctx)

    # Read back from the catalogue file itself, compared with the registry's own list.
    assert _dataset_entries(demo) == {d.id for d in registry.datasets} - {"gaj_hjrk"}
    assert result["held"] == ["gaj_hjrk"]
    assert "暂停发布 1 个数据集" in result["hold_notice"]
    assert "gaj_hjrk（r_severe）" in result["hold_notice"]
    assert result["hold_notice"] in caplog.text

    # Fixed next time (no severe failure): the dataset is published again.
    from bzdata.quality import outputs

    outputs.output_file(demo, outputs.RULE_RESULTS, PERIOD).unlink()
    publish.write_holds(demo, PERIOD)
    again = publish.build_catalogue_of(publish.publish_context(demo, PERIOD))
    assert _dataset_entries(demo) == {d.id for d in registry.datasets}
    assert again["held"] == [] and again["hold_notice"] == ""


def test_the_openmetadata_step_reports_the_held_datasets(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BZDATA_OM_SERVER", raising=False)
    monkeypatch.delenv("BZDATA_OM_TOKEN", raising=False)
    _severe_failure(demo, "scjgj_sczt", "r_uscc")
    publish.write_holds(demo, PERIOD)
    report = publish.openmetadata_step(publish.publish_context(demo, PERIOD))
    assert report["status"] == "未配置"
    assert report["held"] == ["scjgj_sczt"]
    assert "scjgj_sczt（r_uscc）" in report["hold_notice"]
