"""Rule results: GX's count must equal the SQL's, an exception is an error, never a verdict."""

from __future__ import annotations

from bzdata.quality.checks import _results
from bzdata.quality.gx_project import Outcome
from bzdata.quality.rules import load_rules
from bzdata.quality.templates import compile_rule
from bzdata.registry import load_registry

RULE = "gaj_hjrk.not_null.person_name"


def _check():
    registry = load_registry()
    return compile_rule(load_rules(registry=registry).rule(RULE), registry)


def _one(outcome: Outcome | None, sql: int = 3):
    counts = {"gaj_hjrk.records": 100}
    outcomes = {RULE: outcome} if outcome else {}
    [result] = _results([_check()], counts, {}, {RULE: sql}, outcomes, "gx")
    return result


def test_equal_counts_are_a_result():
    result = _one(Outcome(RULE, False, 100, 3, None, None))
    assert (result.error, result.unexpected_count, result.success) == (None, 3, False)


def test_gx_and_sql_disagreeing_is_an_error():
    result = _one(Outcome(RULE, False, 100, 4, None, None))
    assert result.unexpected_count is None
    assert "GX 判定不通过 4 条，SQL 列出 3 条" in result.error


def test_an_exception_in_the_result_is_an_error_not_a_pass():
    result = _one(Outcome(RULE, True, None, None, None, "Binder Error: column not found"))
    assert result.error == "Binder Error: column not found"
    assert result.unexpected_count is None


def test_a_missing_result_is_an_error():
    assert _one(None).error == "GX 没有返回该规则的结果"


def test_sql_engine_applies_mostly():
    registry = load_registry()
    check = compile_rule(load_rules(registry=registry).rule("gaj_hjrk.ric.citizen_id"), registry)
    counts = {"gaj_hjrk.records": 1000}
    [ok] = _results([check], counts, {}, {check.rule.id: 10}, {}, "sql")
    [bad] = _results([check], counts, {}, {check.rule.id: 11}, {}, "sql")
    assert (ok.success, bad.success) == (True, False)  # mostly 0.99: 1 % may fail
