"""The XLSX workbook departments open: a 汇总 sheet (ranking with every score and raw figure),
one sheet per department listing its issues with identifiers masked, and the 计算方法.

Written with xlsxwriter in constant-memory mode (a department can have many issues); the file's
creation date is the first day of the period, so rebuilding gives the same bytes.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import xlsxwriter

from bzdata.scorecard import charts, compute, details
from bzdata.scorecard.config import SECTION_NAMES, SECTIONS

if TYPE_CHECKING:
    from bzdata.scorecard.build import Context

SUMMARY_SHEET = "汇总"
METHOD_SHEET = "计算方法"
ISSUE_HEADERS: tuple[tuple[str, int], ...] = (
    ("数据集", 24),
    ("规则编号", 22),
    ("规则", 30),
    ("维度", 8),
    ("严重程度", 9),
    ("记录标识（脱敏）", 30),
    ("字段", 16),
    ("显示值（脱敏）", 24),
    ("权威值（脱敏）", 24),
    ("权威部门", 12),
    ("状态", 8),
    ("首次发现期", 11),
    ("说明", 50),
)
STATUS_TEXT = {"新发现": "新发现", "未整改": "未整改", "复发": "复发"}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(text: str, taken: set[str]) -> str:
    """A legal, unique Excel sheet name (≤ 31 characters, none of []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub("_", text).strip("'")[:31] or "部门"
    name, number = base, 2
    while name in taken:
        suffix = f"_{number}"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name)
    return name


def department_sheets(document: dict) -> dict[str, str]:
    """Department code → its sheet name, in ranking order."""
    taken = {SUMMARY_SHEET, METHOD_SHEET}
    return {d["code"]: sheet_name(d["short_name"], taken) for d in document["departments"]}


def _formats(book: xlsxwriter.Workbook) -> dict:
    base = {"font_name": "等线", "font_size": 10, "valign": "top"}
    return {
        "header": book.add_format(
            {**base, "bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True}
        ),
        "text": book.add_format(base),
        "wrap": book.add_format({**base, "text_wrap": True}),
        "count": book.add_format({**base, "num_format": "#,##0"}),
        "rate": book.add_format({**base, "num_format": "0.00%"}),
        "number": book.add_format({**base, "num_format": "0.00"}),
        "title": book.add_format({**base, "bold": True, "font_size": 12}),
    }


def _cell(sheet, row: int, col: int, value: object, kind: str, fmts: dict) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmts["text"])
    elif isinstance(value, bool):
        sheet.write_string(row, col, "是" if value else "否", fmts["text"])
    elif kind in ("count", "rate", "number", "score") and isinstance(value, int | float):
        fmt = fmts["number"] if kind == "score" else fmts[kind]
        sheet.write_number(row, col, value, fmt)
    else:
        sheet.write_string(row, col, str(value), fmts["text"])


def _methods(book, document: dict, fmts) -> None:
    sheet = book.add_worksheet(METHOD_SHEET)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 120)
    sheet.write_string(0, 0, "项目", fmts["header"])
    sheet.write_string(0, 1, "说明", fmts["header"])
    sheet.freeze_panes(1, 0)
    rows: list[tuple[str, str]] = [("综合得分", document["formulas"]["composite"])]
    weights = document["config"]["weights"]
    rows.append(("分项权重", "，".join(f"{SECTION_NAMES[s]} {weights[s]:g}" for s in SECTIONS)))
    for section in SECTIONS:
        method = document["formulas"]["sections"][section]
        name = SECTION_NAMES[section]
        rows += [
            (f"{name}·公式", method["formula"]),
            (f"{name}·指标", method["figures"]),
            (f"{name}·来源表", method["sources"]),
        ]
    for index, (label, text) in enumerate(rows, start=1):
        sheet.write_string(index, 0, label, fmts["text"])
        sheet.write_string(index, 1, text, fmts["wrap"])


