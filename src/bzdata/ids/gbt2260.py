"""GB/T 2260 administrative division codes with the years each was in force.

The national table is python-stdnum's `cn/loc.dat` (every code since 1980 with its years,
e.g. `1626 county="[2000-2018]邹平县"`); it is read once. Identifiers keep the code that was in
force when they were issued, so a code that ever existed is valid inside a GB 11643 number or
a GB 32100 code, while a field that states a current division needs a code in force in its
period. 810000/820000/830000 are the codes of 港澳台 residents' residence permits.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

_SPAN = re.compile(r"\[(\d{4})?-(\d{4})?\]([^,\[]*)")
_PERMITS = {"810000": "香港特别行政区", "820000": "澳门特别行政区", "830000": "台湾地区"}
OPEN_END = 9999


@lru_cache(maxsize=1)
def table() -> dict[str, tuple[tuple[int, int, str], ...]]:
    """Code → ((first year, last year, name), ...); open ends are 0 and OPEN_END."""
    text = files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    out: dict[str, list[tuple[int, int, str]]] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province, _, rest = line.partition(" ")
            name = rest.split("=", 1)[1].strip('"')
            out.setdefault(province + "0000", []).append((0, OPEN_END, name))
            continue
        part, _, rest = line.strip().partition(" ")
        value = rest.split("=", 1)[1].strip('"')
        spans = _SPAN.findall(value)
        code = province + part
        if not spans:
            out.setdefault(code, []).append((0, OPEN_END, value))
        for first, last, name in spans:
            out.setdefault(code, []).append((int(first or 0), int(last or OPEN_END), name))
    for code, name in _PERMITS.items():
        out.setdefault(code, [(0, OPEN_END, name)])
    return {code: tuple(spans) for code, spans in out.items()}


def ever_existed(code: str) -> bool:
    """True if `code` was a GB/T 2260 code at some time (valid inside an identifier)."""
    return code in table()


def in_force(code: str, year: int) -> bool:
    """True if `code` was in force in `year`."""
    return any(first <= year <= last for first, last, _ in table().get(code, ()))


@lru_cache(maxsize=8)
def codes(year: int | None = None) -> tuple[str, ...]:
    """Every code (sorted) that ever existed (`year` None) or was in force in `year`."""
    if year is None:
        return tuple(sorted(table()))
    return tuple(sorted(c for c in table() if in_force(c, year)))


def name(code: str, year: int | None = None) -> str | None:
    """The division's name (in `year`, else its latest)."""
    spans = [s for s in table().get(code, ()) if year is None or s[0] <= year <= s[1]]
    return spans[-1][2] if spans else None
