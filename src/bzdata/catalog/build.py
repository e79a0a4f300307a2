"""Rebuild the embedded catalogue of a work folder after a period.

Sources (each optional but the registry, so a half-built work folder still gets a catalogue):

    catalog/registry/                          one 资源目录 entry per registry dataset
    <work>/dbt/target/manifest.json            one entry per raw table (dbt source) and model,
    <work>/dbt/target/catalog.json             with column types,
    <work>/dbt/target/run_results.json         last successful build per model
    <work>/lake/manifest/period=*/             last successful delivery and rows per dataset
    <work>/lake/quality/rule_results/          latest pass rate per GB/T 36344 dimension
    <work>/synth/catalogue/catalogue.jsonl     registered-but-not-delivered entries (city catalogue)

Lineage: dataset → raw table → staging → … as dbt's depends_on gives it; column-level edges where
the downstream model has a column of the same name as its upstream (dbt 1.11 records no column
lineage itself, so that is what it "knows").

Held datasets (the period's severity hold, passed in by the publish step): a held dataset's
delivery is not published, so its 资源目录 entry, its raw tables and every model built from
held datasets alone leave the catalogue with their edges; a model that also reads published
datasets stays, without the edges from what left.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bzdata.catalog.model import Entry, FieldInfo, LineageEdge, QualitySummary
from bzdata.catalog.store import catalogue_path, write_catalogue
from bzdata.dimensions import DIMENSIONS
from bzdata.registry import Registry, load_registry

SYNTH_CATALOGUE = Path("synth") / "catalogue" / "catalogue.jsonl"
_MART_LAYERS = {
    "base": "基础库",
    "theme": "主题库",
    "topic": "专题库",
    "indicator": "指标库",
    "quality": "质量",
}


@dataclass(frozen=True)
class BuildSummary:
    path: Path
    entries: int
    edges: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "entries": self.entries,
            "edges": self.edges,
            "seconds": round(self.seconds, 2),
        }


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def dataset_entries(registry: Registry) -> list[Entry]:
    """One 资源目录 entry per registry dataset, with its 信息项 from the data elements."""
    out = []
    for ds in registry.datasets:
        dept = registry.department(ds.provider)
        fields = []
        for f in ds.fields:
            element = registry.element(f.element)
            fields.append(
                FieldInfo(
                    name=f.column,
                    header=element.name,
                    type=f.type or element.type,
                    description=element.description,
                    element=f.element,
                    personal=bool(f.personal),
                    security_level=ds.security_level,
                )
            )
        out.append(
            Entry(
                id=ds.id,
                kind="dataset",
                layer="资源目录",
                name=ds.name,
                abstract=ds.abstract,
                resource_code=ds.resource_code,
                provider=ds.provider,
                provider_name=dept.name,
                category=ds.category,
                library=ds.library,
                format=ds.format,
                share=ds.share.type,
                share_condition=ds.share.condition,
                open=ds.open.type,
                open_condition=ds.open.condition,
                update_cycle=ds.update_cycle,
                publish_date=ds.publish_date.isoformat(),
                security_level=ds.security_level,
                owner=ds.provider,
                delivered=True,
                fields=tuple(fields),
            )
        )
    return out


def _model_layer(node: dict) -> str:
    fqn = node.get("fqn") or []
    group = fqn[1] if len(fqn) > 2 else ""
    if group == "staging":
        return "staging"
    if group == "marts":
        return _MART_LAYERS.get(fqn[2], "专题库")
    return "中间层"


def _model_name(node: dict) -> str:
    text = (node.get("description") or "").strip()
    head = text.split("：", 1)[0].split("。", 1)[0].strip()
    return head if head and len(head) <= 40 else node["name"]


def _columns(node: dict, typed: dict, security: str | None) -> tuple[FieldInfo, ...]:
    types = {k.lower(): v.get("type") for k, v in (typed.get("columns") or {}).items()}
    out = []
    for name, col in (node.get("columns") or {}).items():
        meta = col.get("meta") or {}
        desc = (col.get("description") or "").strip()
        out.append(
            FieldInfo(
                name=name,
                header=desc.split("（", 1)[0].split("：", 1)[0][:30] or name,
                type=col.get("data_type") or types.get(name.lower()),
                description=desc or None,
                element=meta.get("element"),
                personal=bool(meta.get("personal")),
                security_level=security,
            )
        )
    known = {f.name for f in out}
    for name, col in sorted((typed.get("columns") or {}).items(), key=lambda kv: kv[1]["index"]):
        if name.lower() not in known and name not in known:
            out.append(FieldInfo(name=name.lower(), header=name.lower(), type=col.get("type")))
    return tuple(out)


def dbt_entries(
    target: Path, registry: Registry
) -> tuple[list[Entry], list[LineageEdge], dict[str, str]]:
    """Raw-table and model entries from dbt's artifacts, their edges, and unique_id → entry id."""
    manifest = _read_json(target / "manifest.json")
    if not manifest:
        return [], [], {}
    typed = _read_json(target / "catalog.json")
    results = _read_json(target / "run_results.json")
    done: dict[str, str] = {}
    for result in results.get("results") or []:
        if result.get("status") == "success" and result.get("timing"):
            done[result["unique_id"]] = result["timing"][-1].get("completed_at")
    ids: dict[str, str] = {}
    entries: list[Entry] = []
    by_dataset = {ds.id: ds for ds in registry.datasets}
    for uid, node in sorted((manifest.get("sources") or {}).items()):
        meta = node.get("meta") or {}
        dataset = meta.get("dataset") or node["name"]
        ds = by_dataset.get(dataset)
        entry_id = f"raw.{node['name']}"
        ids[uid] = entry_id
        entries.append(
            Entry(
                id=entry_id,
                kind="raw",
                layer="原始区",
                name=f"{ds.name}（原始区）" if ds else node["name"],
                abstract=(node.get("description") or (ds.abstract if ds else "")),
                resource_code=meta.get("resource_code"),
                provider=meta.get("owner_department"),
                provider_name=meta.get("owner_department_name"),
                category=meta.get("category"),
                library=meta.get("library"),
                format="Parquet",
                share=meta.get("share"),
                open=meta.get("open"),
                update_cycle=meta.get("update_cycle"),
                security_level=meta.get("security_level"),
                owner=meta.get("owner_department"),
                fields=_columns(node, (typed.get("sources") or {}).get(uid, {}), None),
                relation=node.get("relation_name"),
            )
        )
    for uid, node in sorted((manifest.get("nodes") or {}).items()):
        if node.get("resource_type") != "model":
            continue
        meta = node.get("config", {}).get("meta") or node.get("meta") or {}
        ids[uid] = node["name"]
        security = meta.get("security_level")
        entries.append(
            Entry(
                id=node["name"],
                kind="model",
                layer=_model_layer(node),
                name=_model_name(node),
                abstract=(node.get("description") or "").strip(),
                resource_code=meta.get("resource_code"),
                provider=meta.get("owner_department"),
                provider_name=meta.get("owner_department_name"),
                category=meta.get("category"),
                library=meta.get("library") if isinstance(meta.get("library"), str) else None,
                format="数据库表",
                share=meta.get("share"),
                open=meta.get("open"),
                update_cycle=meta.get("update_cycle"),
                security_level=security,
                owner=meta.get("owner_department"),
                fields=_columns(node, (typed.get("nodes") or {}).get(uid, {}), security),
                last_success=done.get(uid),
                relation=node.get("relation_name"),
            )
        )
    columns = {e.id: {f.name for f in e.fields} for e in entries}
    edges: list[LineageEdge] = []
    for uid, node in (manifest.get("nodes") or {}).items():
        if uid not in ids:
            continue
        down = ids[uid]
        for parent in (node.get("depends_on") or {}).get("nodes") or []:
            up = ids.get(parent)
            if up is None:
                continue
            edges.append(LineageEdge(up, down))
            for column in sorted(columns[up] & columns[down]):
                edges.append(LineageEdge(up, down, column, column))
    for uid, node in (manifest.get("sources") or {}).items():
        dataset = (node.get("meta") or {}).get("dataset") or node["name"]
        if dataset in by_dataset:
            down = ids[uid]
            edges.append(LineageEdge(dataset, down))
            for f in by_dataset[dataset].fields:
                if f.column in columns[down]:
                    edges.append(LineageEdge(dataset, down, f.column, f.column))
    return entries, edges, ids


