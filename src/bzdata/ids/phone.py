"""Mainland China mobile numbers: normalisation (country prefix, separators) and validity."""

from __future__ import annotations

import re

from bzdata.ids.text import normalize

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PREFIXES = ("+86", "0086", "86")


def normalize_mobile(s: str) -> str:
    """Half-width digits without spaces or hyphens and without a +86/0086/86 prefix."""
    v = normalize(s).replace("-", "")
    for prefix in _PREFIXES:
        # Strip only when 11 digits remain, so an 11-digit number is never cut.
        if v.startswith(prefix) and len(v) == len(prefix) + 11:
            return v[len(prefix) :]
    return v


def is_valid_mobile(s: str) -> bool:
    """True if `s` normalises to 11 digits matching 1[3-9]xxxxxxxxx."""
    return _MOBILE.fullmatch(normalize_mobile(s)) is not None
