"""A stateful stand-in for OpenMetadata's REST API, strict about request bodies.

Runs in the OpenMetadata environment (.venv-om): every body is validated against the SDK's own
generated request models (which forbid unknown fields), so a request the real server would
refuse is refused here with 400. It answers with entity JSON the way OpenMetadata does (id,
fullyQualifiedName, version, href, updatedAt…), and each answer is itself validated against the
SDK's entity model. PUT is create-or-update: 201 on create, 200 otherwise, and the version
moves by 0.1 only when the stored body really changed. Lineage edges (whose column lineage may
name only columns the two tables have) and test-case results are kept so tests can read them
back. Its log (GET /api/v1/contract/log) records, per request, the status and the SDK models
the body and the answer were validated against. Tests start it on loopback; nothing here
reaches the network.

    .venv-om/bin/python -m bzdata.catalog.openmetadata.contract_server --port 8585
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

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
from metadata.generated.schema.entity.classification.classification import Classification
from metadata.generated.schema.entity.classification.tag import Tag
from metadata.generated.schema.entity.data.database import Database
from metadata.generated.schema.entity.data.databaseSchema import DatabaseSchema
from metadata.generated.schema.entity.data.table import Table
from metadata.generated.schema.entity.services.databaseService import DatabaseService
from metadata.generated.schema.entity.teams.team import Team
from metadata.generated.schema.tests.testCase import TestCase
from metadata.generated.schema.tests.testDefinition import TestDefinition
from pydantic import BaseModel, ValidationError

API = "/api/v1"
SERVER_VERSION = "2.0.7"  # major.minor must match the SDK, or the client refuses to start
# Primitive types custom properties may use (OpenMetadata seeds these at start-up).
PROPERTY_TYPES = ("string", "markdown", "integer", "date-cp", "enum")
EXTENSIBLE = ("table", "database", "databaseSchema")


def quote_name(name: str) -> str:
    """OpenMetadata's FQN quoting: a name holding a dot is wrapped in double quotes."""
    return f'"{name}"' if "." in name and not name.startswith('"') else name


def join_fqn(*parts: str) -> str:
    return ".".join(quote_name(p) for p in parts)


@dataclass(frozen=True)
class Kind:
    """One entity collection: its request model, entity model, and how its FQN is built."""

    collection: str
    entity_type: str
    request: type[BaseModel]
    entity: type[BaseModel]
    parent_field: str | None = None  # request field holding the parent's FQN
    parent_type: str | None = None


KINDS: tuple[Kind, ...] = (
    Kind("teams", "team", CreateTeamRequest, Team),
    Kind(
        "services/databaseServices",
        "databaseService",
        CreateDatabaseServiceRequest,
        DatabaseService,
    ),
    Kind("databases", "database", CreateDatabaseRequest, Database, "service", "databaseService"),
    Kind(
        "databaseSchemas",
        "databaseSchema",
        CreateDatabaseSchemaRequest,
        DatabaseSchema,
        "database",
        "database",
    ),
    Kind("tables", "table", CreateTableRequest, Table, "databaseSchema", "databaseSchema"),
    Kind("classifications", "classification", CreateClassificationRequest, Classification),
    Kind("tags", "tag", CreateTagRequest, Tag, "classification", "classification"),
    Kind(
        "dataQuality/testDefinitions", "testDefinition", CreateTestDefinitionRequest, TestDefinition
    ),
    Kind("dataQuality/testCases", "testCase", CreateTestCaseRequest, TestCase),
)
BY_COLLECTION = {k.collection: k for k in KINDS}
# The SDK models each request of the current thread was validated against (for the log).
_validated = threading.local()
ENTITY_LINK = re.compile(r"^<#E::table::(?P<fqn>.+?)(?:::columns::(?P<column>[^>]+))?>$")


class ContractError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Stored:
    kind: Kind
    body: dict[str, Any]  # the validated request, as the client sent it (None fields dropped)
    entity: dict[str, Any]


@dataclass
class State:
    """Everything the server remembers, plus a log of every request it answered."""

    entities: dict[tuple[str, str], Stored] = field(default_factory=dict)  # (type, fqn)
    by_id: dict[str, Stored] = field(default_factory=dict)
    types: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    results: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for name in (*PROPERTY_TYPES, *EXTENSIBLE):
            category = "field" if name in PROPERTY_TYPES else "entity"
            self.types[name] = {
                "id": str(uuid.uuid4()),
                "name": name,
                "fullyQualifiedName": name,
                "category": category,
                "version": 0.1,
                "customProperties": [],
                "href": f"{API}/metadata/types/name/{name}",
            }


