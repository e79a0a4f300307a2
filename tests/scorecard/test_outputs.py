"""What departments open: the HTML report (rendered in headless Chromium, screenshot kept in
tests/artifacts/), the XLSX workbook, the charts and scores.json; and a rebuilt period is
byte-identical."""

from __future__ import annotations

import hashlib
import json
import re
import struct
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pyarrow.parquet as pq
import pytest

from bzdata.scorecard import build_scorecard, render

pytestmark = pytest.mark.slow

PERIOD = "2023-03"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # kept, gitignored
SECTION_TITLES = ("编目", "归集", "质量", "整改")
# An unmasked 公民身份号码: region, a birth date, sequence and check character.
ID_NUMBER = re.compile(r"\d{6}(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dX]")


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _document(city) -> dict:
    return json.loads((city.scorecard(PERIOD) / "scores.json").read_text(encoding="utf-8"))


def test_folder_holds_every_output(scored_city):
    folder = scored_city.scorecard(PERIOD)
    document = _document(scored_city)
    codes = [d["code"] for d in document["departments"]]
    assert len(codes) == 12
    assert (folder / "scores.parquet").is_file()
    assert (folder / "数据晾晒台_2023年03月.xlsx").is_file()
    assert (folder / "report" / "index.html").is_file()
    for code in codes:
        assert (folder / "report" / f"{code}.html").is_file()
        assert (folder / "charts" / f"trend_{code}.svg").is_file()
    for stem in ["ranking", "trend"] + [f"trend_{c}" for c in codes]:
        svg_file = folder / "charts" / f"{stem}.svg"
        root = ElementTree.fromstring(svg_file.read_text(encoding="utf-8"))
        assert root.tag.endswith("svg")
        if render.chromium():
            width, height = _png_size(svg_file.with_suffix(".png"))
            assert (width, height) == (int(root.get("width")), int(root.get("height")))
    parquet = pq.read_table(folder / "scores.parquet")
    assert sorted(set(parquet.column("period").to_pylist())) == ["2023-01", "2023-02", PERIOD]
    assert parquet.num_rows == 3 * 12


def test_ranking_moves_against_last_month(scored_city):
    document = _document(scored_city)
    previous = {
        r["department"]: r["rank"]
        for r in pq.read_table(scored_city.scorecard("2023-02") / "scores.parquet").to_pylist()
        if r["period"] == "2023-02"
    }
    for dept in document["departments"]:
        assert dept["prev_rank"] == previous[dept["code"]]
        assert dept["rank_change"] == previous[dept["code"]] - dept["rank"]
        assert [t["period"] for t in dept["trend"]] == ["2023-01", "2023-02", PERIOD]
        assert dept["trend"][-1]["composite"] == dept["composite"]
    ranks = [d["rank"] for d in document["departments"]]
    assert ranks == sorted(ranks)


def test_html_report_states_formulas_and_methods(scored_city):
    folder = scored_city.scorecard(PERIOD) / "report"
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in index
    assert "综合得分 = (0.2×编目得分 + 0.3×归集得分 + 0.3×质量得分 + 0.2×整改得分)" in index
    assert index.count("<b>计算方法</b>") >= 1 + len(SECTION_TITLES)
    assert "lake/manifest/period=&lt;月份&gt;" in index
    assert "<details><summary>查询语句（DuckDB SQL）</summary>" in index
    assert index.count("<svg") == 2
    document = _document(scored_city)
    for dept in document["departments"]:
        page = (folder / f"{dept['code']}.html").read_text(encoding="utf-8")
        assert dept["name"] in page
        # every score section has its own 计算方法 paragraph with the formula and sources
        for title in SECTION_TITLES:
            block = page.split(f"<h2>{title} ", 1)[1].split("</section>", 1)[0]
            assert "<b>计算方法</b>" in block and "来源表" in block, (dept["code"], title)
        assert "主要问题" in page and "<svg" in page
        assert not ID_NUMBER.search(page), dept["code"]


