"""Text clean-up for identifiers: full-width to half-width, stray whitespace, case."""

from __future__ import annotations

import re

# U+FF01..U+FF5E are the full-width forms of ASCII 0x21..0x7E; U+3000 is the ideographic space.
_HALFWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Zero-width characters come in from spreadsheets and web forms and are invisible to staff.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_SPACE = re.compile(rf"[\s{_INVISIBLE}]+")


def to_halfwidth(s: str) -> str:
    """Map full-width digits, letters, punctuation and the ideographic space to ASCII."""
    return s.translate(_HALFWIDTH)


def normalize(s: str) -> str:
    """Canonical form of an identifier: half-width, no whitespace anywhere, upper case."""
    return _SPACE.sub("", to_halfwidth(s)).upper()


def has_fullwidth(s: str) -> bool:
    """True if `s` holds any full-width ASCII form or an ideographic space."""
    return any(0xFF01 <= ord(c) <= 0xFF5E or c == "\u3000" for c in s)


def has_stray_space(s: str) -> bool:
    """True if `s` holds whitespace or zero-width characters (leading, trailing or inner)."""
    return _SPACE.search(s) is not None
