"""Custom Great Expectations expectations for the conditions GX has no native expectation for.

Each is a column-map expectation, so GX counts, lists (unexpected_index_list) and renders it
like a native one, and the suite names the standard it checks instead of a flag computed
elsewhere:

    expect_column_values_to_be_valid_gb11643   公民身份号码: 18 characters, check character,
                                                a real birth date from 1900 on, province prefix
    expect_column_values_to_be_valid_gb32100   统一社会信用代码: alphabet, check character,
                                                登记管理部门 and 机构类别, region, GB 11714 part

Values are the normalised text (staging's value column); nulls are left to the 空值 rule, as
GX does for every column-map expectation. The SQL is DuckDB's and runs inside the warehouse
through bzdata.quality.gx_duckdb (SQLAlchemy engine only: nothing here reads rows into Python).

A new expectation: a ColumnMapMetricProvider whose `_sqlalchemy` returns the condition that
holds for a valid value, and a ColumnMapExpectation naming it in `map_metric`; importing this
module registers both with GX (gx_project imports it before loading suites).
"""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from bzdata.ids.region import PROVINCES

_PROVINCES = "(" + ", ".join(f"'{p}'" for p in sorted(PROVINCES)) + ")"
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


def region_sql(x: str) -> str:
    """SQL: `x` is 6 digits starting with a GB/T 2260 province code."""
    return f"(regexp_full_match({x}, '[0-9]{{6}}') and substr({x}, 1, 2) in {_PROVINCES})"


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
        f" and substr({x}, 7, 8) >= '19000101' and substr({x}, 1, 2) in {_PROVINCES}, false)"
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


def _column_sql(column: Any) -> str:
    return '"' + str(column.name).replace('"', '""') + '"'


class ColumnValuesValidGb11643(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_gb11643"

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column: Any, **kwargs: Any) -> Any:
        return sa.literal_column(gb11643_sql(_column_sql(column)))


class ColumnValuesValidGb32100(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_gb32100"

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column: Any, **kwargs: Any) -> Any:
        return sa.literal_column(gb32100_sql(_column_sql(column)))


class ExpectColumnValuesToBeValidGb11643(ColumnMapExpectation):
    """Every value is a valid 公民身份号码 (GB 11643): 17 digits and the check character
    (weights 7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2; (12 − Σ mod 11) mod 11, 10 → X), a real birth
    date from 1900 on and a GB/T 2260 province prefix."""

    map_metric: ClassVar[str] = "column_values.valid_gb11643"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ExpectColumnValuesToBeValidGb32100(ColumnMapExpectation):
    """Every value is a valid 统一社会信用代码 (GB 32100): 18 characters of the 31-character
    alphabet, the check character (weights 3^(i−1) mod 31), a known 登记管理部门 and 机构类别,
    a GB/T 2260 region (or 100000) and the GB 11714 organisation-code check character."""

    map_metric: ClassVar[str] = "column_values.valid_gb32100"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
