"""Department extracts are written byte-faithfully in each department's habits and read back."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pyarrow as pa
import pytest
import yaml

from bzdata.synth import writers

REGISTRY = Path(__file__).resolve().parents[2] / "catalog" / "registry" / "datasets"
DELIVERED = datetime(2024, 4, 5, 9, 30, 15)
PERIOD = "2024-03"

# Values departments really send; every one is GBK-encodable.
NASTY = {
    "citizen_id": [
        "012345678901234567",
        "37160219900101123X",
        "３７１６０２１９９００１０１１２３４",
        "371602900101123",
        " 371602199001011234 ",
        None,
        "",
        "371602199001011234",
    ],
    "person_name": [
        "张三",
        "李,四",
        '王"五"',
        "赵\n六",
        "孙\r\n七\r八",
        "  阿卜杜·热合曼  ",
        "_x0041_ 控制\x01符",
        None,
    ],
    "note": [None, "", "a,b", '"', "\t回车\r", "x" * 300, "全角，逗号、顿号；分号￥", "0"],
}


def make_ds(
    *,
    fmt: str | None = "csv",
    encoding: str | None = "utf-8",
    channel: str = "file",
    title_rows: int = 0,
    table: str | None = None,
    watermark: str | None = None,
    name: str = "社会救助对象信息",
    ds_id: str = "mzj_shjz",
    provider: str = "mzj",
    fields: tuple[tuple[str, str], ...] = (
        ("citizen_id", "身份证号码"),
        ("person_name", "姓名"),
        ("note", "备注"),
    ),
) -> SimpleNamespace:
    ext = {"csv": "csv", "jsonl": "jsonl", "xlsx": "xlsx"}.get(fmt or "", "")
    delivery = SimpleNamespace(
        channel=channel,
        format=fmt if channel == "file" else None,
        encoding=encoding,
        title_rows=title_rows,
        file_name=f"救助对象_{{period}}.{ext}" if channel == "file" else None,
        table=table,
        watermark=watermark,
    )
    return SimpleNamespace(
        id=ds_id,
        provider=provider,
        name=name,
        delivery=delivery,
        fields=tuple(SimpleNamespace(column=c, header=h) for c, h in fields),
    )


def nasty_table() -> pa.Table:
    return pa.table({k: pa.array(v, pa.string()) for k, v in NASTY.items()})


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def empty_as_null(table: pa.Table) -> dict[str, list[str | None]]:
    return {k: [None if v == "" else v for v in vs] for k, vs in table.to_pydict().items()}


# ---------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_round_trip_keeps_every_value_but_not_empty_versus_null(
    tmp_path: Path, encoding: str
) -> None:
    ds = make_ds(encoding=encoding)
    path = writers.write_file_drop(ds, nasty_table(), tmp_path, PERIOD, DELIVERED)
    back = writers.read_back(path, ds)
    assert back.schema == pa.schema([(c, pa.string()) for c in NASTY])
    # CSV has one empty field for both "" and null: both read back as null.
    assert back.to_pydict() == empty_as_null(nasty_table())


def test_gb18030_holds_characters_gbk_lacks(tmp_path: Path) -> None:
    ds = make_ds(encoding="gb18030")
    table = pa.table({"citizen_id": ["1"], "person_name": ["吉𠮷"], "note": ["😀"]})
    path = writers.write_file_drop(ds, table, tmp_path, PERIOD, DELIVERED)
    assert "𠮷".encode("gb18030") in path.read_bytes()
    assert writers.read_back(path, ds).to_pydict() == table.to_pydict()


def test_jsonl_round_trip_tells_empty_from_null(tmp_path: Path) -> None:
    ds = make_ds(fmt="jsonl")
    path = writers.write_file_drop(ds, nasty_table(), tmp_path, PERIOD, DELIVERED)
    assert writers.read_back(path, ds).to_pydict() == NASTY
    first = path.read_text("utf-8").split("\n")[0]
    assert first == '{"身份证号码":"012345678901234567","姓名":"张三","备注":null}'
    assert path.read_bytes().endswith(b"}\n")


@pytest.mark.parametrize("title_rows", [0, 1, 2])
def test_xlsx_round_trip_keeps_text_and_tells_empty_from_null(
    tmp_path: Path, title_rows: int
) -> None:
    ds = make_ds(fmt="xlsx", encoding=None, title_rows=title_rows)
    path = writers.write_file_drop(ds, nasty_table(), tmp_path, PERIOD, DELIVERED)
    assert writers.read_back(path, ds).to_pydict() == NASTY


def test_xlsx_keeps_a_trailing_row_of_nulls(tmp_path: Path) -> None:
    ds = make_ds(fmt="xlsx", encoding=None, title_rows=1)
    table = pa.table({c: pa.array(["1", None], pa.string()) for c in NASTY})
    path = writers.write_file_drop(ds, table, tmp_path, PERIOD, DELIVERED)
    assert writers.read_back(path, ds).to_pydict() == table.to_pydict()


def test_frontdb_round_trip_tells_empty_from_null(tmp_path: Path) -> None:
    ds = make_ds(channel="frontdb", fmt=None, encoding=None, table="t_jz_dx", watermark="note")
    path = writers.write_frontdb(ds, nasty_table(), tmp_path, PERIOD, "mzj")
    assert path == tmp_path / "frontdb" / PERIOD / "mzj.sqlite"
    assert writers.read_back(path, ds).to_pydict() == NASTY


# ---------------------------------------------------------------------------- bytes on disk


def test_csv_quotes_only_when_needed(tmp_path: Path) -> None:
    ds = make_ds()
    path = writers.write_file_drop(ds, nasty_table().slice(0, 5), tmp_path, PERIOD, DELIVERED)
    assert path.read_bytes().decode("utf-8") == (
        "身份证号码,姓名,备注\n"
        "012345678901234567,张三,\n"
        '37160219900101123X,"李,四",\n'
        '３７１６０２１９９００１０１１２３４,"王""五""","a,b"\n'
        '371602900101123,"赵\n六",""""\n'
        ' 371602199001011234 ,"孙\r\n七\r八","\t回车\r"\n'
    )