def _issue_sheet(book, name: str, dept: dict, ctx: Context, names: dict, fmts) -> str:
    sheet = book.add_worksheet(name)
    for col, (label, width) in enumerate(ISSUE_HEADERS):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, label, fmts["header"])
    sheet.freeze_panes(1, 0)
    limit = ctx.config.report.max_issue_rows
    total = details.issue_count(ctx.sources, dept["code"])
    row_index = 0
    for batch in details.issue_batches(ctx.sources, dept["code"], limit):
        for issue in batch:
            row_index += 1
            values = (
                names.get(issue["dataset"], issue["dataset"]),
                issue["rule_id"],
                issue["rule_name"],
                issue["dimension"],
                issue["severity"],
                ctx.masker(issue["dataset"], issue["record_key"]),
                issue["header"] or issue["field"],
                issue["shown_value"],
                issue["authoritative_value"],
                issue["authority_department"],
                STATUS_TEXT.get(issue["status"], issue["status"]),
                issue["first_period"],
                issue["message"],
            )
            for col, value in enumerate(values):
                _cell(sheet, row_index, col, value, "text", fmts)
    if row_index == 0:
        sheet.write_string(1, 0, "本期没有问题", fmts["text"])
    elif total > row_index:
        sheet.write_string(
            row_index + 1, 0, f"仅列出前 {row_index:,} 条，本期共 {total:,} 条", fmts["title"]
        )
    else:
        sheet.autofilter(0, 0, row_index, len(ISSUE_HEADERS) - 1)
    return f"{row_index:,}" if total == row_index else f"{row_index:,}（共 {total:,}，已截断）"


def write(document: dict, ctx: Context, path: Path) -> Path:
    period = document["period"]
    book = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_urls": False},
    )
    book.set_properties(
        {
            "title": f"{document['title']} {document['period_label']}",
            "subject": "部门编目、归集、质量与整改评分",
            "author": "滨州公共数据平台",
            "created": datetime(int(period[:4]), int(period[5:7]), 1),
        }
    )
    fmts = _formats(book)
    sheets = department_sheets(document)
    names = {ds.id: ds.name for ds in ctx.registry.datasets}
    # The summary comes first in the book but names each sheet's row count: it is added first
    # and filled last (each sheet streams to its own temporary file in constant-memory mode).
    counts: dict[str, str] = {}
    summary = book.add_worksheet(SUMMARY_SHEET)
    for dept in document["departments"]:
        counts[dept["code"]] = _issue_sheet(book, sheets[dept["code"]], dept, ctx, names, fmts)
    _methods(book, document, fmts)
    _summary_into(summary, document, sheets, counts, fmts)
    summary.activate()
    book.close()
    return path


def _summary_into(sheet, document: dict, sheets: dict, counts: dict, fmts) -> None:
    """The 汇总 rows written into an existing sheet (see `write`)."""
    columns: list[tuple[str, int, str]] = [
        ("名次", 6, "count"),
        ("较上期", 8, "text"),
        ("部门", 22, "text"),
        ("综合得分", 10, "score"),
        *((f"{SECTION_NAMES[s]}得分", 10, "score") for s in SECTIONS),
    ]
    figure_keys: list[tuple[str, str]] = []
    for section in SECTIONS:
        for key, (label, kind) in compute.FIGURES[section].items():
            columns.append((f"{SECTION_NAMES[section]}·{label}", 12, kind))
            figure_keys.append((section, key))
    columns += [("问题清单工作表", 20, "text"), ("问题清单行数", 16, "text")]
    sheet.set_row(0, 42)
    for col, (label, width, _) in enumerate(columns):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, label, fmts["header"])
    sheet.freeze_panes(1, 3)
    for index, dept in enumerate(document["departments"], start=1):
        values: list[object] = [
            dept["rank"],
            charts.movement(dept["rank_change"], dept["prev_rank"]),
            dept["short_name"],
            dept["composite"],
            *(dept["sections"][s]["score"] for s in SECTIONS),
            *(dept["sections"][s]["figures"][k] for s, k in figure_keys),
            sheets[dept["code"]],
            counts[dept["code"]],
        ]
        for col, (value, (_, _, kind)) in enumerate(zip(values, columns, strict=True)):
            _cell(sheet, index, col, value, kind, fmts)
    sheet.autofilter(0, 0, len(document["departments"]), len(columns) - 1)