def test_gx_data_docs_open_from_the_report(scored_city):
    from html.parser import HTMLParser
    from urllib.parse import unquote

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.hrefs: list[str] = []

        def handle_starttag(self, tag, attrs):
            href = dict(attrs).get("href")
            if tag == "a" and href and href.startswith("gx/"):
                self.hrefs.append(href)

    folder = scored_city.scorecard(PERIOD) / "report"
    linked = 0
    for dept in _document(scored_city)["departments"]:
        parser = Links()
        parser.feed((folder / f"{dept['code']}.html").read_text(encoding="utf-8"))
        texts = []
        for href in parser.hrefs:
            page = folder / unquote(href)
            assert page.is_file(), (dept["code"], href)  # inside the folder, not beside it
            texts.append(page.read_text(encoding="utf-8"))
            assert f"质量校核 {PERIOD}" in texts[-1]  # this period's GX run
        # GX's page names what the rule checks (the rule's name is the expectation's
        # description) for every failing rule the department page lists.
        for rule in dept["top_rules"]:
            assert any(rule["rule_name"] in text for text in texts), rule["rule_id"]
        linked += len(parser.hrefs)
    assert linked >= len(_document(scored_city)["departments"])


def test_workbook_has_summary_and_department_sheets(scored_city):
    document = _document(scored_city)
    path = scored_city.scorecard(PERIOD) / "数据晾晒台_2023年03月.xlsx"
    book = openpyxl.load_workbook(path, read_only=False)
    names = [d["short_name"] for d in document["departments"]]
    assert book.sheetnames == ["汇总", *names, "计算方法"]
    summary = book["汇总"]
    assert summary.freeze_panes == "D2"
    header = [c.value for c in summary[1]]
    assert header[:8] == [
        "名次",
        "较上期",
        "部门",
        "综合得分",
        "编目得分",
        "归集得分",
        "质量得分",
        "整改得分",
    ]
    assert "归集·按时报送率" in header and "整改·整改率" in header
    assert [summary.cell(row=i + 2, column=3).value for i in range(12)] == names
    assert summary.column_dimensions["C"].width > 10
    issues = pq.read_table(
        scored_city.lake / "quality" / "issues" / f"period={PERIOD}" / "issues.parquet"
    ).to_pylist()
    for dept in document["departments"]:
        sheet = book[dept["short_name"]]
        assert sheet.freeze_panes == "A2"
        assert [c.value for c in sheet[1]][:6] == [
            "数据集",
            "规则编号",
            "规则",
            "维度",
            "严重程度",
            "记录标识（脱敏）",
        ]
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        expected = [i for i in issues if i["department"] == dept["code"]]
        if expected:
            assert len(rows) == len(expected), dept["code"]
        else:
            assert rows[0][0] == "本期没有问题"
        for row in rows:
            assert not any(ID_NUMBER.search(str(v)) for v in row if v is not None), row
    keys = [r[5] for r in book["市人社局"].iter_rows(min_row=2, values_only=True)]
    # Record keys start with the masked 公民身份号码; "*" is an issue of the whole delivery.
    masked = [k for k in keys if re.fullmatch(r"\d{6}\*{8}[\dX]{4}\|.+", k)]
    assert masked and all(k in masked or k == "*" or not ID_NUMBER.search(k) for k in keys)
    methods = [r[1] for r in book["计算方法"].iter_rows(min_row=2, values_only=True)]
    assert any("综合得分 =" in m for m in methods)


def test_report_renders_in_chromium(scored_city):
    # `make test` installs Chromium: its absence is a broken setup, never a skip.
    assert render.chromium() is not None, "Chromium 未安装（Debian 软件包 chromium）"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    folder = scored_city.scorecard(PERIOD) / "report"
    shot = render.screenshot(folder / "index.html", ARTIFACTS / "scorecard_index.png", 1280, 2000)
    assert _png_size(shot) == (1280, 2000)
    assert shot.stat().st_size > 50_000  # a page with tables and charts, not a blank one
    page = render.screenshot(folder / "gaj.html", ARTIFACTS / "scorecard_gaj.png", 1280, 3000)
    assert _png_size(page) == (1280, 3000)


def test_rebuilding_a_period_gives_identical_files(scored_city):
    folder = scored_city.scorecard(PERIOD)
    before = _digests(folder)
    again = build_scorecard(scored_city.work, PERIOD)
    assert again == folder
    assert _digests(folder) == before
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]
