"""File drops into the raw zone: each format, each class of bad input, the manifest's accounting.

Every manifest row is checked for rows_read == rows_accepted + rows_rejected by the `ingest`
fixture. Bad files are written by hand (the synthetic departments never write broken ones).
"""

from __future__ import annotations

import json
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from bzdata.ingest.manifest import read_manifest
from bzdata.registry import load_registry
from bzdata.synth import writers

BIRTH = "wjw_csyxzm"  # CSV, declared utf-8, eight required columns
HEADER = ",".join(load_registry().dataset(BIRTH).headers)
GOOD = [
    "Q371600000,37162120230112075X,任军振,1,2023-01-12,371621199804191747,贾涵,惠民县人民医院",
    "Q371600001,037162120230107075,胡嘉清,1,2023-01-07,371621199405291740,董娜莹,惠民县妇幼保健院",
    "Q371600002,371621202301070761,王小,2,2023-01-07,371621199405291740,李娜,滨州市人民医院",
]


def _csv(*lines: str, end: str = "\n") -> bytes:
    return (end.join(lines) + end).encode("utf-8")


def test_clean_csv_keeps_every_value_as_delivered_text(drop, ingest, raw):
    drop(BIRTH, _csv(HEADER, *GOOD))
    [row] = ingest(BIRTH)
    assert (row["status"], row["rows_read"], row["rows_accepted"]) == ("loaded", 3, 3)
    table = raw(BIRTH)
    assert table.column("citizen_id").to_pylist()[:2] == [
        "37162120230112075X",
        "037162120230107075",
    ]
    assert table.schema.field("citizen_id").type == pa.string()
    assert table.column("_row_number").to_pylist() == [2, 3, 4]
    assert set(table.column("_source").to_pylist()) == {row["source"]}
    assert str(table.column("_loaded_at")[0]) == "2023-02-01 00:00:00+00:00"
    assert set(table.column("_batch_id").to_pylist()) == {row["batch_id"]}


def test_gbk_file_registered_as_utf8_loads_and_reports_gbk(drop, ingest, raw):
    drop(BIRTH, (HEADER + "\r\n" + "\r\n".join(GOOD) + "\r\n").encode("gbk"))
    [row] = ingest(BIRTH)
    assert (row["status"], row["encoding"], row["rows_accepted"]) == ("loaded", "gbk", 3)
    assert "登记编码为 utf-8，实际检测为 gbk" in row["reason"]
    assert raw(BIRTH).column("mother_name").to_pylist() == ["贾涵", "董娜莹", "李娜"]


def test_gb18030_only_characters_survive(drop, ingest, raw):
    # 𠮷 (U+20BB7) has no GBK code: only GB18030's four-byte form holds it.
    text = "统一社会信用代码,主体名称,法定代表人,评价等级,评价日期\n"
    text += "91371600MA3C4XYZ1K,滨州𠮷公司,,A,2023-01-31\n"
    drop("fgw_xypj", text.encode("gb18030"), period="2023-03", arrived=datetime(2023, 4, 2))
    [row] = ingest("fgw_xypj", period="2023-03")
    assert (row["status"], row["encoding"]) == ("loaded", "gb18030")
    table = raw("fgw_xypj", period="2023-03")
    assert table.column("entity_name").to_pylist() == ["滨州𠮷公司"]
    assert table.column("legal_rep_name").to_pylist() == [None]  # CSV: an empty field is null


def test_ragged_rows_are_rejected_with_their_raw_text(drop, ingest, raw, rejects):
    short = "Q371600009,371621202301070761,王小,2"
    drop(BIRTH, _csv(HEADER, GOOD[0], short, GOOD[1] + ",多余"))
    [row] = ingest(BIRTH)
    assert (row["rows_read"], row["rows_accepted"], row["rows_rejected"]) == (3, 1, 2)
    bad = {r["line"]: r for r in rejects(BIRTH)}
    assert bad[3]["raw"] == short
    assert "第 3 行有 4 个字段，表头有 8 个" in bad[3]["reason"]
    assert "出生日期、母亲公民身份号码、母亲姓名、助产机构" in bad[3]["reason"]
    assert "多出 1 列" in bad[4]["reason"]
    assert raw(BIRTH).column("_row_number").to_pylist() == [2]


