"""Data quality checks (一数一源、多源校核): rules as data, validated by Great Expectations inside
DuckDB, every failing record kept as an issue with its rectification status across periods.

    from bzdata.quality import run_checks
    summary = run_checks(work_dir, "2023-03")   # raises QualityError when a rule cannot run

Rules: expectations/rules (generated from the registry) and expectations/custom (by hand);
outputs: <work>/lake/quality/ (see bzdata.quality.outputs). Great Expectations is imported only
when checks run, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bzdata.quality.checks import CheckSummary, QualityError, run_checks

__all__ = ["CheckSummary", "QualityError", "run_checks"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from bzdata.quality import checks

        return getattr(checks, name)
    raise AttributeError(f"module 'bzdata.quality' has no attribute {name!r}")
