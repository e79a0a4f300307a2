"""The unified public data resource catalogue (GB/T 21063): entries, fields, lineage, quality,
demands, and Chinese/pinyin search over them.

    model.py      the shared data model: entries, fields, lineage, quality, demands
    interface.py  CatalogueBackend, implemented by the embedded catalogue and the publisher
    store.py      the embedded catalogue: one SQLite file (entries + FTS5), atomic
    build.py      rebuild from registry, dbt artifacts, manifest, quality results
    search.py     jieba + pypinyin tokenisation and the ranked, filtered query
    lint.py       GB/T 21063 completeness and catalogue-lint rules (read by the scorecard's 编目)
    demand.py     需求清单: filing, matching, answers, and the 需求满足率 (demand_satisfaction)
    supply.py     供给清单: what each provider department supplies, under which attributes
"""

from bzdata.catalog.demand import CITY, Satisfaction, demand_satisfaction
from bzdata.catalog.model import (
    Demand,
    Entry,
    FieldInfo,
    LineageEdge,
    QualitySummary,
    SearchHit,
)
from bzdata.catalog.store import catalogue_path, load_catalogue

__all__ = [
    "CITY",
    "Demand",
    "Entry",
    "FieldInfo",
    "LineageEdge",
    "QualitySummary",
    "Satisfaction",
    "SearchHit",
    "catalogue_path",
    "demand_satisfaction",
    "load_catalogue",
]
