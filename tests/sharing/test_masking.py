"""`bzdata.sharing.mask`: the one masking function, chosen by the registry's data element."""

from __future__ import annotations

import pytest

from bzdata.registry import load_registry
from bzdata.sharing import mask, mask_many, masking_kind


@pytest.mark.parametrize(
    ("value", "element", "shown"),
    [
        ("37160219900101123X", "citizen_id", "371602********123X"),
        ("37160219900101123X", "legal_rep_id", "371602********123X"),
        ("371602900101123", "estate_owner_id", "371602*****1123"),  # 15-digit legacy number
        ("37160219900101", "citizen_id", "371602****0101"),  # malformed: length kept
        ("张三", "person_name", "张*"),
        ("欧阳娜娜", "legal_rep_name", "欧***"),
        ("13812345678", "mobile", "138****5678"),
        (
            "山东省滨州市滨城区梁才街道棣州社区黄河一路201号",
            "domicile_address",
            "山东省滨州市滨城区梁才街道****",
        ),
        ("山东省滨州市沾化区古城镇后郭村55号", "domicile_address", "山东省滨州市沾化区古城镇****"),
        ("山东省滨州市惠民县何坊村", "domicile_address", "山东省滨州市惠民县****"),
        ("1990-01-01", "birth_date", "1*********"),  # other personal elements: first character
        ("有限公司甲", "entity_name", "有限公司甲"),  # not personal
        ("371602", "domicile_region", "371602"),
    ],
)
def test_masks_by_element(value, element, shown):
    assert mask(value, element) == shown


def test_null_and_empty_pass_through():
    assert mask(None, "citizen_id") is None
    assert mask("", "person_name") == ""
    assert mask_many(["张三", None, "", "李四四"], "person_name") == ["张*", None, "", "李**"]


def test_every_personal_element_is_masked_and_no_other():
    registry = load_registry()
    for element in registry.data_elements:
        kind = masking_kind(element.id)
        assert (kind == "none") == (not element.personal), element.id
        if element.personal:
            assert mask("ABCDEFGHIJKLMNOPQR", element.id) != "ABCDEFGHIJKLMNOPQR", element.id


def test_unknown_element_is_an_error():
    with pytest.raises(KeyError, match="未知的数据元"):
        mask("x", "no_such_element")
