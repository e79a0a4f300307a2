"""数据晾晒台: monthly department scorecards with 赛马 ranking, rectification tracking and trends.

    build_scorecard(work_dir, "2023-02")  # -> <work>/scorecard/2023-02/

Every department gets four section scores — 编目 (catalogue entries, metadata completeness and
lint), 归集 (deliveries against the 更新周期, from the ingest manifest), 质量 (GB/T 36344 pass
rates and open issues, from the quality checks) and 整改 (last month's issues rectified) — and a
weighted composite (catalog/scorecard.yaml) that ranks them. Figures come from DuckDB SQL over
the lake's Parquet; the report prints the formulas and the SQL. Heavy modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bzdata.scorecard.build import build_scorecard

__all__ = ["build_scorecard"]


def __getattr__(name: str) -> Any:
    if name == "build_scorecard":
        from bzdata.scorecard.build import build_scorecard

        return build_scorecard
    raise AttributeError(f"module 'bzdata.scorecard' has no attribute {name!r}")
