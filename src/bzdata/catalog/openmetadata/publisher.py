"""Publish a catalogue document to OpenMetadata with the openmetadata-ingestion SDK.

Runs ONLY in .venv-om (the SDK cannot share the main environment). Its input is the JSON
document the main side writes (see document.py, pure Python); it imports nothing else of bzdata.
Every request body is an SDK request model; `--dry-run` writes each one to a numbered file
instead of sending it. Every write is a PUT (create-or-update) or a result keyed by its
timestamp, so publishing an unchanged catalogue again creates nothing and bumps no version.

    .venv-om/bin/python -m bzdata.catalog.openmetadata.publisher DOC.json --server URL
    (token: environment variable BZDATA_OM_TOKEN)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from metadata.generated.schema.api.classification.createClassification import (
    CreateClassificationRequest,
)
from metadata.generated.schema.api.classification.createTag import CreateTagRequest
from metadata.generated.schema.api.data.createCustomProperty import CreateCustomPropertyRequest
from metadata.generated.schema.api.data.createDatabase import CreateDatabaseRequest
from metadata.generated.schema.api.data.createDatabaseSchema import CreateDatabaseSchemaRequest
from metadata.generated.schema.api.data.createTable import CreateTableRequest
from metadata.generated.schema.api.lineage.addLineage import AddLineageRequest
from metadata.generated.schema.api.services.createDatabaseService import (
    CreateDatabaseServiceRequest,
)
from metadata.generated.schema.api.teams.createTeam import CreateTeamRequest
from metadata.generated.schema.api.tests.createTestCase import CreateTestCaseRequest
from metadata.generated.schema.api.tests.createTestCaseResult import CreateTestCaseResult
from metadata.generated.schema.api.tests.createTestDefinition import CreateTestDefinitionRequest
from metadata.generated.schema.entity.data.table import Column, DataType
from metadata.generated.schema.entity.services.databaseService import DatabaseServiceType
from metadata.generated.schema.type.entityLineage import ColumnLineage, EntitiesEdge, LineageDetails
from metadata.generated.schema.type.entityReference import EntityReference
from metadata.generated.schema.type.tagLabel import LabelType, State, TagLabel, TagSource
from pydantic import BaseModel

TOKEN_ENV = "BZDATA_OM_TOKEN"
SERVER_ENV = "BZDATA_OM_SERVER"
TABLE_TYPE = "table"


def quote_name(name: str) -> str:
    return f'"{name}"' if "." in name else name


class Sink:
    """Where requests go: a real (or contract) server through the SDK, or files (dry run)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def type_id(self, name: str) -> str: ...
    def put(self, collection: str, request: BaseModel) -> dict[str, Any]: ...
    def put_custom_property(self, entity_type: str, request: BaseModel) -> None: ...
    def add_lineage(self, request: AddLineageRequest) -> None: ...
    def add_result(self, test_case_fqn: str, request: CreateTestCaseResult) -> None: ...


class ServerSink(Sink):
    def __init__(self, server: str, token: str) -> None:
        super().__init__()
        from metadata.generated.schema.entity.services.connections.metadata.openMetadataConnection import (  # noqa: E501
            OpenMetadataConnection,
        )
        from metadata.generated.schema.security.client.openMetadataJWTClientConfig import (
            OpenMetadataJWTClientConfig,
        )
        from metadata.ingestion.ometa.ometa_api import OpenMetadata

        connection = OpenMetadataConnection(
            hostPort=server,
            authProvider="openmetadata",
            securityConfig=OpenMetadataJWTClientConfig(jwtToken=token),
        )
        self.om = OpenMetadata(connection)
        self.client = self.om.client

    def type_id(self, name: str) -> str:
        return self.client.get(f"/metadata/types/name/{name}?category=field")["id"]

    def put(self, collection: str, request: BaseModel) -> dict[str, Any]:
        self.counts[collection] += 1
        return self.client.put(f"/{collection}", data=request.model_dump_json(exclude_none=True))

    def put_custom_property(self, entity_type: str, request: BaseModel) -> None:
        self.counts["metadata/types"] += 1
        type_id = self.client.get(f"/metadata/types/name/{entity_type}?category=field")["id"]
        self.client.put(
            f"/metadata/types/{type_id}", data=request.model_dump_json(exclude_none=True)
        )

    def add_lineage(self, request: AddLineageRequest) -> None:
        self.counts["lineage"] += 1
        self.client.put("/lineage", data=request.model_dump_json(exclude_none=True))

    def add_result(self, test_case_fqn: str, request: CreateTestCaseResult) -> None:
        from urllib.parse import quote

        self.counts["testCaseResults"] += 1
        self.client.post(
            f"/dataQuality/testCases/testCaseResults/{quote(test_case_fqn)}",
            data=request.model_dump_json(exclude_none=True),
        )


