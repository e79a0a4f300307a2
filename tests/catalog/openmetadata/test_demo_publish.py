"""The whole catalogue of a real demo period published twice to the contract server.

Truth comes from outside the publisher: the server's own request log (what it validated and
whether it answered 201 Created), dbt's manifest.json and catalog.json (tables, columns and
table-to-table edges), the registry (the 资源目录 entries) and the period's rule results read
with DuckDB (the test-case results). The catalogue is the delivered part of the demo's (every
registry dataset, raw table and dbt model); the 6,000 registered-only entries take the same
path and are left out here for time.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections import Counter
from datetime import UTC, datetime

import duckdb
import pytest
from tests.catalog.openmetadata.contract import get_json

from bzdata.catalog.build import build_catalogue
from bzdata.catalog.openmetadata.task import publish_work
from bzdata.catalog.store import catalogue_path
from bzdata.dimensions import DIMENSION_KEYS
from bzdata.registry import load_registry

SVC = "bzdata_warehouse"
RESULTS = "dataQuality/testCases/testCaseResults"
# What a request to each endpoint must have been validated against (the SDK's model names).
REQUEST_MODELS = {
    "teams": "CreateTeamRequest",
    "classifications": "CreateClassificationRequest",
    "tags": "CreateTagRequest",
    "services/databaseServices": "CreateDatabaseServiceRequest",
    "databases": "CreateDatabaseRequest",
    "databaseSchemas": "CreateDatabaseSchemaRequest",
    "tables": "CreateTableRequest",
    "lineage": "AddLineageRequest",
    "dataQuality/testDefinitions": "CreateTestDefinitionRequest",
    "dataQuality/testCases": "CreateTestCaseRequest",
    "metadata/types": "CreateCustomPropertyRequest",
    RESULTS: "CreateTestCaseResult",
}


def _q(name: str) -> str:
    return f'"{name}"' if "." in name else name


def _relation_fqn(relation: str) -> str:
    """dbt's `"db"."schema"."table"` → the table's FQN in the warehouse database."""
    schema, table = re.fullmatch(r'"[^"]+"\."([^"]+)"\."([^"]+)"', relation).groups()
    return f"{SVC}.warehouse.{_q(schema)}.{_q(table)}"


def _endpoint(path: str) -> str:
    rest = path.split("/api/v1/", 1)[1]
    for name in sorted(REQUEST_MODELS, key=len, reverse=True):
        if rest == name or rest.startswith(name + "/"):
            return name
    return rest


@pytest.fixture(scope="module")
def published(demo_period, server, tmp_path_factory, monkeypatch_module):
    """Both publishes done: (first log, second log, table versions before and after)."""
    out = tmp_path_factory.mktemp("om") / "work"
    build_catalogue(
        demo_period.work, path=catalogue_path(out), registered=out / "no-registered.jsonl"
    )
    monkeypatch_module.setenv("BZDATA_OM_TOKEN", "test-token")
    publish_work(out, server=server)
    first = get_json(f"{server}/v1/contract/log")["data"]
    tables = _expected_tables(demo_period)
    before = {t: get_json(_table_url(server, t))["version"] for t in tables}
    report = publish_work(out, server=server)
    log = get_json(f"{server}/v1/contract/log")["data"]
    second = log[len(first) + len(tables) :]  # after the version reads above
    after = {t: get_json(_table_url(server, t))["version"] for t in tables}
    return first, second, before, after, report


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _table_url(server: str, fqn: str) -> str:
    return f"{server}/v1/tables/name/{urllib.parse.quote(fqn)}"


def _expected_tables(demo) -> dict[str, set[str]]:
    """Table FQN → column names, from the registry and dbt's own artifacts."""
    manifest = demo.manifest
    typed = json.loads((demo.work / "dbt/target/catalog.json").read_text("utf-8"))
    out = {
        f"{SVC}.catalogue.{ds.provider}.{ds.id}": {f.column for f in ds.fields}
        for ds in load_registry().datasets
    }
    for group in ("sources", "nodes"):
        for uid, node in manifest[group].items():
            if group == "nodes" and node["resource_type"] != "model":
                continue
            docs = typed[group].get(uid, {}).get("columns", {})
            out[_relation_fqn(node["relation_name"])] = {c.lower() for c in docs}
    return out


def _expected_edges(demo) -> set[tuple[str, str]]:
    """Table-to-table edges: dbt's depends_on between sources and models, and each registry
    dataset to the raw tables whose source names it."""
    manifest = demo.manifest
    fqn = {
        uid: _relation_fqn(node["relation_name"])
        for group in ("sources", "nodes")
        for uid, node in manifest[group].items()
        if group == "sources" or node["resource_type"] == "model"
    }
    edges = {
        (fqn[parent], fqn[uid])
        for uid, node in manifest["nodes"].items()
        if uid in fqn
        for parent in node["depends_on"]["nodes"]
        if parent in fqn
    }
    by_id = {ds.id: ds for ds in load_registry().datasets}
    for uid, node in manifest["sources"].items():
        ds = by_id.get(node["meta"].get("dataset"))
        if ds is not None:
            edges.add((f"{SVC}.catalogue.{ds.provider}.{ds.id}", fqn[uid]))
    return edges


