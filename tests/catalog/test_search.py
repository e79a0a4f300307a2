"""Search on the city-sized catalogue: Chinese, pinyin, initials, filters, injection, relevance."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bzdata.catalog.interface import Viewer
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


# --- paged, faceted search with the viewer's restriction inside the query ---------------------
# Truth for these comes from the sources the catalogue was built from (the synthetic city's
# catalogue.jsonl and the registry), read here as plain JSON/YAML, not from the catalogue.


def _source_rows(city_work) -> list[dict]:
    from bzdata.registry import load_registry

    path = city_work / "synth" / "catalogue" / "catalogue.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    for ds in load_registry().datasets:
        rows.append(
            {"id": ds.id, "provider": ds.provider, "share": ds.share.type, "open": ds.open.type}
        )
    return rows


def _may_see(row: dict, department: str | None) -> bool:
    if row["open"] in ("无条件开放", "有条件开放"):
        return True
    if department is None:
        return False
    return row["share"] in ("无条件共享", "有条件共享") or row["provider"] == department


def test_public_browse_counts_only_the_open_catalogue(city, city_work) -> None:
    rows = _source_rows(city_work)
    page = city.search_page("", viewer=Viewer.public(), filters={"layer": "资源目录"}, limit=5)
    assert page.total == sum(_may_see(r, None) for r in rows)
    opened = dict(page.facets["open"])
    assert set(opened) <= {"无条件开放", "有条件开放"}
    assert opened["无条件开放"] == sum(r["open"] == "无条件开放" for r in rows)
    assert opened["有条件开放"] == sum(r["open"] == "有条件开放" for r in rows)
    providers = dict(page.facets["provider"])
    expected = Counter(r["provider"] for r in rows if _may_see(r, None))
    assert providers == dict(expected)


def test_department_sees_shared_and_its_own_entries(city, city_work) -> None:
    rows = _source_rows(city_work)
    viewer = Viewer(department="mzj")
    page = city.search_page("", viewer=viewer, filters={"layer": "资源目录"}, limit=0)
    assert page.total == sum(_may_see(r, "mzj") for r in rows)
    own_closed = [
        r["id"]
        for r in rows
        if r["provider"] == "mzj" and r["share"] == "不予共享" and r["open"] == "不予开放"
    ]
    other_closed = [
        r["id"]
        for r in rows
        if r["provider"] != "mzj" and r["share"] == "不予共享" and r["open"] == "不予开放"
    ]
    assert own_closed and other_closed  # the city has closed entries on both sides
    assert city.entry(own_closed[0], viewer) is not None
    assert city.entry(other_closed[0], viewer) is None
    assert city.entry(other_closed[0], Viewer.public()) is None
    assert city.entry(other_closed[0]) is not None  # trusted callers see everything


@pytest.mark.parametrize("query", ["信息", "人口", "rk", "登记", "户籍"])
def test_restricted_entries_never_reach_the_public(city, city_work, query) -> None:
    source = {r["id"]: r for r in _source_rows(city_work)}
    page = city.search_page(query, viewer=Viewer.public(), limit=100_000)
    everyone = city.search_page(query, viewer=Viewer.everyone(), limit=100_000)
    assert page.total == len(page.hits)
    for hit in page.hits:
        entry = city.entry(hit.id)
        assert entry.open in ("无条件开放", "有条件开放"), hit.id
    hidden = [h.id for h in everyone.hits if h.id in source and not _may_see(source[h.id], None)]
    assert hidden, "the query should match some closed entries"
    assert not {h.id for h in page.hits} & set(hidden)
    # Facet counts never count what the viewer may not see.
    assert sum(n for _, n in page.facets["open"]) == page.total


def test_paging_walks_every_hit_once_in_order(city) -> None:
    viewer = Viewer(department="gaj")
    whole = city.search_page("登记", viewer=viewer, limit=100_000)
    assert whole.total > 120
    seen = []
    for offset in range(0, whole.total, 50):
        page = city.search_page("登记", viewer=viewer, offset=offset, limit=50)
        assert page.total == whole.total
        seen += [h.id for h in page.hits]
    assert seen == [h.id for h in whole.hits]
    assert len(set(seen)) == whole.total
    assert city.search_page("登记", viewer=viewer, offset=-5, limit=10).offset == 0


def test_facet_filter_narrows_and_keeps_alternatives(city) -> None:
    viewer = Viewer.public()
    base = city.search_page("名录", viewer=viewer, limit=0)
    cycles = dict(base.facets["update_cycle"])
    chosen = city.search_page("名录", viewer=viewer, filters={"update_cycle": "每月"}, limit=500)
    assert chosen.total == cycles["每月"]
    assert all(city.entry(h.id).update_cycle == "每月" for h in chosen.hits)
    # The chosen facet's own counts still show the other cycles (filters of other facets only).
    assert dict(chosen.facets["update_cycle"]) == cycles
    assert sum(n for _, n in chosen.facets["provider"]) == chosen.total


@pytest.mark.parametrize(
    "payload",
    ["' or 1=1 --", "'; select * from read_text('/etc/passwd') --", 'x") or ("1', "*"],
)
def test_injection_in_filters_and_query_of_search_page(city, payload) -> None:
    page = city.search_page(payload, viewer=Viewer.public(), filters={"provider": payload})
    assert page.total == 0 and not page.hits
    page = city.search_page(payload, viewer=Viewer.public(), limit=50)
    assert all(city.entry(h.id, Viewer.public()) is not None for h in page.hits)
    assert city.count() >= 5000


@pytest.mark.parametrize("query", ["rk", "renkou"])
def test_pinyin_queries_mark_the_words_they_read_as(city, query) -> None:
    hit = next(h for h in city.search(query, limit=3) if h.id == "lib_population")
    assert "【人口】" in hit.name_highlighted
    assert pinyin_of("人口") == ("renkou", "rk")  # the reading the mark stands for
