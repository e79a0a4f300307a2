"""The identifier standards as DuckDB SQL conditions over a normalised text expression: what the
custom GX expectations (bzdata.quality.gx_expectations) evaluate and what derived rules reuse.
Pure SQL text: importing this module does not import Great Expectations. Region codes are
looked up in the GB/T 2260 table (bzdata.registry.plan.GBT2260_TABLE).
"""

from __future__ import annotations

from bzdata.registry.plan import GBT2260_TABLE

_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# 登记管理部门代码 followed by 机构类别代码 (GB 32100 table 1), A/N/Y included.
_USCC_CATEGORIES = (
    *("11", "12", "13", "19", "21", "29", "31", "32", "33", "34", "35", "39", "41", "49"),
    *("51", "52", "53", "59", "61", "62", "69", "71", "72", "79", "81", "89", "91", "92"),
    *("93", "A1", "A9", "N1", "N2", "N3", "N9", "Y1"),
)


def region_sql(x: str, current: bool = False) -> str:
    """SQL: `x` is a GB/T 2260 code that ever existed (inside an identifier), or one in force
    in the table's current edition (`current`: a field stating today's division). Looked up in
    the GB/T 2260 table the warehouse holds (and the checks copy beside their relations)."""
    where = " where gbt2260.in_force" if current else ""
    return f"({x} in (select gbt2260.code from {GBT2260_TABLE} as gbt2260{where}))"


def gb11643_sql(x: str) -> str:
    """SQL: `x` is a valid 18-character 公民身份号码 (GB 11643)."""
    total = " + ".join(
        f"try_cast(substr({x}, {i}, 1) as integer) * {w}"
        for i, w in enumerate(_RIC_WEIGHTS, start=1)
    )
    check = f"substr('10X98765432', (({total}) % 11) + 1, 1)"
    return (
        f"coalesce(regexp_full_match({x}, '[0-9]{{17}}[0-9X]') and substr({x}, 18, 1) = {check}"
        f" and try_strptime(substr({x}, 7, 8), '%Y%m%d') is not null"
        f" and substr({x}, 7, 8) >= '19000101' and {region_sql(f'substr({x}, 1, 6)')}, false)"
    )


def gb32100_sql(x: str) -> str:
    """SQL: `x` is a valid 统一社会信用代码 (GB 32100, with its GB 11714 organisation code)."""
    a = _USCC_ALPHABET
    total = " + ".join(
        f"(strpos('{a}', substr({x}, {i}, 1)) - 1) * {w}"
        for i, w in enumerate(_USCC_WEIGHTS, start=1)
    )
    check = f"substr('{a}', ((31 - (({total}) % 31)) % 31) + 1, 1)"
    org = " + ".join(
        f"(strpos('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr({x}, {8 + i}, 1)) - 1) * {w}"
        for i, w in enumerate(_ORG_WEIGHTS, start=1)
    )
    org_check = f"substr('?123456789X0', (11 - (({org}) % 11)) + 1, 1)"
    categories = ", ".join(f"'{c}'" for c in _USCC_CATEGORIES)
    return (
        f"coalesce(regexp_full_match({x}, '[0-9A-HJ-NP-RTUW-Y]{{18}}')"
        f" and substr({x}, 18, 1) = {check} and substr({x}, 1, 2) in ({categories})"
        f" and (substr({x}, 3, 6) = '100000' or {region_sql(f'substr({x}, 3, 6)')})"
        f" and substr({x}, 17, 1) = {org_check}, false)"
    )
