"""目录 and 需求清单 pages over the published snapshot (in-process HTTP client).

Truth comes from the registry, the dbt manifest and the synthetic city's catalogue.jsonl read
here as plain files, and from the lake's rule results counted with an independent DuckDB query.
"""

from __future__ import annotations

import contextlib
import json
import re

import duckdb
import pytest
from fastapi.testclient import TestClient

from bzdata import snapshot
from bzdata.portal import accounts as acc
from bzdata.portal.app import create_app
from bzdata.registry import load_registry

from .conftest import PASSWORD


def _csrf(client: TestClient, path: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(path).text)[1]


def _login(client: TestClient, user: str) -> None:
    r = client.post(
        "/login",
        data={"username": user, "password": PASSWORD, "csrf": _csrf(client, "/login")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


@pytest.fixture(scope="module")
def app(portal_city):
    store = acc.Accounts(portal_city.work)
    for user, dept in (("gaj_cat", "gaj"), ("wjw_cat", "wjw"), ("dsj_cat", "dsj")):
        with contextlib.suppress(acc.AccountError):
            store.add(user, dept, PASSWORD)
    return create_app(portal_city.work, rate_limit=10_000)


def _registered(portal_city) -> list[dict]:
    path = portal_city.work / "synth" / "catalogue" / "catalogue.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


OPEN = ("无条件开放", "有条件开放")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


def _sources(portal_city) -> list[dict]:
    """Every 资源目录 entry as its sources give it: the registry and the city's jsonl."""
    rows = [
        {"id": r["id"], "provider": r["provider"], "share": r["share"], "open": r["open"]}
        for r in _registered(portal_city)
    ]
    for ds in load_registry().datasets:
        rows.append(
            {"id": ds.id, "provider": ds.provider, "share": ds.share.type, "open": ds.open.type}
        )
    return rows


def _manifest(portal_city) -> dict:
    return json.loads((portal_city.work / "dbt" / "target" / "manifest.json").read_text("utf-8"))


def _total(page) -> int:
    found = re.search(r'<b id="total">(\d+)</b>', page.text)
    return int(found[1]) if found else 0


def _hit_ids(page) -> list[str]:
    return re.findall(r'<a class="name" href="/catalog/entry/([^"]+)"', page.text)


def test_public_search_counts_match_the_sources(app, portal_city):
    client = TestClient(app)
    rows = _sources(portal_city)
    page = client.get("/catalog", params={"layer": "资源目录"})
    assert page.status_code == 200
    assert _total(page) == sum(r["open"] in OPEN for r in rows)
    closed = client.get("/catalog", params={"layer": "资源目录", "open": "不予开放"})
    assert _total(closed) == 0 and "没有找到" in closed.text
    gaj = client.get("/catalog", params={"layer": "资源目录", "provider": "gaj"})
    assert _total(gaj) == sum(r["open"] in OPEN and r["provider"] == "gaj" for r in rows)


@pytest.mark.parametrize("query", ["人口", "rk", "登记", "户籍人口", "renkou"])
def test_public_search_never_lists_closed_entries(app, portal_city, query):
    client = TestClient(app)
    source = {r["id"]: r for r in _sources(portal_city)}
    page = client.get("/catalog", params={"q": query})
    assert page.status_code == 200
    ids = _hit_ids(page)
    for entry_id in ids:
        if entry_id in source:
            assert source[entry_id]["open"] in OPEN, entry_id
    closed = [i for i, r in source.items() if r["open"] == "不予开放"][:3]
    for entry_id in closed:
        assert client.get(f"/catalog/entry/{entry_id}").status_code == 404


def test_department_finds_the_population_library(app):
    client = TestClient(app)
    _login(client, "gaj_cat")
    for query in ("人口", "renkou", "rk"):
        page = client.get("/catalog", params={"q": query})
        assert "lib_population" in _hit_ids(page)[:3], query
        assert "<mark>" in page.text
    # The public does not see the population library: it is 不予开放.
    public = TestClient(app).get("/catalog", params={"q": "人口"})
    assert "lib_population" not in _hit_ids(public)
    assert TestClient(app).get("/catalog/entry/lib_population").status_code == 404


def test_paging_shows_each_hit_once(app):
    client = TestClient(app)
    first = client.get("/catalog", params={"q": "登记"})
    total = _total(first)
    assert total > 40
    seen = []
    for number in range(1, -(-total // 20) + 1):
        seen += _hit_ids(client.get("/catalog", params={"q": "登记", "page": number}))
    assert len(seen) == total == len(set(seen))


def test_dataset_page_metadata_fields_and_lineage(app, portal_city):
    client = TestClient(app)
    _login(client, "gaj_cat")
    registry = load_registry()
    ds = registry.dataset("gaj_hjrk")
    page = client.get("/catalog/entry/gaj_hjrk")
    assert page.status_code == 200
    for text in (ds.name, ds.resource_code, ds.share.type, ds.open.type, ds.update_cycle):
        assert text in page.text
    for field in ds.fields:  # each 信息项 with its data element's Chinese name
        element = registry.element(field.element)
        assert f'<td class="mono">{field.column}</td><td>{element.name}</td>' in page.text
    manifest = _manifest(portal_city)
    source = next(
        uid
        for uid, node in manifest["sources"].items()
        if (node.get("meta") or {}).get("dataset") == "gaj_hjrk" and node["name"] == "gaj_hjrk"
    )
    assert f'href="/catalog/entry/raw.{manifest["sources"][source]["name"]}"' in page.text
    raw = client.get("/catalog/entry/raw.gaj_hjrk")
    children = [c for c in manifest["child_map"][source] if c.startswith("model.")]
    assert children
    for child in children:
        assert f'href="/catalog/entry/{manifest["nodes"][child]["name"]}"' in raw.text
    assert 'href="/catalog/entry/gaj_hjrk"' in raw.text  # upstream, back to the registry entry


def test_quality_trend_matches_an_independent_query(app, portal_city):
    client = TestClient(app)
    _login(client, "gaj_cat")
    page = client.get("/catalog/entry/gaj_hjrk")
    lake = portal_city.work / "lake" / "quality" / "rule_results"
    published = snapshot.current(portal_city.work).manifest["rule_periods"]
    rows = duckdb.execute(
        "select dimension, period, 1 - sum(unexpected_count) / sum(element_count) "
        "from read_parquet(?, hive_partitioning = true) where dataset = 'gaj_hjrk' "
        "and (error is null or error = '') and period <= ? group by all order by all",
        [str(lake / "*" / "*.parquet"), max(published)],
    ).fetchall()
    assert rows
    expected: dict[str, list[str]] = {}
    for dimension, _, rate in rows:
        expected.setdefault(dimension, []).append(f"{rate * 100:.1f}%")
    for dimension, cells in expected.items():
        row = re.search(rf'<tr data-dimension="{dimension}">(.*?)</tr>', page.text, re.S)
        assert row, dimension
        assert re.findall(r'<td class="wide">([^<]*)</td>', row[1]) == cells, dimension


def _delivered_rows(portal_city, dataset: str, period: str) -> int:
    """Rows the lake holds for a dataset up to a period (read here with pyarrow)."""
    import pyarrow.dataset as pds

    folder = portal_city.work / "lake" / "raw" / dataset
    files = [
        str(f)
        for f in folder.glob("period=*/*.parquet")
        if f.parent.name.removeprefix("period=") <= period
    ]
    return pds.dataset(files, format="parquet").count_rows() if files else 0


def test_samples_only_where_open_allows(app, portal_city):
    registry = load_registry()
    public, dept = TestClient(app), TestClient(app)
    _login(dept, "gaj_cat")
    snap = snapshot.current(portal_city.work)
    by_open: dict[str, list] = {}
    for ds in registry.datasets:
        by_open.setdefault(ds.open.type, []).append(ds)
    shown = 0
    for ds in by_open["无条件开放"]:
        page = public.get(f"/catalog/entry/{ds.id}")
        has_rows = _delivered_rows(portal_city, ds.id, snap.period) > 0
        assert ('<table class="sample">' in page.text) == has_rows, ds.id
        shown += has_rows
    for ds in by_open["有条件开放"]:
        assert '<table class="sample">' not in public.get(f"/catalog/entry/{ds.id}").text
        page = dept.get(f"/catalog/entry/{ds.id}")
        has_rows = _delivered_rows(portal_city, ds.id, snap.period) > 0
        assert ('<table class="sample">' in page.text) == has_rows, ds.id
        assert not ID_NUMBER.search(page.text), ds.id
        shown += has_rows
    assert shown >= 3  # the check saw real samples, not only empty ones
    for ds in by_open["不予开放"]:
        assert f"samples/{ds.id}.parquet" not in snap.manifest["files"]  # never published
    own = dept.get("/catalog/entry/gaj_hjrk")
    assert own.status_code == 200 and '<table class="sample">' not in own.text
    assert not ID_NUMBER.search(own.text)


def test_file_a_demand_list_it_and_answer_it(app, portal_city):
    public = TestClient(app)
    token = _csrf(public, "/demands/new")
    form = {
        "title": "户籍人口基本信息",
        "fields": "公民身份号码、姓名、血型",
        "purpose": "社会救助对象核查",
        "requester": "市民政局救助科",
        "provider": "gaj",
        "csrf": token,
    }
    r = public.post("/demands", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    demand_id = r.headers["location"].rsplit("/", 1)[1]
    page = public.get(f"/demands/{demand_id}")
    assert "待答复" in page.text and "部分满足" in page.text and "血型" in page.text
    assert demand_id in public.get("/demands").text
    assert demand_id in public.get("/demands", params={"provider": "gaj"}).text
    assert demand_id not in public.get("/demands", params={"provider": "wjw"}).text
    from bzdata.catalog.build import demand_store
    from bzdata.catalog.demand import load_demands

    store = demand_store(portal_city.work)
    # Department B (wjw) cannot answer a demand addressed to A (gaj), by form or by URL.
    other = TestClient(app)
    _login(other, "wjw_cat")
    assert "提交答复" not in other.get(f"/demands/{demand_id}").text
    token = _csrf(other, "/demands/new")
    r = other.post(f"/demands/{demand_id}/answer", data={"answer": "同意", "csrf": token})
    assert r.status_code == 403
    assert load_demands(store)[demand_id].status == "待答复"
    # The provider answers; a refusal without a reason is refused with the reason why.
    owner = TestClient(app)
    _login(owner, "gaj_cat")
    token = _csrf(owner, f"/demands/{demand_id}")
    r = owner.post(f"/demands/{demand_id}/answer", data={"answer": "拒绝", "csrf": token})
    assert r.status_code == 400 and "必须说明理由" in r.text
    assert load_demands(store)[demand_id].status == "待答复"
    r = owner.post(
        f"/demands/{demand_id}/answer",
        data={"answer": "拒绝", "reason": "血型不在户籍登记范围内", "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    item = load_demands(store)[demand_id]
    assert item.status == "拒绝" and item.answer_reason == "血型不在户籍登记范围内"
    assert "血型不在户籍登记范围内" in public.get(f"/demands/{demand_id}").text


def test_demand_forms_without_csrf_are_refused(app, portal_city):
    client = TestClient(app)
    client.get("/demands/new")
    form = {"title": "x", "purpose": "y", "requester": "z", "provider": "gaj"}
    assert client.post("/demands", data=form).status_code == 403
    _login(client, "gaj_cat")
    assert client.post("/demands/XQ0000000000/answer", data={"answer": "同意"}).status_code == 403


PAYLOADS = (
    "' or 1=1 --",
    "'; select * from read_text('/etc/passwd') --",
    "x') union select content from read_csv('/etc/passwd') --",
    "read_text('/etc/passwd')",
    '" OR "1',
    "*",
)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_in_every_new_parameter(app, portal_city, payload):
    client = TestClient(app)
    _login(client, "gaj_cat")
    requests = [("/catalog", {"q": payload})]
    for name in ("provider", "layer", "share", "open", "security_level", "update_cycle"):
        requests.append(("/catalog", {"q": "人口", name: payload}))
    requests += [
        ("/catalog", {"q": "人口", "page": payload}),
        ("/catalog/entry/" + payload, {}),
        ("/demands", {"provider": payload}),
        ("/demands", {"status": payload, "mine": payload}),
        ("/demands/new", {"provider": payload, "title": payload}),
        ("/demands/" + payload, {}),
    ]
    for path, params in requests:
        r = client.get(path, params=params)
        assert r.status_code in (200, 400, 404, 422), (path, params, r.status_code)
        assert "root:" not in r.text and "/bin/bash" not in r.text
        if path == "/catalog" and "q" in params and len(params) == 2 and "page" not in params:
            assert _total(r) == 0  # a payload as a facet value matches no entry
    token = _csrf(client, "/demands/new")
    r = client.post(
        "/demands",
        data={
            "title": payload,
            "fields": payload,
            "purpose": payload,
            "provider": payload,
            "csrf": token,
        },
    )
    assert r.status_code == 400 and "root:" not in r.text
    catalogue = snapshot.current(portal_city.work).path / "catalog.sqlite"
    assert duckdb.connect().execute("select 1").fetchone()  # the test's own engine still works
    import sqlite3

    with sqlite3.connect(f"file:{catalogue}?mode=ro", uri=True) as con:
        assert con.execute("select count(*) from entries").fetchone()[0] > 5000


def test_published_samples_hide_personal_values(portal_city):
    """Every personal 信息项 of a published sample differs from what the lake holds for it."""
    import pyarrow.dataset as pds
    import pyarrow.parquet as pq

    registry = load_registry()
    snap = snapshot.current(portal_city.work)
    checked = 0
    for ds in registry.datasets:
        if f"samples/{ds.id}.parquet" not in snap.manifest["files"]:
            continue
        sample = pq.read_table(snap.path / "samples" / f"{ds.id}.parquet").to_pydict()
        lake = pds.dataset(str(portal_city.work / "lake" / "raw" / ds.id), format="parquet")
        for field in ds.fields:
            if not field.personal:
                continue
            delivered = {v for v in lake.to_table(columns=[field.column])[0].to_pylist() if v}
            shown = [v for v in sample[field.column] if v]
            assert shown and not set(shown) & delivered, (ds.id, field.column)
            checked += 1
    assert checked >= 2
    # An ID number keeps only its first 6 and last 4 characters (the platform's masking rule).
    ids = pq.read_table(snap.path / "samples" / "scjgj_sczt.parquet")["legal_rep_id"].to_pylist()
    assert ids and all(re.fullmatch(r"\d{6}\*{8}[\dX*]{4}", v) for v in ids if v), ids


def test_facet_links_lead_to_the_counts_they_show(app, portal_city):
    client = TestClient(app)
    page = client.get("/catalog", params={"q": "登记"})
    rows = _sources(portal_city)
    for facet in ("update_cycle", "provider", "open"):
        section = re.search(rf'data-facet="{facet}">(.*?)</section>', page.text, re.S)[1]
        links = re.findall(r'<a href="([^"]+)">[^<]+</a> <span class="count">(\d+)</span>', section)
        assert links, facet
        for href, count in links[:3]:
            followed = client.get(href.replace("&amp;", "&"))
            assert _total(followed) == int(count), (facet, href)
    # Without a query the provider facet counts what the sources say the public may see.
    browse = client.get("/catalog", params={"layer": "资源目录"})
    section = re.search(r'data-facet="provider">(.*?)</section>', browse.text, re.S)[1]
    shown = re.findall(r'provider=(\w+)">[^<]+</a> <span class="count">(\d+)</span>', section)
    assert len(shown) >= 5
    for code, count in shown:
        assert int(count) == sum(r["open"] in OPEN and r["provider"] == code for r in rows), code
