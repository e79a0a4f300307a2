"""What spreadsheets and editors do to a delivered file: tolerated, recorded in the manifest,
and never a cut value accepted silently. Files are written by hand, byte by byte."""

from __future__ import annotations

import json

import pytest
import xlsxwriter

from bzdata.registry import load_registry

BIRTH = "wjw_csyxzm"
HEADERS = list(load_registry().dataset(BIRTH).headers)
ROWS = [
    [
        f"Q37160000{i}",
        f"37162120230112{i:03d}X",
        f"王小{i}",
        "1",
        f"2023-01-{10 + i}",
        "371621199804191747",
        "贾涵",
        "惠民县人民医院",
    ]
    for i in range(8)
]


def _kinds(row: dict) -> set[str]:
    return {a["kind"] for a in json.loads(row["artefacts"] or "[]")}


def _text(lines: list[list[str]], sep: str = ",", end: str = "\n") -> str:
    return "".join(sep.join(line) + end for line in lines)


def test_header_with_empty_trailing_columns_loads_every_row(drop, ingest, raw, rejects):
    # Excel writes the empty columns a formatted sheet carries; some rows have them, some not.
    lines = [[*HEADERS, "", "", ""]] + [r + [""] * (i % 4) for i, r in enumerate(ROWS)]
    drop(BIRTH, _text(lines).encode("utf-8"))
    [row] = ingest(BIRTH)
    assert (row["status"], row["rows_read"], row["rows_accepted"]) == ("loaded", 8, 8)
    assert raw(BIRTH).column("person_name").to_pylist() == [r[2] for r in ROWS]
    assert "trailing_empty_columns" in _kinds(row) and "表头末尾有 3 个空列名" in row["reason"]


