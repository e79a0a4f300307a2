"""The six quality dimensions of GB/T 36344, in the standard's order, and their column stems."""

from __future__ import annotations

DIMENSION_KEYS: dict[str, str] = {
    "规范性": "conformity",
    "完整性": "completeness",
    "准确性": "accuracy",
    "一致性": "consistency",
    "时效性": "timeliness",
    "可访问性": "accessibility",
}
DIMENSIONS: tuple[str, ...] = tuple(DIMENSION_KEYS)
