"""The static HTML report in Chinese: an overview page (ranking, city figures, trends, 计算方法)
and one page per department (its scores with their raw figures, trend chart, top problems).

Pages are self-contained (CSS and SVG charts inline) so the folder can be mailed or published as
is; every score section carries its 计算方法 paragraph: formula and source tables. The period's
GX Data Docs pages (what each rule checks and what it found) are copied into `report/gx/` and
linked per department and per rule, so the links work wherever the folder goes.
"""

from __future__ import annotations

import json
import shutil
from html import escape
from pathlib import Path
from urllib.parse import quote

from bzdata.scorecard import charts, compute
from bzdata.scorecard.config import SECTION_NAMES, SECTIONS

OUTCOMES = {"on_time": "按时", "late": "逾期", "missing": "缺报"}
CHANNELS = {"file": "文件报送", "frontdb": "前置库"}
DELIVERY_KEYS = (
    "deliveries_expected",
    "deliveries_on_time",
    "deliveries_late",
    "deliveries_missing",
)

CSS = """
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f9; color: #222;
  font-family: 'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif;
  font-size: 14px; line-height: 1.6; }
header { background: #1f4e79; color: #fff; padding: 18px 32px; }
header h1 { margin: 0; font-size: 24px; }
header p { margin: 4px 0 0; opacity: .85; }
main { max-width: 1220px; margin: 0 auto; padding: 16px 32px 48px; }
section { background: #fff; border-radius: 6px; padding: 16px 20px; margin: 16px 0;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { font-size: 18px; margin: 0 0 12px; border-left: 4px solid #1f4e79; padding-left: 8px; }
h3 { font-size: 15px; margin: 16px 0 8px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border: 1px solid #e1e4e8; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef2f7; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:nth-child(even) td { background: #fafbfc; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; }
.kpi { flex: 1 1 160px; background: #f7f9fc; border: 1px solid #e1e4e8; border-radius: 6px;
  padding: 10px 14px; }
.kpi b { display: block; font-size: 22px; color: #1f4e79; }
.score { display: inline-block; min-width: 52px; text-align: center; border-radius: 4px;
  padding: 0 6px; font-weight: 600; }
.s-a { background: #e3f4e8; color: #1e6b34; } .s-b { background: #e5effa; color: #1f4e79; }
.s-c { background: #fff1dc; color: #8a5300; } .s-d { background: #fde4e4; color: #a11d1d; }
.s-n { background: #eee; color: #666; }
.up { color: #1e6b34; } .down { color: #a11d1d; } .flat { color: #666; }
.method { background: #f7f9fc; border-left: 3px solid #9bb3cc; padding: 8px 12px; margin: 10px 0;
  font-size: 13px; }
.method p { margin: 4px 0; }
.method table { width: auto; min-width: 240px; }
.sections { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; }
.sections section { margin: 0; }
.note { color: #8a5300; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 12px; }
a { color: #1f4e79; }
.chart svg { max-width: 100%; height: auto; }
footer { color: #777; font-size: 12px; text-align: center; padding: 16px; }
"""


def fmt(value: object, kind: str = "number") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "rate":
        return f"{float(value) * 100:.2f}%"
    return f"{float(value):,.2f}"


def score_badge(score: float | None) -> str:
    if score is None:
        return '<span class="score s-n">不参评</span>'
    grade = "a" if score >= 90 else "b" if score >= 75 else "c" if score >= 60 else "d"
    return f'<span class="score s-{grade}">{score:.2f}</span>'


def movement_html(change: int | None, prev_rank: int | None) -> str:
    text = escape(charts.movement(change, prev_rank))
    css = "flat" if not change else ("up" if change > 0 else "down")
    return f'<span class="{css}">{text}</span>'


def _page(title: str, subtitle: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>\n"
        f"<main>\n{body}\n</main>\n"
        "<footer>滨州公共数据平台 · 数据晾晒台 · 本报告每个数字都可由归集清单和质量问题台账复算"
        "（见“计算方法”）</footer>\n</body>\n</html>\n"
    )


