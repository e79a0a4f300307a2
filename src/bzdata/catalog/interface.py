"""CatalogueBackend: the one small interface behind which catalogue backends sit (STYLE point 8).

The embedded catalogue (bzdata.catalog.store.EmbeddedCatalogue) implements all of it and is what
the portal and the tests use. A deployment adds a publisher (OpenMetadata) that implements
`publish`; it may answer reads from what it published or raise NotImplementedError for them.

Who may see an entry (the one rule, applied inside every query a viewer makes):

- the public sees the 开放目录: entries whose 开放属性 is 无条件开放 or 有条件开放;
- a logged-in department also sees the 共享目录 (共享属性 无条件共享 or 有条件共享) and every
  entry it provides itself, whatever its attributes;
- an administrator sees everything.

An entry with neither attribute recorded is shown only to its own department and administrators.
Masked sample rows follow 开放属性 alone: 无条件开放 for everyone, 有条件开放 for logged-in
departments, 不予开放 for nobody (those rows are never published).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bzdata.catalog.model import Entry, LineageEdge, SearchHit

PUBLIC_OPEN: tuple[str, ...] = ("无条件开放", "有条件开放")
DEPARTMENT_SHARE: tuple[str, ...] = ("无条件共享", "有条件共享")
# Facets a search page counts, in display order (names of store.FILTERS).
FACETS: tuple[str, ...] = ("provider", "layer", "share", "open", "security_level", "update_cycle")


@dataclass(frozen=True)
class Viewer:
    """Who asks: the public (no department), a logged-in department, or an administrator."""

    department: str | None = None
    admin: bool = False

    @classmethod
    def public(cls) -> Viewer:
        return cls()

    @classmethod
    def everyone(cls) -> Viewer:
        """Trusted in-process callers (the pipeline, the CLI on the operator's own machine)."""
        return cls(admin=True)

    def may_sample(self, entry: Entry) -> bool:
        """Whether masked sample rows of `entry` may be shown to this viewer (by 开放属性)."""
        if entry.open == "无条件开放":
            return True
        return entry.open == "有条件开放" and (self.admin or self.department is not None)


@dataclass(frozen=True)
class SearchPage:
    """One page of a search: the hits, how many match in all, and the facet counts."""

    query: str
    total: int
    offset: int
    limit: int
    hits: tuple[SearchHit, ...]
    # facet -> [(value, count)], most frequent first; counts apply every other facet's filter
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit)) if self.limit else 1


@runtime_checkable
class CatalogueBackend(Protocol):
    """Where a built catalogue lives: written whole by `publish`, read by id, lineage and search."""

    def publish(self, entries: Sequence[Entry], edges: Sequence[LineageEdge]) -> None:
        """Replace the backend's catalogue with these entries and lineage edges (idempotent:
        publishing an unchanged catalogue again changes nothing)."""
        ...

    def entries(self) -> Iterable[Entry]:
        """Every entry, ordered by id."""
        ...

    def entry(self, entry_id: str) -> Entry | None:
        """One entry, or None when unknown."""
        ...

    def lineage(self, entry_id: str) -> list[LineageEdge]:
        """Every edge touching the entry (upstream and downstream, column-level where known)."""
        ...

    def search(
        self, query: str, *, filters: Mapping[str, str] | None = None, limit: int = 20
    ) -> list[SearchHit]:
        """Ranked hits for a Chinese / pinyin / initials query; filters by field name
        (provider, layer, share, open, security_level, update_cycle) apply inside the query."""
        ...


@runtime_checkable
class CatalogueSearch(Protocol):
    """What the portal reads: paged, faceted search and entries as one viewer may see them."""

    def search_page(
        self,
        query: str,
        *,
        viewer: Viewer,
        filters: Mapping[str, str] | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> SearchPage:
        """Hits `offset`..`offset+limit` of those the viewer may see, the total and the facet
        counts, all computed inside the query (a hidden entry is never counted)."""
        ...

    def entry(self, entry_id: str, viewer: Viewer | None = None) -> Entry | None:
        """One entry, or None when unknown or hidden from the viewer."""
        ...

    def visible(self, entry_ids: Iterable[str], viewer: Viewer) -> dict[str, tuple[str, str]]:
        """id -> (name, layer) of those of `entry_ids` the viewer may see."""
        ...