def test_gbk_file_is_gbk_with_crlf_and_no_bom(tmp_path: Path) -> None:
    ds = make_ds(encoding="gbk")
    table = pa.table(
        {
            "citizen_id": ["012345678901234567", "37160219900101123X"],
            "person_name": ["张三", "李四"],
            "note": [None, "滨城区"],
        }
    )
    path = writers.write_file_drop(ds, table, tmp_path, PERIOD, DELIVERED)
    raw = path.read_bytes()
    expected = (
        "身份证号码,姓名,备注\r\n012345678901234567,张三,\r\n37160219900101123X,李四,滨城区\r\n"
    )
    assert raw == expected.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", False), ("utf-8-sig", True), ("gbk", False), ("gb18030", False)]
)
def test_bom_only_for_utf8_sig_and_lf_for_utf8(tmp_path: Path, encoding: str, bom: bool) -> None:
    ds = make_ds(encoding=encoding)
    table = pa.table({c: ["甲", "乙"] for c in NASTY})
    raw = writers.write_file_drop(ds, table, tmp_path, PERIOD, DELIVERED).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") is bom
    assert raw.count(b"\xef\xbb\xbf") == int(bom)
    crlf = encoding in ("gbk", "gb18030")
    assert raw.count(b"\r\n") == (3 if crlf else 0)
    assert raw.count(b"\n") == 3


def test_one_column_csv_never_writes_a_blank_line(tmp_path: Path) -> None:
    ds = make_ds(fields=(("citizen_id", "身份证号码"),))
    table = pa.table({"citizen_id": pa.array(["1", "", None, "2"], pa.string())})
    path = writers.write_file_drop(ds, table, tmp_path, PERIOD, DELIVERED)
    assert path.read_bytes() == '身份证号码\n1\n""\n""\n2\n'.encode()
    assert writers.read_back(path, ds).to_pydict() == {"citizen_id": ["1", None, None, "2"]}


def test_file_lands_under_provider_dataset_period(tmp_path: Path) -> None:
    ds = make_ds()
    path = writers.write_file_drop(ds, nasty_table(), tmp_path, PERIOD, DELIVERED)
    assert path == tmp_path / "landing" / "mzj" / "mzj_shjz" / "2024-03" / "救助对象_202403.csv"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


