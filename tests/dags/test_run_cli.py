"""`bzdata run`: Chinese help and errors, default period, exit codes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bzdata import cli
from bzdata.orchestration import runner
from bzdata.orchestration.runner import DagOutcome, RunReport, TaskOutcome, latest_period
from bzdata.orchestration.schedule import TIMEZONE


def test_help_is_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：bzdata run")
    assert "--period YYYY-MM" in out and "报送期" in out


def test_bad_period_is_a_chinese_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--period", "2023-13"]) == 2
    assert "期次应为 YYYY-MM 格式" in capsys.readouterr().err


def test_latest_period_comes_from_the_landing_zone(tmp_path: Path) -> None:
    assert latest_period(tmp_path / "absent") is None
    for rel in ["gaj/gaj_hjrk/2023-01", "rsj/rsj_shbx/2023-03", "rsj/rsj_shbx/2023-02", "x/y/tmp"]:
        (tmp_path / rel).mkdir(parents=True)
    (tmp_path / "x" / "y" / "2024-01").write_text("a file, not a period folder")
    assert latest_period(tmp_path) == "2023-03"


def test_no_landed_period_stops_before_airflow_starts(
    tmp_work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # tmp_work is not the session's Airflow home: reaching configure() would raise instead.
    # --demo: the landing zone is the (empty) synthetic one under the work folder.
    assert cli.main(["run", "--demo", "--work", str(tmp_work)]) == 2
    err = capsys.readouterr().err
    assert "没有任何报送期目录" in err and "--period" in err


def _report(ok: bool, work: Path) -> RunReport:
    state = "success" if ok else "failed"
    tasks = [TaskOutcome("ingest_gaj_hjrk", state), TaskOutcome("refresh_warehouse", state)]
    moment = datetime(2023, 2, 21, 2, tzinfo=TIMEZONE)
    outcome = DagOutcome("bzdata_collect_monthly", "2023-01", moment, state, tasks, 1.0)
    return RunReport(period="2023-01", work_dir=work, dags=[outcome], timings={"解析 DAG": 0.1})


@pytest.mark.parametrize(("ok", "code"), [(True, 0), (False, 1)])
def test_exit_code_follows_the_tasks(
    ok: bool,
    code: int,
    tmp_work: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen = []

    def fake_run_period(period, work_dir, *, quiet):
        seen.append((period, work_dir, quiet))
        return _report(ok, tmp_work)

    monkeypatch.setattr(runner, "run_period", fake_run_period)
    assert cli.main(["run", "--period", "2023-01", "--work", str(tmp_work)]) == code
    assert seen == [("2023-01", tmp_work, True)]
    captured = capsys.readouterr()
    if ok:
        assert "完成：报送期 2023-01 的 1 个汇聚 DAG 全部成功" in captured.out
    else:
        assert "bzdata_collect_monthly 有任务失败" in captured.err