def _validate(model: type[BaseModel], body: Any) -> BaseModel:
    try:
        valid = model.model_validate(body)
    except ValidationError as err:
        raise ContractError(400, f"{model.__name__}: {err}") from err
    getattr(_validated, "models", []).append(model.__name__)
    return valid


def _reference(stored: Stored) -> dict[str, Any]:
    e = stored.entity
    return {
        "id": e["id"],
        "type": stored.kind.entity_type,
        "name": e["name"],
        "fullyQualifiedName": e["fullyQualifiedName"],
        "href": e["href"],
    }


class ContractServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.state = State()
        handler = type("Handler", (_Handler,), {"server_state": self.state})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/api"

    def start(self) -> ContractServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    server_state: State

    def log_message(self, format, *args):  # quiet: the state log is the record
        pass

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state = self.server_state
        entry = {"method": method, "path": path, "status": 500}
        _validated.models = []
        try:
            if not path.startswith(API + "/"):
                raise ContractError(404, f"unknown path {path}")
            body = json.loads(raw) if raw else None
            with state.lock:
                status, payload = route(state, method, path[len(API) + 1 :], query, body)
        except ContractError as err:
            status, payload = err.status, {"code": err.status, "message": err.message}
        except json.JSONDecodeError as err:
            status, payload = 400, {"code": 400, "message": f"invalid JSON: {err}"}
        entry["status"] = status
        entry["validated"] = _validated.models  # request model first, then the answer's
        if status >= 400:
            entry["error"] = payload["message"]
        with state.lock:
            state.log.append(entry)
        self._send(status, payload)

    def do_GET(self):
        self._dispatch("GET")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_POST(self):
        self._dispatch("POST")

    def do_PATCH(self):
        self._dispatch("PATCH")


def route(state: State, method: str, path: str, query: dict[str, str], body: Any):
    if method == "GET" and path == "contract/log":  # not OpenMetadata's: the tests' record
        return 200, {"data": list(state.log)}
    if method == "GET" and path == "system/version":
        return 200, {"version": SERVER_VERSION, "revision": "contract", "timestamp": 0}
    if path.startswith("metadata/types/"):
        return _types(state, method, path[len("metadata/types/") :], body)
    if path == "lineage" and method == "PUT":
        return _add_lineage(state, body)
    if path.startswith("lineage/") and method == "GET":
        return _get_lineage(state, path[len("lineage/") :], query)
    if path.startswith("dataQuality/testCases/testCaseResults/"):
        return _results(state, method, path.rsplit("/", 1)[1], query, body)
    for collection, kind in BY_COLLECTION.items():
        if path == collection and method == "PUT":
            return _put_entity(state, kind, body)
        if path.startswith(collection + "/name/") and method == "GET":
            fqn = path[len(collection) + len("/name/") :]
            stored = state.entities.get((kind.entity_type, fqn))
            if stored is None:
                raise ContractError(404, f"{kind.entity_type} instance for {fqn} not found")
            return 200, stored.entity
    raise ContractError(404, f"no such endpoint: {method} {path}")


def _fqn(state: State, kind: Kind, body: dict[str, Any]) -> str:
    if kind.entity_type == "testCase":
        link = ENTITY_LINK.match(body["entityLink"])
        if link is None:
            raise ContractError(400, f"invalid entityLink {body['entityLink']}")
        if ("table", link["fqn"]) not in state.entities:
            raise ContractError(404, f"table instance for {link['fqn']} not found")
        base = link["fqn"] + (f".{quote_name(link['column'])}" if link["column"] else "")
        return f"{base}.{quote_name(body['name'])}"
    if kind.parent_field is None:
        return quote_name(body["name"])
    parent = body[kind.parent_field]
    if (kind.parent_type, parent) not in state.entities:
        raise ContractError(404, f"{kind.parent_type} instance for {parent} not found")
    return f"{parent}.{quote_name(body['name'])}"


