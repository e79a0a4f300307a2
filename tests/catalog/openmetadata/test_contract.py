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
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OM_PYTHON = ROOT / ".venv-om" / "bin" / "python"
SVC = "bzdata_warehouse"
SCHEMA = f"{SVC}.warehouse.base"


def _doc() -> dict:
    def col(name, dtype, desc, **tags):
        return {"name": name, "dataType": dtype, "description": desc, "tags": tags}

    tables = [
        {
            "name": "raw_gaj__population",
            "displayName": "户籍人口（原始）",
            "owner": "gaj",
            "description": "公安局报送的户籍人口明细",
            "tags": {"共享属性": "有条件共享"},
            "extension": {"resourceCode": "371600-GAJ-0001", "updateCycle": "每月"},
            "columns": [
                col("id_number", "VARCHAR", "公民身份号码", 安全级别="L3"),
                col("name", "VARCHAR", "姓名", 安全级别="L3"),
                col("region_code", "VARCHAR", "行政区划代码"),
            ],
        },
        {
            "name": "base_population",
            "displayName": "人口基础库",
            "owner": "dsj",
            "description": "全市人口基础库",
            "tags": {"共享属性": "无条件共享", "开放属性": "不予开放"},
            "extension": {"resourceCode": "371600-DSJ-0001", "updateCycle": "每月"},
            "columns": [
                col("id_number", "VARCHAR", "公民身份号码（脱敏）"),
                col("region_code", "VARCHAR", "行政区划代码"),
                col("population", "BIGINT", "人口数"),
            ],
        },
    ]
    return {
        "teams": [
            {"name": "gaj", "displayName": "滨州市公安局"},
            {"name": "dsj", "displayName": "滨州市大数据局"},
        ],
        "custom_properties": [
            {
                "name": "resourceCode",
                "displayName": "资源标识符",
                "description": "GB/T 21063 标识符",
            },
            {
                "name": "updateCycle",
                "displayName": "更新周期",
                "description": "GB/T 21063 更新周期",
            },
        ],
        "classifications": [
            {
                "name": "共享属性",
                "description": "GB/T 21063 共享属性",
                "tags": [
                    {"name": v, "description": v} for v in ("无条件共享", "有条件共享", "不予共享")
                ],
            },
            {
                "name": "开放属性",
                "description": "GB/T 21063 开放属性",
                "tags": [
                    {"name": v, "description": v} for v in ("无条件开放", "有条件开放", "不予开放")
                ],
            },
            {
                "name": "安全级别",
                "description": "数据安全级别",
                "tags": [{"name": v, "description": v} for v in ("L1", "L2", "L3")],
            },
        ],
        "service": {"name": SVC, "displayName": "滨州数据仓库", "description": "DuckDB 数据仓库"},
        "databases": [
            {
                "name": "warehouse",
                "schemas": [{"name": "base", "description": "基础库", "tables": tables}],
            }
        ],
        "lineage": [
            {
                "from": f"{SCHEMA}.raw_gaj__population",
                "to": f"{SCHEMA}.base_population",
                "columns": [
                    {"from": ["id_number"], "to": "id_number"},
                    {"from": ["region_code"], "to": "region_code"},
                ],
            }
        ],
        "test_definitions": [
            {
                "name": "bzdataNotNull",
                "displayName": "非空（完整性）",
                "description": "GB/T 36344 完整性：值不得为空",
                "entityType": "COLUMN",
                "dimension": "Completeness",
            }
        ],
        "test_cases": [
            {
                "name": "id_number_not_null",
                "table": f"{SCHEMA}.base_population",
                "column": "id_number",
                "testDefinition": "bzdataNotNull",
                "results": [
                    {
                        "timestamp_ms": 1675209600000,
                        "status": "Failed",
                        "passed_rows": 998,
                        "failed_rows": 2,
                        "message": "2 条记录为空",
                    }
                ],
            }
        ],
    }


@pytest.fixture(scope="module")
def server():
    if not OM_PYTHON.exists():
        pytest.fail(".venv-om 不存在：先运行 make om-env")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [OM_PYTHON, "-m", "bzdata.catalog.openmetadata.contract_server", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    proc.stdout.readline()  # printed once it is listening
    yield f"http://127.0.0.1:{port}/api"
    proc.terminate()
    proc.wait(timeout=10)


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


def _publish(server: str, doc_path: Path, *extra: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "BZDATA_OM_TOKEN": "test-token"}
    out = subprocess.run(
        [
            OM_PYTHON,
            "-m",
            "bzdata.catalog.openmetadata.publisher",
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
    doc = _doc()
    doc_path = tmp_path / "doc.json"
    doc_path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")

    _publish(server, doc_path)
    first = _get(f"{server}/v1/contract/log")["data"]
    errors = [e for e in first if e["status"] >= 400]
    assert errors == []
    writes = [e for e in first if e["method"] in ("PUT", "POST")]
    n_tags = sum(len(c["tags"]) for c in doc["classifications"])
    n_entities = (
        len(doc["teams"])
        + len(doc["classifications"])
        + n_tags
        + 1
        + 1
        + 1
        + 2
        + len(doc["test_definitions"])
        + len(doc["test_cases"])
    )
    created = [e for e in writes if e["status"] == 201]
    assert len(created) == n_entities + len(doc["lineage"]) + 1  # + one test-case result

    table = f"{SCHEMA}.base_population"
    version_before = _get(f"{server}/v1/tables/name/{table}")["version"]
    _publish(server, doc_path)
    second = _get(f"{server}/v1/contract/log")["data"][len(first) :]
    assert [e for e in second if e["status"] >= 400] == []
    assert [e for e in second if e["status"] == 201] == []
    assert _get(f"{server}/v1/tables/name/{table}")["version"] == version_before

    lineage = _get(f"{server}/v1/lineage/table/name/{table}?upstreamDepth=1&downstreamDepth=0")
    raw = _get(f"{server}/v1/tables/name/{SCHEMA}.raw_gaj__population")
    assert [e["fromEntity"] for e in lineage["upstreamEdges"]] == [raw["id"]]
    results = _get(
        f"{server}/v1/dataQuality/testCases/testCaseResults/"
        f"{table}.id_number.id_number_not_null?startTs=0&endTs={int(time.time() * 1000)}"
    )
    assert [(r["testCaseStatus"], r["failedRows"]) for r in results["data"]] == [("Failed", 2)]


def test_changed_description_bumps_only_that_table(server, tmp_path):
    doc = _doc()
    doc["databases"][0]["schemas"][0]["tables"][1]["description"] = "全市人口基础库（修订）"
    doc_path = tmp_path / "doc.json"
    doc_path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    before = {
        t: _get(f"{server}/v1/tables/name/{SCHEMA}.{t}")["version"]
        for t in ("raw_gaj__population", "base_population")
    }
    _publish(server, doc_path)
    after = {t: _get(f"{server}/v1/tables/name/{SCHEMA}.{t}")["version"] for t in before}
    assert after["raw_gaj__population"] == before["raw_gaj__population"]
    assert after["base_population"] == pytest.approx(before["base_population"] + 0.1)


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