class DryRunSink(Sink):
    """Writes each request as NNNN_<what>.json: {"method", "path", "body"}; ids are stand-ins."""

    def __init__(self, out: Path) -> None:
        super().__init__()
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.json"):
            old.unlink()
        self.n = 0

    def _write(self, method: str, path: str, request: BaseModel) -> None:
        self.n += 1
        name = path.strip("/").replace("/", "_")[:80]
        record = {
            "method": method,
            "path": f"/api/v1{path}",
            "body": json.loads(request.model_dump_json(exclude_none=True)),
        }
        (self.out / f"{self.n:04d}_{name}.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )

    def type_id(self, name: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"type:{name}"))

    def put(self, collection: str, request: BaseModel) -> dict[str, Any]:
        self.counts[collection] += 1
        self._write("PUT", f"/{collection}", request)
        name = str(request.name.root)
        return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{collection}:{name}"))}

    def put_custom_property(self, entity_type: str, request: BaseModel) -> None:
        self.counts["metadata/types"] += 1
        self._write("PUT", f"/metadata/types/{entity_type}", request)

    def add_lineage(self, request: AddLineageRequest) -> None:
        self.counts["lineage"] += 1
        self._write("PUT", "/lineage", request)

    def add_result(self, test_case_fqn: str, request: CreateTestCaseResult) -> None:
        self.counts["testCaseResults"] += 1
        self._write("POST", f"/dataQuality/testCases/testCaseResults/{test_case_fqn}", request)


def _tag(fqn: str) -> TagLabel:
    return TagLabel(
        tagFQN=fqn,
        source=TagSource.Classification,
        labelType=LabelType.Manual,
        state=State.Confirmed,
    )


def _tags(values: dict[str, str]) -> list[TagLabel] | None:
    return [_tag(f"{quote_name(c)}.{quote_name(v)}") for c, v in sorted(values.items())] or None


def _data_type(name: str) -> DataType:
    """DuckDB type name → OpenMetadata's column type (anything unknown is UNKNOWN, not a guess)."""
    base = name.upper().split("(")[0].strip()
    aliases = {
        "VARCHAR": "VARCHAR",
        "TEXT": "TEXT",
        "STRING": "STRING",
        "INTEGER": "INT",
        "INT": "INT",
        "BIGINT": "BIGINT",
        "HUGEINT": "BIGINT",
        "SMALLINT": "SMALLINT",
        "TINYINT": "TINYINT",
        "DOUBLE": "DOUBLE",
        "FLOAT": "FLOAT",
        "REAL": "FLOAT",
        "DECIMAL": "DECIMAL",
        "NUMERIC": "NUMERIC",
        "BOOLEAN": "BOOLEAN",
        "DATE": "DATE",
        "TIMESTAMP": "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE": "TIMESTAMPZ",
        "TIME": "TIME",
        "BLOB": "BLOB",
        "JSON": "JSON",
        "UUID": "UUID",
    }
    return DataType(aliases.get(base, "UNKNOWN"))