def test_value_under_an_empty_header_name_is_rejected_not_dropped(drop, ingest, rejects):
    lines = [[*HEADERS, ""], ROWS[0] + [""], ROWS[1] + ["表外值"], ROWS[2]]
    drop(BIRTH, _text(lines).encode("utf-8"))
    [row] = ingest(BIRTH)
    assert (row["rows_accepted"], row["rows_rejected"]) == (2, 1)
    [bad] = rejects(BIRTH)
    assert bad["line"] == 3 and "多出 1 列" in bad["reason"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("bom", [True, False])
def test_excel_unicode_text_export_loads(drop, ingest, raw, codec, bom):
    # Excel's "Unicode text": UTF-16, tab-separated, CRLF, quotes only where needed.
    body = [HEADERS, *ROWS[:3]]
    body[2] = [*ROWS[1][:2], '"王\t小"', *ROWS[1][3:]]
    data = _text(body, "\t", "\r\n").encode(codec)
    if bom:
        data = "\ufeff".encode(codec) + data
    drop(BIRTH, data)
    [row] = ingest(BIRTH)
    assert (row["status"], row["encoding"], row["rows_accepted"]) == ("loaded", codec, 3)
    assert raw(BIRTH).column("person_name").to_pylist() == ["王小0", "王\t小", "王小2"]
    assert {"utf16", "tab_separated"} <= _kinds(row)


def test_complete_last_line_without_terminator_loads_and_is_flagged(drop, ingest, raw):
    drop(BIRTH, _text([HEADERS, *ROWS]).rstrip("\n").encode("utf-8"))
    [row] = ingest(BIRTH)
    assert (row["rows_accepted"], row["rows_rejected"]) == (8, 0)
    assert "unterminated_last_line" in _kinds(row)
    assert "第 9 行）没有换行符，可能被截断" in row["reason"]


def test_file_cut_inside_its_last_value_rejects_that_row(drop, ingest, raw, rejects):
    # Columns reordered so that the birth date (a value of fixed shape) comes last.
    order = [0, 1, 2, 3, 5, 6, 7, 4]
    lines = [[line[i] for i in order] for line in [HEADERS, *ROWS]]
    text = _text(lines)
    drop(BIRTH, text[: text.rindex("2023-01-17") + 9].encode("utf-8"))  # "2023-01-1"
    [row] = ingest(BIRTH)
    assert (row["rows_read"], row["rows_accepted"], row["rows_rejected"]) == (8, 7, 1)
    [bad] = rejects(BIRTH)
    assert bad["line"] == 9
    assert "第 9 行第 8 列（出生日期）的值“2023-01-1”只有 9 个字符" in bad["reason"]
    assert "可能被截断" in bad["reason"]
    assert "truncated" in _kinds(row)


def test_spreadsheet_csv_quirks(drop, ingest, raw):
    width = len(HEADERS)
    title = ["出生医学证明信息（2023年01月）"] + [""] * (width - 1)
    forced = [ROWS[1][0], '="037162120230112001"', *ROWS[1][2:]]
    lines = [title, HEADERS, ROWS[0], forced, [""] * width, ROWS[2], [""] * width]
    lines += [["合计", "", "", "", "", "", "", "3"], ["备注：本表由惠民县卫健局填报"]]
    drop(BIRTH, _text(lines, end="\r\n").encode("gbk"))
    [row] = ingest(BIRTH)
    assert (row["status"], row["rows_read"], row["rows_rejected"]) == ("loaded", 3, 0)
    table = raw(BIRTH)
    assert table.column("citizen_id").to_pylist()[1] == "037162120230112001"
    assert table.column("_row_number").to_pylist() == [3, 4, 6]
    assert {"title_rows", "formula_text", "blank_rows", "footer_rows"} <= _kinds(row)
    assert "第 8 行“合计" in row["reason"] and "第 9 行“备注" in row["reason"]


def test_footer_like_line_followed_by_records_is_not_a_footer(drop, ingest, rejects):
    lines = [HEADERS, ROWS[0], ["合计"], ROWS[1]]
    drop(BIRTH, _text(lines).encode("utf-8"))
    [row] = ingest(BIRTH)
    assert (row["rows_read"], row["rows_accepted"], row["rows_rejected"]) == (3, 2, 1)
    assert rejects(BIRTH)[0]["line"] == 3


def test_nul_padding_and_cr_only_line_ends(drop, ingest, raw):
    text = _text([HEADERS, *ROWS[:4]], end="\r")
    drop(BIRTH, text.encode("utf-8") + b"\x00" * 5000)
    [row] = ingest(BIRTH)
    assert (row["rows_accepted"], row["rows_rejected"]) == (4, 0)
    assert raw(BIRTH).column("_row_number").to_pylist() == [2, 3, 4, 5]
    assert {"nul_padding", "cr_line_ends"} <= _kinds(row)


def test_mixed_line_ends_load(drop, ingest, raw):
    # LF, CRLF, and two records joined by a bare CR (an old Mac editor touched one line).
    text = _text([HEADERS, ROWS[0]]) + _text(ROWS[1:3], end="\r\n")
    text += _text(ROWS[3:4], end="\r") + _text(ROWS[4:5])
    drop(BIRTH, text.encode("utf-8"))
    [row] = ingest(BIRTH)
    assert (row["rows_accepted"], row["rows_rejected"]) == (5, 0)
    assert raw(BIRTH).column("_row_number").to_pylist() == [2, 3, 4, 5, 5]
    assert "mixed_line_ends" in _kinds(row)


def test_xlsx_id_stored_as_a_number_is_rejected_and_formatting_past_the_data_skipped(
    drop, ingest, raw, rejects
):
    ds = load_registry().dataset("mzj_shjz")
    path = drop("mzj_shjz", b"")
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    fmt = book.add_format({"bg_color": "#FFFF00"})
    for c, h in enumerate(ds.headers):
        sheet.write_string(0, c, h)
    good = ["37162119591128174X", "王兰清", "371621", "18624829096", "1", "606.00", "2020-03-17"]
    for c, v in enumerate(good):
        sheet.write_string(1, c, v)
    sheet.write_number(2, 0, 371621195911281234)  # typed in as a number: digits 16-18 lost
    for c, v in enumerate(good[1:], start=1):
        sheet.write_string(2, c, v)
    for r in range(3, 400):  # a coloured block past the data
        sheet.write_blank(r, 0, None, fmt)
        sheet.write_blank(r, 12, None, fmt)
    book.close()
    [row] = ingest("mzj_shjz")
    assert (row["rows_read"], row["rows_accepted"], row["rows_rejected"]) == (2, 1, 1)
    [bad] = rejects("mzj_shjz")
    assert bad["line"] == 3 and "第 3 行第 1 列（身份证号码）是数值" in bad["reason"]
    assert "15 位有效数字" in bad["reason"]
    assert "blank_rows" in _kinds(row)


def _mixed_workbook(path, empty_text: bool) -> None:
    """Leading zeros, X, OOXML escapes, real Excel dates and numbers, 30 rows."""
    from datetime import date

    ds = load_registry().dataset("mzj_shjz")
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.merge_range(0, 0, 0, 6, "社会救助对象信息（2023年01月）")
    for c, h in enumerate(ds.headers):
        sheet.write_string(1, c, h)
    for r in range(2, 32):
        sheet.write_string(r, 0, f"0371621195911281{r:02d}"[:17] + "X")
        sheet.write_string(r, 1, "_x0041_王" if r % 2 else "王兰清")
        sheet.write_string(r, 2, "371621")
        sheet.write_number(r, 3, 18624829000 + r)
        sheet.write_string(r, 4, "" if empty_text and r == 5 else "1")
        sheet.write_number(r, 5, 606.5)
        sheet.write_datetime(r, 6, date(2020, 3, r - 1), dates)
    book.close()


@pytest.mark.parametrize("empty_text", [False, True])
def test_xlsx_fast_reader_gives_exactly_what_openpyxl_gives(
    drop, ingest, raw, monkeypatch, empty_text
):
    from bzdata.ingest import readers

    path = drop("mzj_shjz", b"")
    _mixed_workbook(path, empty_text)
    used = []
    real = readers._calamine_rows
    monkeypatch.setattr(readers, "_calamine_rows", lambda p: used.append(real(p)) or used[-1])
    ingest("mzj_shjz")
    fast = raw("mzj_shjz")
    assert (used[0] is None) == empty_text  # an empty text cell needs openpyxl
    monkeypatch.setattr(readers, "_calamine_rows", lambda p: None)
    ingest("mzj_shjz")
    slow = raw("mzj_shjz")
    assert fast.equals(slow)
    assert fast.column("citizen_id")[0].as_py() == "03716211959112810X"  # zero and X kept
    # xlsxwriter stores "_x0041_" unescaped, so Excel shows "A": both readers agree with Excel
    assert fast.column("person_name").to_pylist()[:2] == ["王兰清", "A王"]
    assert fast.column("mobile")[0].as_py() == "18624829002"
    assert fast.column("relief_amount")[0].as_py() == "606.5"
    assert fast.column("relief_start_date")[0].as_py() == "2020-03-01"  # a real Excel date
    if empty_text:
        assert fast.column("relief_type").to_pylist()[3] == ""
