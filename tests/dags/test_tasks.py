"""Task bodies and the whole DAG under `dag.test()`, with the ingest replaced by recording fakes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import bzdata.ingest
from bzdata.ingest import Paths
from bzdata.orchestration import dags
from bzdata.orchestration.home import AirflowHome
from bzdata.orchestration.schedule import TIMEZONE
from bzdata.registry import load_registry

MONTHLY_IDS = [d.id for d in load_registry().datasets if d.update_cycle == "每月"]


class Recorder:
    """Fake ingest API: records every call in order; `fail` names datasets that raise."""

    def __init__(self, fail: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple] = []
        self.fail = fail

    def ingest_dataset(self, dataset_id, period, logical_date, paths, run_id):
        self.calls.append(("ingest", dataset_id, period, logical_date, paths, run_id))
        if dataset_id in self.fail:
            raise RuntimeError(f"模拟失败：{dataset_id}")
        return [
            {"status": "loaded", "rows_accepted": 10, "rows_rejected": 2},
            {"status": "missing", "rows_accepted": 0, "rows_rejected": 0},
        ]

    def refresh_warehouse(self, paths, *, run_id=None):
        self.calls.append(("refresh", paths, run_id))

    def build_libraries(self, logical_date, run_id):
        self.calls.append(("build", logical_date, run_id))
        return {}

    def check_quality(self, logical_date, run_id):
        self.calls.append(("quality", logical_date, run_id))
        return {"stop_downstream": False, "blocking": []}

    def build_scorecard(self, logical_date, run_id):
        self.calls.append(("scorecard", logical_date, run_id))
        return {}


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    fake = Recorder()
    # Real attributes shadow the package's lazy __getattr__, so task bodies import the fakes.
    monkeypatch.setattr(bzdata.ingest, "ingest_dataset", fake.ingest_dataset, raising=False)
    monkeypatch.setattr(bzdata.ingest, "refresh_warehouse", fake.refresh_warehouse, raising=False)
    monkeypatch.setattr(dags, "build_libraries", fake.build_libraries)
    monkeypatch.setattr(dags, "check_quality", fake.check_quality)
    monkeypatch.setattr(dags, "build_scorecard", fake.build_scorecard)
    return fake


# --- task bodies, called directly -------------------------------------------------------------


def test_collect_dataset_passes_period_logical_date_paths_and_run_id(
    recorder: Recorder, tmp_work: Path
) -> None:
    from bzdata.orchestration.dags import collect_dataset

    logical = datetime(2023, 2, 20, 18, tzinfo=UTC)  # 2023-02-21 02:00 in Beijing
    summary = collect_dataset("rsj_shbx", logical, "scheduled__x")
    (_, dataset_id, period, moment, paths, run_id) = recorder.calls[0]
    assert (dataset_id, period, run_id) == ("rsj_shbx", "2023-01", "scheduled__x")
    assert moment == logical and moment.utcoffset() == TIMEZONE.utcoffset(moment)
    assert type(moment) is datetime
    assert paths == Paths.from_work(tmp_work)
    assert summary == {
        "dataset": "rsj_shbx",
        "period": "2023-01",
        "deliveries": 2,
        "statuses": {"loaded": 1, "missing": 1},
        "rows_accepted": 10,
        "rows_rejected": 2,
    }


def test_a_run_without_logical_date_is_refused_in_chinese(recorder: Recorder) -> None:
    from bzdata.orchestration.dags import collect_dataset, refresh

    with pytest.raises(ValueError, match="逻辑日期"):
        collect_dataset("rsj_shbx", None, "manual__x")
    with pytest.raises(ValueError, match="逻辑日期"):
        refresh(None, "manual__x")
    assert recorder.calls == []


# --- the DAG under dag.test() -----------------------------------------------------------------


@pytest.mark.slow
def test_dag_test_runs_every_ingest_then_one_refresh(
    recorder: Recorder, migrated_home: AirflowHome, airflow_env: AirflowHome
) -> None:
    from bzdata.orchestration.runner import run_period

    lines: list[str] = []
    report = run_period("2023-01", migrated_home.work_dir, echo=lines.append)

    assert report.ok, lines
    assert [item.dag_id for item in report.dags] == ["bzdata_collect_monthly"]
    ingests = [call for call in recorder.calls if call[0] == "ingest"]
    assert sorted(call[1] for call in ingests) == sorted(MONTHLY_IDS)
    assert [call[0] for call in recorder.calls[-4:]] == ["refresh", "build", "quality", "scorecard"]
    assert len(recorder.calls) == len(MONTHLY_IDS) + 4
    expected_moment = datetime(2023, 2, 21, 2, tzinfo=TIMEZONE)
    assert {call[2] for call in ingests} == {"2023-01"}
    assert {call[3] for call in ingests} == {expected_moment}
    assert {call[4] for call in ingests} == {Paths.from_work(migrated_home.work_dir)}
    run_ids = {call[5] for call in ingests} | {call[-1] for call in recorder.calls[-4:]}
    assert len(run_ids) == 1
    outcome = report.dags[0]
    assert outcome.logical_date == expected_moment
    assert {item.task_id: item.state for item in outcome.tasks} == {
        **{f"ingest_{i}": "success" for i in MONTHLY_IDS},
        "refresh_warehouse": "success",
        "dbt_build": "success",
        "check_quality": "success",
        "quality_gate": "success",
        "scorecard": "success",
    }
    assert (
        "  ✔ ingest_rsj_shbx：成功（报送 2 份：已入库 1，未报送 1，接收 10 行，拒收 2 行）" in lines
    )


@pytest.mark.slow
def test_a_failed_ingest_fails_the_run_and_keeps_the_warehouse_untouched(
    recorder: Recorder, migrated_home: AirflowHome, airflow_env: AirflowHome
) -> None:
    from bzdata.orchestration.runner import run_period

    recorder.fail = ("gaj_hjrk",)
    lines: list[str] = []
    report = run_period("2023-01", migrated_home.work_dir, echo=lines.append)

    assert not report.ok
    states = {item.task_id: item.state for item in report.dags[0].tasks}
    assert states["ingest_gaj_hjrk"] == "failed"
    assert states["refresh_warehouse"] == "upstream_failed"
    assert all(states[f"ingest_{i}"] == "success" for i in MONTHLY_IDS if i != "gaj_hjrk")
    assert [call for call in recorder.calls if call[0] == "refresh"] == []
    # Failed once, not retried: in-process runs fail fast.
    assert [call[1] for call in recorder.calls].count("gaj_hjrk") == 1
    assert "  ✘ ingest_gaj_hjrk：失败" in lines
    assert "  ✘ refresh_warehouse：未运行（上游失败）" in lines


def test_the_quality_gate_stops_only_on_a_failed_severe_rule() -> None:
    from airflow.exceptions import AirflowFailException

    assert dags.quality_gate({"stop_downstream": False, "blocking": []}) == {"passed": True}
    with pytest.raises(AirflowFailException, match="严重级质量规则未通过：身份证号校验"):
        dags.quality_gate({"stop_downstream": True, "blocking": ["身份证号校验"]})
