"""Custom Great Expectations expectations for the conditions GX has no native expectation for.

Each is a column-map expectation, so GX counts, lists (unexpected_index_list) and renders it
like a native one, and the suite names the standard it checks instead of a flag computed
elsewhere:

    expect_column_values_to_be_valid_gb11643   公民身份号码: 18 characters, check character,
                                                a real birth date from 1900 on, a GB/T 2260
                                                region code that existed
    expect_column_values_to_be_valid_gb32100   统一社会信用代码: alphabet, check character,
                                                登记管理部门 and 机构类别, region, GB 11714 part
    expect_column_values_to_be_current_gbt2260 行政区划代码 in force (GB/T 2260's current edition)

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

from bzdata.quality.id_sql import gb11643_sql, gb32100_sql, region_sql


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


class ColumnValuesCurrentGbt2260(ColumnMapMetricProvider):
    condition_metric_name = "column_values.current_gbt2260"

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column: Any, **kwargs: Any) -> Any:
        return sa.literal_column(region_sql(_column_sql(column), current=True))


class ExpectColumnValuesToBeValidGb11643(ColumnMapExpectation):
    """Every value is a valid 公民身份号码 (GB 11643): 17 digits and the check character
    (weights 7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2; (12 − Σ mod 11) mod 11, 10 → X), a real birth
    date from 1900 on and a GB/T 2260 region code that existed (the code in force when the
    number was issued is kept)."""

    map_metric: ClassVar[str] = "column_values.valid_gb11643"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ExpectColumnValuesToBeValidGb32100(ColumnMapExpectation):
    """Every value is a valid 统一社会信用代码 (GB 32100): 18 characters of the 31-character
    alphabet, the check character (weights 3^(i−1) mod 31), a known 登记管理部门 and 机构类别,
    a GB/T 2260 region (or 100000) and the GB 11714 organisation-code check character."""

    map_metric: ClassVar[str] = "column_values.valid_gb32100"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ExpectColumnValuesToBeCurrentGbt2260(ColumnMapExpectation):
    """Every value is a GB/T 2260 administrative division code in force in the table's current
    edition (not only six digits: a well-formed code that does not exist, or a retired one,
    fails)."""

    map_metric: ClassVar[str] = "column_values.current_gbt2260"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
