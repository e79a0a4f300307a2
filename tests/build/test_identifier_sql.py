"""The SQL identifier and date rules of staging agree with bzdata.ids on the demo city."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bzdata.ids import phone, region, ric, uscc
from bzdata.ids.text import normalize
from bzdata.registry.placeholders import load_placeholders

pytestmark = pytest.mark.slow

_DATE_FORMATS = (
    (re.compile(r"\d{8}"), "%Y%m%d"),
    (re.compile(r"\d{4}-\d{1,2}-\d{1,2}"), "%Y-%m-%d"),
    (re.compile(r"\d{4}/\d{1,2}/\d{1,2}"), "%Y/%m/%d"),
    (re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"), "%Y年%m月%d日"),
)


def _staged(city, fmt: str):
    """(staging table, column) for every registry field of the given element format."""
    for ds in city.registry.datasets:
        for item in ds.fields:
            if city.registry.element(item.element).format == fmt:
                yield f"staging.stg_{ds.provider}__{ds.id.removeprefix(ds.provider + '_')}", item


def _rows(con, query: str) -> list[tuple]:
    return con.execute(f"select {query}").fetchall()


def test_gb11643_check_and_upgrade_agree_with_python(city):
    con = city.connect()
    seen = {True: 0, False: 0, "legacy": 0}
    for table, item in _staged(city, "ric"):
        c = item.column
        for delivered, value, valid, legacy in _rows(
            con,
            f"{c}_delivered, {c}, {c}_is_valid, {c}_is_legacy15 from {table} where {c} is not null",
        ):
            assert valid == ric.validate(delivered).ok, (table, delivered)
            assert legacy == ric.is_legacy15(delivered), (table, delivered)
            expected = ric.upgrade15(delivered) if legacy else normalize(delivered)
            assert value == expected, (table, delivered)
            seen[valid] += 1
            seen["legacy"] += legacy
    assert seen[True] > 10_000 and seen[False] > 50 and seen["legacy"] > 10


def test_gb32100_check_agrees_with_python(city):
    con = city.connect()
    seen = {True: 0, False: 0}
    for table, item in _staged(city, "uscc"):
        c = item.column
        for delivered, value, valid in _rows(
            con, f"{c}_delivered, {c}, {c}_is_valid from {table} where {c} is not null"
        ):
            assert valid == uscc.validate(delivered).ok, (table, delivered)
            assert value == normalize(delivered)
            seen[valid] += 1
    assert seen[True] > 1_000 and seen[False] > 10


def test_mobile_and_region_checks_agree_with_python(city):
    con = city.connect()
    for fmt in ("mobile", "region"):
        checked = 0
        for table, item in _staged(city, fmt):
            c = item.column
            for delivered, value, valid in _rows(
                con, f"{c}_delivered, {c}, {c}_is_valid from {table} where {c} is not null"
            ):
                if fmt == "mobile":
                    assert value == phone.normalize_mobile(delivered)
                    assert valid == phone.is_valid_mobile(delivered), delivered
                else:
                    assert valid == region.is_current_code(normalize(delivered)), delivered
                checked += 1
        assert checked > 100, fmt


PLACEHOLDER_DATES = set(load_placeholders().dates)


def _parse(text: str | None) -> dt.date | None:
    if text is None:
        return None
    text = normalize(text)
    for pattern, fmt in _DATE_FORMATS:
        if pattern.fullmatch(text):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                return None
    return None


def test_dates_in_every_department_format_parse_as_python_reads_them(city):
    con = city.connect()
    seen_formats: set[str] = set()
    failed = 0
    for ds in city.registry.datasets:
        table = f"staging.stg_{ds.provider}__{ds.id.removeprefix(ds.provider + '_')}"
        for item in ds.fields:
            if city.registry.element(item.element).type != "date":
                continue
            c = item.column
            for delivered, value, parse_failed in _rows(
                con, f"{c}_delivered, {c}, {c}_parse_failed from {table}"
            ):
                expected = _parse(delivered)
                placeholder = expected in PLACEHOLDER_DATES
                assert value == (None if placeholder else expected), (table, c, delivered)
                assert parse_failed == (bool(delivered and delivered.strip()) and expected is None)
                failed += bool(parse_failed)
                if delivered and expected:
                    seen_formats.add(re.sub(r"\d", "9", normalize(delivered)))
    assert {"99999999", "9999-99-99", "9999/99/99", "9999年99月99日"} <= seen_formats
    assert failed > 10  # the ledger's malformed dates (e.g. 02-30) are flagged, not guessed
