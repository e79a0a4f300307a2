"""A period's severity hold reaches the catalogue whole: the held dataset's 资源目录 entry, its
raw tables and every model built from held datasets alone leave, with their lineage, and come
back once nothing is held. The demo period's own hold list (严重 rules that failed) is used; what
each model is built from is read from dbt's manifest.json, not from the catalogue."""

from __future__ import annotations

from functools import cache

from bzdata.catalog.build import rebuild_for_period
from bzdata.catalog.openmetadata.backend import build_document
from bzdata.catalog.store import load_catalogue
from bzdata.registry import load_registry


def _built_from(manifest: dict) -> dict[str, frozenset[str]]:
    """Catalogue id of each source and model → the registry datasets upstream of it in dbt."""
    datasets = {d.id for d in load_registry().datasets}
    nodes = {**manifest["sources"], **manifest["nodes"]}

    @cache
    def upstream(uid: str) -> frozenset[str]:
        node = nodes[uid]
        if node["resource_type"] == "source":
            found = node["meta"].get("dataset")
            return frozenset({found} & datasets)
        parents = node.get("depends_on", {}).get("nodes", [])
        return frozenset().union(*(upstream(p) for p in parents if p in nodes))

    out = {f"raw.{n['name']}": upstream(uid) for uid, n in manifest["sources"].items()}
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] == "model":
            out[node["name"]] = upstream(uid)
    return out


def test_held_datasets_leave_with_what_they_alone_feed(demo_period, tmp_path) -> None:
    held = set(demo_period.held)
    assert held, "the demo period holds no dataset: nothing to test"
    registry = load_registry()
    built_from = _built_from(demo_period.manifest)
    gone = {i for i, feeds in built_from.items() if feeds and feeds <= held}
    assert {f"raw.{d}" for d in held} <= gone  # each held dataset's own raw table
    mixed = {i for i, feeds in built_from.items() if feeds & held and not feeds <= held}

    result = rebuild_for_period(demo_period.work, demo_period.period, held=held)
    assert result["held"] == sorted(held)
    catalogue = load_catalogue(demo_period.work)
    ids = {e.id for e in catalogue.entries()}
    assert ids & (held | gone) == set()
    assert {d.id for d in registry.datasets} - held <= ids
    assert set(built_from) - gone <= ids  # what published datasets feed stays, mixed or not
    assert mixed and mixed <= ids
    for edge in catalogue.edges():
        assert {edge.upstream, edge.downstream}.isdisjoint(held | gone), edge
    for entry_id in mixed:
        assert set(catalogue.entry(entry_id).upstream).isdisjoint(gone), entry_id
    hits = {h.id for h in catalogue.search("户籍人口", limit=50)}
    assert hits.isdisjoint(held | gone)
    # OpenMetadata gets what the catalogue holds: no table of a held dataset.
    document = build_document(list(catalogue.entries()), catalogue.edges())
    names = {t["name"] for db in document["databases"] for s in db["schemas"] for t in s["tables"]}
    assert names.isdisjoint(held | {i.removeprefix("raw.") for i in gone})
    catalogue.close()

    # Nothing held the next time: every entry is back.
    rebuild_for_period(demo_period.work, demo_period.period)
    again = load_catalogue(demo_period.work)
    assert (held | gone) <= {e.id for e in again.entries()}
    again.close()