def test_broken_quote_rejects_only_its_line(drop, ingest, raw, rejects):
    unclosed = 'Q371600005,371621202301070761,"王小,2,2023-01-07,371621199405291740,李娜,医院'
    glued = 'Q371600006,"37162120230107076"1,王小,2,2023-01-07,371621199405291740,李娜,医院'
    drop(BIRTH, _csv(HEADER, GOOD[0], unclosed, GOOD[1], glued, GOOD[2]))
    [row] = ingest(BIRTH)
    assert (row["rows_read"], row["rows_accepted"], row["rows_rejected"]) == (5, 3, 2)
    bad = {r["line"]: r for r in rejects(BIRTH)}
    assert bad[3]["raw"] == unclosed
    assert "第 3 行第 3 列（新生儿姓名）引号格式错误" in bad[3]["reason"]
    assert "第 5 行第 2 列（新生儿公民身份号码）引号格式错误" in bad[5]["reason"]
    assert raw(BIRTH).column("_row_number").to_pylist() == [2, 4, 6]


def test_quoted_values_may_hold_commas_and_line_breaks(drop, ingest, raw):
    multi = (
        'Q371600007,371621202301070761,"王,小",2,2023-01-07,371621199405291740,"李""娜""\n二",医院'
    )
    drop(BIRTH, _csv(HEADER, multi, GOOD[0]))
    [row] = ingest(BIRTH)
    assert (row["rows_accepted"], row["rows_rejected"]) == (2, 0)
    table = raw(BIRTH)
    assert table.column("person_name").to_pylist()[0] == "王,小"
    assert table.column("mother_name").to_pylist()[0] == '李"娜"\n二'
    assert table.column("_row_number").to_pylist() == [2, 4]  # physical line of record start


def test_file_cut_mid_row_rejects_the_last_row(drop, ingest, rejects):
    data = _csv(HEADER, *GOOD)
    cut = data.rindex("王小,".encode()) + len("王小,".encode())
    drop(BIRTH, data[:cut])  # cut inside the last row, after a comma
    [row] = ingest(BIRTH)
    assert (row["rows_accepted"], row["rows_rejected"]) == (2, 1)
    [bad] = rejects(BIRTH)
    assert bad["line"] == 4 and "可能被截断" in bad["reason"]


def test_file_cut_mid_character_rejects_the_last_row(drop, ingest, rejects):
    data = _csv(HEADER, *GOOD)
    drop(BIRTH, data[:-5])  # "医院\n" minus 5 bytes: half of 医 remains
    [row] = ingest(BIRTH)
    assert (row["encoding"], row["rows_accepted"], row["rows_rejected"]) == ("utf-8", 2, 1)
    [bad] = rejects(BIRTH)
    assert bad["line"] == 4
    assert "第 8 列（助产机构）含有无法按 UTF-8 解码的字节" in bad["reason"]
    assert "可能被截断" in bad["reason"]


def test_undecodable_bytes_reject_the_line_naming_the_column(drop, ingest, raw, rejects):
    lines = [HEADER.encode(), *(g.encode() for g in GOOD)]
    lines[2] = lines[2].replace("胡嘉清".encode(), b"\xff\xfe")
    drop(BIRTH, b"\n".join(lines) + b"\n")
    [row] = ingest(BIRTH)
    assert (row["encoding"], row["rows_accepted"], row["rows_rejected"]) == ("utf-8", 2, 1)
    [bad] = rejects(BIRTH)
    assert bad["line"] == 3
    assert "第 3 列（新生儿姓名）含有无法按 UTF-8 解码的字节 FF" in bad["reason"]
    assert "\\xff\\xfe" in bad["raw"]
    assert raw(BIRTH).num_rows == 2