def _expected_results(demo) -> dict[str, dict[str, float]]:
    """Test-case FQN → pass rate, from the period's rule results (rules that ran, by dimension)
    on the dataset's 资源目录 table and on its raw table."""
    folder = demo.work / "lake/quality/rule_results" / f"period={demo.period}"
    path = folder / "rule_results.parquet"
    rows = duckdb.connect().execute(
        # A dimension whose rules had nothing to check has passed.
        "select dataset, dimension, coalesce(1 - sum(unexpected_count) / "
        "nullif(sum(element_count), 0), 1) from read_parquet(?) "
        "where coalesce(error, '') = '' group by all",
        [str(path)],
    )
    sources = {n["name"] for n in demo.manifest["sources"].values()}
    by_id = {ds.id: ds for ds in load_registry().datasets}
    out: dict[str, float] = {}
    for dataset, dimension, rate in rows.fetchall():
        case = f"bzdata_{DIMENSION_KEYS[dimension]}"
        out[f"{SVC}.catalogue.{by_id[dataset].provider}.{dataset}.{case}"] = rate
        if dataset in sources:
            out[f"{SVC}.warehouse.raw.{dataset}.{case}"] = rate
    return out


@pytest.mark.slow
def test_every_request_validates_and_every_entry_is_created(demo_period, published) -> None:
    first, second, *_ = published
    for entry in first + second:
        assert entry["status"] < 400, entry
        if entry["method"] != "GET":
            # The server checked the body against the SDK model of that endpoint.
            assert entry["validated"][0] == REQUEST_MODELS[_endpoint(entry["path"])], entry
    created = Counter(_endpoint(e["path"]) for e in first if e["status"] == 201)
    tables = _expected_tables(demo_period)
    assert created["tables"] == len(tables)
    owners = {d.provider for d in load_registry().datasets}
    manifest = demo_period.manifest
    for node in [*manifest["sources"].values(), *manifest["nodes"].values()]:
        meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
        owners.add(meta.get("owner_department"))
    assert created["teams"] == len(owners - {None})
    assert created["lineage"] == len(_expected_edges(demo_period))
    results = _expected_results(demo_period)
    assert created["dataQuality/testCases"] == created[RESULTS] == len(results)


@pytest.mark.slow
def test_second_publish_creates_nothing_and_bumps_no_version(demo_period, published) -> None:
    _, second, before, after, report = published
    writes = [e for e in second if e["method"] in ("PUT", "POST")]
    assert len(writes) == report["total"]  # it did send everything again
    sent = Counter(_endpoint(e["path"]) for e in writes)
    assert sent["tables"] == len(_expected_tables(demo_period))
    assert sent["lineage"] == len(_expected_edges(demo_period))
    assert [e for e in writes if e["status"] == 201] == []
    assert after == before


@pytest.mark.slow
def test_tables_carry_the_columns_dbt_and_the_registry_know(demo_period, server, published):
    for fqn, columns in _expected_tables(demo_period).items():
        table = get_json(_table_url(server, fqn))
        assert columns <= {c["name"] for c in table["columns"]}, fqn
    population = get_json(_table_url(server, f"{SVC}.catalogue.gaj.gaj_hjrk"))
    assert population["displayName"] == load_registry().dataset("gaj_hjrk").name
    assert population["extension"]["resourceCode"] == "371600-GAJ-0001"


@pytest.mark.slow
def test_lineage_read_back_is_dbt_lineage(demo_period, server, published) -> None:
    expected = _expected_edges(demo_period)
    tables = _expected_tables(demo_period)
    fqn_of = {get_json(_table_url(server, t))["id"]: t for t in tables}
    read, columns = set(), {}
    for table in tables:
        url = f"{server}/v1/lineage/table/name/{urllib.parse.quote(table)}"
        answer = get_json(f"{url}?upstreamDepth=1&downstreamDepth=0")
        for edge in answer["upstreamEdges"]:
            pair = (fqn_of[edge["fromEntity"]], fqn_of[edge["toEntity"]])
            read.add(pair)
            columns[pair] = (edge.get("lineageDetails") or {}).get("columnsLineage") or []
    assert read == expected
    # Column level where both sides have the column: the population library's citizen_id.
    hjrk = (
        f"{SVC}.warehouse.intermediate.int_gaj__hjrk__latest",
        f"{SVC}.warehouse.base.lib_population",
    )
    assert f"{hjrk[1]}.citizen_id" in {c["toColumn"] for c in columns[hjrk]}


@pytest.mark.slow
def test_test_case_results_read_back_are_the_rule_results(demo_period, server, published):
    expected = _expected_results(demo_period)
    year, month = int(demo_period.period[:4]), int(demo_period.period[5:])
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC).timestamp() * 1000 - 1000
    for case, rate in expected.items():
        url = f"{server}/v1/{RESULTS}/{urllib.parse.quote(case)}?startTs=0&endTs={2**50}"
        data = get_json(url)["data"]
        assert [r["timestamp"] for r in data] == [int(end)], case
        assert data[0]["passedRowsPercentage"] == pytest.approx(rate * 100, abs=1e-3), case
        assert data[0]["testCaseStatus"] == ("Success" if rate >= 1 else "Failed"), case
    assert any(rate < 1 for rate in expected.values())  # failures are published too
