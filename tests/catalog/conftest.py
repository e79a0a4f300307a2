"""Two catalogue worlds, each built once per session.

- `city`: the real registry, dbt nodes made from the project's own base-library YAML (no dbt
  run needed), and 5,000+ synthetic registered entries (search and lint at city size).
- `demo_period`: one demo month through the real pipeline (synthetic deliveries → ingest →
  `dbt build` with docs → quality checks → the severity hold), so dbt's own manifest.json,
  catalog.json and run_results.json and the period's rule results are what the catalogue reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
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


@dataclass(frozen=True)
class DemoPeriod:
    work: Path
    period: str
    held: dict[str, list[str]]  # the period's severity hold, as the publish DAG writes it

    @property
    def manifest(self) -> dict:
        return json.loads((self.work / "dbt/target/manifest.json").read_text("utf-8"))


@pytest.fixture(scope="session")
def demo_period(tmp_path_factory) -> DemoPeriod:
    from bzdata.build import dbt
    from bzdata.ingest import Paths, ingest_dataset, refresh_warehouse
    from bzdata.orchestration.publish import write_holds
    from bzdata.quality import run_checks
    from bzdata.synth import generate

    work = tmp_path_factory.mktemp("demo") / "work"
    period = generate(work / "synth", scale="demo", months=1).periods[-1]
    year, month = int(period[:4]), int(period[5:])
    logical = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    paths = Paths.from_work(work)
    for ds in load_registry().datasets:
        ingest_dataset(ds.id, period, logical, paths, "catalog-tests")
    refresh_warehouse(paths)
    built = dbt.build(work, period=period, docs=True)
    assert built.success, built.problems
    run_checks(work, period, data_docs=False)
    return DemoPeriod(work, period, write_holds(work, period))