def _table(headers: list[tuple[str, bool]], rows: list[list[str]], empty: str = "无") -> str:
    if not rows:
        return f"<p>{escape(empty)}</p>"
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if n else f"<th>{escape(h)}</th>" for h, n in headers
    )
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if numeric else f"<td>{cell}</td>"
            for cell, (_, numeric) in zip(row, headers, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _method(document: dict, section: str) -> str:
    method = document["formulas"]["sections"][section]
    return (
        '<div class="method"><p><b>计算方法</b>：'
        f"{escape(method['formula'])}</p>"
        f"<p>{escape(method['figures'])}</p>"
        f"<p>来源表：{escape(method['sources'])}</p></div>"
    )


def _weights_table(document: dict) -> str:
    weights = document["config"]["weights"]
    rows = [[escape(SECTION_NAMES[s]), fmt(weights[s], "number")] for s in SECTIONS]
    return _table([("分项", False), ("权重", True)], rows)


# --- overview --------------------------------------------------------------------------------


def index_html(document: dict, svgs: dict[str, str]) -> str:
    city = document["city"]
    kpis = [
        ("参评部门", str(len(document["departments"]))),
        ("按时报送率", fmt(city["on_time_rate"], "rate")),
        ("应报 / 按时 / 逾期 / 缺报", " / ".join(fmt(city[k], "count") for k in DELIVERY_KEYS)),
        ("质量检查通过率", fmt(city["pass_rate"], "rate")),
        ("未整改问题", fmt(city["issues_open"], "count")),
        ("上期问题整改率", fmt(city["rectification_rate"], "rate")),
    ]
    kpi_html = "".join(f'<div class="kpi">{escape(k)}<b>{escape(v)}</b></div>' for k, v in kpis)
    notes = "".join(f'<p class="note">注：{escape(n)}</p>' for n in document["notes"])
    rows = []
    for d in document["departments"]:
        s = d["sections"]
        rows.append(
            [
                "—" if d["rank"] is None else str(d["rank"]),
                movement_html(d["rank_change"], d["prev_rank"]),
                f'<a href="{escape(d["code"])}.html">{escape(d["short_name"])}</a>',
                score_badge(d["composite"]),
                *(score_badge(s[x]["score"]) for x in SECTIONS),
                f"{fmt(s['collection']['figures']['deliveries_on_time'], 'count')}/"
                f"{fmt(s['collection']['figures']['deliveries_expected'], 'count')}",
                fmt(s["quality"]["figures"]["issues_open"], "count"),
                fmt(s["rectification"]["figures"]["rectification_rate"], "rate"),
            ]
        )
    headers = [
        ("名次", True),
        ("变化", True),
        ("部门", False),
        ("综合得分", True),
        *((f"{SECTION_NAMES[s]}得分", True) for s in SECTIONS),
        ("按时/应报", True),
        ("未整改问题", True),
        ("整改率", True),
    ]
    body = f"""
<section><h2>总体情况</h2><div class="kpis">{kpi_html}</div>{notes}</section>
<section><h2>赛马排名</h2>
{_table(headers, rows)}
<div class="chart">{svgs["ranking"]}</div>
<div class="method"><p><b>计算方法</b>：{escape(document["formulas"]["composite"])}</p>
<p>分项权重（catalog/scorecard.yaml）：</p>{_weights_table(document)}</div>
</section>
<section><h2>趋势</h2><div class="chart">{svgs["trend"]}</div>
<p>统计月份：{escape("、".join(document["periods"]))}。每个月的得分都按同一套公式由该月的归集清单和质量结果重新计算。</p>
</section>
{_catalog_overview(document)}
<section><h2>计算方法</h2>
<p>{escape(document["formulas"]["composite"])}</p>
{_weights_table(document)}
{"".join(_method_block(document, s) for s in SECTIONS)}
</section>
"""
    return _page(
        document["title"],
        f"{document['period_label']} 全市公共数据编目、归集、质量与整改情况通报",
        body,
    )


def _method_block(document: dict, section: str) -> str:
    sql = document["formulas"]["sql"][section]
    return (
        f"<h3>{escape(SECTION_NAMES[section])}</h3>{_method(document, section)}"
        f"<details><summary>查询语句（DuckDB SQL）</summary><pre>{escape(sql)}</pre></details>"
    )


def _catalog_overview(document: dict) -> str:
    orphan = document["unattributed_catalog_findings"]
    if not orphan:
        return ""
    rows = [
        [escape(f["file"]), escape(f["rule_id"]), escape(f["severity"]), escape(f["message"])]
        for f in orphan
    ]
    return (
        "<section><h2>无法归属部门的编目问题</h2>"
        + _table([("文件", False), ("规则", False), ("级别", False), ("问题", False)], rows)
        + "</section>"
    )


# --- department pages ------------------------------------------------------------------------


def _figures_table(section: dict, key: str) -> str:
    rows = [
        [escape(label), fmt(section["figures"][name], kind)]
        for name, (label, kind) in compute.FIGURES[key].items()
    ]
    return _table([("指标", False), ("数值", True)], rows)


def _section_block(document: dict, dept: dict, key: str) -> str:
    section = dept["sections"][key]
    return (
        f"<section><h2>{escape(section['name'])} {score_badge(section['score'])}</h2>"
        f"{_figures_table(section, key)}{_method(document, key)}</section>"
    )


def _deliveries(dept: dict) -> str:
    rows = [
        [
            escape(item["dataset_name"]),
            escape(item["update_cycle"]),
            escape(CHANNELS.get(item["channel"], item["channel"])),
            escape(OUTCOMES[item["outcome"]]),
            escape(item["arrived_at"] or "—"),
            escape(item["due_at"] or "—"),
            fmt(item["rows_received"], "count"),
            fmt(item["rows_rejected"], "count"),
            escape(item["reasons"] or ""),
        ]
        for item in dept["deliveries"]
    ]
    headers = [
        ("数据集", False),
        ("更新周期", False),
        ("方式", False),
        ("报送情况", False),
        ("到达时间", False),
        ("截止时间", False),
        ("接收行数", True),
        ("拒收行数", True),
        ("说明", False),
    ]
    return _table(headers, rows, "本期没有应报送的数据集")


def _indicator_gaps(dept: dict) -> str:
    rows = [
        [
            str(item["indicator_no"]),
            escape(item["indicator_name"]),
            escape(item["kind"]),
            escape(str(item["due_at"])[:10]),
            escape(item["reason"]),
        ]
        for item in dept.get("indicator_gaps", [])
    ]
    headers = [("序号", True), ("指标", False), ("情况", False), ("截止日", False), ("说明", False)]
    return _table(headers, rows, "本期应填报的规划指标均已按期报送")


def _docs_link(docs: dict[str, str], rule_id: str) -> str:
    href = docs.get(rule_id)
    return f'<a href="{escape(href)}">GX 校验结果</a>' if href else "—"


def _top_rules(dept: dict, docs: dict[str, str]) -> str:
    rows = [
        [
            escape(item["dataset_name"]),
            escape(f"{item['rule_name']}（{item['rule_id']}）"),
            escape(item["dimension"]),
            escape(item["severity"]),
            fmt(item["unexpected_count"], "count"),
            fmt(item["element_count"], "count"),
            fmt(item["pass_rate"], "rate"),
            _docs_link(docs, item["rule_id"]),
        ]
        for item in dept["top_rules"]
    ]
    headers = [
        ("数据集", False),
        ("规则", False),
        ("维度", False),
        ("严重程度", False),
        ("未通过记录", True),
        ("检查记录", True),
        ("通过率", True),
        ("数据文档", False),
    ]
    return _table(headers, rows, "本期没有未通过的质量规则")


def _by_dataset(dept: dict) -> str:
    rows = [
        [
            escape(item["dataset_name"]),
            fmt(item["issues"], "count"),
            fmt(item["new"], "count"),
            fmt(item["open"], "count"),
            fmt(item["reopened"], "count"),
        ]
        for item in dept["issues_by_dataset"]
    ]
    headers = [
        ("数据集", False),
        ("问题", True),
        ("新发现", True),
        ("未整改", True),
        ("复发", True),
    ]
    return _table(headers, rows, "本期没有问题")


def _findings(dept: dict) -> str:
    rows = [
        [escape(f["dataset"]), escape(f["rule_id"]), escape(f["severity"]), escape(f["message"])]
        for f in dept["catalog_findings"]
    ]
    headers = [("数据集", False), ("规则", False), ("级别", False), ("问题", False)]
    return _table(headers, rows, "编目检查未发现问题")


def _errored(dept: dict) -> str:
    if not dept["errored_rules"]:
        return ""
    rows = [
        [escape(r["dataset"]), escape(f"{r['rule_name']}（{r['rule_id']}）"), escape(r["error"])]
        for r in dept["errored_rules"]
    ]
    return "<h3>检查出错的规则（不计入通过率）</h3>" + _table(
        [("数据集", False), ("规则", False), ("错误", False)], rows
    )


def _docs_section(dept: dict, pages: dict[str, str]) -> str:
    """Links to the GX Data Docs page of each of the department's datasets' suites."""
    mine = sorted(
        (suite, href)
        for suite, href in pages.items()
        if suite.split(".")[0] in {d["dataset"] for d in dept.get("deliveries", [])}
    )
    if not mine:
        return "<p>本期没有 GX 数据文档（质量校核未运行或未生成数据文档）</p>"
    items = "".join(f'<li><a href="{escape(h)}">{escape(s)}</a></li>' for s, h in mine)
    return f"<ul>{items}</ul>"


def department_html(
    document: dict,
    dept: dict,
    svg_text: str,
    docs: dict[str, str] | None = None,
    pages: dict[str, str] | None = None,
) -> str:
    rank = "不参评" if dept["rank"] is None else f"第 {dept['rank']} 名"
    total = len(document["departments"])
    trend_rows = [
        [
            escape(t["period"]),
            "—" if t["rank"] is None else str(t["rank"]),
            score_badge(t["composite"]),
            *(score_badge(t[s]) for s in SECTIONS),
        ]
        for t in dept["trend"]
    ]
    trend_headers = [
        ("月份", False),
        ("名次", True),
        ("综合", True),
        *((SECTION_NAMES[s], True) for s in SECTIONS),
    ]
    sections = "".join(_section_block(document, dept, s) for s in SECTIONS)
    body = f"""
<p><a href="index.html">← 返回总览</a></p>
<section><h2>本期结果</h2><div class="kpis">
<div class="kpi">综合得分<b>{escape(fmt(dept["composite"]))}</b></div>
<div class="kpi">名次（共 {total} 个部门）<b>{escape(rank)}</b></div>
<div class="kpi">较上期<b>{movement_html(dept["rank_change"], dept["prev_rank"])}</b></div>
<div class="kpi">未整改问题<b>{escape(fmt(dept["issue_total"], "count"))}</b></div>
</div>
<div class="method"><p><b>计算方法</b>：{escape(document["formulas"]["composite"])}</p></div>
</section>
<section><h2>得分趋势</h2><div class="chart">{svg_text}</div>
{_table(trend_headers, trend_rows)}</section>
<div class="sections">{sections}</div>
<section><h2>主要问题</h2>
<h3>未通过记录最多的质量规则（前 {document["config"]["report"]["top_problems"]} 条）</h3>
{_top_rules(dept, docs or {})}
<h3>GX 数据文档（每条规则检查什么、本期结果）</h3>{_docs_section(dept, pages or {})}
<h3>各数据集问题数</h3>{_by_dataset(dept)}
{_errored(dept)}
<h3>本期报送情况</h3>{_deliveries(dept)}
<h3>规划指标填报：未按期报送（缺报、被拒、逾期）</h3>{_indicator_gaps(dept)}
<h3>编目检查发现的问题</h3>{_findings(dept)}
<p>逐条问题清单（记录标识已脱敏）见工作簿“数据晾晒台_{escape(document["period_label"])}.xlsx”中的“{escape(dept["short_name"])}”工作表。</p>
</section>
"""
    return _page(
        f"{dept['name']} · 数据晾晒",
        f"{document['period_label']} · {document['title']}",
        body,
    )


def copy_data_docs(work_dir: Path, period: str, folder: Path) -> tuple[dict, dict]:
    """Copy the GX Data Docs pages of `period` (the latest run of each suite) and their static
    files into `folder/gx/`; returns (rule id → href, suite name → href), hrefs relative to
    `folder`. Empty when the checks wrote no Data Docs."""
    from bzdata.quality.gx_project import data_docs_dir
    from bzdata.quality.rules import SUITES_DIR, default_root

    site = data_docs_dir(work_dir)
    run_name = f"质量校核 {period}"
    pages: dict[str, str] = {}
    if not (site / "validations").is_dir():
        return {}, {}
    target = folder / "gx"
    for run_dir in sorted((site / "validations").glob(f"*/*/{run_name}")):
        latest = max((p for p in run_dir.iterdir() if p.is_dir()), default=None)
        page = next(iter(sorted(latest.glob("*.html"))), None) if latest else None
        if page is None:
            continue
        relative = page.relative_to(site)
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(page, target / relative)
        dataset, asset = run_dir.parent.parent.name, run_dir.parent.name
        pages[f"{dataset}.{asset}"] = quote(f"gx/{relative.as_posix()}")
    if not pages:
        return {}, {}
    if (site / "static").is_dir():
        shutil.copytree(site / "static", target / "static", dirs_exist_ok=True)
    by_rule = {}
    for path in sorted((default_root() / SUITES_DIR).glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for item in suite["expectations"]:
            if suite["name"] in pages:
                by_rule[item["meta"]["rule_id"]] = pages[suite["name"]]
    return by_rule, pages


def write_all(
    document: dict, folder: Path, svg_paths: dict[str, Path], work_dir: Path | None = None
) -> list[Path]:
    """index.html and one <department code>.html per department (with the period's GX Data
    Docs copied beside them when `work_dir` has them); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    docs, pages = ({}, {})
    if work_dir is not None:
        docs, pages = copy_data_docs(work_dir, document["period"], folder)
    svgs = {stem: path.read_text(encoding="utf-8") for stem, path in svg_paths.items()}
    pages_html = {"index.html": index_html(document, svgs)}
    for dept in document["departments"]:
        pages_html[f"{dept['code']}.html"] = department_html(
            document, dept, svgs[f"trend_{dept['code']}"], docs, pages
        )
    paths = []
    for name, text in pages_html.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
