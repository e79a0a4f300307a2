"""The registry: departments, code lists, data elements (一数一源), datasets and indicators.

`load_registry()` reads catalog/registry/ into a checked, frozen `Registry`; every other part of
the platform (DAGs, dbt sources, checks, catalog, scorecard) is generated from it.
"""

from bzdata.registry.loader import (
    REGISTRY_ENV,
    RegistryError,
    RegistryIssue,
    clear_cache,
    default_root,
    load_indicators,
    load_registry,
)
from bzdata.registry.models import (
    LIBRARIES,
    CodeList,
    DataElement,
    Dataset,
    Delivery,
    Department,
    Field,
    Indicator,
    Issue,
    Open,
    Registry,
    Share,
)

__all__ = [
    "LIBRARIES",
    "REGISTRY_ENV",
    "CodeList",
    "DataElement",
    "Dataset",
    "Delivery",
    "Department",
    "Field",
    "Indicator",
    "Issue",
    "Open",
    "Registry",
    "RegistryError",
    "RegistryIssue",
    "Share",
    "clear_cache",
    "default_root",
    "load_indicators",
    "load_registry",
]
