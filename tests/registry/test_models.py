"""The models on their own: rules hold when entries are built in Python, not only from YAML."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bzdata.registry import DataElement, Dataset, Department, Indicator, Registry

DATASET = {
    "id": "gaj_hjrk",
    "resource_code": "371600-GAJ-0001",
    "name": "户籍人口基本信息",
    "provider": "gaj",
    "category": "基础",
    "library": "人口",
    "abstract": "全市户籍人口基本信息",
    "format": "数据库",
    "share": {"type": "有条件共享", "condition": "依法履职需要"},
    "open": {"type": "不予开放", "condition": "涉及个人信息"},
    "update_cycle": "每月",
    "publish_date": "2023-03-01",
    "security_level": "重要",
    "extract": "snapshot",
    "record_key": ["citizen_id"],
    "delivery": {"channel": "frontdb", "table": "t_rk_hjxx", "watermark": "gxsj", "due_day": 5},
    "fields": [
        {"column": "citizen_id", "header": "gmsfhm", "element": "citizen_id", "required": True},
        {"column": "gxsj", "header": "gxsj", "element": "updated_at"},
    ],
}
ELEMENTS = [
    {
        "id": "citizen_id",
        "name": "公民身份号码",
        "type": "string",
        "format": "ric",
        "authority": "gaj",
        "personal": True,
    },
    {
        "id": "updated_at",
        "name": "更新时间",
        "type": "datetime",
        "authority": "gaj",
        "personal": False,
    },
]


def registry(**changes) -> Registry:
    data = {
        "departments": [{"code": "gaj", "name": "滨州市公安局", "short_name": "市公安局"}],
        "code_lists": [],
        "data_elements": ELEMENTS,
        "datasets": [DATASET],
        "indicators": [],
    }
    return Registry.model_validate({**data, **changes})


def test_registry_built_in_python_fills_field_defaults():
    built = registry()
    assert built.dataset("gaj_hjrk").field("citizen_id").personal is True
    assert built.dataset("gaj_hjrk").field("gxsj").type == "datetime"
    assert built.copy_holders("citizen_id") == []


def test_registry_rejects_unknown_element_with_its_path():
    fields = [*DATASET["fields"], {"column": "x", "header": "x", "element": "nope"}]
    with pytest.raises(ValidationError, match=r"datasets\[0\]\.fields\[2\]\.element.*'nope'"):
        registry(datasets=[{**DATASET, "fields": fields}])


def test_dataset_rules_raise_outside_the_loader():
    delivery = {"channel": "frontdb", "table": "t_rk_hjxx", "due_day": 5}
    with pytest.raises(ValidationError, match=r"watermark"):
        Dataset.model_validate({**DATASET, "delivery": delivery})


def test_element_code_list_only_with_format_code_list():
    with pytest.raises(ValidationError, match="只有 format 为 code_list 时才能填写 code_list"):
        DataElement.model_validate({**ELEMENTS[1], "code_list": "gender"})
    with pytest.raises(ValidationError, match="应为 string 类型"):
        DataElement.model_validate({**ELEMENTS[0], "type": "integer"})


def test_models_are_frozen_and_reject_unknown_keys():
    department = Department(code="gaj", name="滨州市公安局", short_name="市公安局")
    with pytest.raises(ValidationError):
        department.name = "别的"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        Department.model_validate({"code": "gaj", "name": "a", "short_name": "b", "nmae": "c"})


def test_indicator_target_must_be_a_number_and_comparator_decides():
    base = {
        "no": 6,
        "name": "全市数据中心PUE",
        "unit": "",
        "comparator": "<=",
        "attribute": "约束性",
        "category": "数字基础设施建设指标",
        "source": "reported",
    }
    pue = Indicator.model_validate({**base, "target": 1.3})
    assert pue.is_met(1.3) and not pue.is_met(1.31)
    with pytest.raises(ValidationError, match="应为数字"):
        Indicator.model_validate({**base, "target": True})