# ---------------------------------------------------------------------------- errors


def test_unencodable_character_names_dataset_row_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writers, "BATCH_ROWS", 2)  # the bad value sits in the third batch
    ds = make_ds(encoding="gbk")
    names = ["张三", "李四", "王五", "赵六", "吉𠮷", "孙七"]
    table = pa.table(
        {"citizen_id": [str(i) for i in range(6)], "person_name": names, "note": [None] * 6},
        schema=pa.schema([(c, pa.string()) for c in NASTY]),
    )
    with pytest.raises(writers.UnencodableValueError) as caught:
        writers.write_file_drop(ds, table, tmp_path, PERIOD, DELIVERED)
    err = caught.value
    assert (err.dataset, err.row, err.column, err.char) == ("mzj_shjz", 5, "person_name", "𠮷")
    for part in ("mzj_shjz", "第 5 条记录", "person_name（姓名）", "gbk"):
        assert part in str(err)
    assert list(writers.file_drop_path(ds, tmp_path, PERIOD).parent.iterdir()) == []


def test_unencodable_header_is_reported_as_header(tmp_path: Path) -> None:
    ds = make_ds(encoding="gbk", fields=(("person_name", "𠮷名"),))
    with pytest.raises(writers.UnencodableValueError, match="表头字段 person_name"):
        writers.write_file_drop(ds, pa.table({"person_name": ["a"]}), tmp_path, PERIOD, DELIVERED)


def test_interrupted_write_leaves_old_file_and_no_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = make_ds(encoding="gbk")
    table = pa.table({c: [f"{c}{i}" for i in range(10)] for c in NASTY})
    first = writers.write_file_drop(ds, table.slice(0, 3), tmp_path, PERIOD, DELIVERED)
    before = first.read_bytes()
    monkeypatch.setattr(writers, "BATCH_ROWS", 2)
    real_encode = writers._encode
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("磁盘已满")
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(writers, "_encode", failing)
    with pytest.raises(OSError, match="磁盘已满"):
        writers.write_file_drop(ds, table, tmp_path, PERIOD, DELIVERED + timedelta(days=1))
    assert first.read_bytes() == before
    assert first.stat().st_mtime == DELIVERED.timestamp()
    assert list(first.parent.iterdir()) == [first]


def test_interrupted_first_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writers, "BATCH_ROWS", 2)
    real_encode = writers._encode
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("写入中断")
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(writers, "_encode", failing)
    ds = make_ds()
    with pytest.raises(OSError, match="写入中断"):
        writers.write_file_drop(ds, nasty_table(), tmp_path, PERIOD, DELIVERED)
    assert list(writers.file_drop_path(ds, tmp_path, PERIOD).parent.iterdir()) == []


def test_xlsx_value_too_long_for_a_cell_raises_and_leaves_nothing(tmp_path: Path) -> None:
    ds = make_ds(fmt="xlsx", encoding=None, title_rows=1)
    long = pa.table(
        {"citizen_id": ["1", "x" * 40_000], "person_name": ["a", "b"], "note": ["c", "d"]}
    )
    with pytest.raises(ValueError, match="第 2 条记录字段 citizen_id"):
        writers.write_file_drop(ds, long, tmp_path, PERIOD, DELIVERED)
    assert list(writers.file_drop_path(ds, tmp_path, PERIOD).parent.iterdir()) == []


def test_table_must_match_fields(tmp_path: Path) -> None:
    ds = make_ds()
    with pytest.raises(ValueError, match=r"缺少 \['note'\]"):
        writers.write_file_drop(
            ds, nasty_table().drop_columns(["note"]), tmp_path, PERIOD, DELIVERED
        )
    with pytest.raises(ValueError, match=r"多出 \['extra'\]"):
        writers.write_file_drop(
            ds,
            nasty_table().append_column("extra", pa.array(["1"] * 8)),
            tmp_path,
            PERIOD,
            DELIVERED,
        )
    with pytest.raises(TypeError, match="应为字符串"):
        writers.write_file_drop(
            ds, nasty_table().set_column(2, "note", pa.array(range(8))), tmp_path, PERIOD, DELIVERED
        )
    with pytest.raises(ValueError, match="YYYY-MM"):
        writers.write_file_drop(ds, nasty_table(), tmp_path, "202403", DELIVERED)


