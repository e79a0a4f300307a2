"""Summaries of one period's quality results by department, GB/T 36344 dimension and rule.

    summary = summarise(work_dir, "2023-03")   # plain dict (what `--json` prints)
    print(render(summary))                      # Chinese text tables

Reads only the outputs of `run_checks` (lake/quality/…); department names come from the
registry. Pass rates are over records checked (failing records / records checked, summed).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from bzdata.quality import outputs
from bzdata.quality.rules import DIMENSIONS
from bzdata.registry import Registry, load_registry

STATUS_NAMES = {"new": "新发现", "open": "未整改", "reopened": "复发", "rectified": "已整改"}


class ReportError(LookupError):
    """No results for the period asked (message in Chinese)."""


def _rate(failing: int, checked: int) -> float | None:
    return None if not checked else round(1 - failing / checked, 6)


def summarise(
    work_dir: Path | str, period: str | None = None, registry: Registry | None = None
) -> dict[str, Any]:
    """Totals and breakdowns of `period` (default: the latest period checked)."""
    work = Path(work_dir)
    known = outputs.periods(work, outputs.RULE_RESULTS)
    if not known:
        raise ReportError(
            f"{outputs.quality_dir(work)} 中还没有质量校核结果：请先运行 bzdata quality check"
        )
    period = period or known[-1]
    if period not in known:
        raise ReportError(f"没有 {period} 期的质量校核结果；已有：{'、'.join(known)}")
    registry = registry or load_registry()
    results = pq.read_table(outputs.output_file(work, outputs.RULE_RESULTS, period)).to_pylist()
    status_file = outputs.output_file(work, outputs.ISSUE_STATUS, period)
    statuses = pq.read_table(status_file).to_pylist() if status_file.is_file() else []

    def blank() -> dict[str, Any]:
        return {
            "rules": 0,
            "rules_failed": 0,
            "errors": 0,
            "checked": 0,
            "failing": 0,
            **{code: 0 for code in STATUS_NAMES},
        }

    by_dept: dict[str, dict[str, Any]] = defaultdict(blank)
    by_dim: dict[str, dict[str, Any]] = defaultdict(blank)
    total = blank()
    rules = []
    for row in results:
        failing = row["unexpected_count"] or 0
        checked = row["element_count"] or 0
        for bucket in (by_dept[row["department"]], by_dim[row["dimension"]], total):
            bucket["rules"] += 1
            bucket["errors"] += row["error"] is not None
            bucket["rules_failed"] += failing > 0
            bucket["checked"] += checked
            bucket["failing"] += failing
        if failing or row["error"]:
            rules.append(
                {
                    "rule_id": row["rule_id"],
                    "rule_name": row["rule_name"],
                    "department": row["department"],
                    "dimension": row["dimension"],
                    "severity": row["severity"],
                    "checked": checked,
                    "failing": failing,
                    "pass_rate": row["pass_rate"],
                    "error": row["error"],
                }
            )
    for row in statuses:
        code = row["status_code"]
        for bucket in (by_dept[row["department"]], by_dim[row["dimension"]], total):
            bucket[code] += 1
    for bucket in (*by_dept.values(), *by_dim.values(), total):
        bucket["pass_rate"] = _rate(bucket["failing"], bucket["checked"])
        open_before = bucket["open"] + bucket["rectified"]
        bucket["rectification_rate"] = (
            round(bucket["rectified"] / open_before, 6) if open_before else None
        )
    departments = []
    for dept in registry.departments:
        if dept.code in by_dept:
            departments.append(
                {"department": dept.code, "name": dept.short_name, **by_dept[dept.code]}
            )
    dimensions = [{"dimension": d, **by_dim[d]} for d in DIMENSIONS if d in by_dim]
    rules.sort(key=lambda r: (-(r["failing"]), r["rule_id"]))
    return {
        "period": period,
        "periods": known,
        "totals": total,
        "departments": departments,
        "dimensions": dimensions,
        "rules": rules,
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)

    widths = [max(width(h), *(width(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True))

    return [line(headers), *(line(r) for r in rows)]


def render(summary: dict[str, Any], top: int = 20) -> str:
    """The summary as Chinese text: totals, then by department, dimension and rule."""
    t = summary["totals"]
    lines = [
        f"质量校核报告：{summary['period']} 期（已校核：{'、'.join(summary['periods'])}）",
        f"规则 {t['rules']} 条，未通过 {t['rules_failed']} 条，出错 {t['errors']} 条；"
        f"检查 {t['checked']:,} 项，不通过 {t['failing']:,} 项，通过率 {_pct(t['pass_rate'])}",
        f"问题：新发现 {t['new']}，未整改 {t['open']}，复发 {t['reopened']}，"
        f"本期已整改 {t['rectified']}（整改率 {_pct(t['rectification_rate'])}）",
        "",
        "按部门：",
    ]
    issue_cols = ["新发现", "未整改", "复发", "已整改"]
    lines += _table(
        ["部门", "规则", "未通过", "检查项", "不通过", "通过率", *issue_cols],
        [
            [
                d["name"],
                str(d["rules"]),
                str(d["rules_failed"]),
                f"{d['checked']:,}",
                f"{d['failing']:,}",
                _pct(d["pass_rate"]),
                *(str(d[c]) for c in STATUS_NAMES),
            ]
            for d in summary["departments"]
        ],
    )
    lines += ["", "按维度（GB/T 36344）："]
    lines += _table(
        ["维度", "规则", "未通过", "检查项", "不通过", "通过率", *issue_cols],
        [
            [
                d["dimension"],
                str(d["rules"]),
                str(d["rules_failed"]),
                f"{d['checked']:,}",
                f"{d['failing']:,}",
                _pct(d["pass_rate"]),
                *(str(d[c]) for c in STATUS_NAMES),
            ]
            for d in summary["dimensions"]
        ],
    )
    shown = summary["rules"][:top]
    lines += ["", f"按规则（不通过最多的 {len(shown)} 条，共 {len(summary['rules'])} 条未通过）："]
    if shown:
        lines += _table(
            ["规则", "部门", "维度", "级别", "不通过", "通过率", "名称"],
            [
                [
                    r["rule_id"],
                    r["department"],
                    r["dimension"],
                    r["severity"],
                    "出错" if r["error"] else f"{r['failing']:,}",
                    _pct(r["pass_rate"]),
                    r["rule_name"],
                ]
                for r in shown
            ],
        )
    return "\n".join(lines)
