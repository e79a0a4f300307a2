"""Main-side half of the OpenMetadata publisher: catalogue model → publish document → .venv-om.

Pure Python (no SDK): `build_document` maps entries and lineage onto OpenMetadata's shapes
(teams, one CustomDatabase service, databases/schemas/tables, tags, custom properties, test
cases per GB/T 36344 dimension; entries with a warehouse relation are tables of the `warehouse`
database, 资源目录 entries without one tables of the `catalogue` database), and
`OpenMetadataPublisher.publish` hands the document to publisher.py in the OpenMetadata
environment. Reads stay with the embedded catalogue.
"""

from __future__ import annotations

import calendar
import json
import os
import subprocess
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bzdata.catalog.model import OPEN_TYPES, SHARE_TYPES, Entry, LineageEdge
from bzdata.dimensions import DIMENSION_KEYS, DIMENSIONS

ROOT = Path(__file__).resolve().parents[4]
OM_PYTHON = ROOT / ".venv-om" / "bin" / "python"
PUBLISHER = Path(__file__).with_name("publisher.py")
SERVICE = "bzdata_warehouse"
DATABASE = "warehouse"
# 资源目录 entries with no warehouse relation (registry datasets, registered-only entries) are
# tables of their own database, one schema per provider department: OpenMetadata has no
# catalogue-entry entity, and a table carries the 信息项 as columns and lineage to the raw zone.
CATALOGUE_DATABASE = "catalogue"
UNASSIGNED = "unassigned"
# The registry's levels (bzdata.registry.models.SecurityLevel); any other value found is added.
SECURITY_LEVELS = ("一般", "重要", "核心")

# GB/T 21063 core fields that have no native OpenMetadata home → table custom properties.
CUSTOM_PROPERTIES: tuple[tuple[str, str, str], ...] = (
    ("resource_code", "resourceCode", "资源标识符"),
    ("provider_name", "provider", "资源提供方"),
    ("category", "resourceCategory", "资源分类"),
    ("format", "resourceFormat", "资源格式"),
    ("share_condition", "shareCondition", "共享条件"),
    ("open_condition", "openCondition", "开放条件"),
    ("update_cycle", "updateCycle", "更新周期"),
    ("publish_date", "publishDate", "发布日期"),
    ("layer", "libraryLayer", "库层级"),
)
# OpenMetadata's dataQualityDimension has no 时效性 / 可访问性 (STACK.md): NoDimension there.
OM_DIMENSION = {
    "规范性": "Validity",
    "完整性": "Completeness",
    "准确性": "Accuracy",
    "一致性": "Consistency",
    "时效性": "NoDimension",
    "可访问性": "NoDimension",
}


class PublishError(RuntimeError):
    """The publisher failed; the message is Chinese and says what to check."""


def _q(name: str) -> str:
    return f'"{name}"' if "." in name else name


def split_relation(relation: str) -> tuple[str, str]:
    """(schema, table) of a warehouse relation as dbt writes it: `"db"."schema"."table"`,
    `schema.table` or `table` (quotes removed; a dot inside quotes belongs to the name)."""
    parts, current, quoted = [], [], False
    for char in relation:
        if char == '"':
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    if quoted or not all(parts):
        raise ValueError(f"无法解析的数据库关系名：{relation}")
    return (parts[-2] if len(parts) > 1 else "main"), parts[-1]


def _period_end_ms(period: str) -> int:
    """Last millisecond of a YYYY-MM period (UTC): the same period always gets the same stamp."""
    year, month = (int(p) for p in period.split("-")[:2])
    last = calendar.monthrange(year, month)[1]
    end = datetime(year, month, last, 23, 59, 59, tzinfo=UTC)
    return int(end.timestamp()) * 1000