def test_columns_follow_field_order_and_null_columns_are_allowed(tmp_path: Path) -> None:
    ds = make_ds(fmt="jsonl")
    table = pa.table({"note": pa.nulls(2), "person_name": ["甲", "乙"], "citizen_id": ["1", "2"]})
    path = writers.write_file_drop(ds, table, tmp_path, PERIOD, DELIVERED)
    assert path.read_text("utf-8").startswith('{"身份证号码":"1","姓名":"甲","备注":null}\n')


# ---------------------------------------------------------------------------- xlsx layout


def test_xlsx_title_rows_are_merged_and_header_follows(tmp_path: Path) -> None:
    long_name = "县区主要经济指标和社会发展统计数据汇总表（月度快报，含分县区明细）"
    ds = make_ds(fmt="xlsx", encoding=None, title_rows=2, name=long_name)
    path = writers.write_file_drop(
        ds, nasty_table(), tmp_path, PERIOD, DELIVERED, provider_name="滨州市民政局"
    )
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    assert ws.title == long_name[:31]
    assert sorted(str(r) for r in ws.merged_cells.ranges) == ["A1:C1", "A2:C2"]
    assert ws["A1"].value == f"{long_name}（2024年03月）"
    assert ws["A2"].value == "填报单位：滨州市民政局"
    assert [c.value for c in ws[3]] == ["身份证号码", "姓名", "备注"]
    assert ws["A3"].font.b
    assert ws["A4"].value == "012345678901234567"
    assert ws["A4"].data_type == "s" and ws["A4"].number_format == "@"
    assert wb.properties.created == datetime(2024, 4, 1)


def test_xlsx_without_provider_name_uses_the_code(tmp_path: Path) -> None:
    ds = make_ds(fmt="xlsx", encoding=None, title_rows=2, fields=(("note", "备注"),))
    table = pa.table({"note": ["1"]})
    path = writers.write_file_drop(ds, table, tmp_path, PERIOD, DELIVERED)
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws["A2"].value == "填报单位：mzj"
    assert not ws.merged_cells.ranges  # one column: nothing to merge
    assert writers.read_back(path, ds).to_pydict() == {"note": ["1"]}


# ---------------------------------------------------------------------------- determinism, time


@pytest.mark.parametrize("kind", ["csv-gbk", "csv-utf-8-sig", "jsonl", "xlsx"])
def test_same_input_gives_same_bytes(tmp_path: Path, kind: str) -> None:
    if kind == "jsonl":
        ds = make_ds(fmt="jsonl")
    elif kind == "xlsx":
        ds = make_ds(fmt="xlsx", encoding=None, title_rows=2)
    else:
        ds = make_ds(encoding=kind.removeprefix("csv-"))
    a = writers.write_file_drop(ds, nasty_table(), tmp_path / "a", PERIOD, DELIVERED)
    b = writers.write_file_drop(ds, nasty_table(), tmp_path / "b", "2024-03", DELIVERED)
    again = writers.write_file_drop(ds, nasty_table(), tmp_path / "a", PERIOD, DELIVERED)
    assert sha256(a) == sha256(b) == sha256(again)


def test_frontdb_bytes_do_not_depend_on_write_history(tmp_path: Path) -> None:
    hj = make_ds(
        channel="frontdb",
        fmt=None,
        encoding=None,
        table="t_rk_hjxx",
        watermark="note",
        ds_id="gaj_hjrk",
        provider="gaj",
    )
    jz = make_ds(
        channel="frontdb", fmt=None, encoding=None, table="t_jz_dx", ds_id="gaj_jz", provider="gaj"
    )
    other = nasty_table().slice(2, 3)
    one = writers.write_frontdb(hj, nasty_table(), tmp_path / "one", PERIOD, "gaj")
    writers.write_frontdb(jz, other, tmp_path / "one", PERIOD, "gaj")
    two = writers.write_frontdb(jz, other, tmp_path / "two", PERIOD, "gaj")
    writers.write_frontdb(hj, nasty_table().slice(0, 1), tmp_path / "two", PERIOD, "gaj")
    writers.write_frontdb(hj, nasty_table(), tmp_path / "two", PERIOD, "gaj")
    assert sha256(one) == sha256(two)
    assert writers.read_back(one, hj).to_pydict() == NASTY
    assert writers.read_back(one, jz).to_pydict() == other.to_pydict()
    assert sorted(p.name for p in one.parent.iterdir()) == ["gaj.sqlite"]


