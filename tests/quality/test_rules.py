"""Rules as data: generated files are current, every template is used, errors point at the YAML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bzdata import cli
from bzdata.quality import generate
from bzdata.quality.evaluate import KIND_TEMPLATES
from bzdata.quality.rules import (
    SEVERITIES,
    SUITES_DIR,
    TEMPLATES,
    RuleError,
    default_root,
    load_rules,
)
from bzdata.quality.templates import compile_rule
from bzdata.registry import load_registry
from bzdata.synth.defects import KINDS


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def rules(registry):
    return load_rules(registry=registry)


def test_generated_rules_and_suites_equal_the_generators_output(registry):
    assert generate.stale(registry=registry) == []


def test_rules_command_checks_the_committed_files(capsys):
    assert cli.main(["quality", "rules", "--check"]) == 0
    assert "最新" in capsys.readouterr().out


def test_every_template_is_used_and_every_defect_kind_has_a_template(rules):
    used = {rule.template for rule in rules.rules}
    assert used == set(TEMPLATES)
    assert set(KIND_TEMPLATES) == set(KINDS)
    assert set().union(*KIND_TEMPLATES.values()) <= set(TEMPLATES)


def test_every_rule_names_dimension_severity_and_a_known_department(rules, registry):
    codes = {d.code for d in registry.departments}
    for rule in rules.rules:
        assert rule.department in codes, rule.id
        assert rule.severity in SEVERITIES, rule.id
        assert rule.dimension in KINDS.values() or rule.dimension == "可访问性", rule.id
        assert rule.name.strip(), rule.id
    dimensions = {rule.dimension for rule in rules.rules}
    assert dimensions == {"规范性", "完整性", "准确性", "一致性", "时效性", "可访问性"}


def test_defaults_follow_the_registry(rules, registry):
    ids = {rule.id for rule in rules.rules}
    # required → 空值; ric → GB 11643 and 规范格式; record key → 主键 and 行重复
    assert {
        "gaj_hjrk.not_null.citizen_id",
        "gaj_hjrk.ric.citizen_id",
        "gaj_hjrk.standard_form.citizen_id",
        "gaj_hjrk.primary_key",
        "gaj_hjrk.duplicate_row",
        "gaj_hjrk.code_list.gender",
        "gaj_hjrk.parse.birth_date",
        "gaj_hjrk.range.birth_date",
        "scjgj_sczt.uscc.uscc",
        "mzj_shjz.mobile.mobile",
        "rsj_shbx.consistency.person_name",
        "rsj_shbx.consistency.birth_date",
        "fgw_xypj.consistency.legal_rep_name",
        "rsj_shbx.late_delivery",
    } <= ids
    # A copy that is its own subject key can only ever match: no rule for it.
    assert "rsj_shbx.consistency.citizen_id" not in ids
    # 前置库 tables are pulled, never late; the authority checks no copy of its own elements.
    assert "gaj_hjrk.late_delivery" not in ids
    assert not [r for r in rules.of("gaj_hjrk") if r.template == "consistency"]
    key_rule = rules.rule("gaj_hjrk.ric.citizen_id")
    assert (key_rule.severity, key_rule.mostly) == ("严重", 0.99)
    copy_rule = rules.rule("rsj_shbx.consistency.person_name")
    check = compile_rule(copy_rule, registry)
    assert (copy_rule.department, check.authority_department) == ("rsj", "gaj")


def test_custom_rules_cover_logic_and_row_count(rules):
    logic = rules.rule("gaj_hjrk.death_has_certificate")
    assert logic.template == "logic" and "{period}" in logic.then
    assert [r.id for r in rules.rules if r.template == "row_count"]


def test_each_template_compiles_to_one_gx_expectation_that_can_list_its_rows(rules, registry):
    import great_expectations.expectations as gxe
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
    )
    from great_expectations.expectations.registry import get_expectation_impl

    import bzdata.quality.gx_expectations  # noqa: F401  (registers the custom ones)

    for rule in rules.rules:
        check = compile_rule(rule, registry)
        assert check.expectation["type"].startswith("expect_"), rule.id
        assert check.expectation["meta"]["rule_id"] == rule.id
        assert check.expectation["description"] == rule.name
        impl = get_expectation_impl(check.expectation["type"])
        if rule.info.record_level or not check.aggregate:
            # GX's unexpected_index_list is the listing of failing rows: map expectations only.
            assert issubclass(impl, ColumnMapExpectation | ColumnPairMapExpectation), rule.id
        else:
            assert issubclass(impl, gxe.ExpectTableRowCountToBeBetween), rule.id


def test_suites_are_gx_suites(registry):
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    import bzdata.quality.gx_expectations  # noqa: F401  (registers the custom ones)

    files = sorted((default_root() / SUITES_DIR).glob("*.json"))
    assert len(files) > 40
    for path in files:
        suite = json.loads(path.read_text(encoding="utf-8"))
        assert suite["name"] == path.stem
        for item in suite["expectations"]:
            ExpectationConfiguration(
                type=item["type"],
                kwargs=item["kwargs"],
                meta=item["meta"],
                description=item["description"],
                severity=item["severity"],
            ).to_domain_obj()


def _root_with(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "expectations"
    shutil.copytree(default_root() / "rules", root / "rules")
    (root / "custom").mkdir()
    (root / "custom" / "bad.yaml").write_text(text, encoding="utf-8")
    return root


BAD = """\
rules:
  - id: gaj_hjrk.name_format
    name: 姓名格式
    dataset: gaj_hjrk
    template: regex
    column: person_nmae
    regex: "[A-Z]+"
    dimension: 规范性
    severity: 严重
    department: gaj
  - id: gaj_hjrk.bad_template
    name: 未知模板
    dataset: gaj_hjrk
    template: nonsense
    dimension: 规范性
    severity: 一般
    department: gaj
  - id: rsj_shbx.no_band
    name: 缺少 band
    dataset: rsj_shbx
    template: row_count
    dimension: 完整性
    severity: 一般
    department: rsj
  - id: gaj_hjrk.primary_key
    name: 重复的 id
    dataset: gaj_hjrk
    template: primary_key
    dimension: 准确性
    severity: 一般
    department: gaj
"""


def test_rule_errors_name_file_line_rule_and_key(tmp_path, registry):
    root = _root_with(tmp_path, BAD)
    with pytest.raises(RuleError) as caught:
        load_rules(root, registry)
    text = str(caught.value)
    assert "custom/bad.yaml 第6行 [规则 gaj_hjrk.name_format] column" in text
    assert "是否为 'person_name'" in text
    assert "[规则 gaj_hjrk.bad_template] template" in text
    assert "必须填写 band" in text
    assert "第25行 [规则 gaj_hjrk.primary_key] id: 规则 id 重复" in text
    assert len(caught.value.issues) == 4