def build_document(entries: Iterable[Entry], edges: Iterable[LineageEdge]) -> dict[str, Any]:
    """Everything the publisher sends, derived from the catalogue alone, in a stable order."""
    entries = sorted(entries, key=lambda e: e.id)
    schemas: dict[tuple[str, str], list[dict[str, Any]]] = {}
    schema_names: dict[tuple[str, str], str] = {}
    fqn_of: dict[str, str] = {}
    teams: dict[str, str] = {}
    for e in entries:
        for code, name in ((e.provider, e.provider_name), (e.owner, None)):
            if code:
                teams[code] = teams.get(code) or name or code
    for e in entries:
        if e.relation:
            database, (schema, table) = DATABASE, split_relation(e.relation)
        else:
            database, schema, table = CATALOGUE_DATABASE, e.provider or UNASSIGNED, e.id
            schema_names[(database, schema)] = teams.get(schema, "未注明提供方")
        tags = {}
        if e.share:
            tags["共享属性"] = e.share
        if e.open:
            tags["开放属性"] = e.open
        if e.security_level:
            tags["安全级别"] = e.security_level
        extension = {
            prop: str(getattr(e, attr)) for attr, prop, _ in CUSTOM_PROPERTIES if getattr(e, attr)
        }
        columns = [
            {
                "name": f.name,
                "dataType": f.type or "UNKNOWN",
                "description": "；".join(x for x in (f.header, f.description) if x),
                "tags": {"安全级别": f.security_level} if f.security_level else {},
            }
            for f in e.fields
        ]
        schemas.setdefault((database, schema), []).append(
            {
                "name": table,
                "displayName": e.name,
                "description": e.abstract or e.name,
                "owner": e.owner or e.provider,
                "tags": tags,
                "extension": extension,
                "columns": columns,
            }
        )
        fqn_of[e.id] = ".".join(_q(p) for p in (SERVICE, database, schema, table))

    lineage: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for edge in edges:
        if edge.upstream not in fqn_of or edge.downstream not in fqn_of:
            continue
        cols = lineage.setdefault((fqn_of[edge.upstream], fqn_of[edge.downstream]), [])
        if edge.upstream_column and edge.downstream_column:
            cols.append({"from": [edge.upstream_column], "to": edge.downstream_column})

    cases = []
    for e in entries:
        if e.id not in fqn_of or e.quality is None:
            continue
        for dimension, rate in sorted(e.quality.pass_rate.items()):
            cases.append(
                {
                    "name": f"bzdata_{DIMENSION_KEYS.get(dimension, dimension)}",
                    "displayName": f"{dimension}通过率",
                    "table": fqn_of[e.id],
                    "testDefinition": f"bzdata_{DIMENSION_KEYS.get(dimension, dimension)}",
                    "description": f"GB/T 36344 {dimension}：{e.quality.period} 期规则通过率",
                    "results": [
                        {
                            "timestamp_ms": _period_end_ms(e.quality.period),
                            "status": "Success" if rate >= 1 else "Failed",
                            "pass_rate": rate,
                            "message": f"{e.quality.period} {dimension}通过率 {rate:.2%}",
                        }
                    ],
                }
            )

    levels = list(SECURITY_LEVELS)
    for e in entries:
        for level in (e.security_level, *(f.security_level for f in e.fields)):
            if level and level not in levels:
                levels.append(level)
    return {
        "teams": [{"name": c, "displayName": n} for c, n in sorted(teams.items())],
        "custom_properties": [
            {"name": p, "displayName": d, "description": f"GB/T 21063 {d}"}
            for _, p, d in CUSTOM_PROPERTIES
        ],
        "classifications": [
            {
                "name": name,
                "description": desc,
                "tags": [{"name": v, "description": f"{name}：{v}"} for v in values],
            }
            for name, desc, values in (
                ("共享属性", "GB/T 21063 共享属性", SHARE_TYPES),
                ("开放属性", "GB/T 21063 开放属性", OPEN_TYPES),
                ("安全级别", "数据安全级别", SECURITY_LEVELS),
            )
        ],
        "service": {
            "name": SERVICE,
            "displayName": "滨州公共数据平台数据仓库",
            "description": "DuckDB 数据仓库（由 bzdata 发布，无连接器）",
        },
        "databases": [
            {
                "name": name,
                "description": description,
                "schemas": [
                    {"name": s, "displayName": schema_names.get((db, s)), "tables": t}
                    for (db, s), t in sorted(schemas.items())
                    if db == name
                ],
            }
            for name, description in (
                (CATALOGUE_DATABASE, "公共数据资源目录（登记的数据资源，尚无数据仓库表）"),
                (DATABASE, "滨州公共数据平台数据仓库"),
            )
            if any(db == name for db, _ in schemas)
        ],
        "lineage": [{"from": a, "to": b, "columns": c} for (a, b), c in sorted(lineage.items())],
        "test_definitions": [
            {
                "name": f"bzdata_{DIMENSION_KEYS[d]}",
                "displayName": f"{d}（GB/T 36344）",
                "description": f"bzdata 质量规则：{d}维度",
                "entityType": "TABLE",
                "dimension": OM_DIMENSION[d],
            }
            for d in DIMENSIONS
        ],
        "test_cases": cases,
    }


def run_publisher(
    document: dict[str, Any],
    work: Path,
    *,
    server: str | None = None,
    dry_run: Path | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """Write the document under `work` and run publisher.py in .venv-om; returns its summary."""
    if not OM_PYTHON.exists():
        raise PublishError(f"未找到 OpenMetadata 发布环境 {OM_PYTHON}：请先运行 make om-env")
    work.mkdir(parents=True, exist_ok=True)
    doc_path = work / "openmetadata_document.json"
    doc_path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    cmd = [str(OM_PYTHON), str(PUBLISHER), str(doc_path)]
    if dry_run is not None:
        cmd += ["--dry-run", str(dry_run)]
    if server:
        cmd += ["--server", server]
    env = dict(os.environ)
    if token:
        env["BZDATA_OM_TOKEN"] = token
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise PublishError(f"发布到 OpenMetadata 失败（退出码 {done.returncode}）：\n{tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class OpenMetadataPublisher:
    """CatalogueBackend's write half for OpenMetadata; reads belong to the embedded catalogue."""

    def __init__(
        self,
        work: Path,
        *,
        server: str | None = None,
        dry_run: Path | None = None,
        token: str | None = None,
    ) -> None:
        self.work, self.server, self.dry_run, self.token = work, server, dry_run, token
        self.summary: dict[str, Any] | None = None

    def publish(self, entries: Sequence[Entry], edges: Sequence[LineageEdge]) -> None:
        self.summary = run_publisher(
            build_document(entries, edges),
            self.work,
            server=self.server,
            dry_run=self.dry_run,
            token=self.token,
        )

    def entries(self):
        raise NotImplementedError("OpenMetadata 只发布；读取请用内置目录")

    entry = lineage = search = entries
