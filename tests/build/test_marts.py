"""主题库, 专题库 and 指标库 on the 2-month demo city, compared with the synthetic truth and the
registry files read here independently of the generator."""

from __future__ import annotations

import json

import pytest
import yaml

from bzdata import config

pytestmark = pytest.mark.slow

REGISTRY = config.project_root() / "catalog" / "registry"


def test_every_mart_model_is_built_described_and_keyed(city):
    manifest = json.loads((city.work / "dbt" / "target" / "manifest.json").read_text())
    marts = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n["name"].startswith(("theme_", "topic_", "indicator_"))
    }
    assert {
        "theme_economy",
        "theme_market_supervision",
        "theme_social_governance",
        "theme_social_security",
        "topic_enterprise_profile",
        "topic_community_people_housing",
        "indicator_library",
    } <= set(marts)
    for node in marts.values():
        assert {"owner_department", "share", "security_level"} <= set(node["config"]["meta"])
    for name in ("topic_enterprise_profile", "indicator_library"):
        assert marts[name]["config"]["contract"]["enforced"], name


def test_enterprise_profile_has_one_row_per_registered_entity(city):
    con = city.connect()
    truth = con.execute("select count(*) from truth_entities").fetchone()[0]
    count, distinct = con.execute(
        "select count(*), count(distinct uscc) from topic.topic_enterprise_profile"
    ).fetchone()
    assert count == distinct == truth


def test_headcount_equals_the_truth_where_the_insurance_register_is_clean(city):
    con = city.connect()
    persons = f"read_parquet('{city.synth}/truth/{city.period}/persons.parquet')"
    # Employers with an employee whose 人社 record carries a listed defect are excused.
    rows = con.execute(
        f"""
        with defective as (
            select distinct p.employer_uscc
            from ledger as l
            inner join {persons} as p on split_part(l.record_key, '|', 1) = p.citizen_id
            where l.dataset = 'rsj_shbx' and p.employer_uscc is not null
        )
        select t.uscc, t.employees, e.insured_employees
        from truth_entities as t
        inner join topic.topic_enterprise_profile as e on t.uscc = e.uscc
        where t.uscc not in (select employer_uscc from defective)
        """
    ).fetchall()
    assert len(rows) > 1000
    wrong = [r for r in rows if r[1] != r[2]]
    assert len(wrong) <= len(rows) // 200, wrong[:5]


def test_community_population_sums_to_the_population_library(city):
    con = city.connect()
    population = con.execute("select count(*) from base.lib_population").fetchone()[0]
    governance = con.execute(
        "select sum(population) from theme.theme_social_governance"
    ).fetchone()[0]
    community = con.execute(
        "select sum(population), count(*), count(distinct community_key) "
        "from topic.topic_community_people_housing"
    ).fetchone()
    assert governance == population
    assert community[0] == population
    assert community[1] == community[2]
    # Most persons are placed in a named community, not in 未识别.
    unplaced = con.execute(
        "select coalesce(sum(population), 0) from topic.topic_community_people_housing "
        "where community_name = '未识别'"
    ).fetchone()[0]
    assert unplaced < population * 0.02


def test_market_supervision_counts_match_the_entity_library(city):
    con = city.connect()
    theme = con.execute(
        "select sum(entity_count), sum(active_entity_count) from theme.theme_market_supervision"
    ).fetchone()
    lib = con.execute(
        "select count(*) filter (where regexp_full_match(entity_region, '[0-9]{6}')), "
        "count(*) filter (where regexp_full_match(entity_region, '[0-9]{6}') "
        "and entity_status = '1') from base.lib_legal_entity"
    ).fetchone()
    assert theme == lib


def _indicators() -> list[dict]:
    # BaseLoader: YAML 1.1 would read the key `no` as false; every value stays text.
    text = (REGISTRY / "indicators.yaml").read_text(encoding="utf-8")
    return [
        {**item, "no": int(item["no"])}
        for item in yaml.load(text, Loader=yaml.BaseLoader)["indicators"]
    ]


def test_all_45_indicators_with_the_registry_targets(city):
    con = city.connect()
    built = {
        no: (name, target, comparator, attribute, category, status)
        for no, name, target, comparator, attribute, category, status in con.execute(
            "select indicator_no, indicator_name, target_value, comparator, indicator_attribute, "
            "category, value_status from indicator.indicator_library"
        ).fetchall()
    }
    items = _indicators()
    assert len(items) == 45 and set(built) == {i["no"] for i in items}
    for item in items:
        name, target, comparator, attribute, category, status = built[item["no"]]
        assert (name, comparator, attribute, category) == (
            item["name"],
            item["comparator"],
            item["attribute"],
            item["category"],
        )
        assert target == pytest.approx(float(item["target"]))
        # The mart holds what the warehouse computes; the rest names where its value comes from.
        if item["source"] == "computed":
            expected = "需求清单" if item["no"] == 44 else "已计算"
        else:
            expected = "部门填报" if item.get("department") else "无责任部门"
        assert status == expected, item["no"]


def test_open_rate_indicator_recomputed_from_the_registry_files(city):
    datasets = [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((REGISTRY / "datasets").glob("*.yaml"))
    ]
    eligible = [d for d in datasets if d["security_level"] != "核心"]
    opened = [d for d in eligible if d["open"]["type"] != "不予开放"]
    expected = 100 * len(opened) / len(eligible)
    con = city.connect()
    value, completion, met = con.execute(
        "select indicator_value, completion_rate, is_met from indicator.indicator_library "
        "where indicator_no = 42"
    ).fetchone()
    assert value == pytest.approx(expected)
    assert completion == pytest.approx(min(expected / 95, 1.0))
    assert met == (expected >= 95)


def test_open_rows_indicator_counts_the_open_datasets_rows(city):
    open_ids = [
        path.stem
        for path in sorted((REGISTRY / "datasets").glob("*.yaml"))
        if yaml.safe_load(path.read_text(encoding="utf-8"))["open"]["type"] != "不予开放"
    ]
    con = city.connect()
    rows = 0
    for dataset in open_ids:
        dept, name = dataset.split("_", 1)
        rows += con.execute(
            f"select count(*) from intermediate.int_{dept}__{name}__latest"
        ).fetchone()[0]
    value = con.execute(
        "select indicator_value from indicator.indicator_library where indicator_no = 43"
    ).fetchone()[0]
    assert rows > 0
    assert value == pytest.approx(rows / 1e8)
