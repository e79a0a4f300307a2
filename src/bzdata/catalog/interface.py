"""CatalogueBackend: the one small interface behind which catalogue backends sit (STYLE point 8).

The embedded catalogue (bzdata.catalog.store.EmbeddedCatalogue) implements all of it and is what
the portal and the tests use. A deployment adds a publisher (OpenMetadata) that implements
`publish`; it may answer reads from what it published or raise NotImplementedError for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from bzdata.catalog.model import Entry, LineageEdge, SearchHit


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
