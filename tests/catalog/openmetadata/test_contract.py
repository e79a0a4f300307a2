"""Publish a catalogue document twice to the contract server, both in .venv-om.

The server validates every body with the SDK's generated models and keeps its own log: the
first publish must create every entity, the second must create nothing and bump no version;
lineage edges and test-case results are read back through OpenMetadata's read endpoints.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.request
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from tests.catalog.openmetadata.contract import OM_PYTHON, get_json

from bzdata.catalog.model import Entry, FieldInfo, LineageEdge, QualitySummary
from bzdata.catalog.openmetadata.backend import PUBLISHER, build_document

SVC = "bzdata_warehouse"


def _entries() -> tuple[list[Entry], list[LineageEdge]]:
    """A small catalogue in the shared model: one registry dataset, raw → staging → 基础库."""
    ident = FieldInfo("id_number", "公民身份号码", "VARCHAR", personal=True, security_level="重要")
    region = FieldInfo("region_code", "行政区划代码", "VARCHAR", element="DE0001")
    common = {
        "provider": "gaj",
        "provider_name": "滨州市公安局",
        "update_cycle": "每月",
        "share": "有条件共享",
        "open": "不予开放",
        "resource_code": "371600-GAJ-0001",
    }
    entries = [
        Entry(
            "ds:gaj.population",
            "dataset",
            "资源目录",
            "户籍人口信息",
            "户籍人口明细",
            **common,
            fields=(ident, region),
        ),
        Entry(
            "raw:gaj.population",
            "raw",
            "原始区",
            "户籍人口（原始）",
            **common,
            fields=(ident, region),
            relation="raw.gaj__population",
        ),
        Entry(
            "model:stg_gaj__population",
            "model",
            "staging",
            "户籍人口（标准化）",
            **common,
            fields=(ident, region),
            relation="staging.stg_gaj__population",
        ),
        Entry(
            "model:base_population",
            "model",
            "基础库",
            "人口基础库",
            "全市人口基础库",
            provider="dsj",
            provider_name="滨州市大数据局",
            share="无条件共享",
            security_level="一般",
            fields=(ident, region, FieldInfo("population", "人口数", "BIGINT")),
            relation="base.base_population",
            quality=QualitySummary("2023-01", {"完整性": 1.0, "规范性": 0.998}, 4, 1),
        ),
    ]
    edges = [
        LineageEdge("raw:gaj.population", "model:stg_gaj__population"),
        LineageEdge("raw:gaj.population", "model:stg_gaj__population", "id_number", "id_number"),
        LineageEdge(
            "model:stg_gaj__population", "model:base_population", "region_code", "region_code"
        ),
    ]
    return entries, edges


def _doc() -> dict:
    return build_document(*_entries())


def _publish(server: str, doc_path: Path, *extra: str) -> dict:
    env = {**os.environ, "BZDATA_OM_TOKEN": "test-token"}
    out = subprocess.run(
        [
            OM_PYTHON,
            str(PUBLISHER),
            str(doc_path),
            "--server",
            server,
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_publish_twice_validates_and_second_creates_nothing(server, tmp_path):
    doc_path = tmp_path / "doc.json"
    doc_path.write_text(json.dumps(_doc(), ensure_ascii=False), encoding="utf-8")

    _publish(server, doc_path)
    first = get_json(f"{server}/v1/contract/log")["data"]
    assert [e for e in first if e["status"] >= 400] == []
    created = Counter(
        e["path"].split("/api/v1/")[1].split("/name/")[0] for e in first if e["status"] == 201
    )
    # Counted from the entries above by hand: 2 departments, 3 warehouse relations in 3
    # schemas and the registry dataset in the catalogue database's gaj schema, 2 quality
    # dimensions on one table, 2 table-to-table edges, 3+3+3 tags.
    results = "dataQuality/testCases/testCaseResults/"
    assert created.pop("teams") == 2
    assert created.pop("databases") == 2
    assert created.pop("tables") == 4
    assert created.pop("databaseSchemas") == 4
    assert created.pop("tags") == 9
    assert created.pop("dataQuality/testCases") == 2
    assert created.pop("lineage") == 2
    assert sum(n for k, n in created.items() if k.startswith(results)) == 2

    table = f"{SVC}.warehouse.base.base_population"
    version_before = get_json(f"{server}/v1/tables/name/{table}")["version"]
    _publish(server, doc_path)
    second = get_json(f"{server}/v1/contract/log")["data"][len(first) :]
    assert [e for e in second if e["status"] >= 400] == []
    assert len([e for e in second if e["method"] != "GET"]) > 30  # it did publish again
    assert [e for e in second if e["status"] == 201] == []
    assert get_json(f"{server}/v1/tables/name/{table}")["version"] == version_before

    lineage = get_json(f"{server}/v1/lineage/table/name/{table}?upstreamDepth=2&downstreamDepth=0")
    ids = {
        t: get_json(f"{server}/v1/tables/name/{SVC}.warehouse.{t}")["id"]
        for t in ("raw.gaj__population", "staging.stg_gaj__population")
    }
    edges = {(e["fromEntity"], e["toEntity"]) for e in lineage["upstreamEdges"]}
    staging = ids["staging.stg_gaj__population"]
    assert edges == {(ids["raw.gaj__population"], staging), (staging, lineage["entity"]["id"])}
    read = get_json(f"{server}/v1/{results}{table}.bzdata_conformity?startTs=0&endTs={2**50}")
    assert [(r["testCaseStatus"], r["timestamp"]) for r in read["data"]] == [
        ("Failed", 1675209599000)
    ]  # 2023-01-31 23:59:59 UTC in milliseconds


def test_changed_description_bumps_only_that_table(server, tmp_path):
    entries, edges = _entries()
    entries[-1] = replace(entries[-1], abstract="全市人口基础库（修订）")
    doc_path = tmp_path / "doc.json"
    doc_path.write_text(
        json.dumps(build_document(entries, edges), ensure_ascii=False), encoding="utf-8"
    )
    names = ("staging.stg_gaj__population", "base.base_population")
    before = {t: get_json(f"{server}/v1/tables/name/{SVC}.warehouse.{t}")["version"] for t in names}
    _publish(server, doc_path)
    after = {t: get_json(f"{server}/v1/tables/name/{SVC}.warehouse.{t}")["version"] for t in names}
    assert after[names[0]] == before[names[0]]
    assert after[names[1]] == pytest.approx(before[names[1]] + 0.1)


def test_unknown_field_is_rejected(server):
    body = json.dumps({"name": "x", "teamType": "Department", "notAField": 1}).encode()
    req = urllib.request.Request(
        f"{server}/v1/teams", data=body, method="PUT", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 400
    assert "notAField" in err.value.read().decode()


def test_dry_run_writes_every_request_body(tmp_path):
    doc_path = tmp_path / "doc.json"
    doc_path.write_text(json.dumps(_doc(), ensure_ascii=False), encoding="utf-8")
    summary = _publish("http://unused.invalid/api", doc_path, "--dry-run", str(tmp_path / "req"))
    files = sorted((tmp_path / "req").glob("*.json"))
    assert len(files) == summary["total"]
    bodies = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    case = next(b for b in bodies if b["path"] == "/api/v1/dataQuality/testCases")
    assert "testSuite" not in case["body"]
    result = next(b for b in bodies if "testCaseResults" in b["path"])
    assert result["body"]["timestamp"] > 10**12


def test_failed_publish_is_reported_not_raised(tmp_path, monkeypatch):
    from bzdata.catalog.openmetadata.task import publish_task
    from bzdata.catalog.store import catalogue_path, write_catalogue

    write_catalogue(catalogue_path(tmp_path), *_entries())
    with socket.socket() as s:  # a port nobody listens on once this block closes it
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    monkeypatch.setenv("BZDATA_WORK", str(tmp_path))
    monkeypatch.setenv("BZDATA_OM_SERVER", f"http://127.0.0.1:{dead}/api")
    monkeypatch.setenv("BZDATA_OM_TOKEN", "test-token")
    report = publish_task(run_id="manual__1")
    assert report["status"] == "失败"
    written = json.loads((tmp_path / "catalog/openmetadata/publish_report.json").read_text())
    assert written["status"] == "失败"
    assert catalogue_path(tmp_path).is_file()  # the period's catalogue is untouched