def test_empty_file_is_quarantined_with_its_reason(drop, ingest, paths):
    drop(BIRTH, b"")
    [row] = ingest(BIRTH)
    assert (row["status"], row["rows_read"], row["bytes"]) == ("quarantined", 0, 0)
    assert "为空（0 字节）" in row["reason"]
    folder = paths.lake / "quarantine" / BIRTH / "2023-01"
    name = "出生医学证明_202301.csv"
    assert (folder / name).read_bytes() == b""
    reason = json.loads((folder / f"{name}.reason.json").read_text(encoding="utf-8"))
    assert reason["file"] == row["source"] and reason["line"] == 1
    assert reason["expected"] == "表头行"


def test_header_only_file_loads_zero_rows(drop, ingest, raw):
    drop(BIRTH, _csv(HEADER))
    [row] = ingest(BIRTH)
    assert (row["status"], row["rows_read"]) == ("loaded", 0)
    table = raw(BIRTH)
    assert table.num_rows == 0 and "citizen_id" in table.column_names


def test_renamed_required_column_quarantines_with_advice(drop, ingest, raw):
    drop(BIRTH, _csv(HEADER.replace("新生儿姓名", "婴儿姓名"), *GOOD))
    [row] = ingest(BIRTH)
    assert row["status"] == "quarantined"
    assert "第 1 行（表头）缺少必填列 新生儿姓名（person_name）" in row["reason"]
    assert "“婴儿姓名”疑似登记字段“新生儿姓名”" in row["reason"]
    assert "catalog/registry/datasets/wjw_csyxzm.yaml" in row["reason"]
    assert raw(BIRTH).num_rows == 0


def test_renamed_optional_column_loads_as_null_and_reports_drift(drop, ingest, raw):
    header = "纳税人识别号,纳税人名称,所属期,销售收入（元）,应纳税额（元）,信用级别,备注"
    body = "9237160300FKRPFD3R,沾化区陈莉燕便利店,202301,346784.74,13693.69,A,无"
    drop("swj_nssb", (header + "\r\n" + body + "\r\n").encode("gbk"))
    [row] = ingest("swj_nssb")
    assert (row["status"], row["rows_accepted"]) == ("loaded", 1)
    drift = json.loads(row["schema_drift"])
    [renamed] = drift["renamed"]
    assert (renamed["delivered"], renamed["header"], renamed["basis"]) == (
        "信用级别",
        "纳税信用级别",
        "位置相同",
    )
    assert drift["added"] == ["信用级别", "备注"]
    assert [m["header"] for m in drift["missing"]] == ["纳税信用级别"]
    assert "多出的列 备注 未入库" in drift["advice"]
    table = raw("swj_nssb")
    missing = drift["missing"][0]["column"]
    assert table.column(missing).to_pylist() == [None]
    assert "备注" not in table.column_names


def test_reordered_and_respaced_headers_still_match(drop, ingest, raw):
    names = HEADER.split(",")
    header = ",".join([names[1], names[0], " " + names[2] + " ", *names[3:]])
    values = GOOD[0].split(",")
    drop(BIRTH, _csv(header, ",".join([values[1], values[0], *values[2:]])))
    [row] = ingest(BIRTH)
    assert row["status"] == "loaded" and json.loads(row["schema_drift"])["reordered"] is True
    assert raw(BIRTH).column("birth_cert_no").to_pylist() == ["Q371600000"]


def test_identical_redelivery_is_a_duplicate(drop, ingest, raw):
    data = _csv(HEADER, *GOOD)
    drop(BIRTH, data)
    ingest(BIRTH)
    drop(BIRTH, data, period="2023-02", arrived=datetime(2023, 3, 2))
    drop(
        BIRTH,
        data,
        name="出生医学证明_202302_重报.csv",
        period="2023-02",
        arrived=datetime(2023, 3, 2),
    )
    rows = ingest(BIRTH, period="2023-02")
    assert [r["status"] for r in rows] == ["duplicate", "duplicate"]
    assert "与 2023-01 期已入库的" in rows[0]["reason"] and rows[0]["rows_read"] == 0
    assert raw(BIRTH, period="2023-02").num_rows == 0
    # Rerunning the first period is not a duplicate of itself.
    assert ingest(BIRTH)[0]["status"] == "loaded"


