"""Reading delivered values back in the tests, independently of the platform's staging."""

from __future__ import annotations

import datetime as dt


def parse_date(value: str | None) -> dt.date | None:
    """A delivered date in any department's style (YYYYMMDD, YYYY-MM-DD, YYYY/MM/DD, 年月日)."""
    if value is None:
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) != 8 or len(value) not in (8, 10, 11):
        return None
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
