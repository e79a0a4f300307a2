"""Rule results: GX's listing must match its count, an exception is an error, never a verdict."""

from __future__ import annotations

from bzdata.quality.checks import _results
from bzdata.quality.gx_project import Outcome
from bzdata.quality.rules import load_rules
from bzdata.quality.templates import compile_rule
from bzdata.registry import load_registry

RULE = "gaj_hjrk.not_null.person_name"


def _check(rule_id: str = RULE):
    registry = load_registry()
    return compile_rule(load_rules(registry=registry).rule(rule_id), registry)


def _one(outcome: Outcome | None):
    counts = {"gaj_hjrk.records": 100}
    outcomes = {RULE: outcome} if outcome else {}
    [result] = _results([_check()], counts, {}, outcomes)
    return result


def test_a_listing_as_long_as_the_count_is_a_result():
    result = _one(Outcome(RULE, False, 100, 3, None, None, (4, 9, 17)))
    assert (result.error, result.unexpected_count, result.listed, result.success) == (
        None,
        3,
        3,
        False,
    )


def test_a_listing_shorter_than_the_count_is_an_error():
    # What GX's cut at partial_unexpected_count would look like: never a silent loss.
    result = _one(Outcome(RULE, False, 100, 4, None, None, (4, 9, 17)))
    assert result.unexpected_count is None
    assert "GX 判定不通过 4 条，列出 3 条" in result.error


def test_no_listing_is_an_error():
    result = _one(Outcome(RULE, False, 100, 2, None, None, None))
    assert result.error and result.unexpected_count is None


def test_an_exception_in_the_result_is_an_error_not_a_pass():
    result = _one(Outcome(RULE, True, None, None, None, "Binder Error: column not found"))
    assert result.error == "Binder Error: column not found"
    assert result.unexpected_count is None


def test_a_missing_result_is_an_error():
    assert _one(None).error == "GX 没有返回该规则的结果"


def test_the_verdict_is_gxs_own():
    check = _check("gaj_hjrk.ric.citizen_id")  # mostly 0.99: GX decides, not a threshold here
    counts = {"gaj_hjrk.records": 1000}
    rows = tuple(range(11))
    [bad] = _results(
        [check],
        counts,
        {},
        {check.rule.id: Outcome(check.rule.id, False, 1000, 11, None, None, rows)},
    )
    [ok] = _results(
        [check],
        counts,
        {},
        {check.rule.id: Outcome(check.rule.id, True, 1000, 11, None, None, rows)},
    )
    assert (ok.success, bad.success) == (True, False)
    assert ok.unexpected_count == bad.unexpected_count == 11