def _deliveries(work: Path) -> dict[str, tuple[str, int]]:
    """dataset -> (last successful load time, rows accepted in that period)."""
    import pyarrow.dataset as pds

    base = work / "lake" / "manifest"
    if not base.is_dir():
        return {}
    table = pds.dataset(str(base), format="parquet", partitioning="hive").to_table(
        columns=["dataset", "period", "status", "rows_accepted", "loaded_at"]
    )
    best: dict[str, tuple[str, str, int]] = {}
    rows: dict[tuple[str, str], int] = defaultdict(int)
    for row in table.to_pylist():
        if row["status"] != "loaded":
            continue
        rows[(row["dataset"], row["period"])] += int(row["rows_accepted"] or 0)
        stamp = row["loaded_at"].isoformat() if row["loaded_at"] else ""
        current = best.get(row["dataset"])
        if current is None or (row["period"], stamp) > (current[0], current[1]):
            best[row["dataset"]] = (row["period"], stamp, 0)
    return {ds: (stamp, rows[(ds, period)]) for ds, (period, stamp, _) in best.items()}


def _quality(work: Path) -> dict[str, QualitySummary]:
    """dataset -> pass rate per dimension of its latest period with rule results."""
    import pyarrow.dataset as pds

    base = work / "lake" / "quality" / "rule_results"
    if not base.is_dir():
        return {}
    table = pds.dataset(str(base), format="parquet", partitioning="hive").to_table()
    latest: dict[str, str] = {}
    rows = table.to_pylist()
    for row in rows:
        latest[row["dataset"]] = max(latest.get(row["dataset"], ""), row["period"])
    sums: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    rules: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        if row["period"] != latest[row["dataset"]] or row.get("error"):
            continue
        total = sums[row["dataset"]][row["dimension"]]
        total[0] += int(row["element_count"] or 0)
        total[1] += int(row["unexpected_count"] or 0)
        rules[row["dataset"]][0] += 1
        rules[row["dataset"]][1] += int((row["unexpected_count"] or 0) > 0)
    out = {}
    for dataset, dims in sums.items():
        rates = {
            d: round(1 - bad / n, 6) if n else 1.0
            for d in DIMENSIONS
            if d in dims
            for n, bad in [dims[d]]
        }
        out[dataset] = QualitySummary(latest[dataset], rates, rules[dataset][0], rules[dataset][1])
    return out


