"""The month's 指标 report on the demo city: one self-contained HTML page and a workbook whose
values and series agree with an independent DuckDB query over the 指标 store and the warehouse."""

from __future__ import annotations

import re

import duckdb
import pytest
from python_calamine import CalamineWorkbook

from bzdata.indicators.report import build_report, chinese_period
from bzdata.registry import load_registry

REGISTRY = load_registry()


@pytest.fixture(scope="module")
def reports(reported_city):
    folders = {}
    for period in reported_city.periods:
        folders[period], _ = build_report(reported_city.work, period, REGISTRY)
    return folders


def _latest_reported(work, period: str) -> dict[int, list[tuple[str, float]]]:
    """Independent: the latest accepted version per indicator and period, periods ≤ `period`."""
    glob = str(work / "lake" / "indicators" / "values" / "*.parquet")
    rows = (
        duckdb.connect()
        .execute(
            """
        select indicator_no, period, arg_max(value, (received_at, source_file, source_row))
        from read_parquet(?)
        where period <= ?
        group by indicator_no, period
        order by indicator_no, period
        """,
            [glob, period],
        )
        .fetchall()
    )
    series: dict[int, list[tuple[str, float]]] = {}
    for no, p, value in rows:
        series.setdefault(no, []).append((p, value))
    return series


def _sheet(book: CalamineWorkbook, name: str) -> list[list]:
    return book.get_sheet_by_name(name).to_python()


def test_workbook_values_and_series_agree_with_the_store_and_the_warehouse(reported_city, reports):
    period = reported_city.period
    book = CalamineWorkbook.from_path(
        str(reports[period] / f"指标报告_{chinese_period(period)}.xlsx")
    )
    table = _sheet(book, "指标库")
    header, rows = table[0], table[1:]
    col = {name: header.index(name) for name in header}
    assert len(rows) == 45
    values = {int(r[col["序号"]]): r[col["本期值"]] for r in rows}
    expected = _latest_reported(reported_city.work, period)
    for item in REGISTRY.indicators:
        if item.source == "reported":
            own = dict(expected.get(item.no, []))
            shown = None if values[item.no] == "" else values[item.no]
            assert shown == own.get(period), item.no
    con = duckdb.connect(str(reported_city.work / "warehouse" / "bzdata.duckdb"), read_only=True)
    try:
        computed = dict(
            con.execute(
                "select indicator_no, indicator_value from indicator.indicator_library "
                "where indicator_no in (42, 43, 45)"
            ).fetchall()
        )
    finally:
        con.close()
    for no, value in computed.items():
        assert values[no] == pytest.approx(value)
    series: dict[int, list[tuple[str, float]]] = {}
    for no, _, p, value in _sheet(book, "序列")[1:]:
        series.setdefault(int(no), []).append((p, value))
    for no, points in expected.items():
        assert series[no] == points
    # A computed value belongs to the period the warehouse was built for (the last one here).
    assert [p for p, _ in series[42]] == [period]


def test_page_is_self_contained_by_category_with_one_chart_per_indicator(reported_city, reports):
    page = (reports[reported_city.period] / "index.html").read_text("utf-8")
    assert page.count("<svg") == 45
    assert not re.search(r"<script|<link|src=\"http|href=\"http", page)
    assert set(re.findall(r"https?://[^\"' ]+", page)) <= {"http://www.w3.org/2000/svg"}
    for item in REGISTRY.indicators:
        assert item.name in page
    positions = [
        page.index(f"<h2>{c}</h2>") for c in dict.fromkeys(i.category for i in REGISTRY.indicators)
    ]
    assert positions == sorted(positions)


def test_rebuilding_a_period_gives_the_same_files(reported_city, reports):
    period = reported_city.period
    before = {p.name: p.read_bytes() for p in reports[period].iterdir()}
    folder, _ = build_report(reported_city.work, period, REGISTRY)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