def test_two_identical_files_in_one_period_load_once(drop, ingest, raw):
    data = _csv(HEADER, *GOOD)
    drop(BIRTH, data, name="a.csv")
    drop(BIRTH, data, name="b.csv")
    assert [r["status"] for r in ingest(BIRTH)] == ["loaded", "duplicate"]
    assert raw(BIRTH).num_rows == 3


def test_late_file_is_loaded_and_flagged(drop, ingest):
    drop(BIRTH, _csv(HEADER, *GOOD), arrived=datetime(2023, 2, 6, 9, 30))  # due 2023-02-05
    [row] = ingest(BIRTH)
    assert (row["status"], row["late"]) == ("loaded", True)
    assert row["due_at"] == datetime(2023, 2, 5, 23, 59, 59)
    assert "迟报" in row["reason"]


def test_absent_delivery_is_missing_and_not_due_is_silent(ingest):
    [row] = ingest(BIRTH)
    assert (row["status"], row["rows_read"]) == ("missing", 0)
    assert "2023-02-05" in row["reason"]
    assert ingest("fgw_xypj", period="2023-01") == []  # quarterly: nothing due in January


def test_jsonl_keeps_numbers_as_written_and_null_apart_from_empty(drop, ingest, raw, rejects):
    ds = load_registry().dataset("dsj_dzzz")
    good = {h: f"v{i}" for i, h in enumerate(ds.headers)}
    first = json.dumps({**good, "证照编号": "0012", "有效期至": None}, ensure_ascii=False)
    second = json.dumps({**good, "有效期至": ""}, ensure_ascii=False).replace('"v1"', "606.00")
    broken = first[:-5]
    listed = json.dumps(["not", "an", "object"])
    drop("dsj_dzzz", "\n".join([first, second, broken, listed, ""]).encode("utf-8"))
    [row] = ingest("dsj_dzzz")
    assert (row["rows_read"], row["rows_accepted"], row["rows_rejected"]) == (4, 2, 2)
    table = raw("dsj_dzzz")
    assert table.column("licence_no").to_pylist()[0] == "0012"
    assert table.column("licence_type").to_pylist()[1] == "606.00"
    assert table.column("expiry_date").to_pylist() == [None, ""]
    reasons = {r["line"]: r["reason"] for r in rejects("dsj_dzzz")}
    assert "第 3 行不是合法的 JSON" in reasons[3]
    assert "第 4 行应为 JSON 对象" in reasons[4]


def _social_relief_workbook(path, merged_header: bool) -> None:
    ds = load_registry().dataset("mzj_shjz")
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.merge_range(0, 0, 0, 6, "社会救助对象信息（2023年01月）")
    headers = list(ds.headers)
    if merged_header:
        # Two header rows: 身份证号码 spans both (merged vertically), the rest sit in row 3.
        sheet.merge_range(1, 0, 2, 0, headers[0])
        sheet.merge_range(1, 1, 1, 6, "救助对象")
        for c, h in enumerate(headers[1:], start=1):
            sheet.write_string(2, c, h)
        first = 3
    else:
        for c, h in enumerate(headers):
            sheet.write_string(1, c, h)
        first = 2
    rows = [
        ["37162119591128174X", "王兰清", "371621", None, "1", "606.00", "2020年03月17日"],
        ["037162119591128174", "", "371621", "18624829096", "1", "0", "2020年03月17日"],
    ]
    for r, values in enumerate(rows, start=first):
        for c, v in enumerate(values):
            if v is not None:
                sheet.write_string(r, c, v)
    sheet.write_number(first + 2, 0, 371621195911281)
    sheet.write_string(first + 2, 8, "表外")
    book.close()


