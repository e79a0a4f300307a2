"""Failures stay local: one department's 前置库 refuses connections during a whole `bzdata run`
(collect DAG + publish DAG through dag.test) of a month of the synthetic city. Only its dataset
is 抽取失败, with the reason; every other dataset is collected, built, checked and scored."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq
import pytest

from bzdata.ingest import manifest as mf
from bzdata.orchestration.home import AirflowHome
from bzdata.registry import load_registry

PERIOD = "2023-01"
DOWN = "gaj"  # the department whose 前置库 is down
PASSWORD = "pw-of-a-down-server"


@pytest.mark.integration
@pytest.mark.slow
def test_a_refusing_frontdb_fails_only_its_own_dataset(
    migrated_home: AirflowHome, airflow_env: AirflowHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bzdata.orchestration.runner import run_period
    from bzdata.quality import outputs
    from bzdata.synth import generate

    work = migrated_home.work_dir
    for item in work.iterdir():  # this test's own city and lake; the Airflow home stays
        if item.name != "airflow":
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    generate(work / "synth", scale="demo", months=1, start_period=PERIOD)
    from tests.ingest.pg import free_port  # here, not at import: pg.py is also a plugin

    port = free_port()  # nothing listens: every connection attempt is refused
    monkeypatch.setenv(
        f"BZDATA_FRONTDB_URL_{DOWN.upper()}",
        f"postgresql+psycopg://bz:{PASSWORD}@127.0.0.1:{port}/frontdb",
    )
    registry = load_registry()
    due = {d.id for d in registry.datasets if d.is_due(PERIOD)}
    down = {d.id for d in registry.datasets if d.provider == DOWN and d.id in due}
    assert down and due - down

    lines: list[str] = []
    report = run_period(PERIOD, work, echo=lines.append)
    text = "\n".join(lines)

    collect, publish = report.dags
    states = {t.task_id: t.state for t in collect.tasks}
    assert {states[f"ingest_{d}"] for d in down} == {"failed"}, text
    assert {states[f"ingest_{d}"] for d in due - down} == {"success"}, text
    assert states["mark_collected"] == "success"
    published = {t.task_id: t.state for t in publish.tasks}
    for task_id in ("dbt_build", "check_quality", "severity_hold", "scorecard", "catalogue"):
        assert published[task_id] == "success", text

    lake = work / "lake"
    for dataset in down:
        (row,) = pq.read_table(mf.manifest_file(lake, dataset, PERIOD)).to_pylist()
        assert row["status"] == "failed"
        assert row["reason"].startswith("抽取失败：无法连接前置库")
        assert f"127.0.0.1:{port}" in row["reason"] and PASSWORD not in row["reason"]
    for dataset in due - down:
        rows = pq.read_table(mf.manifest_file(lake, dataset, PERIOD)).to_pylist()
        assert rows and all(r["status"] != "failed" for r in rows), dataset

    # Checked: every other dataset that has rules was validated on rows, without errors.
    from bzdata.quality.rules import load_rules

    results = pq.read_table(outputs.output_file(work, outputs.RULE_RESULTS, PERIOD)).to_pylist()
    checked = {r["dataset"] for r in results if (r["element_count"] or 0) > 0 and not r["error"]}
    with_rules = {rule.dataset for rule in load_rules().rules} & (due - down)
    assert with_rules and with_rules <= checked
    for dataset in down:  # nothing of the failed dataset was built for the period
        assert not list((lake / "raw" / dataset / f"period={PERIOD}").glob("*.parquet"))

    # Scored: every department has its row; the department that is down delivered nothing.
    scores = pq.read_table(work / "scorecard" / PERIOD / "scores.parquet").to_pylist()
    rows = {r["department"]: r for r in scores if r["period"] == PERIOD}
    assert {d.provider for d in registry.datasets if d.id in due} <= set(rows)
    assert (rows[DOWN]["deliveries_on_time"] or 0) + (rows[DOWN]["deliveries_late"] or 0) == 0
    others = [r for dept, r in rows.items() if dept != DOWN]
    assert sum((r["deliveries_on_time"] or 0) + (r["deliveries_late"] or 0) for r in others) > 0