def read_registered(path: Path) -> list[Entry]:
    """Registered-but-not-delivered entries, one JSON object per line (Entry.to_dict())."""
    if not path.is_file():
        return []
    out = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                out.append(Entry.from_dict(json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path} 第 {number} 行不是有效的目录条目：{exc}") from None
    return out


def without_held(
    entries: list[Entry], edges: list[LineageEdge], held: frozenset[str], registry: Registry
) -> tuple[list[Entry], list[LineageEdge]]:
    """The dbt entries and edges left when `held` datasets are not published: a raw table or
    model goes when every registry dataset it is built from is held (see the module docstring)."""
    datasets = {d.id for d in registry.datasets}
    ups: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        if edge.upstream_column is None:
            ups[edge.downstream].add(edge.upstream)
    feeds: dict[str, frozenset[str]] = {}

    def fed_by(node: str) -> frozenset[str]:
        if node in datasets:
            return frozenset({node})
        if node not in feeds:
            feeds[node] = frozenset()  # guards against a cycle
            feeds[node] = frozenset().union(*(fed_by(up) for up in sorted(ups[node])))
        return feeds[node]

    gone = set(held) | {e.id for e in entries if fed_by(e.id) and fed_by(e.id) <= held}
    kept = [e for e in entries if e.id not in gone]
    return kept, [e for e in edges if e.upstream not in gone and e.downstream not in gone]


def collect(
    work_dir: Path | str,
    *,
    registry: Registry | None = None,
    registered: Path | str | None = None,
    held: Iterable[str] = (),
) -> tuple[list[Entry], list[LineageEdge]]:
    """Every entry and lineage edge of the work folder's catalogue (nothing written), without
    what the `held` datasets alone feed."""
    work = Path(work_dir)
    registry = registry or load_registry()
    held = frozenset(held)
    datasets = [e for e in dataset_entries(registry) if e.id not in held]
    models, edges, _ = dbt_entries(work / "dbt" / "target", registry)
    if held:
        models, edges = without_held(models, edges, held, registry)
    deliveries = _deliveries(work)
    quality = _quality(work)
    enriched = []
    for entry in datasets + models:
        dataset = entry.id if entry.kind == "dataset" else entry.id.removeprefix("raw.")
        if entry.kind in ("dataset", "raw"):
            stamp, rows = deliveries.get(dataset, (None, None))
            entry = replace(entry, last_success=stamp, row_count=rows, quality=quality.get(dataset))
        enriched.append(entry)
    known = {e.id for e in enriched}
    extra_path = Path(registered) if registered is not None else work / SYNTH_CATALOGUE
    enriched += [e for e in read_registered(extra_path) if e.id not in known]
    ups: dict[str, set[str]] = defaultdict(set)
    downs: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        if edge.upstream_column is None:
            ups[edge.downstream].add(edge.upstream)
            downs[edge.upstream].add(edge.downstream)
    final = [
        replace(e, upstream=tuple(sorted(ups[e.id])), downstream=tuple(sorted(downs[e.id])))
        for e in enriched
    ]
    edges = sorted(set(edges), key=lambda x: (x.upstream, x.downstream, x.upstream_column or ""))
    return final, edges


def build_catalogue(
    work_dir: Path | str,
    *,
    registry: Registry | None = None,
    registered: Path | str | None = None,
    path: Path | str | None = None,
    held: Iterable[str] = (),
) -> BuildSummary:
    """Rebuild `<work>/catalog/catalog.sqlite` atomically from everything the period produced
    (without what the `held` datasets alone feed)."""
    start = time.monotonic()
    entries, edges = collect(work_dir, registry=registry, registered=registered, held=held)
    target = write_catalogue(Path(path) if path else catalogue_path(work_dir), entries, edges)
    return BuildSummary(target, len(entries), len(edges), time.monotonic() - start)


def demand_store(work_dir: Path | str) -> Path:
    """Where the work folder keeps its append-only 需求清单 (never rebuilt)."""
    return Path(work_dir) / "catalog" / "demands"


def rebuild_for_period(
    work_dir: Path | str,
    period: str,
    *,
    registry: Registry | None = None,
    held: Iterable[str] = (),
) -> dict[str, Any]:
    """The pipeline's catalogue stage: rebuild the catalogue without the period's held datasets
    (the publish step's hold list), then write the period's 需求满足率."""
    import calendar
    from datetime import date

    from bzdata.catalog.demand import write_satisfaction

    summary = build_catalogue(work_dir, registry=registry, held=held)
    year, month = int(period[:4]), int(period[5:7])
    as_of = date(year, month, calendar.monthrange(year, month)[1])
    rates = write_satisfaction(work_dir, demand_store(work_dir), period, as_of)
    return {
        **summary.to_dict(),
        "period": period,
        "held": sorted(set(held)),
        "demand_satisfaction": str(rates),
    }