@pytest.mark.parametrize("merged_header", [False, True])
def test_xlsx_title_rows_and_merged_header(paths, drop, ingest, raw, rejects, merged_header):
    path = drop("mzj_shjz", b"")
    _social_relief_workbook(path, merged_header)
    [row] = ingest("mzj_shjz")
    assert (row["status"], row["rows_accepted"], row["rows_rejected"]) == ("loaded", 2, 1)
    table = raw("mzj_shjz")
    assert table.column("citizen_id").to_pylist() == ["37162119591128174X", "037162119591128174"]
    assert table.column("person_name").to_pylist() == ["王兰清", ""]  # empty text is not null
    assert table.column("mobile").to_pylist() == [None, "18624829096"]
    first = 4 if merged_header else 3
    assert table.column("_row_number").to_pylist() == [first, first + 1]
    [bad] = rejects("mzj_shjz")
    assert bad["line"] == first + 2 and "第 9 列在表头之外有值" in bad["reason"]


def test_xlsx_written_by_the_synthetic_department_round_trips(paths, ingest, raw):
    ds = load_registry().dataset("zrzyj_bdcdj")
    # Leading zeros, trailing X, empty text, blanks, OOXML-escape look-alikes; each column is
    # rotated so that no row is blank throughout (a row of blanks only is not a record).
    cells = ["0{}X", "", None, "{}", "_x0041_{}"]
    values = {}
    for j, column in enumerate(ds.columns):
        rotated = cells[j % 5 :] + cells[: j % 5]
        values[column] = pa.array([None if v is None else v.format(j) for v in rotated])
    writers.write_file_drop(
        ds, pa.table(values), paths.landing.parent, "2023-01", datetime(2023, 2, 2)
    )
    [row] = ingest("zrzyj_bdcdj")
    assert row["rows_accepted"] == 5
    assert raw("zrzyj_bdcdj").select(ds.columns).equals(pa.table(values))


def test_broken_workbook_is_quarantined(drop, ingest):
    drop("mzj_shjz", b"PK\x03\x04 not really a workbook")
    [row] = ingest("mzj_shjz")
    assert row["status"] == "quarantined" and "不是可读取的 xlsx 工作簿" in row["reason"]


def test_manifest_is_read_back_per_period(drop, ingest, paths):
    drop(BIRTH, _csv(HEADER, *GOOD))
    ingest(BIRTH)
    ingest("swj_nssb")
    table = read_manifest(paths.lake, "2023-01")
    assert table.column("dataset").to_pylist() == ["swj_nssb", BIRTH]
    assert table.column("status").to_pylist() == ["missing", "loaded"]
    assert read_manifest(paths.lake, "2024-12").num_rows == 0


def test_large_files_are_read_in_bounded_blocks(drop, ingest, raw, rejects, paths, monkeypatch):
    from bzdata.ingest import csvfile

    monkeypatch.setattr(csvfile, "BLOCK_BYTES", 150)  # about one line per block
    quoted = GOOD[2].replace("王小", '"王,\n小"')  # runs on into the next block
    lines = [HEADER, GOOD[0], "", GOOD[1], "Q1,2", quoted, GOOD[0] + "\r", GOOD[1]]
    drop(BIRTH, "\n".join(lines).encode("gbk"))
    [row] = ingest(BIRTH)
    assert (row["rows_accepted"], row["rows_rejected"], row["encoding"]) == (5, 1, "gbk")
    table = raw(BIRTH)
    assert table.column("_row_number").to_pylist() == [2, 4, 6, 8, 9]
    assert table.column("person_name").to_pylist()[2] == "王,\n小"
    assert [r["line"] for r in rejects(BIRTH)] == [5]
    part = paths.lake / "raw" / BIRTH / "period=2023-01" / "part-000.parquet"
    assert pq.ParquetFile(part).metadata.num_row_groups > 1


