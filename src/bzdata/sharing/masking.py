"""Masking of personal values wherever a person sees them (issue lists, reports, portal).

The kind of mask follows the data element in the registry, never the column name:

- 公民身份号码 (format ric): first 6 + '*' for the middle + last 4, length kept
  (371602********123X for 18 characters);
- names (personal string elements named *_name): first character + '*' per remaining character;
- mobile numbers (format mobile): first 3 + '****' + last 4;
- addresses (personal elements named *address*): up to the town or street + '****';
- any other personal element: first character + '*' per remaining character;
- elements that are not personal: unchanged.

Null and empty values are returned unchanged (there is nothing to hide in them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

from bzdata.registry import load_registry

MaskKind = Literal["id", "name", "mobile", "address", "other", "none"]

# The first town-level unit (乡、镇、街道、苏木) ends the visible part of an address.
_TOWN = re.compile(r"^(.+?(?:街道|镇|乡|苏木))")
# Otherwise the last county-level unit within the first characters.
_COUNTY = re.compile(r"^(.{2,15}(?:区|县|市|旗))")
_ADDRESS_TAIL = "****"


@lru_cache(maxsize=512)
def masking_kind(element_id: str) -> MaskKind:
    """How values of a data element are masked (KeyError for an unknown element)."""
    element = load_registry().element(element_id)
    if not element.personal:
        return "none"
    if element.format == "ric":
        return "id"
    if element.format == "mobile":
        return "mobile"
    if "address" in element.id:
        return "address"
    if element.type == "string" and element.format is None and element.id.endswith("_name"):
        return "name"
    return "other"


def mask(value: str | None, element_id: str) -> str | None:
    """The value as a person may see it (see the module docstring for each kind)."""
    if value is None or value == "":
        return value
    return _MASKERS[masking_kind(element_id)](str(value))


def mask_many(values: Iterable[str | None], element_id: str) -> list[str | None]:
    """`mask` over many values of one element (the registry is consulted once)."""
    masker = _MASKERS[masking_kind(element_id)]
    return [v if v is None or v == "" else masker(str(v)) for v in values]


def _mask_id(value: str) -> str:
    if len(value) <= 10:
        return _mask_tail(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def _mask_mobile(value: str) -> str:
    if len(value) <= 7:
        return _mask_tail(value)
    return value[:3] + "****" + value[-4:]


def _mask_tail(value: str) -> str:
    """First character kept, every other character starred."""
    return value[0] + "*" * (len(value) - 1)


def _mask_address(value: str) -> str:
    found = _TOWN.match(value) or _COUNTY.match(value)
    if found and len(found.group(1)) < len(value):
        return found.group(1) + _ADDRESS_TAIL
    return value[: max(1, min(6, len(value) // 2))] + _ADDRESS_TAIL


_MASKERS = {
    "id": _mask_id,
    "name": _mask_tail,
    "mobile": _mask_mobile,
    "address": _mask_address,
    "other": _mask_tail,
    "none": lambda value: value,
}
