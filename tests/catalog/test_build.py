"""The built catalogue holds every registry dataset and library model with metadata, fields and
lineage both ways; a rebuild is atomic for readers; the synthetic city catalogue is deterministic.
"""

from __future__ import annotations

import yaml

from bzdata.catalog.build import build_catalogue
from bzdata.catalog.interface import CatalogueBackend
from bzdata.catalog.store import load_catalogue
from bzdata.config import project_root
from bzdata.registry import load_registry
from bzdata.synth.catalogue import city_entries


def _base_models() -> list[str]:
    path = project_root() / "dbt_project/models/marts/base/_base__models.yml"
    return [m["name"] for m in yaml.safe_load(path.read_text("utf-8"))["models"]]


def test_embedded_catalogue_is_a_backend(city) -> None:
    assert isinstance(city, CatalogueBackend)


def test_every_registry_dataset_has_its_core_metadata_and_fields(city) -> None:
    for ds in load_registry().datasets:
        entry = city.entry(ds.id)
        assert entry is not None, ds.id
        assert (entry.name, entry.resource_code, entry.provider) == (
            ds.name,
            ds.resource_code,
            ds.provider,
        )
        assert (entry.share, entry.open, entry.update_cycle) == (
            ds.share.type,
            ds.open.type,
            ds.update_cycle,
        )
        assert [f.name for f in entry.fields] == [f.column for f in ds.fields]
        assert all(f.type and f.element and f.header for f in entry.fields)
        personal = {f.name for f in entry.fields if f.personal}
        assert personal == set(ds.personal_columns)


def test_every_base_library_has_lineage_both_ways(city) -> None:
    for name in _base_models():
        entry = city.entry(name)
        assert entry is not None and entry.layer == "基础库", name
        assert entry.upstream, name
        for up in entry.upstream:
            assert name in city.entry(up).downstream
    population = city.entry("lib_population")
    assert "stg_gaj__hjrk" in population.upstream
    # raw → staging → 基础库, and the registry dataset at the head, column by column.
    raw = city.entry("raw.gaj_hjrk")
    assert "gaj_hjrk" in raw.upstream and "stg_gaj__hjrk" in raw.downstream
    columns = {(e.upstream_column, e.downstream_column) for e in city.lineage("lib_population")}
    assert ("citizen_id", "citizen_id") in columns


def test_rebuild_is_atomic_for_an_open_reader(city_work, tmp_path) -> None:
    path = tmp_path / "catalog.sqlite"
    build_catalogue(city_work, path=path, registered=tmp_path / "none.jsonl")
    reader = load_catalogue(path)
    before = reader.count()
    build_catalogue(city_work, path=path)  # now with the city catalogue
    assert reader.count() == before  # the open snapshot stays readable and unchanged
    assert load_catalogue(path).count() > before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_city_catalogue_is_deterministic_and_spans_departments() -> None:
    registry = load_registry()
    first = city_entries(registry, n=500, seed=7)
    assert first == city_entries(registry, n=500, seed=7)
    assert first != city_entries(registry, n=500, seed=8)
    assert {e.provider for e in first} == {d.code for d in registry.departments}
    assert len({e.id for e in first}) == 500 and not any(e.delivered for e in first)
