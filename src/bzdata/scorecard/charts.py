"""The scorecard's charts as SVG files: the ranking, all departments' composite trend, and one
trend chart per department (its composite and four section scores)."""

from __future__ import annotations

from pathlib import Path

from bzdata.scorecard import svg
from bzdata.scorecard.config import SECTION_NAMES, SECTIONS


def movement(change: int | None, prev_rank: int | None) -> str:
    """↑2, ↓1, 持平, or 新 when there is no previous rank."""
    if prev_rank is None:
        return "新"
    if not change:
        return "持平"
    return f"↑{change}" if change > 0 else f"↓{-change}"


def ranking_svg(document: dict) -> str:
    bars = [
        svg.Bar(d["short_name"], d["composite"], movement(d["rank_change"], d["prev_rank"]))
        for d in document["departments"]
    ]
    return svg.bar_chart(f"{document['period_label']} 综合得分排名（赛马）", bars)


def _labels(document: dict) -> list[str]:
    return [
        p[2:].replace("-", ".") if len(document["periods"]) > 12 else p for p in document["periods"]
    ]


def trend_svg(document: dict) -> str:
    series = []
    for dept in document["departments"]:
        by_period = {t["period"]: t["composite"] for t in dept["trend"]}
        series.append(
            svg.Series(dept["short_name"], [by_period.get(p) for p in document["periods"]])
        )
    return svg.line_chart("各部门综合得分趋势", _labels(document), series)


def department_svg(document: dict, dept: dict) -> str:
    by_period = {t["period"]: t for t in dept["trend"]}
    series = [
        svg.Series(
            "综合",
            [by_period.get(p, {}).get("composite") for p in document["periods"]],
            color="#222222",
            emphasis=True,
        )
    ]
    for index, section in enumerate(SECTIONS):
        series.append(
            svg.Series(
                SECTION_NAMES[section],
                [by_period.get(p, {}).get(section) for p in document["periods"]],
                color=svg.PALETTE[index],
            )
        )
    return svg.line_chart(f"{dept['short_name']} 得分趋势", _labels(document), series)


def chart_texts(document: dict) -> dict[str, str]:
    """File stem → SVG text, in a fixed order."""
    out = {"ranking": ranking_svg(document), "trend": trend_svg(document)}
    for dept in document["departments"]:
        out[f"trend_{dept['code']}"] = department_svg(document, dept)
    return out


def write_all(document: dict, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, text in chart_texts(document).items():
        path = folder / f"{stem}.svg"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
