"""Masking of what the scorecard shows: record keys that hold personal identifiers.

Issue values arrive masked from the quality checks (`shown_value`, `authoritative_value`); the
record key does not, so the personal parts of each key are masked here with the platform's one
masking function, `bzdata.sharing.mask`, before any person sees them.
"""

from __future__ import annotations

from bzdata.registry import Registry
from bzdata.sharing import mask

HIDDEN = "****"


class KeyMasker:
    """Masks the personal parts of a dataset's normalised record key ("a|b" in key order)."""

    def __init__(self, registry: Registry) -> None:
        self._elements: dict[str, list[str | None]] = {
            ds.id: [
                ds.field(column).element if ds.field(column).personal else None
                for column in ds.record_key
            ]
            for ds in registry.datasets
        }

    def __call__(self, dataset: str, key: str | None) -> str | None:
        if key is None or key == "":
            return key
        elements = self._elements.get(dataset)
        if elements is None:
            return HIDDEN  # unknown dataset: nothing is known to be safe to show
        if not any(elements):
            return key
        parts = key.split("|")
        if len(parts) != len(elements):
            return HIDDEN  # a key that does not split as registered could hide anything
        return "|".join(
            part if element is None else str(mask(part, element))
            for part, element in zip(parts, elements, strict=True)
        )
