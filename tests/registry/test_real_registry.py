"""The registry in catalog/registry/ itself: cross-references hold, the plan's 45 indicators."""

from __future__ import annotations

from pathlib import Path

from bzdata.registry import load_indicators, load_registry

REAL = Path(__file__).resolve().parents[2] / "catalog" / "registry"


def test_real_registry_loads_and_references_resolve():
    registry = load_registry(REAL)  # raises RegistryError listing every problem
    codes = {d.code for d in registry.departments}
    assert registry.datasets and registry.data_elements
    assert all(e.authority in codes for e in registry.data_elements)
    assert all(d.provider in codes for d in registry.datasets)
    for dataset in registry.datasets:
        for item in dataset.fields:
            assert item.type is not None and item.personal is not None
            registry.element(item.element)
    assert len(registry.indicators) == 45


def test_real_indicators_are_the_plans_45():
    indicators = load_indicators(REAL)
    assert [i.no for i in indicators] == list(range(1, 46))
    pue = indicators[5]
    assert (pue.name, pue.unit, pue.comparator, pue.target) == ("全市数据中心PUE", "", "<=", 1.3)
    sharing = indicators[43]
    assert sharing.name == "信息资源部门间共享需求满足率"
    assert (sharing.attribute, sharing.target, sharing.unit) == ("约束性", 100, "%")
    assert {i.no for i in indicators if i.source == "computed"} == {42, 43, 44, 45}
    assert all(i.comparator == ">=" for i in indicators if i.no != 6)
    assert [i.attribute for i in indicators].count("约束性") == 2
    assert {i.department for i in indicators if i.category == "数据要素生态指标"} == {"dsj"}