def _resolve(state: State, entity_type: str, fqn: str) -> dict[str, Any]:
    stored = state.entities.get((entity_type, fqn))
    if stored is None:
        raise ContractError(404, f"{entity_type} instance for {fqn} not found")
    return _reference(stored)


def _check_refs(state: State, body: dict[str, Any]) -> None:
    """Owners, tags and custom properties must name things that exist, as on the server."""
    for owner in body.get("owners") or []:
        if str(owner["id"]) not in state.by_id:
            raise ContractError(404, f"owner {owner['id']} not found")
    tags = list(body.get("tags") or [])
    for column in body.get("columns") or []:
        tags += column.get("tags") or []
    for tag in tags:
        if ("tag", tag["tagFQN"]) not in state.entities:
            raise ContractError(404, f"tag {tag['tagFQN']} not found")


def _check_extension(state: State, entity_type: str, extension: dict[str, Any] | None) -> None:
    known = {p["name"] for p in state.types[entity_type]["customProperties"]}
    for key in extension or {}:
        if key not in known:
            raise ContractError(400, f"Unknown custom field {key}")


def _put_entity(state: State, kind: Kind, raw: Any):
    request = _validate(kind.request, raw)
    body = json.loads(request.model_dump_json(exclude_none=True))
    fqn = _fqn(state, kind, body)
    _check_refs(state, body)
    if kind.entity_type in EXTENSIBLE:
        _check_extension(state, kind.entity_type, body.get("extension"))
    existing = state.entities.get((kind.entity_type, fqn))
    if existing is not None and existing.body == body:
        return 200, existing.entity
    entity = copy.deepcopy(body)
    if kind.parent_field:
        entity[kind.parent_field] = _resolve(state, kind.parent_type, body[kind.parent_field])
    if kind.entity_type == "tag":
        entity["classification"] = _resolve(state, "classification", body["classification"])
    if kind.entity_type == "testCase":
        entity["testDefinition"] = _resolve(state, "testDefinition", body["testDefinition"])
        table_fqn = ENTITY_LINK.match(body["entityLink"])["fqn"]
        entity["testSuite"] = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, table_fqn)),
            "type": "testSuite",
            "fullyQualifiedName": f"{table_fqn}.testSuite",
        }
    if kind.entity_type == "databaseSchema":
        entity["service"] = state.entities[("database", body["database"])].entity["service"]
    if kind.entity_type == "table":
        schema = state.entities[("databaseSchema", body["databaseSchema"])].entity
        entity["database"], entity["service"] = schema["database"], schema["service"]
        for column in entity["columns"]:
            column["fullyQualifiedName"] = f"{fqn}.{quote_name(column['name'])}"
    if existing is not None:  # a change log entry like OpenMetadata's changeDescription
        entity["changeDescription"] = {
            "fieldsUpdated": [
                {"name": k}
                for k in sorted(set(body) | set(existing.body))
                if body.get(k) != existing.body.get(k)
            ],
            "previousVersion": existing.entity["version"],
        }
    version = 0.1 if existing is None else round(existing.entity["version"] + 0.1, 1)
    entity_id = str(uuid.uuid4()) if existing is None else existing.entity["id"]
    entity.update(
        id=entity_id,
        fullyQualifiedName=fqn,
        version=version,
        deleted=False,
        href=f"http://localhost{API}/{kind.collection}/{entity_id}",
        updatedAt=int(time.time() * 1000),
        updatedBy="admin",
    )
    _validate(kind.entity, entity)  # answer only what the SDK can read back
    stored = Stored(kind, body, entity)
    state.entities[(kind.entity_type, fqn)] = stored
    state.by_id[entity_id] = stored
    return (201 if existing is None else 200), entity


def _types(state: State, method: str, rest: str, body: Any):
    if method == "GET" and rest.startswith("name/"):
        name = rest[len("name/") :]
        if name not in state.types:
            raise ContractError(404, f"type {name} not found")
        return 200, state.types[name]
    if method == "PUT":
        target = next((t for t in state.types.values() if t["id"] == rest), None)
        if target is None or target["category"] != "entity":
            raise ContractError(404, f"entity type {rest} not found")
        prop = json.loads(
            _validate(CreateCustomPropertyRequest, body).model_dump_json(exclude_none=True)
        )
        type_ref = prop["propertyType"]
        if not any(t["id"] == str(type_ref["id"]) for t in state.types.values()):
            raise ContractError(404, f"property type {type_ref['id']} not found")
        props = target["customProperties"]
        old = next((p for p in props if p["name"] == prop["name"]), None)
        if old == prop:
            return 200, target
        if old is not None:
            props.remove(old)
        props.append(prop)
        target["version"] = round(target["version"] + 0.1, 1)
        return 200, target
    raise ContractError(404, f"no such endpoint: {method} metadata/types/{rest}")


