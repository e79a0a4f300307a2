"""Loading the registry: the valid fixture, derived facts, and errors a person can act on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bzdata.registry import (
    RegistryError,
    RegistryIssue,
    clear_cache,
    load_indicators,
    load_registry,
)
from bzdata.registry.loader import REGISTRY_ENV

# --- the valid fixture ----------------------------------------------------------------------


def test_valid_fixture_loads_with_all_entries(reg):
    registry = reg.load()
    assert [d.code for d in registry.departments] == ["gaj", "wjw", "mzj", "dsj"]
    assert [d.id for d in registry.datasets] == ["gaj_hjrk", "mzj_hydj", "wjw_csyxzm"]
    assert len(registry.data_elements) == 5
    assert registry.code_list("gender").values == {"1": "男性", "2": "女性"}
    assert registry.element("marriage_date").min == date(1950, 1, 1)
    # `no` is a plain key (YAML 1.1 would have read it as the boolean false)
    assert [i.no for i in registry.indicators] == [1, 2, 3]
    assert registry.indicator(2).comparator == "<="
    assert registry.indicator(2).is_met(1.25) and not registry.indicator(2).is_met(1.4)


def test_copy_holders_are_providers_minus_authority_in_department_order(reg):
    registry = reg.load()
    # citizen_id: authority gaj; wjw and mzj hold copies; departments.yaml lists wjw before mzj
    assert [d.code for d in registry.copy_holders("citizen_id")] == ["wjw", "mzj"]
    assert registry.department(registry.element("citizen_id").authority).code == "gaj"
    assert [d.code for d in registry.copy_holders("person_name")] == ["wjw"]
    assert registry.copy_holders("gender") == []  # only the authority's own dataset has it
    assert registry.copy_holders("marriage_date") == []
    uses = [(d.id, f.column) for d, f in registry.fields_of_element("citizen_id")]
    assert uses == [
        ("gaj_hjrk", "citizen_id"),
        ("mzj_hydj", "male_id"),
        ("mzj_hydj", "female_id"),
        ("wjw_csyxzm", "mother_id"),
    ]


def test_field_type_and_personal_default_to_the_element(reg):
    registry = reg.load()
    hjrk = registry.dataset("gaj_hjrk")
    assert hjrk.field("citizen_id").type == "string"
    assert hjrk.field("citizen_id").personal is True
    assert hjrk.field("updated_at").type == "datetime"
    assert hjrk.field("gender").personal is False
    # explicit overrides win
    assert registry.dataset("mzj_hydj").field("marriage_date").type == "string"
    assert registry.dataset("wjw_csyxzm").field("mother_name").personal is False


def test_dataset_helpers_and_lookups(reg):
    registry = reg.load()
    hjrk = registry.dataset("gaj_hjrk")
    assert hjrk.columns == ["citizen_id", "person_name", "gender", "updated_at"]
    assert hjrk.headers == ["gmsfhm", "xm", "xb", "gxsj"]
    assert hjrk.personal_columns == ["citizen_id", "person_name"]
    assert hjrk.is_frontdb and not registry.dataset("mzj_hydj").is_frontdb
    assert hjrk.watermark_field is not None and hjrk.watermark_field.column == "updated_at"
    assert [d.id for d in registry.datasets_of("wjw")] == ["wjw_csyxzm"]
    assert registry.datasets_of("dsj") == []
    libraries = registry.base_libraries()
    assert list(libraries) == ["人口", "法人", "信用", "自然资源和空间地理", "电子证照", "宏观经济"]
    assert [d.id for d in libraries["人口"]] == ["gaj_hjrk", "wjw_csyxzm"]
    assert libraries["法人"] == []
    with pytest.raises(KeyError, match="citizen_id"):
        registry.element("citizen_idd")
    with pytest.raises(KeyError, match="没有列"):
        hjrk.field("nope")


def test_default_root_comes_from_env_and_is_cached(reg, monkeypatch):
    monkeypatch.setenv(REGISTRY_ENV, str(reg.root))
    clear_cache()
    try:
        first = load_registry()
        assert first is load_registry()
        assert first.dataset("gaj_hjrk").name == "户籍人口基本信息"
    finally:
        clear_cache()


def test_fixture_indicators_load_on_their_own(reg):
    assert [i.name for i in load_indicators(reg.root)][1] == "全市数据中心PUE"


# --- one test per class of error -------------------------------------------------------------


def only_issue(reg) -> RegistryIssue:
    with pytest.raises(RegistryError) as caught:
        reg.load()
    issues = caught.value.issues
    assert len(issues) == 1, "\n".join(map(str, issues))
    return issues[0]


def test_unknown_element_names_file_line_entry_and_field(reg):
    file = "datasets/gaj_hjrk.yaml"
    reg.edit(file, "element: citizen_id,", "element: citizen_idd,")
    issue = only_issue(reg)
    line = reg.line_of(file, "citizen_idd")
    assert (issue.file, issue.line, issue.entry, issue.path) == (
        file,
        line,
        "数据集 gaj_hjrk",
        "fields[0].element",
    )
    assert str(issue) == (
        f"datasets/gaj_hjrk.yaml 第{line}行 [数据集 gaj_hjrk] fields[0].element: "
        "未知的数据元 'citizen_idd'（是否为 'citizen_id'？），应为 data_elements.yaml 中已定义的 id"
    )


def test_unknown_provider(reg):
    file = "datasets/mzj_hydj.yaml"
    reg.edit(file, "provider: mzj", "provider: mzjj")
    issue = only_issue(reg)
    assert (issue.file, issue.line, issue.path) == (
        file,
        reg.line_of(file, "provider:"),
        "provider",
    )
    assert "未知的部门 'mzjj'" in issue.message and "departments.yaml" in issue.message


def test_unknown_authority_in_data_elements(reg):
    file = "data_elements.yaml"
    reg.edit(file, "authority: mzj", "authority: minzheng")
    issue = only_issue(reg)
    assert (issue.file, issue.line) == (file, reg.line_of(file, "authority: minzheng"))
    assert (issue.entry, issue.path) == ("数据元 marriage_date", "authority")
    assert "未知的部门 'minzheng'" in issue.message


def test_duplicate_resource_code(reg):
    file = "datasets/wjw_csyxzm.yaml"
    reg.edit(file, "371600-WJW-0001", "371600-GAJ-0001")
    issue = only_issue(reg)
    assert (issue.file, issue.line, issue.path) == (
        file,
        reg.line_of(file, "resource_code:"),
        "resource_code",
    )
    assert "371600-GAJ-0001" in issue.message and "gaj_hjrk" in issue.message


def test_frontdb_without_watermark(reg):
    file = "datasets/gaj_hjrk.yaml"
    reg.edit(file, "  watermark: gxsj\n", "")
    issue = only_issue(reg)
    # the key is missing, so the line is that of its parent `delivery:`
    assert (issue.file, issue.line, issue.path) == (
        file,
        reg.line_of(file, "delivery:"),
        "delivery.watermark",
    )
    assert "frontdb" in issue.message and "watermark" in issue.message


def test_watermark_not_a_field(reg):
    file = "datasets/gaj_hjrk.yaml"
    reg.edit(file, "watermark: gxsj", "watermark: gxsj2")
    issue = only_issue(reg)
    assert (issue.file, issue.line, issue.path) == (
        file,
        reg.line_of(file, "watermark:"),
        "delivery.watermark",
    )
    assert "'gxsj2' 不是本数据集 fields 中的列" in issue.message


def test_code_list_missing(reg):
    file = "data_elements.yaml"
    reg.edit(file, "    code_list: gender\n", "")
    issue = only_issue(reg)
    assert (issue.file, issue.entry, issue.path) == (file, "数据元 gender", "code_list")
    assert issue.line == reg.line_of(file, "- id: gender")
    assert "format 为 code_list 时必须填写 code_list" in issue.message


def test_bad_enum_value(reg):
    file = "datasets/mzj_hydj.yaml"
    reg.edit(file, "share: {type: 有条件共享", "share: {type: 部分共享")
    issue = only_issue(reg)
    assert (issue.file, issue.line, issue.path) == (file, reg.line_of(file, "share:"), "share.type")
    assert "取值 '部分共享' 无效" in issue.message
    assert "无条件共享、有条件共享、不予共享" in issue.message


def test_misspelled_key_is_an_error_with_a_suggestion(reg):
    file = "datasets/wjw_csyxzm.yaml"
    reg.edit(file, "update_cycle:", "update_cyle:")
    with pytest.raises(RegistryError) as caught:
        reg.load()
    by_path = {issue.path: issue for issue in caught.value.issues}
    assert set(by_path) == {"update_cyle", "update_cycle"}
    extra = by_path["update_cyle"]
    assert extra.line == reg.line_of(file, "update_cyle:")
    assert "未知的键 'update_cyle'（是否为 'update_cycle'？）" in extra.message
    assert by_path["update_cycle"].message == "缺少必填项"


def test_yaml_syntax_error_has_line_and_column(reg):
    file = "departments.yaml"
    reg.edit(file, "    name: 滨州市民政局", "    name: 滨州市民政局: 民政")
    issue = only_issue(reg)
    assert issue.file == file
    assert issue.line == reg.line_of(file, "滨州市民政局: 民政")
    assert issue.column is not None and issue.column > 1
    assert issue.message.startswith("YAML 语法错误：")
    assert f"第{issue.line}行第{issue.column}列" in str(issue)


def test_several_errors_are_reported_together_in_file_order(reg):
    reg.edit("datasets/gaj_hjrk.yaml", "element: gender}", "element: sex}")
    reg.edit("datasets/mzj_hydj.yaml", "security_level: 重要", "security_level: 秘密")
    reg.edit("data_elements.yaml", "    code_list: gender\n", "")
    reg.edit("departments.yaml", "short_name: 市卫健委", "short_nam: 市卫健委")
    reg.edit("indicators.yaml", "target: 56", "target: 五十六")
    with pytest.raises(RegistryError) as caught:
        reg.load()
    issues = caught.value.issues
    assert [(i.file, i.path) for i in issues] == [
        ("departments.yaml", "short_name"),  # missing: reported on the entry's first line
        ("departments.yaml", "short_nam"),
        ("data_elements.yaml", "code_list"),
        ("datasets/gaj_hjrk.yaml", "fields[2].element"),
        ("datasets/mzj_hydj.yaml", "security_level"),
        ("indicators.yaml", "target"),
    ]
    text = str(caught.value)
    assert text.startswith("注册表校验未通过") and "共 6 处问题" in text


# --- further rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new", "anchor", "path", "fragment"),
    [
        pytest.param(
            "datasets/gaj_hjrk.yaml",
            "id: gaj_hjrk",
            "id: gaj_hjrk2",
            "id: gaj_hjrk2",
            "id",
            "与文件名 gaj_hjrk.yaml 不一致",
            id="id-not-file-stem",
        ),
        pytest.param(
            "datasets/mzj_hydj.yaml",
            "share: {type: 有条件共享, condition: 经审核后共享}",
            "share: {type: 有条件共享}",
            "share:",
            "share.condition",
            "有条件共享 必须填写 condition",
            id="share-condition-required",
        ),
        pytest.param(
            "datasets/wjw_csyxzm.yaml",
            "share: {type: 无条件共享}",
            "share: {type: 无条件共享, condition: 审核}",
            "share:",
            "share.condition",
            "无条件共享 不填写 condition",
            id="unconditional-share-has-no-condition",
        ),
        pytest.param(
            "datasets/wjw_csyxzm.yaml",
            "  title_rows: 1\n",
            "  title_rows: 1\n  encoding: gbk\n",
            "encoding:",
            "delivery.encoding",
            "xlsx 文件不填写 encoding",
            id="xlsx-has-no-encoding",
        ),
        pytest.param(
            "datasets/mzj_hydj.yaml",
            "  encoding: gbk\n",
            "",
            "delivery:",
            "delivery.encoding",
            "csv 文件必须填写 encoding",
            id="csv-needs-encoding",
        ),
        pytest.param(
            "datasets/mzj_hydj.yaml",
            '"婚姻登记_{period}.csv"',
            '"婚姻登记.csv"',
            "file_name:",
            "delivery.file_name",
            "必须含有 {period}",
            id="file-name-needs-period",
        ),
        pytest.param(
            "datasets/mzj_hydj.yaml",
            "record_key: [male_id, marriage_date]",
            "record_key: [male_id, marriage_day]",
            "record_key:",
            "record_key[1]",
            "'marriage_day' 不是本数据集 fields 中的 column",
            id="record-key-not-a-column",
        ),
        pytest.param(
            "datasets/mzj_hydj.yaml",
            "  - column: female_id",
            "  - column: male_id  # 重复",
            "# 重复",
            "fields[1].column",
            "column 'male_id' 重复，已用于 fields[0]",
            id="duplicate-column",
        ),
        pytest.param(
            "datasets/wjw_csyxzm.yaml",
            "library: 人口\n",
            "",
            "id: wjw_csyxzm",
            "library",
            "资源分类为 基础 时必须填写 library",
            id="library-required-for-base",
        ),
        pytest.param(
            "datasets/gaj_hjrk.yaml",
            "column: gender,",
            "column: Gender,",
            "column: Gender,",
            "fields[2].column",
            "'Gender' 不是小写蛇形命名",
            id="id-not-snake-case",
        ),
        pytest.param(
            "code_lists.yaml",
            '      "2": 女性',
            "      2: 女性",
            "2: 女性",
            "values[2]",
            "须加引号",
            id="unquoted-code",
        ),
        pytest.param(
            "data_elements.yaml",
            "min: 1950-01-01",
            "min: 1950-01-01\n    max: 1900-01-01",
            "max: 1900-01-01",
            "max",
            "不能小于 min",
            id="max-below-min",
        ),
        pytest.param(
            "indicators.yaml",
            "  - no: 3",
            "  - no: 4",
            "indicators:",
            "indicators",
            "缺少 3",
            id="indicator-numbering-gap",
        ),
        pytest.param(
            "indicators.yaml",
            "    department: dsj",
            "    department: dsjj",
            "department: dsjj",
            "department",
            "未知的部门 'dsjj'",
            id="indicator-unknown-department",
        ),
        pytest.param(
            "departments.yaml",
            "  - code: dsj\n",
            "  - code: dsj\n    code: dsj\n",
            "    code: dsj",
            "departments[3]",
            "键 'code' 重复",
            id="duplicate-yaml-key",
        ),
    ],
)
def test_rule(reg, file, old, new, anchor, path, fragment):
    reg.edit(file, old, new)
    issue = only_issue(reg)
    assert (issue.file, issue.path) == (file, path), str(issue)
    assert issue.line == reg.line_of(file, anchor), str(issue)
    assert fragment in issue.message, str(issue)


def test_invalid_element_does_not_cascade_into_unknown_element(reg):
    reg.edit("data_elements.yaml", "type: datetime", "type: timestamp")
    issue = only_issue(reg)
    assert (issue.entry, issue.path) == ("数据元 updated_at", "type")
    assert "'timestamp'" in issue.message and "datetime" in issue.message


def test_missing_file_and_wrong_top_level(reg):
    (reg.root / "code_lists.yaml").unlink()
    reg.edit("indicators.yaml", "indicators:", "indicator:")
    with pytest.raises(RegistryError) as caught:
        reg.load()
    messages = {(i.file, i.message.split("：")[0]) for i in caught.value.issues}
    assert ("code_lists.yaml", "文件不存在") in messages
    assert any(
        i.file == "indicators.yaml" and "应以 indicators: 开头" in i.message
        for i in caught.value.issues
    )
    # an unreadable file is reported once, not again as every reference into it
    assert not any("未知的代码表" in i.message for i in caught.value.issues)
    assert len(caught.value.issues) == 2


def test_missing_registry_directory(tmp_path: Path):
    with pytest.raises(RegistryError, match="注册表目录不存在"):
        load_registry(tmp_path / "nowhere")
