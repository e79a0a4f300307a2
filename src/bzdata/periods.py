"""报送期 (reporting periods): the one spelling of a period, YYYY-MM."""

from __future__ import annotations

import re

PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def is_period(text: object) -> bool:
    """Whether `text` is a period written YYYY-MM (month 01–12), nothing before or after."""
    return isinstance(text, str) and PERIOD.fullmatch(text) is not None
