"""Build one period's 数据晾晒台: scores, report, workbook and charts, as one atomic folder.

    <work>/scorecard/<YYYY-MM>/
        scores.json, scores.parquet         every figure and score (all months up to the period)
        inputs/*.parquet                    the registry facts used (编目 entries, findings, 应报)
        report/index.html, report/<dept>.html
        数据晾晒台_<YYYY年MM月>.xlsx
        charts/*.svg, charts/*.png

The folder is built beside its final name and swapped in whole; nothing in it depends on the
clock, so rebuilding a period from the same lake and registry gives identical files.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bzdata.catalog.lint import lint_registry
from bzdata.indicators.library import department_gaps
from bzdata.registry import Registry, default_root, load_registry
from bzdata.scorecard import charts, compute, details, formulas, render, report, workbook
from bzdata.scorecard.config import (
    DIMENSIONS,
    SECTION_NAMES,
    SECTIONS,
    ScorecardConfig,
    load_config,
)
from bzdata.scorecard.masking import KeyMasker
from bzdata.storage import fsync_path, publish_dir, staging_dir, sweep


@dataclass(frozen=True)
class Context:
    """What the renderers need besides the scorecard document."""

    registry: Registry
    config: ScorecardConfig
    sources: compute.Sources
    masker: KeyMasker


def _plain(value: Any) -> Any:
    """JSON-safe values: dates as ISO text, everything else unchanged."""
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _city(rows: list[dict]) -> dict:
    """City-wide totals of the period (sums over departments, rates from the sums)."""

    def total(key: str) -> int | None:
        values = [r[key] for r in rows if r[key] is not None]
        return sum(values) if values else None

    keys = (
        "datasets_registered",
        "datasets_catalogued",
        "deliveries_expected",
        "deliveries_on_time",
        "deliveries_late",
        "deliveries_missing",
        "files_quarantined",
        "rows_received",
        "rows_rejected",
        "records_checked",
        "issues_open",
        "issues_severe",
        "prev_open_issues",
        "rectified",
        "reopened",
    )
    city: dict[str, Any] = {key: total(key) for key in keys}
    elements = total_elements = 0
    for key in compute.DIMENSION_KEYS.values():
        elements += sum(r[f"unexpected_{key}"] or 0 for r in rows)
        total_elements += sum(r[f"elements_{key}"] or 0 for r in rows)
    city["pass_rate"] = 1 - elements / total_elements if total_elements else None
    city["on_time_rate"] = (
        city["deliveries_on_time"] / city["deliveries_expected"]
        if city["deliveries_expected"]
        else None
    )
    city["rectification_rate"] = (
        city["rectified"] / city["prev_open_issues"] if city["prev_open_issues"] else None
    )
    return city


def _document(
    ctx: Context, rows: list[dict], indicator_gaps: dict[str, list[dict]] | None = None
) -> dict:
    """The scorecard as one JSON-able document (what scores.json holds).

    `indicator_gaps` (归集): per department, the reported plan indicators due from it and not
    reported by the due day (bzdata.indicators.library.department_gaps)."""
    indicator_gaps = indicator_gaps or {}
    sources, cfg, registry = ctx.sources, ctx.config, ctx.registry
    period = sources.period
    current = [r for r in rows if r["period"] == period]
    names = {d.code: d for d in registry.departments}
    ordered = sorted(
        current,
        key=lambda r: (r["rank"] is None, r["rank"] or 0, r["department"]),
    )
    deliveries = details.deliveries(sources)
    top = details.top_rules(sources, cfg.report.top_problems)
    errored = details.errored_rules(sources)
    by_dataset = details.issues_by_dataset(sources)
    findings = details.catalog_findings(sources)
    dataset_names = {ds.id: ds.name for ds in registry.datasets}
    notes: list[str] = []
    if period not in sources.quality_periods:
        notes.append(
            f"本期（{period}）没有质量检查结果（lake/quality/rule_results），质量分项不参评。"
        )
    if period not in sources.status_periods or (
        compute.previous_period(period) not in sources.status_periods
    ):
        notes.append("本期或上期没有问题状态表（lake/quality/issue_status），整改分项不参评。")
    departments = []
    for row in ordered:
        code = row["department"]
        dept = names[code]
        trend = [
            {
                "period": r["period"],
                "composite": r["composite"],
                "rank": r["rank"],
                **{s: r[f"{s}_score"] for s in SECTIONS},
            }
            for r in rows
            if r["department"] == code
        ]
        for item in deliveries.get(code, []) + top.get(code, []) + by_dataset.get(code, []):
            item["dataset_name"] = dataset_names.get(item["dataset"], item["dataset"])
        departments.append(
            {
                "code": code,
                "name": dept.name,
                "short_name": dept.short_name,
                "rank": row["rank"],
                "prev_rank": row["prev_rank"],
                "rank_change": row["rank_change"],
                "composite": row["composite"],
                "sections": {
                    s: {
                        "name": SECTION_NAMES[s],
                        "score": row[f"{s}_score"],
                        "figures": {key: row[key] for key in compute.FIGURES[s]},
                    }
                    for s in SECTIONS
                },
                "dimension_figures": {
                    name: {
                        "elements": row[f"elements_{key}"],
                        "unexpected": row[f"unexpected_{key}"],
                        "pass_rate": row[f"pass_rate_{key}"],
                    }
                    for name, key in compute.DIMENSION_KEYS.items()
                },
                "trend": trend,
                "deliveries": deliveries.get(code, []),
                "top_rules": top.get(code, []),
                "errored_rules": errored.get(code, []),
                "issues_by_dataset": by_dataset.get(code, []),
                "issue_total": row["issues_open"],
                "catalog_findings": findings.get(code, []),
                "indicator_gaps": indicator_gaps.get(code, []),
            }
        )
    return _plain(
        {
            "title": "滨州市公共数据资源晾晒台",
            "period": period,
            "period_label": compute.chinese_period(period),
            "previous_period": compute.previous_period(period),
            "periods": list(sources.periods),
            "dimensions": list(DIMENSIONS),
            "config": cfg.model_dump(),
            "formulas": {
                "composite": formulas.composite(cfg),
                "sections": formulas.methods(cfg),
                "sql": formulas.sql_text(),
            },
            "notes": notes,
            "city": _city(current),
            "departments": departments,
            "unattributed_catalog_findings": findings.get(None, []),
        }
    )


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    fsync_path(path)


def _write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # No statistics of write time and a fixed writer: same table, same bytes.
    pq.write_table(table, path, compression="zstd")
    fsync_path(path)


def build_scorecard(
    work_dir: Path | str,
    period: str,
    *,
    registry_root: Path | str | None = None,
    config_path: Path | str | None = None,
    png: bool = True,
) -> Path:
    """Build `<work>/scorecard/<period>/` from the lake and the registry; returns that folder."""
    compute.check_period(period)
    work = Path(work_dir)
    root = Path(registry_root) if registry_root is not None else default_root()
    cfg = load_config(config_path)
    registry = load_registry(root)
    entries, findings = lint_registry(root, cfg.catalog)
    sources = compute.open_sources(work / "lake", registry, period, entries, findings)
    try:
        rows = compute.scorecard_rows(sources, cfg)
        ctx = Context(registry, cfg, sources, KeyMasker(registry))
        document = _document(ctx, rows, department_gaps(registry, work / "lake", period))
        parent = work / "scorecard"
        sweep(parent, period)
        stage = staging_dir(parent, period)
        _write_bytes(
            stage / "scores.json",
            (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode(),
        )
        _write_parquet(compute.scores_table(rows), stage / "scores.parquet")
        _write_parquet(entries, stage / "inputs" / "catalog_entries.parquet")
        _write_parquet(findings, stage / "inputs" / "catalog_findings.parquet")
        expected = sources.con.sql("select * from expected_deliveries").to_arrow_table()
        _write_parquet(expected, stage / "inputs" / "expected_deliveries.parquet")
        svgs = charts.write_all(document, stage / "charts")
        for path in svgs:
            fsync_path(path)
        report.write_all(document, stage / "report", {p.stem: p for p in svgs}, work)
        workbook.write(
            document,
            ctx,
            stage / f"数据晾晒台_{compute.chinese_period(period)}.xlsx",
        )
        if png:
            done = render.svgs_to_png(svgs)
            if done is None:
                print("未找到 Chromium（/usr/bin/chromium），未生成 PNG 图表", file=sys.stderr)
        for folder in (stage / "inputs", stage / "charts", stage / "report"):
            if folder.is_dir():
                fsync_path(folder)
        publish_dir(stage, parent / period)
    finally:
        sources.con.close()
    return parent / period