def test_row_at_a_time_formats_are_converted_in_batches(drop, ingest, paths, monkeypatch):
    from bzdata.ingest import load

    monkeypatch.setattr(load, "BATCH_ROWS", 2)
    ds = load_registry().dataset("dsj_dzzz")
    lines = [json.dumps(dict.fromkeys(ds.headers, str(i))) for i in range(5)]
    drop("dsj_dzzz", "\n".join(lines).encode())
    [row] = ingest("dsj_dzzz")
    part = paths.lake / "raw" / "dsj_dzzz" / "period=2023-01" / "part-000.parquet"
    meta = pq.ParquetFile(part).metadata
    assert (row["rows_accepted"], meta.num_rows, meta.num_row_groups) == (5, 5, 3)


def test_file_in_no_accepted_encoding_is_quarantined(drop, ingest, paths):
    drop(BIRTH, _csv(HEADER, *GOOD).decode().encode("utf-32"))
    [row] = ingest(BIRTH)
    assert row["status"] == "quarantined"
    assert "平台只接受 UTF-8（可带 BOM）、GBK、GB18030 或 UTF-16" in row["reason"]
    assert (paths.lake / "quarantine" / BIRTH / "2023-01" / "出生医学证明_202301.csv").exists()


def test_duplicate_header_names_quarantine(drop, ingest):
    drop(BIRTH, _csv(HEADER + ",性别", *(g + ",1" for g in GOOD)))
    [row] = ingest(BIRTH)
    assert row["status"] == "quarantined" and "列 性别 重复出现" in row["reason"]


def test_frontdb_dataset_without_a_channel_is_missing(ingest, monkeypatch):
    monkeypatch.delenv("BZDATA_FRONTDB_URL_GAJ", raising=False)
    [row] = ingest("gaj_hjrk")  # the fixture's Paths has no 前置库 root
    assert (row["status"], row["channel"]) == ("missing", "frontdb")
    assert row["reason"].startswith("前置库通道未配置")
    assert "BZDATA_FRONTDB_URL_GAJ" in row["reason"]


def test_rerun_after_a_fix_replaces_the_quarantine(drop, ingest, paths):
    drop(BIRTH, b"")
    ingest(BIRTH)
    folder = paths.lake / "quarantine" / BIRTH / "2023-01"
    assert folder.is_dir()
    drop(BIRTH, _csv(HEADER, *GOOD))
    assert ingest(BIRTH)[0]["status"] == "loaded"
    assert not folder.exists()


def test_file_breaking_midway_is_quarantined_whole(drop, ingest, raw, rejects, monkeypatch):
    from bzdata.ingest import load, readers
    from bzdata.ingest.rows import Reject

    def breaking(path, ds, name):
        opened = readers.open_file(path, ds, name)
        rows = opened.items

        def items():
            yield Reject(2, "x", "坏行")
            yield from rows  # all three rows, then the break
            raise ValueError("zip 成员损坏")

        opened.items = items()
        return opened

    monkeypatch.setattr(load, "open_file", breaking)
    drop(BIRTH, _csv(HEADER, *GOOD))
    [row] = ingest(BIRTH)
    assert (row["status"], row["rows_read"]) == ("quarantined", 0)
    assert "读到第 5 条记录附近时出错：ValueError: zip 成员损坏" in row["reason"]
    assert raw(BIRTH).num_rows == 0 and rejects(BIRTH) == []


def test_long_ingest_reports_rows_rate_and_time_left(drop, ingest, monkeypatch, capsys):
    from bzdata import progress

    monkeypatch.delenv("BZDATA_QUIET", raising=False)
    monkeypatch.setattr(progress, "PLAIN_INTERVAL_SECONDS", 0.0)  # report at every record
    drop(BIRTH, _csv(HEADER, *GOOD))
    ingest(BIRTH)
    lines = [line for line in capsys.readouterr().err.splitlines() if "出生医学证明_202301" in line]
    assert any("已处理 3 行，每秒" in line and "100%，预计还需" in line for line in lines), lines
    assert "已处理 0 行" in lines[0] and "预计还需" in lines[0]
    assert lines[-1].endswith("秒") and "完成 3 行" in lines[-1]
