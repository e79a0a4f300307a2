"""供给清单: every department's list is the registry's datasets plus its registered resources,
with the registry's own 信息项, 共享/开放属性 and 更新周期; the last update is the delivery
manifest's; the workbook reads back in an independent reader (openpyxl) as Excel would show it;
the command prints Chinese and names a wrong department code."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import duckdb
import openpyxl
import pytest

from bzdata import cli
from bzdata.catalog.build import SYNTH_CATALOGUE, build_catalogue
from bzdata.catalog.store import load_catalogue
from bzdata.catalog.supply import COLUMNS, supply_list, write_xlsx
from bzdata.registry import load_registry


def _registered(work) -> list[dict]:
    lines = (work / SYNTH_CATALOGUE).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_each_department_supplies_its_registry_datasets_and_registered_resources(
    city, city_work
) -> None:
    registry = load_registry()
    registered = _registered(city_work)
    for dept in registry.departments:
        items = supply_list(city.entries(), dept.code)
        assert {i.provider for i in items} <= {dept.code}
        own = {ds.resource_code: ds for ds in registry.datasets_of(dept.code)}
        delivered = {i.resource_code: i for i in items if i.delivered}
        assert set(delivered) == set(own), dept.code
        for code, ds in own.items():
            item = delivered[code]
            assert item.name == ds.name
            assert item.fields == tuple(registry.element(f.element).name for f in ds.fields)
            assert (item.share, item.share_condition) == (ds.share.type, ds.share.condition)
            assert (item.open, item.open_condition) == (ds.open.type, ds.open.condition)
            assert item.update_cycle == ds.update_cycle
            assert item.provider_name == dept.name
        others = [i for i in items if not i.delivered]
        assert len(others) == sum(1 for e in registered if e["provider"] == dept.code)
    everyone = supply_list(city.entries())
    assert len(everyone) == len(registry.datasets) + len(registered)
    assert [i.provider for i in everyone] == sorted(i.provider for i in everyone)


@pytest.mark.slow
def test_last_update_is_the_last_loaded_delivery(demo_period, tmp_path) -> None:
    path = tmp_path / "catalog.sqlite"
    build_catalogue(demo_period.work, path=path, registered=tmp_path / "none.jsonl")
    items = {i.entry_id: i for i in supply_list(load_catalogue(path).entries())}
    loaded = dict(
        duckdb.connect()
        .execute(
            "select dataset, max(loaded_at) from read_parquet(?, hive_partitioning = true) "
            "where status = 'loaded' group by dataset",
            [str(demo_period.work / "lake/manifest/**/*.parquet")],
        )
        .fetchall()
    )
    assert loaded
    for ds in load_registry().datasets:
        got = items[ds.id].last_update
        if ds.id in loaded:
            assert dt.datetime.fromisoformat(got) == loaded[ds.id], ds.id
        else:
            assert got is None, ds.id


def test_workbook_reads_back_as_excel_shows_it(city, tmp_path) -> None:
    registry = load_registry()
    items = supply_list(city.entries(), "gaj")
    stamped = replace(items[0], last_update="2023-02-01T00:00:00+00:00")
    path = write_xlsx([stamped, *items[1:]], tmp_path / "out" / "供给清单.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "供给清单"]
    sheet = book["供给清单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(label for label, _ in COLUMNS)
    assert len(rows) == len(items) + 1
    assert sheet.freeze_panes == "E2" and sheet.auto_filter.ref
    header = {label: n for n, (label, _) in enumerate(COLUMNS)}
    by_code = {r[header["资源代码"]]: r for r in rows[1:]}
    for ds in registry.datasets_of("gaj"):
        row = by_code[ds.resource_code]
        assert row[header["数据资源名称"]] == ds.name
        assert row[header["信息项"]] == "、".join(
            registry.element(f.element).name for f in ds.fields
        )
        assert row[header["信息项数"]] == len(ds.fields)
        assert row[header["共享属性"]] == ds.share.type
        assert row[header["开放属性"]] == ds.open.type
        assert row[header["更新周期"]] == ds.update_cycle
        assert row[header["经平台汇聚"]] == "是"
    first = rows[1]
    assert first[header["最近更新（UTC）"]] == dt.datetime(2023, 2, 1)  # a date cell, not text
    assert all(isinstance(r[header["资源代码"]], str) for r in rows[1:])
    summary = list(book["汇总"].iter_rows(values_only=True))
    assert summary[1][:4] == ("gaj", "滨州市公安局", len(items), len(registry.datasets_of("gaj")))
    assert sum(summary[1][4:7]) == len(items)  # every resource has one 共享属性
    assert [p.name for p in path.parent.iterdir()] == ["供给清单.xlsx"]  # no temporary left


def test_supply_command_prints_chinese_and_refuses_an_unknown_department(
    city_work, tmp_path, capsys
) -> None:
    registry = load_registry()
    assert cli.main(["catalog", "supply", "--work", str(city_work), "--dept", "gaj"]) == 0
    out = capsys.readouterr().out
    ds = registry.datasets_of("gaj")[0]
    assert out.startswith("滨州市公安局（gaj）：供给 ")
    assert f"{ds.resource_code} {ds.name}" in out
    assert f"共享：{ds.share.type}" in out and f"更新周期：{ds.update_cycle}" in out

    target = tmp_path / "supply.xlsx"
    argv = ["catalog", "supply", "--work", str(city_work), "--xlsx", str(target)]
    assert cli.main(argv) == 0
    assert "供给清单已写入" in capsys.readouterr().out and target.is_file()

    assert cli.main(["catalog", "supply", "--work", str(city_work), "--dept", "nope"]) == 1
    err = capsys.readouterr().err
    assert "未知的部门代码 nope" in err and "gaj" in err
