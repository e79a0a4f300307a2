"""GB/T 2260 administrative division codes: Binzhou's county-level codes (current and
retired) and the existence check of any 6-digit code against the national table.

Older ID numbers keep the code that was valid when they were issued, so retired codes are
Binzhou codes too; `current_code` maps them to today's division.
"""

from __future__ import annotations

from bzdata.ids import gbt2260

CITY_CODE = "371600"
CITY_NAME = "滨州市"

COUNTIES: dict[str, str] = {
    "371602": "滨城区",
    "371603": "沾化区",
    "371621": "惠民县",
    "371622": "阳信县",
    "371623": "无棣县",
    "371625": "博兴县",
    "371681": "邹平市",
}

# Retired code -> (name when in use, current code). 3723xx are the 惠民地区/滨州地区 codes
# used until 2000 for the counties that now form Binzhou (利津, 广饶, 垦利, 桓台, 高青 left).
_RETIRED: dict[str, tuple[str, str]] = {
    "371624": ("沾化县", "371603"),
    "371626": ("邹平县", "371681"),
    "372300": ("滨州地区", CITY_CODE),
    "372301": ("滨州市", "371602"),
    "372321": ("惠民县", "371621"),
    "372322": ("滨县", "371602"),
    "372323": ("阳信县", "371622"),
    "372324": ("无棣县", "371623"),
    "372325": ("沾化县", "371603"),
    "372328": ("博兴县", "371625"),
    "372330": ("邹平县", "371681"),
}
RETIRED: dict[str, str] = {old: new for old, (_, new) in _RETIRED.items()}

NAMES: dict[str, str] = {
    CITY_CODE: CITY_NAME,
    **COUNTIES,
    **{old: name for old, (name, _) in _RETIRED.items()},
}

# Province-level prefixes by major area; 83 is used by Taiwan residents' residence permits.
_PROVINCE_ROWS = (
    "11 12 13 14 15",
    "21 22 23",
    "31 32 33 34 35 36 37",
    "41 42 43 44 45 46",
    "50 51 52 53 54",
    "61 62 63 64 65",
    "71 81 82 83",
)
PROVINCES = frozenset(p for row in _PROVINCE_ROWS for p in row.split())


def is_valid_code(code: str) -> bool:
    """True if `code` is a GB/T 2260 code that was in force at some time (identifiers keep
    the code valid when they were issued; see bzdata.ids.gbt2260)."""
    return len(code) == 6 and code.isascii() and code.isdigit() and gbt2260.ever_existed(code)


def is_current_code(code: str) -> bool:
    """True if `code` is in force in the table's current edition (a field that states today's
    division, such as 户籍地行政区划)."""
    return is_valid_code(code) and gbt2260.in_force(code, gbt2260.OPEN_END)


def is_shandong(code: str) -> bool:
    """True if `code` is structurally a Shandong (37xxxx) division code."""
    return is_valid_code(code) and code.startswith("37")


def is_binzhou(code: str, allow_retired: bool = True) -> bool:
    """True if `code` is Binzhou's city code or one of its county-level codes."""
    if code == CITY_CODE or code in COUNTIES:
        return True
    return allow_retired and code in RETIRED


def current_code(code: str) -> str:
    """Today's code for a retired Binzhou code; any other code is returned unchanged."""
    return RETIRED.get(code, code)


def name_of(code: str) -> str | None:
    """Name of a Binzhou code (the historical name for a retired one), else None."""
    return NAMES.get(code)