def test_frontdb_keeps_duplicates_replaces_table_and_indexes_watermark(tmp_path: Path) -> None:
    ds = make_ds(
        channel="frontdb",
        fmt=None,
        encoding=None,
        table="t_rk_hjxx",
        watermark="note",
        provider="gaj",
        fields=(("citizen_id", "gmsfhm"), ("person_name", "xm"), ("note", "gxsj")),
    )
    dup = pa.table(
        {
            "citizen_id": ["1", "1"],
            "person_name": ["甲", "甲"],
            "note": ["2024-03-01 08:00:00", "2024-03-01 08:00:00"],
        }
    )
    path = writers.write_frontdb(ds, dup, tmp_path, PERIOD, "gaj")
    path = writers.write_frontdb(ds, dup, tmp_path, PERIOD, "gaj")
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT count(*) FROM t_rk_hjxx").fetchone() == (2,)
        cols = con.execute("PRAGMA table_info(t_rk_hjxx)").fetchall()
        assert [(c[1], c[2], c[5]) for c in cols] == [
            ("gmsfhm", "TEXT", 0),
            ("xm", "TEXT", 0),
            ("gxsj", "TEXT", 0),
        ]
        indexes = con.execute("PRAGMA index_list(t_rk_hjxx)").fetchall()
        assert len(indexes) == 1
        assert con.execute(f"PRAGMA index_info({indexes[0][1]})").fetchall()[0][2] == "gxsj"
    finally:
        con.close()
    with pytest.raises(ValueError, match="不能写入 scjgj 的前置库"):
        writers.write_frontdb(ds, dup, tmp_path, PERIOD, "scjgj")


def test_mtime_and_atime_are_the_delivery_time(tmp_path: Path) -> None:
    ds = make_ds()
    path = writers.write_file_drop(ds, nasty_table(), tmp_path, PERIOD, DELIVERED)
    stat = path.stat()
    assert stat.st_mtime == DELIVERED.timestamp() == stat.st_atime
    aware = datetime(2024, 4, 6, 1, 2, 3, 500_000, tzinfo=timezone(timedelta(hours=8)))
    path = writers.write_file_drop(ds, nasty_table(), tmp_path, PERIOD, aware)
    assert path.stat().st_mtime_ns == int(aware.timestamp() * 1_000_000) * 1000


# ---------------------------------------------------------------------------- real registry


def _registry_dataset(raw: dict) -> SimpleNamespace:
    keys = ("channel", "format", "encoding", "file_name", "table", "watermark")
    delivery = {k: None for k in keys} | {"title_rows": 0} | raw["delivery"]
    return SimpleNamespace(
        id=raw["id"],
        provider=raw["provider"],
        name=raw["name"],
        delivery=SimpleNamespace(**delivery),
        fields=tuple(
            SimpleNamespace(column=f["column"], header=f["header"]) for f in raw["fields"]
        ),
    )


