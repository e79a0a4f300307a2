"""What the quality checks write for the scorecard (数据晾晒台) and the issue feedback.

All under `<work>/lake/quality/`, one Parquet file per period, replaced whole and atomically:

    rule_results/period=<YYYY-MM>/rule_results.parquet   one row per rule evaluated
    issues/period=<YYYY-MM>/issues.parquet               one row per failing record and field
    issue_status/period=<YYYY-MM>/issue_status.parquet   every issue open before or failing now

issue_id is stable across periods: the first 16 hex digits of
sha1("dataset|rule_id|record_key|field") (an empty field for rules on whole records or
deliveries). issue_status carries, beyond the agreed columns, `record_key` and `field`, which
the next period needs to decide whether a still-open issue was looked at again.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from bzdata.storage import write_parquet

ROOT = "quality"
RULE_RESULTS = "rule_results"
ISSUES = "issues"
ISSUE_STATUS = "issue_status"

RULE_RESULTS_SCHEMA = pa.schema(
    [
        ("period", pa.string()),
        ("dataset", pa.string()),
        ("department", pa.string()),
        ("rule_id", pa.string()),
        ("rule_name", pa.string()),
        ("template", pa.string()),
        ("dimension", pa.string()),
        ("severity", pa.string()),
        ("element_count", pa.int64()),
        ("unexpected_count", pa.int64()),
        ("pass_rate", pa.float64()),
        ("engine", pa.string()),
        ("error", pa.string()),
    ]
)

ISSUES_SCHEMA = pa.schema(
    [
        ("issue_id", pa.string()),
        ("period", pa.string()),
        ("dataset", pa.string()),
        ("department", pa.string()),
        ("rule_id", pa.string()),
        ("rule_name", pa.string()),
        ("dimension", pa.string()),
        ("severity", pa.string()),
        ("record_key", pa.string()),
        ("field", pa.string()),
        ("header", pa.string()),
        ("delivered_value", pa.string()),
        ("shown_value", pa.string()),
        ("authoritative_value", pa.string()),
        ("authority_department", pa.string()),
        ("status", pa.string()),
        ("first_period", pa.string()),
        ("message", pa.string()),
    ]
)

ISSUE_STATUS_SCHEMA = pa.schema(
    [
        ("issue_id", pa.string()),
        ("period", pa.string()),
        ("dataset", pa.string()),
        ("department", pa.string()),
        ("rule_id", pa.string()),
        ("dimension", pa.string()),
        ("severity", pa.string()),
        ("first_period", pa.string()),
        ("status_code", pa.string()),
        ("months_open", pa.int64()),
        ("rectified_period", pa.string()),
        ("record_key", pa.string()),
        ("field", pa.string()),
    ]
)

SCHEMAS = {
    RULE_RESULTS: RULE_RESULTS_SCHEMA,
    ISSUES: ISSUES_SCHEMA,
    ISSUE_STATUS: ISSUE_STATUS_SCHEMA,
}
# issues.status (shown to people) for each status_code of a failing issue.
STATUS_LABEL = {"new": "新发现", "open": "未整改", "reopened": "复发"}


def quality_dir(work_dir: Path) -> Path:
    return Path(work_dir) / "lake" / ROOT


def output_file(work_dir: Path, kind: str, period: str) -> Path:
    return quality_dir(work_dir) / kind / f"period={period}" / f"{kind}.parquet"


def periods(work_dir: Path, kind: str = RULE_RESULTS) -> list[str]:
    """Periods that have this output, oldest first."""
    base = quality_dir(work_dir) / kind
    if not base.is_dir():
        return []
    found = [p.name.removeprefix("period=") for p in base.glob("period=*") if p.is_dir()]
    return sorted(p for p in found if (base / f"period={p}" / f"{kind}.parquet").is_file())


def write(work_dir: Path, kind: str, period: str, table: pa.Table) -> Path:
    """Replace the period's file of this kind atomically (tmp, fsync, rename)."""
    path = output_file(work_dir, kind, period)
    write_parquet(table.cast(SCHEMAS[kind]), path)
    return path
