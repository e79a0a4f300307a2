"""The month's 指标 report beside the 晾晒台: the plan's 45 indicators by category, target against
the latest value, the series over periods, completion and whether each is on track for 2025.

    <work>/indicators/<YYYY-MM>/
        index.html                       one self-contained page (CSS and SVG charts inline)
        指标报告_<YYYY年MM月>.xlsx        指标库, 序列 and 计算方法 sheets

Built beside its final name and swapped in whole; nothing depends on the clock, so the same
library and series give the same files.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import get_args

from bzdata.config import project_root
from bzdata.registry.models import IndicatorCategory
from bzdata.storage import publish_dir, staging_dir, sweep

CATEGORY_ORDER = get_args(IndicatorCategory)  # the plan's order, as the registry spells it
FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif"
MODEL_SQL = Path("dbt_project") / "models" / "marts" / "indicator" / "indicator_library.sql"

CSS = """
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f9; color: #222; font-family: FONT;
  font-size: 14px; line-height: 1.6; }
header { background: #1f4e79; color: #fff; padding: 18px 32px; }
header h1 { margin: 0; font-size: 24px; } header p { margin: 4px 0 0; opacity: .85; }
main { max-width: 1280px; margin: 0 auto; padding: 16px 32px 48px; }
section { background: #fff; border-radius: 6px; padding: 16px 20px; margin: 16px 0;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { font-size: 18px; margin: 0 0 12px; border-left: 4px solid #1f4e79; padding-left: 8px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border: 1px solid #e1e4e8; padding: 4px 8px; text-align: left; vertical-align: middle; }
th { background: #eef2f7; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; }
.kpi { flex: 1 1 140px; background: #f7f9fc; border: 1px solid #e1e4e8; border-radius: 6px;
  padding: 10px 14px; } .kpi b { display: block; font-size: 22px; color: #1f4e79; }
.tag { display: inline-block; border-radius: 4px; padding: 0 6px; font-weight: 600;
  white-space: nowrap; }
.ok { background: #e3f4e8; color: #1e6b34; } .lag { background: #fde4e4; color: #a11d1d; }
.na { background: #eee; color: #666; } .warn { background: #fff1dc; color: #8a5300; }
.note { color: #555; font-size: 12px; }
pre { background: #f7f9fc; padding: 8px; overflow-x: auto; font-size: 12px; }
footer { text-align: center; color: #888; font-size: 12px; padding: 16px; }
""".replace("FONT", FONT)


TRACK_NOTE = (
    "进度：从指标序列的第一期值（基期）到 2025 年 12 月目标值连一条直线，本期值在线上或优于它即为"
    "“按进度”（“不高于”类指标如 PUE 取不高于）；只有一期数据时以本期为基期，不作判断。"
    "完成度 = 本期值 / 目标值（“不高于”类取 目标值 / 本期值），上限 100%。"
    "图中蓝线为各期值，绿色虚线为 2025 年目标，灰色虚线为按进度应达值。"
)
FOOTER = "滨州公共数据平台 · 指标库 · 每个值都注明来源：平台计算、需求清单或部门填报文件的行与版本"


def chinese_period(period: str) -> str:
    return f"{period[:4]}年{period[5:]}月"


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")
    return f"{text}{unit}" if unit in ("%", "") else f"{text} {unit}"


def sparkline(
    points: Sequence[tuple[str, float]],
    target: float,
    path: tuple[float, float] | None,
    width: int = 240,
    height: int = 64,
) -> str:
    """The series (blue), the 2025 target (green dashes) and the planned path over the same
    periods (grey dashes), as inline SVG; no data gives an empty frame with a note."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="{FONT}">',
        f'<rect width="{width}" height="{height}" fill="#ffffff" stroke="#e1e4e8"/>',
    ]
    if not points:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{height / 2 + 4:.0f}" font-size="12" fill="#888" '
            'text-anchor="middle">无数据</text></svg>'
        )
        return "".join(parts)
    values = [v for _, v in points] + [target] + (list(path) if path else [])
    low, high = min(values), max(values)
    if high == low:
        high, low = high + 1, low - 1
    pad = 8

    def x(i: int) -> float:
        return pad if len(points) == 1 else pad + i * (width - 2 * pad) / (len(points) - 1)

    def y(v: float) -> float:
        return height - pad - (v - low) * (height - 2 * pad) / (high - low)

    parts.append(
        f'<line x1="{pad}" x2="{width - pad}" y1="{_n(y(target))}" y2="{_n(y(target))}" '
        'stroke="#2ca02c" stroke-dasharray="4 3"><title>2025 年目标</title></line>'
    )
    if path and len(points) > 1:
        parts.append(
            f'<line x1="{_n(x(0))}" x2="{_n(x(len(points) - 1))}" y1="{_n(y(path[0]))}" '
            f'y2="{_n(y(path[1]))}" stroke="#999" stroke-dasharray="2 2">'
            "<title>按进度应达值</title></line>"
        )
    line = " ".join(f"{_n(x(i))},{_n(y(v))}" for i, (_, v) in enumerate(points))
    parts.append(f'<polyline points="{line}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    for i, (period, v) in enumerate(points):
        parts.append(
            f'<circle cx="{_n(x(i))}" cy="{_n(y(v))}" r="2.5" fill="#1f77b4">'
            f"<title>{escape(period)}：{escape(_fmt(v))}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _track_tag(row: dict) -> str:
    if row["value"] is None:
        return '<span class="tag na">无值</span>'
    if row["is_met"]:
        return '<span class="tag ok">已达标</span>'
    if row["on_track"] is None:
        return '<span class="tag na">基期</span>'
    return (
        '<span class="tag ok">按进度</span>'
        if row["on_track"]
        else '<span class="tag lag">滞后</span>'
    )


def _status_tag(status: str) -> str:
    kind = {"已计算": "ok", "已填报": "ok", "逾期填报": "warn", "缺报": "lag", "被拒": "lag"}
    return f'<span class="tag {kind.get(status, "na")}">{escape(status)}</span>'


def _path_ends(row: dict, points: Sequence[tuple[str, float]]) -> tuple[float, float] | None:
    from bzdata.indicators.library import path_value

    if row["baseline_period"] is None or not points:
        return None
    base, start = row["baseline_value"], row["baseline_period"]
    return (
        path_value(base, start, row["target_value"], points[0][0]),
        path_value(base, start, row["target_value"], points[-1][0]),
    )


def summary(rows: Sequence[dict]) -> dict[str, int]:
    """The headline figures of the report."""
    valued = [r for r in rows if r["value"] is not None]
    return {
        "indicators": len(rows),
        "with_value": len(valued),
        "computed": sum(r["status"] == "已计算" for r in rows),
        "reported": sum(r["status"] in ("已填报", "逾期填报") for r in rows),
        "met": sum(bool(r["is_met"]) for r in valued),
        "on_track": sum(bool(r["is_met"]) or r["on_track"] is True for r in valued),
        "lagging": sum(not r["is_met"] and r["on_track"] is False for r in valued),
        "missing": sum(r["status"] in ("缺报", "被拒") for r in rows),
        "no_department": sum(r["status"] == "无责任部门" for r in rows),
        "no_data": sum(r["status"] == "无数据" for r in rows),
    }


def html_page(period: str, rows: Sequence[dict], series: dict, names: dict[str, str]) -> str:
    figures = summary(rows)
    kpis = [
        ("规划指标", figures["indicators"]),
        ("本期有值", figures["with_value"]),
        ("平台计算", figures["computed"]),
        ("部门填报", figures["reported"]),
        ("已达 2025 目标", figures["met"]),
        ("按进度或已达标", figures["on_track"]),
        ("滞后于进度", figures["lagging"]),
        ("缺报或被拒", figures["missing"]),
        ("无责任部门", figures["no_department"]),
    ]
    blocks = []
    for category in CATEGORY_ORDER:
        chosen = [r for r in rows if r["category"] == category]
        if not chosen:
            continue
        body = []
        for r in chosen:
            points = series.get(r["indicator_no"], [])
            chart = sparkline(points, r["target_value"], _path_ends(r, points))
            direction = "不低于" if r["comparator"] == ">=" else "不高于"
            dept = names.get(r["department"] or "", "—")
            completion = "—" if r["completion_rate"] is None else f"{r['completion_rate']:.0%}"
            body.append(
                "<tr>"
                f'<td class="num">{r["indicator_no"]}</td>'
                f"<td>{escape(r['indicator_name'])}<br><span class='note'>"
                f"{escape(r['indicator_attribute'])} · {escape(r['unit'] or '无单位')}</span></td>"
                f'<td class="num">{direction} {escape(_fmt(r["target_value"], r["unit"]))}</td>'
                f'<td class="num">{escape(_fmt(r["value"], r["unit"]))}</td>'
                f'<td class="num">{escape(_fmt(r["path_value"], r["unit"]))}</td>'
                f'<td class="num">{completion}</td>'
                f"<td>{_track_tag(r)}</td>"
                f"<td>{_status_tag(r['status'])}<br><span class='note'>{escape(dept)}</span></td>"
                f"<td>{chart}</td>"
                f"<td class='note'>{escape(r['status_note'] or r['method_note'])}</td>"
                "</tr>"
            )
        blocks.append(
            f"<section><h2>{escape(category)}</h2><table><tr><th>序号</th><th>指标</th>"
            "<th>2025 年目标</th><th>本期值</th><th>按进度应达</th><th>完成度</th><th>进度</th>"
            "<th>取值</th><th>序列</th><th>说明</th></tr>" + "".join(body) + "</table></section>"
        )
    method = (
        f"平台计算的指标（42、43、45）由 dbt 模型 {MODEL_SQL} 在数据仓库中计算；"
        "44 取自共享需求清单的需求满足率（已满足 / 已到期，全市）；"
        "其余指标由责任部门通过指标填报渠道报送，按报送期取最新版本。"
    )
    sql_path = project_root() / MODEL_SQL
    sql = sql_path.read_text("utf-8") if sql_path.is_file() else ""
    kpi_html = "".join(f'<div class="kpi">{escape(k)}<b>{v}</b></div>' for k, v in kpis)
    label = chinese_period(period)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>滨州市数字强市建设规划指标 · {label}</title>
<style>{CSS}</style></head><body>
<header><h1>滨州市数字强市建设规划指标监测</h1><p>{label} · 规划指标表 45 项</p></header>
<main>
<section><h2>本期概况</h2><div class="kpis">{kpi_html}</div>
<p class="note">{TRACK_NOTE}</p></section>
{"".join(blocks)}
<section><h2>计算方法</h2><p>{escape(method)}</p>
<details><summary>indicator_library.sql</summary><pre>{escape(sql)}</pre></details>
</section>
</main><footer>{FOOTER}</footer>
</body></html>
"""


def write_workbook(path: Path, period: str, rows: Sequence[dict], series: dict, names) -> None:
    import xlsxwriter

    year, month = int(period[:4]), int(period[5:])
    book = xlsxwriter.Workbook(str(path))
    try:
        book.set_properties({"title": f"指标报告 {period}", "created": datetime(year, month, 1)})
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        sheet = book.add_worksheet("指标库")
        headers = (
            "序号", "类别", "指标", "单位", "属性", "方向", "2025年目标", "本期值",
            "取值状态", "责任部门", "基期", "基期值", "按进度应达", "完成度", "已达标",
            "按进度", "说明", "方法",
        )  # fmt: skip
        sheet.write_row(0, 0, headers, head)
        for i, r in enumerate(rows, start=1):
            track = "" if r["on_track"] is None else ("是" if r["on_track"] else "否")
            met = "" if r["is_met"] is None else ("是" if r["is_met"] else "否")
            values = (
                r["indicator_no"], r["category"], r["indicator_name"], r["unit"],
                r["indicator_attribute"], r["comparator"], r["target_value"], r["value"],
                r["status"], names.get(r["department"] or "", ""), r["baseline_period"] or "",
                r["baseline_value"], r["path_value"], r["completion_rate"], met, track,
                r["status_note"], r["method_note"],
            )  # fmt: skip
            for j, value in enumerate(values):
                if value is None:
                    sheet.write_blank(i, j, None)
                else:
                    sheet.write(i, j, value)
        sheet.freeze_panes(1, 3)
        sheet.set_column(2, 2, 36)
        sheet.set_column(16, 17, 50)
        long = book.add_worksheet("序列")
        long.write_row(0, 0, ("序号", "指标", "报送期", "值"), head)
        line = 1
        for r in rows:
            for p, value in series.get(r["indicator_no"], []):
                long.write_row(line, 0, (r["indicator_no"], r["indicator_name"], p, value))
                line += 1
        method = book.add_worksheet("计算方法")
        method.write_row(0, 0, ("序号", "指标", "方法"), head)
        for i, r in enumerate(rows, start=1):
            method.write_row(i, 0, (r["indicator_no"], r["indicator_name"], r["method_note"]))
    finally:
        book.close()


def write_report(work: Path, period: str, rows: Sequence[dict], series: dict, names) -> Path:
    """Write <work>/indicators/<period>/ atomically; returns the folder."""
    parent = Path(work) / "indicators"
    sweep(parent, period)
    stage = staging_dir(parent, period)
    (stage / "index.html").write_text(html_page(period, rows, series, names), encoding="utf-8")
    write_workbook(stage / f"指标报告_{chinese_period(period)}.xlsx", period, rows, series, names)
    publish_dir(stage, parent / period)
    return parent / period


def build_report(work: Path, period: str, registry=None) -> tuple[Path, list[dict]]:
    """The period's library (written to the lake for later periods' series) and its report."""
    from bzdata.indicators.library import series_of, write_library
    from bzdata.registry import load_registry

    registry = registry or load_registry()
    _, rows = write_library(registry, work, period)
    series = series_of(Path(work) / "lake", period)
    names = {d.code: d.name for d in registry.departments}
    return write_report(work, period, rows, series, names), rows