@pytest.mark.parametrize("path", sorted(REGISTRY.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_registered_dataset_round_trips(tmp_path: Path, path: Path) -> None:
    ds = _registry_dataset(yaml.safe_load(path.read_text("utf-8")))
    columns = [f.column for f in ds.fields]
    table = pa.table(
        {c: [f"０{i}{c}", f" 滨州,{i}\n", "37160219900101123X"] for i, c in enumerate(columns)}
    )
    if ds.delivery.channel == "frontdb":
        out = writers.write_frontdb(ds, table, tmp_path, PERIOD, ds.provider)
    else:
        out = writers.write_file_drop(ds, table, tmp_path, PERIOD, DELIVERED)
        assert out.name == ds.delivery.file_name.replace("{period}", "202403")
        assert out.stat().st_mtime == DELIVERED.timestamp()
    assert writers.read_back(out, ds).to_pydict() == table.to_pydict()
    assert os.path.commonpath([out, tmp_path]) == str(tmp_path)


# ---------------------------------------------------------------------------- file artefacts


def _registry_ds(dataset: str):
    from bzdata.registry import load_registry

    return load_registry().dataset(dataset)


def _plain_table(ds, rows: int = 12) -> pa.Table:
    return pa.table(
        {c: pa.array([f"0{j}{i:05d}" for i in range(rows)]) for j, c in enumerate(ds.columns)}
    )


def test_artefact_drop_is_reproducible_and_reads_back_its_complete_records(tmp_path: Path):
    ds = _registry_ds("wjw_swyxzm")  # GBK CSV
    kinds = ("utf16", "trailing_empty_columns", "title_rows", "cut", "nul_padding")
    table = _plain_table(ds)
    first, truth = writers.write_artefact_drop(ds, table, tmp_path / "a", PERIOD, DELIVERED, kinds)
    again, _ = writers.write_artefact_drop(ds, table, tmp_path / "b", PERIOD, DELIVERED, kinds)
    assert first.read_bytes() == again.read_bytes()
    assert truth["artefacts"] == sorted(kinds) and truth["complete_records"] == 12
    data = first.read_bytes()
    assert data.endswith(b"\x00" * 4096) and len(data) % 4096 == 0
    body = data.rstrip(b"\x00")
    body += b"\x00" * (len(body) % 2)  # the NUL high byte of a last UTF-16-LE character
    decoded = [
        body.decode(c, errors="replace").lstrip("\ufeff") for c in ("utf-16-le", "utf-16-be")
    ]
    [text] = [t for t in decoded if t.startswith(ds.name)]  # LE or BE, BOM or not
    lines = text.split("\r\n")
    assert lines[1].endswith("\t\t\t") and lines[0].startswith(ds.name)
    assert len(lines) == truth["cut_line"] and not text.endswith("\r\n")
    assert writers.read_back(first, ds).equals(table)


def test_artefact_drop_refuses_kinds_its_format_cannot_carry(tmp_path: Path):
    with pytest.raises(ValueError, match="不能带有文件瑕疵"):
        writers.write_artefact_drop(
            _registry_ds("mzj_shjz"), pa.table({}), tmp_path, PERIOD, DELIVERED, ("utf16",)
        )
    ds = _registry_ds("wjw_csyxzm")
    with pytest.raises(ValueError, match="互斥"):
        writers.write_artefact_drop(
            ds, _plain_table(ds), tmp_path, PERIOD, DELIVERED, ("cut", "unterminated_last_line")
        )


def test_read_back_refuses_an_artefact_file_changed_since_it_was_written(tmp_path: Path):
    ds = _registry_ds("dsj_dzzz")
    path, _ = writers.write_artefact_drop(
        ds, _plain_table(ds), tmp_path, PERIOD, DELIVERED, ("blank_rows",)
    )
    path.write_bytes(path.read_bytes() + b"\n")
    with pytest.raises(ValueError, match="sha256 不一致"):
        writers.read_back(path, ds)


def test_choose_artefacts_follows_the_share_and_the_format():
    ds = _registry_ds("zrzyj_bdcdj")
    assert writers.choose_artefacts(ds, PERIOD, 0.0, 1) == ()
    picked = [writers.choose_artefacts(ds, f"2023-{m:02d}", 1.0, 1) for m in range(1, 13)]
    assert all(p and set(p) <= set(writers.ARTEFACTS["xlsx"]) for p in picked)
    assert picked == [writers.choose_artefacts(ds, f"2023-{m:02d}", 1.0, 1) for m in range(1, 13)]
    csv = _registry_ds("swj_nssb")
    for m in range(1, 13):
        kinds = writers.choose_artefacts(csv, f"2023-{m:02d}", 1.0, m)
        assert sum(k in ("cut", "unterminated_last_line", "footer_rows") for k in kinds) <= 1
