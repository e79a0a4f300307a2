"""The dbt files that come from the registry: committed = generated, and what they contain."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from bzdata.build import generate
from bzdata.build.dbt import PROJECT_DIR
from bzdata.registry import load_registry
from bzdata.registry import plan as registry_plan


def test_committed_dbt_files_equal_what_the_registry_generates():
    assert generate.stale(PROJECT_DIR) == []


def test_sources_list_every_dataset_and_column_of_the_registry_with_chinese_text():
    registry = load_registry()
    files = generate.generated_files(registry)
    sources = yaml.safe_load(files["models/staging/_sources.yml"].split("\n", 1)[1])
    tables = {t["name"]: t for t in sources["sources"][0]["tables"]}
    assert sources["sources"][0]["schema"] == "raw"
    censuses = {generate.census_source(ds): ds for ds in registry.datasets if ds.is_frontdb}
    assert censuses
    assert set(tables) == {ds.id for ds in registry.datasets} | set(censuses)
    for name, ds in censuses.items():
        columns = [c["name"] for c in tables[name]["columns"]]
        assert columns == [*ds.record_key, "_row_count", "period"]
    for ds in registry.datasets:
        columns = [c["name"] for c in tables[ds.id]["columns"]]
        assert columns == [*ds.columns, *generate.LINEAGE_NAMES, "period"]
        assert ds.name in tables[ds.id]["description"]
        assert tables[ds.id]["config"]["meta"]["owner_department"] == ds.provider
        for column in tables[ds.id]["columns"]:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in column["description"])


def test_one_staging_model_per_dataset_and_source_only_in_staging():
    registry = load_registry()
    files = generate.generated_files(registry)
    for ds in registry.datasets:
        sql = files[f"models/staging/{ds.provider}/{registry_plan.staging_model(ds)}.sql"]
        assert f"source('raw', '{ds.id}')" in sql
    for path in PROJECT_DIR.joinpath("models").rglob("*.sql"):
        if "staging" not in path.parts:
            assert "source(" not in path.read_text(encoding="utf-8"), path


def test_consistency_plan_covers_every_copy_holder_of_the_registry():
    registry = load_registry()
    plan = registry_plan.consistency_plan(registry)
    skipped = {what.split("/")[0] for what, _ in plan.skipped}
    checked = {c.element.id for c in plan.checks}
    for el in registry.data_elements:
        holders = {d.code for d in registry.copy_holders(el.id)}
        if not holders:
            assert el.id not in checked
            continue
        assert el.id in checked | skipped
    for check in plan.checks:
        assert check.authority.dept == check.element.authority
        assert {s.dept for s in check.holders} == {
            d.code for d in registry.copy_holders(check.element.id)
        }


def test_each_copy_is_compared_on_the_subject_it_describes():
    plan = registry_plan.consistency_plan(load_registry())
    pairs = {
        (s.dataset.id, s.value): s.key
        for c in plan.checks
        if c.element.id == "person_name"
        for s in c.holders
    }
    assert pairs[("mzj_hydj", "male_name")] == "male_id"
    assert pairs[("mzj_hydj", "female_name")] == "female_id"
    assert pairs[("wjw_csyxzm", "mother_name")] == "mother_id"
    assert pairs[("wjw_csyxzm", "person_name")] == "citizen_id"
    assert pairs[("zjj_wqba", "buyer_name")] == "buyer_id"


def test_write_refreshes_changed_files_and_removes_obsolete_generated_ones(tmp_path: Path):
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR / "models", project / "models")
    obsolete = project / "models/staging/old/stg_old__gone.sql"
    obsolete.parent.mkdir(parents=True)
    obsolete.write_text(generate.SQL_HEADER + "select 1\n", encoding="utf-8")
    hand_kept = project / "models/staging/_staging__unit_tests.yml"
    changed = project / "models/staging/gaj/stg_gaj__hjrk.sql"
    changed.write_text(changed.read_text(encoding="utf-8") + "-- edited\n", encoding="utf-8")

    problems = generate.stale(project)
    assert "多余 models/staging/old/stg_old__gone.sql" in problems
    assert "与登记簿不一致 models/staging/gaj/stg_gaj__hjrk.sql" in problems

    written = generate.write(project)
    assert changed in written
    assert not obsolete.exists()
    assert hand_kept.exists()
    assert generate.stale(project) == []
