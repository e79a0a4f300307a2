"""The 指标 reporting channel: a template filled in the way a department would, then ingested."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from bzdata.indicators import IndicatorFileError, ingest_file, read_rejects, read_values, template
from bzdata.indicators.channel import HEADERS, SHEET, indicators_of
from bzdata.registry import load_registry

REGISTRY = load_registry()


def _fill(path: Path, values: dict[int, object], received: datetime, dest: Path) -> Path:
    """Type values into the 本期值 column as a department would; the file's time is its arrival."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET]
    column = HEADERS.index("本期值") + 1
    for row in range(2, sheet.max_row + 1):
        no = sheet.cell(row=row, column=1).value
        if no in values:
            sheet.cell(row=row, column=column).value = values[no]
            sheet.cell(row=row, column=column + 1).value = "全市二级以上公立医院"
            sheet.cell(row=row, column=column + 2).value = "卫健统计年报"
    dest.parent.mkdir(parents=True, exist_ok=True)
    book.save(dest)
    stamp = received.timestamp()
    os.utime(dest, (stamp, stamp))
    return dest


@pytest.fixture
def blank(tmp_path: Path) -> Path:
    return template(REGISTRY, "wjw", "2023-03", tmp_path / "lake", tmp_path / "out")


def test_template_lists_the_departments_indicators_with_targets(blank):
    sheet = openpyxl.load_workbook(blank)[SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    expected = [(i.no, i.name, i.unit, i.target) for i in indicators_of(REGISTRY, "wjw")]
    assert [r[:4] for r in rows[1:]] == expected
    assert expected, "市卫健委 is responsible for indicators 34–38"
    # The value column carries a data validation of the indicator's range.
    assert any("F" in str(v.sqref) for v in sheet.data_validations.dataValidation)


def test_filled_template_is_ingested_with_provenance(tmp_path, blank):
    received = datetime(2023, 4, 8, 10, 30)
    filled = _fill(
        blank, {34: 96.5, 35: 88}, received, tmp_path / "landing" / "2023-03" / blank.name
    )
    row = ingest_file(REGISTRY, filled, tmp_path / "lake")
    assert (row["rows_read"], row["rows_accepted"], row["rows_rejected"]) == (2, 2, 0)
    values = {r["indicator_no"]: r for r in read_values(tmp_path / "lake").to_pylist()}
    assert values[34]["value"] == 96.5 and values[35]["value"] == 88.0
    assert values[34]["department"] == "wjw" and values[34]["period"] == "2023-03"
    assert values[34]["source_file"] == blank.name and values[34]["source_row"] == 2
    assert values[34]["received_at"].timestamp() == int(received.timestamp())
    assert values[34]["evidence"] == "卫健统计年报" and values[34]["version"] == 1
    # The same bytes again are the same delivery: nothing new.
    ingest_file(REGISTRY, filled, tmp_path / "lake")
    assert read_values(tmp_path / "lake").num_rows == 2


def test_bad_values_rejected_with_file_row_reason_and_nothing_else_lost(tmp_path, blank):
    filled = _fill(
        blank,
        {34: 101, 35: "约九成", 36: 75, 37: -1},
        datetime(2023, 4, 9, 9, 0),
        tmp_path / "landing" / "2023-03" / blank.name,
    )
    row = ingest_file(REGISTRY, filled, tmp_path / "lake")
    assert row["rows_read"] == row["rows_accepted"] + row["rows_rejected"] == 4
    rejects = {r["indicator_no"]: r for r in read_rejects(tmp_path / "lake").to_pylist()}
    assert set(rejects) == {34, 35, 37}
    assert rejects[34]["source_file"] == blank.name and rejects[34]["source_row"] == 2
    assert "超出范围 0–100" in rejects[34]["reason"]
    assert "应为数字" in rejects[35]["reason"]
    kept = read_values(tmp_path / "lake").to_pylist()
    assert [(r["indicator_no"], r["value"]) for r in kept] == [(36, 75.0)]


def test_pue_below_one_is_rejected(tmp_path):
    pue = REGISTRY.indicator(6)
    assert pue.bounds[0] == 1.0 and pue.comparator == "<="
    registry = REGISTRY.model_copy(
        update={
            "indicators": tuple(
                i.model_copy(update={"department": "dsj"}) if i.no == 6 else i
                for i in REGISTRY.indicators
            )
        }
    )
    blank = template(registry, "dsj", "2023-03", tmp_path / "lake", tmp_path / "out")
    filled = _fill(blank, {6: 0.95}, datetime(2023, 4, 3), tmp_path / "in" / "2023-03" / blank.name)
    ingest_file(registry, filled, tmp_path / "lake")
    (reject,) = read_rejects(tmp_path / "lake").to_pylist()
    assert reject["indicator_no"] == 6 and "不小于 1" in reject["reason"]


def test_correction_is_a_new_version_and_the_latest_wins(tmp_path, blank):
    lake = tmp_path / "lake"
    first = _fill(blank, {34: 90}, datetime(2023, 4, 5), tmp_path / "a" / "2023-03" / blank.name)
    fixed = _fill(blank, {34: 92.5}, datetime(2023, 4, 12), tmp_path / "b" / "2023-03" / blank.name)
    ingest_file(REGISTRY, first, lake)
    ingest_file(REGISTRY, fixed, lake)
    rows = [r for r in read_values(lake).to_pylist() if r["indicator_no"] == 34]
    assert [(r["version"], r["value"], r["is_latest"]) for r in rows] == [
        (1, 90.0, False),
        (2, 92.5, True),
    ]
    # The template of the next period shows the latest version as 上期值.
    nxt = template(REGISTRY, "wjw", "2023-04", lake, tmp_path / "next")
    sheet = openpyxl.load_workbook(nxt)[SHEET]
    assert sheet.cell(row=2, column=HEADERS.index("上期值") + 1).value == 92.5


def test_period_mismatch_rejects_the_whole_file_by_name(tmp_path, blank):
    moved = _fill(blank, {34: 90}, datetime(2023, 4, 5), tmp_path / "2023-05" / blank.name)
    with pytest.raises(IndicatorFileError, match=blank.name + ".*2023-03.*2023-05"):
        ingest_file(REGISTRY, moved, tmp_path / "lake")
    assert read_values(tmp_path / "lake").num_rows == 0
