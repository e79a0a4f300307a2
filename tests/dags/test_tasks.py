"""Task bodies: failures stay local and visible, only transient source errors are retried,
real sources must be configured outside the demo, and the publish gate waits for every cycle."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import bzdata.ingest
from bzdata.config import ConfigError
from bzdata.ingest import manifest as mf
from bzdata.ingest.frontdb import FrontdbConnectionError
from bzdata.orchestration import publish, tasks
from bzdata.orchestration.schedule import TIMEZONE
from bzdata.registry import load_registry

LOGICAL = datetime(2023, 4, 21, 2, tzinfo=TIMEZONE)  # monthly run of 2023-03
FRONTDB = next(d.id for d in load_registry().datasets if d.is_frontdb)
FILE_DS = next(d.id for d in load_registry().datasets if not d.is_frontdb)


@pytest.fixture
def demo(tmp_work: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BZDATA_ENV", "demo")
    return tmp_work


@pytest.fixture(autouse=True)
def no_airflow_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    # No Airflow Connection is defined in these tests (the lookup needs a running task).
    monkeypatch.setattr("bzdata.orchestration.sources.connection_url", lambda conn_id: None)


def _manifest_rows(work: Path, dataset: str) -> list[dict]:
    return pq.read_table(mf.manifest_file(work / "lake", dataset, "2023-03")).to_pylist()


def _raise(exc: Exception):
    def ingest(*args, **kwargs):
        raise exc

    return ingest


def test_a_deterministic_error_fails_at_once_and_is_recorded(demo: Path, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setattr(
        bzdata.ingest, "ingest_dataset", _raise(ValueError("坏文件")), raising=False
    )
    with pytest.raises(AirflowFailException, match="不重试"):
        tasks.collect_dataset(FILE_DS, LOGICAL, "r1", try_number=1, max_tries=2)
    (row,) = _manifest_rows(demo, FILE_DS)
    assert (
        row["status"] == "failed"
        and "坏文件" in row["reason"]
        and row["reason"].startswith("抽取失败")
    )


def test_a_refused_connection_is_retried_then_recorded_on_the_last_try(
    demo: Path, monkeypatch
) -> None:
    refused = FrontdbConnectionError("无法连接前置库 127.0.0.1:1/x：connection refused")
    monkeypatch.setattr(bzdata.ingest, "ingest_dataset", _raise(refused), raising=False)
    with pytest.raises(FrontdbConnectionError):
        tasks.collect_dataset(FRONTDB, LOGICAL, "r1", try_number=1, max_tries=2)
    assert not mf.manifest_file(demo / "lake", FRONTDB, "2023-03").exists()  # Airflow retries
    with pytest.raises(FrontdbConnectionError):
        tasks.collect_dataset(FRONTDB, LOGICAL, "r1", try_number=3, max_tries=2)
    (row,) = _manifest_rows(demo, FRONTDB)
    assert row["status"] == "failed" and "connection refused" in row["reason"]


def test_outside_the_demo_a_missing_landing_directory_names_the_setting(
    tmp_work, monkeypatch
) -> None:
    monkeypatch.setenv("BZDATA_ENV", "local")
    monkeypatch.delenv("BZDATA_LANDING", raising=False)
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match="BZDATA_LANDING"):
        tasks.collect_dataset(FILE_DS, LOGICAL, "r1")
    (row,) = _manifest_rows(tmp_work, FILE_DS)
    assert "BZDATA_LANDING" in row["reason"]


def test_outside_the_demo_a_missing_frontdb_connection_names_it(tmp_work, monkeypatch) -> None:
    monkeypatch.setenv("BZDATA_ENV", "local")
    ds = load_registry().dataset(FRONTDB)
    monkeypatch.delenv(f"BZDATA_FRONTDB_URL_{ds.provider.upper()}", raising=False)
    # Even a synthetic city in the work folder is not used outside the demo.
    (tmp_work / "synth" / "frontdb" / "2023-03").mkdir(parents=True)
    (tmp_work / "synth" / "frontdb" / "2023-03" / f"{ds.provider}.sqlite").write_bytes(b"")
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException) as caught:
        tasks.collect_dataset(FRONTDB, LOGICAL, "r1")
    assert f"bzdata_frontdb_{ds.provider}" in str(caught.value)
    assert f"BZDATA_FRONTDB_URL_{ds.provider.upper()}" in str(caught.value)


def test_an_unknown_environment_is_refused() -> None:
    import os

    from bzdata import config

    os.environ["BZDATA_ENV"] = "prod"
    try:
        with pytest.raises(ConfigError, match="demo、local、scaleout"):
            config.settings()
    finally:
        del os.environ["BZDATA_ENV"]


def test_an_airflow_connection_becomes_a_sqlalchemy_url() -> None:
    from airflow.sdk import Connection

    from bzdata.orchestration.sources import to_sqlalchemy_url

    conn = Connection(
        conn_id="bzdata_frontdb_gaj",
        conn_type="postgres",
        host="10.0.0.5",
        login="reader",
        password="p@ss",
        port=5433,
        schema="qzk",
    )
    assert to_sqlalchemy_url(conn) == "postgresql+psycopg://reader:p%40ss@10.0.0.5:5433/qzk"
    with pytest.raises(ConfigError, match="bzdata_frontdb_x"):
        to_sqlalchemy_url(Connection(conn_id="bzdata_frontdb_x", conn_type="http", host="h"))


def test_mark_collected_records_datasets_whose_task_left_nothing(demo: Path) -> None:
    result = tasks.mark_collected([FILE_DS], LOGICAL, "r1")
    assert result["unrecorded"] == [FILE_DS]
    assert _manifest_rows(demo, FILE_DS)[0]["status"] == "failed"


def test_the_gate_waits_for_every_cycle_due_and_publishes_a_period_once(demo: Path) -> None:
    lake = demo / "lake"
    registry = load_registry()
    monthly = [d.id for d in registry.datasets if d.update_cycle == "每月"]
    quarterly = [d.id for d in registry.datasets if d.update_cycle == "每季"]
    # Quarterly collected first: the quarter-end month still waits for the monthly datasets.
    tasks.mark_collected(quarterly, datetime(2023, 4, 16, 2, tzinfo=TIMEZONE), "q")
    state = publish.readiness(demo, lake, "2023-03")
    assert not state.go and set(state.waiting) == set(monthly)
    # February has no quarterly delivery: monthly alone is enough.
    assert set(publish.waiting_for(lake, "2023-02")) == set(monthly)
    tasks.mark_collected(monthly, LOGICAL, "m")
    assert publish.readiness(demo, lake, "2023-03").go
    publish.record_publication(demo, lake, "2023-03", "p1")
    assert publish.readiness(demo, lake, "2023-03").already_published
    assert publish.readiness(demo, lake, "2023-03", force=True).go
    tasks.mark_collected(monthly[:1], LOGICAL, "m")  # no change: nothing new to publish
    assert not publish.readiness(demo, lake, "2023-03").go


def test_the_period_comes_from_conf_or_the_latest_asset_event() -> None:
    class Event:
        def __init__(self, period: str) -> None:
            self.extra = {"period": period}

    events = {"bzdata_collected_monthly": [Event("2023-02"), Event("2023-03")]}
    assert publish.period_from({}, events) == "2023-03"
    assert publish.period_from({"period": "2023-01"}, events) == "2023-01"
    assert publish.period_from(None, {}) is None


def test_the_hold_list_names_datasets_failing_a_severe_rule(demo: Path) -> None:
    import pyarrow as pa

    from bzdata.quality import outputs

    rows = [
        {"dataset": "gaj_hjrk", "rule_id": "r_severe", "severity": "严重", "unexpected_count": 3},
        {"dataset": "gaj_hjrk", "rule_id": "r_ok", "severity": "严重", "unexpected_count": 0},
        {"dataset": "rsj_shbx", "rule_id": "r_minor", "severity": "一般", "unexpected_count": 9},
    ]
    path = outputs.output_file(demo, outputs.RULE_RESULTS, "2023-03")
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    assert publish.write_holds(demo, "2023-03") == {"gaj_hjrk": ["r_severe"]}
    ctx = publish.publish_context(demo, "2023-03")
    assert "gaj_hjrk" not in ctx.allowed and "rsj_shbx" in ctx.allowed
    assert ctx.held == {"gaj_hjrk": ["r_severe"]}


def test_the_openmetadata_step_skips_when_no_server_is_configured(tmp_path, monkeypatch) -> None:
    from bzdata.orchestration.publish import PublishContext, openmetadata_step

    monkeypatch.delenv("BZDATA_OM_SERVER", raising=False)
    monkeypatch.delenv("BZDATA_OM_TOKEN", raising=False)
    report = openmetadata_step(PublishContext(tmp_path, "2023-01", (), {}))
    assert report["status"] == "未配置"
    assert "bzdata_openmetadata" in report["detail"]
    assert not (tmp_path / "catalog").exists()  # nothing published, nothing written


def test_indicator_task_takes_the_periods_returns_and_names_every_refusal(demo: Path) -> None:
    from bzdata.indicators.channel import read_values
    from bzdata.synth.indicators import write_reports

    periods = ["2023-01", "2023-02", "2023-03"]
    ledgers = write_reports(demo / "synth", load_registry(), periods, 20230101)
    result = tasks.ingest_indicator_reports(LOGICAL, "m")
    assert result["period"] == "2023-03"
    ledger = ledgers["2023-03"].to_pylist()
    refused_rows = [r for r in ledger if r["defect_kind"] in ("wrong_unit", "out_of_range")]
    assert len(result["rejects"]) == len(refused_rows)
    for reject in result["rejects"]:
        assert reject["source_file"].endswith(".xlsx") and reject["source_row"] >= 2
        assert reject["reason"]
    values = read_values(demo / "lake").to_pylist()
    assert values and {r["period"] for r in values} == {"2023-03"}
    assert result["rows_accepted"] == len(values)