def _add_lineage(state: State, body: Any):
    edge = json.loads(_validate(AddLineageRequest, body).model_dump_json(exclude_none=True))["edge"]
    ends = (str(edge["fromEntity"]["id"]), str(edge["toEntity"]["id"]))
    for end in ends:
        if end not in state.by_id:
            raise ContractError(404, f"entity {end} not found")
    # As on the server: column lineage may only name columns the two tables have.
    known = [
        {c["fullyQualifiedName"] for c in state.by_id[end].entity.get("columns") or []}
        for end in ends
    ]
    for column in (edge.get("lineageDetails") or {}).get("columnsLineage") or []:
        for name, side in [(c, 0) for c in column.get("fromColumns") or []] + [
            (column.get("toColumn"), 1)
        ]:
            if name not in known[side]:
                raise ContractError(400, f"Invalid column name {name}")
    created = ends not in state.edges
    state.edges[ends] = edge
    return (201 if created else 200), {"edge": edge}


def _get_lineage(state: State, rest: str, query: dict[str, str]):
    match = re.fullmatch(r"(?P<type>\w+)/name/(?P<fqn>.+)", rest)
    if match is None:
        raise ContractError(404, f"no such endpoint: GET lineage/{rest}")
    root = state.entities.get((match["type"], match["fqn"]))
    if root is None:
        raise ContractError(404, f"{match['type']} instance for {match['fqn']} not found")
    root_id = root.entity["id"]

    def walk(depth: int, upstream: bool) -> list[dict[str, Any]]:
        frontier, seen, out = {root_id}, {root_id}, []
        for _ in range(depth):
            step = set()
            for (src, dst), edge in state.edges.items():
                near, far = (dst, src) if upstream else (src, dst)
                if near in frontier:
                    out.append(
                        {
                            "fromEntity": src,
                            "toEntity": dst,
                            "lineageDetails": edge.get("lineageDetails"),
                        }
                    )
                    if far not in seen:
                        seen.add(far)
                        step.add(far)
            frontier = step
        return out

    up = walk(int(query.get("upstreamDepth", 1)), upstream=True)
    down = walk(int(query.get("downstreamDepth", 1)), upstream=False)
    node_ids = {e[k] for e in up + down for k in ("fromEntity", "toEntity")} - {root_id}
    return 200, {
        "entity": _reference(root),
        "nodes": [_reference(state.by_id[i]) for i in sorted(node_ids)],
        "upstreamEdges": up,
        "downstreamEdges": down,
    }


def _results(state: State, method: str, fqn: str, query: dict[str, str], body: Any):
    if ("testCase", fqn) not in state.entities:
        raise ContractError(404, f"testCase instance for {fqn} not found")
    series = state.results.setdefault(fqn, {})
    if method == "POST":
        result = json.loads(
            _validate(CreateTestCaseResult, body).model_dump_json(exclude_none=True)
        )
        if result["timestamp"] < 10**12:  # seconds or a default: OpenMetadata wants milliseconds
            raise ContractError(400, f"timestamp {result['timestamp']} is not in milliseconds")
        previous = series.get(result["timestamp"])
        series[result["timestamp"]] = result
        return (201 if previous is None else 200), result
    if method == "GET":
        start, end = int(query.get("startTs", 0)), int(query.get("endTs", 2**62))
        data = [r for ts, r in sorted(series.items()) if start <= ts <= end]
        return 200, {"data": data, "paging": {"total": len(data)}}
    raise ContractError(404, f"no such endpoint: {method} testCaseResults/{fqn}")


def main() -> None:
    parser = argparse.ArgumentParser(description="OpenMetadata 契约服务器（仅用于测试）")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8585)
    args = parser.parse_args()
    server = ContractServer(args.host, args.port)
    print(f"契约服务器：{server.url}", flush=True)
    server.httpd.serve_forever()


if __name__ == "__main__":
    main()
