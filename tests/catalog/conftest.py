"""A city-sized catalogue built once per session: the real registry, dbt nodes made from the
project's own base-library YAML (no dbt run needed), and 5,000+ synthetic registered entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bzdata.catalog.build import build_catalogue
from bzdata.catalog.store import load_catalogue
from bzdata.config import project_root
from bzdata.registry import load_registry
from bzdata.synth.catalogue import generate_catalogue

CITY_ENTRIES = 5200


def _manifest() -> dict:
    """A dbt manifest with the registry's sources and the base-library models, as dbt parses
    them from dbt_project (descriptions, columns, meta), staging in between."""
    registry = load_registry()
    doc = yaml.safe_load(
        (project_root() / "dbt_project/models/marts/base/_base__models.yml").read_text("utf-8")
    )
    sources, nodes = {}, {}
    for ds in registry.datasets:
        sources[f"source.bzdata.raw.{ds.id}"] = {
            "name": ds.id,
            "description": ds.abstract,
            "meta": {"dataset": ds.id, "owner_department": ds.provider},
            "columns": {f.column: {"description": f.header} for f in ds.fields},
        }
        dept, _, rest = ds.id.partition("_")
        nodes[f"model.bzdata.stg_{dept}__{rest}"] = {
            "name": f"stg_{dept}__{rest}",
            "resource_type": "model",
            "fqn": ["bzdata", "staging", dept, f"stg_{dept}__{rest}"],
            "description": f"{ds.name}的全部报送期，逐列规范化",
            "config": {"meta": {"owner_department": ds.provider}},
            "columns": {f.column: {"description": f.header} for f in ds.fields},
            "depends_on": {"nodes": [f"source.bzdata.raw.{ds.id}"]},
        }
    for model in doc["models"]:
        library = (model.get("config", {}).get("meta") or model.get("meta") or {}).get("library")
        feeds = [
            f"model.bzdata.stg_{d.id.partition('_')[0]}__{d.id.partition('_')[2]}"
            for d in registry.base_libraries().get(library, [])
        ]
        nodes[f"model.bzdata.{model['name']}"] = {
            "name": model["name"],
            "resource_type": "model",
            "fqn": ["bzdata", "marts", "base", model["name"]],
            "description": model.get("description", ""),
            "config": {"meta": model.get("config", {}).get("meta") or model.get("meta") or {}},
            "columns": {c["name"]: c for c in model.get("columns", [])},
            "depends_on": {"nodes": feeds},
        }
    return {"sources": sources, "nodes": nodes}


@pytest.fixture(scope="session")
def city_work(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("catwork")
    target = work / "dbt" / "target"
    target.mkdir(parents=True)
    (target / "manifest.json").write_text(json.dumps(_manifest(), ensure_ascii=False), "utf-8")
    generate_catalogue(
        work / "synth" / "catalogue" / "catalogue.jsonl", load_registry(), n=CITY_ENTRIES
    )
    build_catalogue(work)
    return work


@pytest.fixture(scope="session")
def city(city_work):
    return load_catalogue(city_work)
