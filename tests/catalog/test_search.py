"""Search on the city-sized catalogue: Chinese, pinyin, initials, filters, injection, relevance."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bzdata.catalog.search import pinyin_of

RELEVANCE = Path(__file__).with_name("relevance.yaml")


def test_the_catalogue_is_city_sized(city) -> None:
    assert city.count() >= 5000


@pytest.mark.parametrize("query", ["人口", "renkou", "rk"])
def test_population_library_in_top_three(city, query) -> None:
    top = [hit.id for hit in city.search(query, limit=3)]
    assert "lib_population" in top, top


def test_one_character_query_finds_names_with_it(city) -> None:
    hits = city.search("税", limit=10)
    assert hits and all("税" in hit.name or "税" in hit.snippet for hit in hits)


def test_department_filter_returns_only_that_department(city) -> None:
    hits = city.search("信息", filters={"dept": "mzj"}, limit=200)
    assert hits
    assert {hit.provider for hit in hits} == {"mzj"}
    every = [e for e in city.entries() if e.provider == "mzj"]
    assert len(hits) <= len(every)


def test_filters_apply_inside_the_query(city) -> None:
    # Restricted entries never come back, not even beyond the limit: the filter is in the SQL.
    hits = city.search("名录", filters={"open": "无条件开放", "update_cycle": "每月"}, limit=500)
    assert hits
    for hit in hits:
        entry = city.entry(hit.id)
        assert entry.open == "无条件开放" and entry.update_cycle == "每月"


def test_unknown_filter_is_a_clear_error(city) -> None:
    with pytest.raises(ValueError, match="未知的筛选条件"):
        city.search("人口", filters={"id; drop table entries": "x"})


def test_sql_and_duckdb_text_is_just_a_query(city, tmp_path) -> None:
    payload = "'; select * from read_text('/etc/passwd') --"
    hits = city.search(payload)
    assert isinstance(hits, list)
    assert not any("root:" in hit.snippet for hit in hits)
    # The catalogue is intact and still answers.
    assert city.count() >= 5000 and city.search("人口", limit=1)


def test_name_matches_rank_above_abstract_matches(city) -> None:
    hits = city.search("养老", limit=20)
    in_name = [("养老" in hit.name) for hit in hits]
    # Every name match comes before any entry that only mentions it in the 摘要.
    assert in_name == sorted(in_name, reverse=True)


def test_snippets_highlight_the_match(city) -> None:
    hit = city.search("户籍", limit=1)[0]
    assert "【户籍】" in hit.snippet or "【户籍】" in hit.name_highlighted


def test_place_name_readings_are_corrected() -> None:
    assert pinyin_of("长山镇") == ("changshanzhen", "csz")
    assert pinyin_of("滨城区")[0] == "binchengqu"


def _relevant(city, item, hit_id) -> bool:
    if hit_id in item.get("ids", []):
        return True
    phrase = item.get("name_contains")
    return bool(phrase) and phrase in city.entry(hit_id).name


def test_relevance_set_precision_at_3_and_mrr(city) -> None:
    items = yaml.safe_load(RELEVANCE.read_text(encoding="utf-8"))
    assert len(items) >= 30
    precision, reciprocal = [], []
    for item in items:
        top = [hit.id for hit in city.search(str(item["query"]), limit=10)]
        flags = [_relevant(city, item, hit_id) for hit_id in top]
        wanted = min(3, len(item.get("ids", [])) or 3)
        precision.append(sum(flags[:3]) / wanted)
        reciprocal.append(next((1 / (i + 1) for i, ok in enumerate(flags) if ok), 0.0))
    p3 = sum(precision) / len(items)
    mrr = sum(reciprocal) / len(items)
    print(f"relevance: {len(items)} queries, precision@3 = {p3:.3f}, MRR = {mrr:.3f}")
    assert mrr >= 0.9 and p3 >= 0.8
