"""需求清单: a demand filed from the XLSX template is matched, answered and counted; 满足率 agrees
with an independent count; a refusal without a reason is refused; the store keeps versions."""

from __future__ import annotations

import json
from datetime import date

import pyarrow.parquet as pq
import pytest
import xlsxwriter

from bzdata.catalog import CITY, demand_satisfaction
from bzdata.catalog.demand import (
    DemandError,
    answer_demand,
    file_demand,
    import_xlsx,
    load_demands,
    write_satisfaction,
    write_template,
)


def test_template_import_match_answer_and_rate(city, tmp_path) -> None:
    template = write_template(tmp_path / "模板.xlsx")
    filled = tmp_path / "需求.xlsx"
    book = xlsxwriter.Workbook(str(filled))
    sheet = book.add_worksheet()
    from python_calamine import CalamineWorkbook

    header = CalamineWorkbook.from_path(str(template)).get_sheet_by_index(0).to_python()[0]
    sheet.write_row(0, 0, header)
    rows = [
        ("户籍人口基本信息", "公民身份号码、姓名", "救助核查", "市民政局", "gaj", "2023-03-01"),
        ("户籍人口基本信息", "公民身份号码、血型", "健康档案", "市卫健委", "gaj", "2023-03-01"),
        ("无人机航线", "航线编号", "低空经济", "市发改委", "gaj", "2023-03-01"),
        ("社会保险参保信息", "公民身份号码", "就业分析", "市统计局", "rsj", "2023-03-20"),
    ]
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, row)
    book.close()
    store = tmp_path / "store"
    demands = import_xlsx(store, city, filled)
    assert [d.match for d in demands] == ["已满足", "部分满足", "未满足", "已满足"]
    assert demands[1].missing_fields == ("血型",)
    assert demands[0].matched_entry == "gaj_hjrk"
    # 有条件共享 → 5 working days from Wed 2023-03-01 is Wed 2023-03-08.
    assert demands[0].deadline == "2023-03-08"

    with pytest.raises(DemandError, match="必须说明理由"):
        answer_demand(store, demands[1].id, "拒绝", "  ", date(2023, 3, 2))
    answer_demand(store, demands[0].id, "同意", None, date(2023, 3, 3))
    answer_demand(store, demands[1].id, "拒绝", "血型不在户籍登记范围内", date(2023, 3, 3))
    answer_demand(store, demands[2].id, "同意", None, date(2023, 3, 30))  # after the deadline
    answer_demand(store, demands[3].id, "同意", None, date(2023, 3, 21))  # not yet due on 03-31

    path = write_satisfaction(tmp_path / "work", store, "2023-03", date(2023, 3, 24))
    table = {r["provider"]: r for r in pq.read_table(path).to_pylist()}
    # Independent count from the raw append-only log: latest version per id.
    latest = {}
    for line in (store / "demands.jsonl").read_text("utf-8").splitlines():
        item = json.loads(line)
        if item["id"] not in latest or item["version"] > latest[item["id"]]["version"]:
            latest[item["id"]] = item
    due = [d for d in latest.values() if d["deadline"] <= "2023-03-24"]
    met = [d for d in due if d["status"] == "同意" and d["answered"] <= d["deadline"]]
    assert table["全市"]["due"] == len(due) == 3
    assert table["全市"]["satisfied"] == len(met) == 1
    assert table["gaj"]["rate"] == pytest.approx(1 / 3)
    assert "rsj" not in table
    # The one public reader gives the same figures to indicator 44 and the scorecard.
    rates = demand_satisfaction(tmp_path / "work", "2023-03")
    assert (rates[CITY].due, rates[CITY].satisfied) == (len(due), len(met))
    gaj = [d for d in due if d["provider"] == "gaj"]
    assert rates["gaj"].rate == pytest.approx(sum(d in met for d in gaj) / len(gaj))
    assert "rsj" not in rates
    assert demand_satisfaction(tmp_path / "work", "2023-04") == {}


def test_store_is_append_only_with_versions(city, tmp_path) -> None:
    demand = file_demand(
        tmp_path,
        city,
        title="婚姻登记信息",
        fields=["结婚登记日期"],
        purpose="住房核查",
        requester="市住建局",
        provider="mzj",
        filed=date(2023, 3, 1),
    )
    answer_demand(tmp_path, demand.id, "同意", None, date(2023, 3, 2))
    lines = (tmp_path / "demands.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(x)["version"] for x in lines] == [1, 2]
    assert load_demands(tmp_path)[demand.id].status == "同意"