def publish(doc: dict[str, Any], sink: Sink) -> Counter[str]:
    """Send the whole document, parents before children; returns request counts by collection."""
    team_ids: dict[str, str] = {}
    for team in doc["teams"]:
        answer = sink.put(
            "teams",
            CreateTeamRequest(
                name=team["name"],
                displayName=team["displayName"],
                description=team.get("description"),
                teamType="Department",
            ),
        )
        team_ids[team["name"]] = answer["id"]

    string_type = sink.type_id("string")
    for prop in doc["custom_properties"]:
        sink.put_custom_property(
            TABLE_TYPE,
            CreateCustomPropertyRequest(
                name=prop["name"],
                displayName=prop["displayName"],
                description=prop["description"],
                propertyType=EntityReference(id=string_type, type="type"),
            ),
        )

    for classification in doc["classifications"]:
        sink.put(
            "classifications",
            CreateClassificationRequest(
                name=classification["name"],
                description=classification["description"],
                mutuallyExclusive=True,
            ),
        )
        for tag in classification["tags"]:
            sink.put(
                "tags",
                CreateTagRequest(
                    classification=quote_name(classification["name"]),
                    name=tag["name"],
                    description=tag["description"],
                ),
            )

    service = doc["service"]
    sink.put(
        "services/databaseServices",
        CreateDatabaseServiceRequest(
            name=service["name"],
            displayName=service.get("displayName"),
            description=service.get("description"),
            serviceType=DatabaseServiceType.CustomDatabase,
        ),
    )

    def owners(team: str | None):
        return [EntityReference(id=team_ids[team], type="team")] if team else None

    table_ids: dict[str, str] = {}
    for database in doc["databases"]:
        db_fqn = f"{quote_name(service['name'])}.{quote_name(database['name'])}"
        sink.put(
            "databases",
            CreateDatabaseRequest(
                name=database["name"],
                description=database.get("description"),
                service=quote_name(service["name"]),
            ),
        )
        for schema in database["schemas"]:
            schema_fqn = f"{db_fqn}.{quote_name(schema['name'])}"
            sink.put(
                "databaseSchemas",
                CreateDatabaseSchemaRequest(
                    name=schema["name"],
                    displayName=schema.get("displayName"),
                    description=schema.get("description"),
                    database=db_fqn,
                ),
            )
            for table in schema["tables"]:
                columns = [
                    Column(
                        name=c["name"],
                        dataType=_data_type(c["dataType"]),
                        dataTypeDisplay=c["dataType"],
                        description=c.get("description"),
                        tags=_tags(c.get("tags", {})),
                    )
                    for c in table["columns"]
                ]
                answer = sink.put(
                    "tables",
                    CreateTableRequest(
                        name=table["name"],
                        displayName=table.get("displayName"),
                        description=table.get("description"),
                        columns=columns,
                        databaseSchema=schema_fqn,
                        owners=owners(table.get("owner")),
                        tags=_tags(table.get("tags", {})),
                        extension=table.get("extension") or None,
                    ),
                )
                table_ids[f"{schema_fqn}.{quote_name(table['name'])}"] = answer["id"]

    for edge in doc["lineage"]:
        src, dst = edge["from"], edge["to"]
        columns = [
            ColumnLineage(
                fromColumns=[f"{src}.{quote_name(c)}" for c in col["from"]],
                toColumn=f"{dst}.{quote_name(col['to'])}",
            )
            for col in edge.get("columns", [])
        ]
        sink.add_lineage(
            AddLineageRequest(
                edge=EntitiesEdge(
                    fromEntity=EntityReference(id=table_ids[src], type="table"),
                    toEntity=EntityReference(id=table_ids[dst], type="table"),
                    lineageDetails=LineageDetails(
                        columnsLineage=columns or None, source="DbtLineage"
                    ),
                )
            )
        )

    for definition in doc["test_definitions"]:
        sink.put(
            "dataQuality/testDefinitions",
            CreateTestDefinitionRequest(
                name=definition["name"],
                displayName=definition["displayName"],
                description=definition["description"],
                entityType=definition["entityType"],
                testPlatforms=["GreatExpectations"],
                dataQualityDimension=definition.get("dimension"),
            ),
        )

    for case in doc["test_cases"]:
        link = f"<#E::table::{case['table']}"
        link += f"::columns::{case['column']}>" if case.get("column") else ">"
        sink.put(
            "dataQuality/testCases",
            CreateTestCaseRequest(
                name=case["name"],
                displayName=case.get("displayName"),
                description=case.get("description"),
                testDefinition=case["testDefinition"],
                entityLink=link,
            ),
        )
        fqn = case["table"] + (f".{quote_name(case['column'])}" if case.get("column") else "")
        for result in case.get("results", []):
            values = [{"name": "passRate", "value": str(result["pass_rate"])}]
            sink.add_result(
                f"{fqn}.{quote_name(case['name'])}",
                CreateTestCaseResult(
                    timestamp=result["timestamp_ms"],
                    testCaseStatus=result["status"],
                    result=result.get("message"),
                    testResultValue=values,
                    passedRowsPercentage=round(result["pass_rate"] * 100, 4),
                ),
            )
    return sink.counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="发布数据资源目录到 OpenMetadata")
    parser.add_argument("document", type=Path, help="目录发布文档（JSON）")
    parser.add_argument(
        "--server",
        default=os.environ.get(SERVER_ENV),
        help=f"OpenMetadata 地址，如 http://localhost:8585/api（或 {SERVER_ENV}）",
    )
    parser.add_argument(
        "--dry-run", type=Path, metavar="目录", help="不发送，把每个请求体写入该目录"
    )
    args = parser.parse_args(argv)
    doc = json.loads(args.document.read_text(encoding="utf-8"))
    started = time.perf_counter()
    if args.dry_run:
        sink: Sink = DryRunSink(args.dry_run)
    else:
        token = os.environ.get(TOKEN_ENV)
        if not args.server or not token:
            print(
                f"缺少 OpenMetadata 地址（--server 或 {SERVER_ENV}）或令牌（{TOKEN_ENV}）",
                file=sys.stderr,
            )
            return 2
        sink = ServerSink(args.server, token)
    counts = publish(doc, sink)
    summary = {
        "requests": dict(sorted(counts.items())),
        "total": sum(counts.values()),
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
