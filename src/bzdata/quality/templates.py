"""The rule templates: each turns a rule into ONE Great Expectations expectation that states
the rule's condition, on the columns of its asset. GX is the only engine: it decides pass/fail
and lists every failing record (its unexpected_index_list over the asset's `__rowid`, see
bzdata.quality.gx_project); nothing here re-implements the condition in SQL for listing.

`compile_rule(rule, registry)` returns a `Check`:

- `expectation`: the GX 1.x expectation (type, kwargs, meta) evaluated on the rule's asset.
  Native where GX has one (not_null, in_set, between, match_regex, pair_values_to_be_equal,
  table_row_count_to_be_between ...); a custom one from bzdata.quality.gx_expectations where
  it has not (GB 11643, GB 32100). Prefer a condition on delivered or normalised values over a
  flag another stage computed, so the suite and Data Docs say what is checked;
- `derived`: columns the asset adds for the rule (name, SQL over the staged row `r`), for
  conditions that span rows or columns (record-key conflicts, duplicates, logic rules);
- `message`, `value`, `authority`: SQL expressions over the failing row `r` for the issue list
  (Chinese text for people), evaluated only on the rows GX reported.

A new template plugs in by: its name and TemplateInfo in bzdata.quality.rules.TEMPLATES (asset,
whether it needs a column, record-level or not), a compiler `_name(rule, ds, registry) -> Check`
registered in `_COMPILERS` below, and, when no native expectation fits, a column-map
expectation in bzdata.quality.gx_expectations. Record-level templates must use a column-map or
column-pair expectation (GX lists their failing rows); a whole-dataset template
(record_level False, e.g. row_count) gets one issue when GX says it failed. Then
`bzdata quality rules` recompiles the suites.

Assets (materialised by bzdata.quality.checks for one dataset and period from the relations of
`bzdata.quality.relations`, each row numbered `__rowid`):

- records: the records the dataset holds for the period: a file delivery's rows, or a 前置库
  table's state as of the period (every record, however long ago it was pulled);
- pulls: (前置库 only) the rows pulled this period, where re-inserted copies show;
- consistency: its rows of quality.consistency_checks (多源校核, built for the period);
- delivery: its rows of the ingest manifest (raw.manifest) for the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bzdata.quality import derive
from bzdata.quality.id_sql import region_sql
from bzdata.quality.rules import GX_SEVERITY, TEMPLATES, Rule
from bzdata.registry import DataElement, Dataset, Registry
from bzdata.registry.plan import ElementCheck, Side, consistency_plan, latest_model

PERIOD_TOKEN = "{period}"
MOBILE_REGEX = "^1[3-9][0-9]{9}$"
# The last day of the period a rule runs for, and the first instant after it.
PERIOD_END = "last_day(cast('{period}-01' as date))"
AFTER_PERIOD = "(cast('{period}-01' as date) + interval 1 month)"


@dataclass(frozen=True)
class Check:
    """One rule compiled for its asset (see the module docstring)."""

    rule: Rule
    expectation: dict[str, Any]
    derived: tuple[tuple[str, str], ...] = ()
    message: str = "''"
    value: str | None = None
    authority: str | None = None
    authority_department: str | None = None
    aggregate: bool = False  # message/value are evaluated over `(select count(*) as n ...)`
    parameters: tuple[str, ...] = ()
    asset_name: str | None = None  # when not the template's own asset

    @property
    def asset(self) -> str:
        return self.asset_name or self.rule.info.asset

    @property
    def field(self) -> str | None:
        return self.rule.column if self.rule.info.record_level else None

    @property
    def record_level(self) -> bool:
        return self.rule.info.record_level


def lit(value: Any) -> str:
    """A SQL literal for a string, number, bool, date or None."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def _gx_bound(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _expect(rule: Rule, type_: str, **kwargs: Any) -> dict[str, Any]:
    if rule.mostly is not None:
        kwargs["mostly"] = rule.mostly
    return {
        "type": f"expect_{type_}",
        "description": rule.name,
        "kwargs": kwargs,
        "meta": {
            "rule_id": rule.id,
            "rule_name": rule.name,
            "template": rule.template,
            "dimension": rule.dimension,
            "department": rule.department,
        },
        "severity": GX_SEVERITY[rule.severity],
    }


def consistency_side(
    registry: Registry, ds: Dataset, column: str
) -> tuple[ElementCheck, Side] | None:
    """The 多源校核 of a copy column, unless the column is its own subject key (then the check
    could only ever match) or the column is not a copy at all."""
    for check in _plan(registry).checks:
        for side in check.holders:
            if side.dataset.id == ds.id and side.value == column and side.key != column:
                return check, side
    return None


_PLANS: dict[int, Any] = {}


def _plan(registry: Registry):
    key = id(registry)
    if key not in _PLANS:
        _PLANS.clear()
        _PLANS[key] = (registry, consistency_plan(registry))
    return _PLANS[key][1]


def value_ok(element: DataElement, expr: str, registry: Registry, dated: bool = True) -> str:
    """SQL: the normalised text `expr` passes the element's own format and range rules, and an
    event is not after the period (`dated`; the SQL then holds PERIOD_TOKEN)."""
    if element.format == "code_list" and element.code_list is not None:
        codes = ", ".join(lit(c) for c in registry.code_list(element.code_list).values)
        return f"{expr} in ({codes})"
    if element.format == "region":
        return region_sql(expr, current=True)
    if element.format == "mobile":
        return f"regexp_full_match({expr}, '1[3-9][0-9]{{9}}')"
    if element.type in ("date", "datetime", "decimal", "integer"):
        kind = {"date": "date", "datetime": "timestamp"}.get(element.type, "decimal(20, 4)")
        return _within(element, f"try_cast({expr} as {kind})", dated)
    return "true"


def _within(element: DataElement, typed: str, dated: bool, *more: str) -> str:
    """SQL: the typed value is present, within the element's min/max, and for an event not
    after the period when `dated`; `more` adds conditions (the one home of the range facts)."""
    parts = [f"{typed} is not null", *more]
    if element.min is not None:
        parts.append(f"{typed} >= {lit(element.min)}")
    if element.max is not None:
        parts.append(f"{typed} <= {lit(element.max)}")
    if element.event and dated:
        parts.append(f"{typed} < {AFTER_PERIOD}")
    return "(" + " and ".join(parts) + ")"


def sound(registry: Registry, ds: Dataset, column: str, alias: str = "r", dated: bool = True):
    """SQL over a staged row: the typed value of `column` is present and passes its element's
    own rules (format or code list, range, and for an event, not after the period when
    `dated`). Derived rules judge only sound values: a broken value is its own rule's issue."""
    element = _element(registry, ds, column)
    valid = (f"coalesce({alias}.{column}_is_valid, false)",) if element.format else ()
    return _within(element, f"{alias}.{column}", dated, *valid)


def encoded_sql(fact: str, id_expr: str) -> str:
    """SQL: what a GB 11643 number encodes (GB 11643: positions 7-14 the birth date, the 17th
    digit odd for male '1', even for female '2', as GB/T 2261.1 codes sex)."""
    if fact == "birth_date":
        return f"cast(try_strptime(substr({id_expr}, 7, 8), '%Y%m%d') as date)"
    return f"(case try_cast(substr({id_expr}, 17, 1) as integer) % 2 when 1 then '1' else '2' end)"


def compile_rule(rule: Rule, registry: Registry) -> Check:
    """The rule as a GX expectation and the same predicate in SQL."""
    ds = registry.dataset(rule.dataset)
    return _COMPILERS[rule.template](rule, ds, registry)


def _element(registry: Registry, ds: Dataset, column: str) -> DataElement:
    return registry.element(ds.field(column).element)


def _header(ds: Dataset, column: str | None) -> str:
    return ds.field(column).header if column else ""


# --------------------------------------------------------------------------- record templates


def _not_null(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    assert c is not None
    element = _element(registry, ds, c)
    empty = lit(f"{element.name}（{_header(ds, c)}）为空，应填写")
    typed = lit(
        f"{element.name}（{_header(ds, c)}）填写的是占位符（如“不详”“无”“/”），应填写实际值"
    )
    message = f"case when r.{c}_is_placeholder then {typed} else {empty} end"
    if element.type == "string":
        return Check(rule, _expect(rule, "column_values_to_not_be_null", column=c), message=message)
    # A value that was delivered but could not be read is a format problem, not a missing one.
    given = f"{c}__given"
    return Check(
        rule,
        _expect(rule, "column_values_to_not_be_null", column=given),
        derived=((given, f"case when r.{c} is not null or r.{c}_parse_failed then true end"),),
        message=message,
    )


def _ric(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    element = _element(registry, ds, c)
    # On the normalised value: a 15-digit number is upgraded to 18 there (规范格式 reports it).
    return Check(
        rule,
        _expect(rule, "column_values_to_be_valid_gb11643", column=c),
        message=lit(f"{element.name}不符合 GB 11643（位数、校验码、出生日期或地区码有误）"),
    )


def _uscc(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    element = _element(registry, ds, rule.column)
    text = f"{element.name}不符合 GB 32100（字符、校验码、登记管理部门或区划有误）"
    return Check(
        rule,
        _expect(rule, "column_values_to_be_valid_gb32100", column=rule.column),
        message=lit(text),
    )


def _mobile(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    element = _element(registry, ds, rule.column)
    return Check(
        rule,
        _expect(rule, "column_values_to_match_regex", column=rule.column, regex=MOBILE_REGEX),
        message=lit(f"{element.name}不是 11 位大陆手机号码"),
    )


def _region(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    element = _element(registry, ds, rule.column)
    text = f"{element.name}不是现行 GB/T 2260 行政区划代码（代码不存在、已撤销或格式有误）"
    return Check(
        rule,
        _expect(rule, "column_values_to_be_current_gbt2260", column=rule.column),
        message=lit(text),
    )


def _standard_form(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    element = _element(registry, ds, c)
    extra = "或为 15 位旧号码" if element.format == "ric" else ""
    text = f"{element.name}不是规范形式（含全角字符、空格或小写字母{extra}），应报送规范化后的值"
    return Check(
        rule,
        _expect(
            rule,
            "column_pair_values_to_be_equal",
            column_A=f"{c}_delivered",
            column_B=c,
            ignore_row_if="either_value_is_missing",
        ),
        message=lit(text),
    )


def _regex(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    pattern = f"^(?:{rule.regex})$"  # the whole value must match, on every engine
    text = rule.description or f"{_element(registry, ds, c).name}格式不符合 {rule.regex}"
    return Check(
        rule,
        _expect(rule, "column_values_to_match_regex", column=c, regex=pattern),
        message=lit(text),
    )


def _code_list(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    if rule.values is not None:
        codes, label = list(rule.values), "允许值"
    else:
        code_list = registry.code_list(rule.code_list)
        codes, label = list(code_list.values), f"代码表“{code_list.name}”"
    element = _element(registry, ds, c)
    return Check(
        rule,
        _expect(rule, "column_values_to_be_in_set", column=c, value_set=codes),
        message=lit(f"{element.name}不在{label}中"),
    )


def _range(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    element = _element(registry, ds, c)
    kwargs: dict[str, Any] = {"column": c}
    if rule.min is not None:
        kwargs["min_value"] = _gx_bound(rule.min)
    if rule.max is not None:
        kwargs["max_value"] = _gx_bound(rule.max)
    low = "" if rule.min is None else str(_gx_bound(rule.min))
    high = "" if rule.max is None else str(_gx_bound(rule.max))
    return Check(
        rule,
        _expect(rule, "column_values_to_be_between", **kwargs),
        message=lit(f"{element.name}超出取值范围（{low}～{high}）"),
    )


def _parse(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    element = _element(registry, ds, c)
    kind = {
        "date": "日期（YYYYMMDD、YYYY-MM-DD、YYYY/MM/DD、YYYY年MM月DD日）",
        "datetime": "时间（YYYY-MM-DD HH:MM:SS）",
    }.get(element.type, "数值")
    return Check(
        rule,
        _expect(rule, "column_values_to_be_in_set", column=f"{c}_parse_failed", value_set=[False]),
        message=lit(f"{element.name}无法识别为{kind}"),
    )


def _primary_key(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    keys = "、".join(ds.field(k).header for k in ds.record_key)
    return Check(
        rule,
        _expect(rule, "column_values_to_be_in_set", column="__key_conflict", value_set=[False]),
        derived=(
            (
                "__key_conflict",
                "case when r.__key_complete then "
                "min(r.__content) over (partition by r.__record_key) "
                "<> max(r.__content) over (partition by r.__record_key) end",
            ),
        ),
        message=lit(f"同一记录键（{keys}）有多行内容不同的记录"),
    )


def _duplicate_row(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    return Check(
        rule,
        _expect(rule, "column_values_to_be_in_set", column="__duplicate", value_set=[False]),
        derived=(
            (
                "__duplicate",
                "count(*) over (partition by r.__record_key, r.__row) > 1 "
                "or coalesce(r.__live_row = r.__row, false)",
            ),
        ),
        message=lit("同一记录重复报送（内容完全相同的多行）"),
        asset_name="pulls" if ds.is_frontdb else None,
    )


def _logic(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    name = f"__logic__{rule.slug}"
    violated = f"coalesce(({rule.when}) and not coalesce(({rule.then}), false), false)"
    return Check(
        rule,
        _expect(rule, "column_values_to_be_in_set", column=name, value_set=[False]),
        derived=((name, violated),),
        message=lit(rule.description or f"不符合逻辑规则：{rule.name}"),
    )


def _row_count(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    low, high = f"row_count_min__{rule.slug}", f"row_count_max__{rule.slug}"
    band = round((rule.band or 0) * 100)
    return Check(
        rule,
        _expect(
            rule,
            "table_row_count_to_be_between",
            min_value={"$PARAMETER": low},
            max_value={"$PARAMETER": high},
        ),
        message=(
            f"'本期 ' || r.n || ' 行，超出近期均值的 ±{band}% 范围（'"
            f" || {{{low}}} || '～' || {{{high}}} || ' 行）'"
        ),
        value="cast(r.n as varchar)",
        aggregate=True,
        parameters=(low, high),
    )


# --------------------------------------------------------------------------- derived facts


def _flag(rule: Rule, violated: str, message: str) -> Check:
    """A record rule on a derived violation flag (false or true, never null)."""
    column = f"__{rule.template}__{rule.slug}"
    return Check(
        rule,
        _expect(rule, "column_values_to_be_in_set", column=column, value_set=[False]),
        derived=((column, f"coalesce({violated}, false)"),),
        message=message,
    )


def _placeholder(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    element = _element(registry, ds, c)
    text = f"{element.name}填写的是占位符（如“不详”“无”“/”），没有值时应留空"
    return Check(
        rule,
        _expect(
            rule, "column_values_to_be_in_set", column=f"{c}_is_placeholder", value_set=[False]
        ),
        message=lit(text),
    )


def _date_text(expr: str) -> str:
    return f"coalesce(strftime({expr}, '%Y-%m-%d'), '')"


def _id_encodes(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    element = _element(registry, ds, c)
    subject = derive.subject_column(registry, ds)
    assert element.encoded_in is not None and subject is not None, rule.id
    encoded = encoded_sql(element.encoded_in, f"r.{subject}")
    own = sound(registry, ds, c) if element.encoded_in == "birth_date" else f"r.{c} in ('1', '2')"
    violated = f"{own} and coalesce(r.{subject}_is_valid, false) and r.{c} <> {encoded}"
    shown = _date_text(encoded) if element.encoded_in == "birth_date" else encoded
    id_name = _element(registry, ds, subject).name
    message = (
        f"{lit(element.name + '与' + id_name + '所含的')} || {lit(element.name)} || '（' || "
        f"{shown} || '）不一致'"
    )
    return _flag(rule, violated, message)


def _not_after_period(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    element = _element(registry, ds, c)
    violated = f"{sound(registry, ds, c, dated=False)} and r.{c} >= {AFTER_PERIOD}"
    message = (
        f"{lit(element.name + '（')} || {_date_text('r.' + c)} || '）晚于报送期末，事件尚未发生'"
    )
    return _flag(rule, violated, message)


def _reference_sql(registry: Registry, ds: Dataset, ref: derive.Reference) -> str:
    """SQL over the row `r`: the earlier date of the same subject, or null when it is unknown
    or itself unsound."""
    if ref.kind == "encoded":
        return (
            f"(case when coalesce(r.{ref.column}_is_valid, false) "
            f"then {encoded_sql('birth_date', f'r.{ref.column}')} end)"
        )
    if ref.kind == "column":
        return f"(case when {sound(registry, ds, ref.column)} then r.{ref.column} end)"
    assert ref.register is not None and ref.register_column is not None
    own = sound(registry, ref.register, ref.register_column, alias="a")
    return (
        f"(select min(a.{ref.register_column}) from intermediate.{latest_model(ref.register)} "
        f"as a where a.{ref.register_key} = r.{ref.column} and {own})"
    )


def _not_before(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    element = _element(registry, ds, c)
    refs = derive.references(registry, ds, c)
    assert refs, rule.id
    earlier = " or ".join(f"r.{c} < {_reference_sql(registry, ds, ref)}" for ref in refs)
    violated = f"{sound(registry, ds, c)} and ({earlier})"
    names = "、".join(dict.fromkeys(ref.element.name for ref in refs))
    message = (
        f"{lit(element.name + '（')} || {_date_text('r.' + c)} || {lit('）早于同一对象的' + names)}"
    )
    return _flag(rule, violated, message)


# Evidence that the register holds the subject under a defective identifier: one of its
# invalid identifiers is one edit away (a wrong check character, a lost or changed character)
# or keeps the identifier's own part (GB 11643 birth date and sequence; GB 32100 GB 11714
# code). Each test is an equality the engine can hash-join on, with the edit distance after.
_SAME_PART = {"ric": (7, 11), "uscc": (9, 9)}


def _register_state(registry: Registry, ds: Dataset, column: str) -> str:
    """SQL over the row: 'known' (the register holds the subject), 'behind' (it holds it under
    a broken key, by the evidence above) or 'unknown'; null when the identifier is not valid."""
    register = derive.known_register(registry, ds, column)
    assert register is not None, (ds.id, column)
    key = register.record_key[0]
    known = (
        f"exists (select 1 from intermediate.{latest_model(register)} as a "
        f"where a.{key} = r.{column})"
    )
    fmt = _element(registry, ds, column).format
    start, length = _SAME_PART[fmt]
    broken = (
        f"select 1 from intermediate.{latest_model(register)} as a "
        f"where not coalesce(a.{key}_is_valid, false) and a.{key} <> r.{column} and "
    )
    evidence = " or ".join(
        [
            f"exists ({broken}left(a.{key}, 9) = left(r.{column}, 9) "
            f"and levenshtein(a.{key}, r.{column}) <= 1)",
            f"exists ({broken}right(a.{key}, 8) = right(r.{column}, 8) "
            f"and levenshtein(a.{key}, r.{column}) <= 1)",
            f"exists ({broken}substr(a.{key}, {start}, {length}) = "
            f"substr(r.{column}, {start}, {length}))",
        ]
    )
    return (
        f"case when not coalesce(r.{column}_is_valid, false) then null when {known} then 'known' "
        f"when ({evidence}) then 'behind' else 'unknown' end"
    )


def _register_check(rule: Rule, ds: Dataset, registry: Registry, outcome: str, text: str):
    """A rule on whether the register knows the record's subject: both register rules of a
    column read one derived column (`_register_state`), computed once."""
    column = f"__register__{rule.column}"
    state = _register_state(registry, ds, rule.column)
    return Check(
        rule,
        _expect(rule, "column_values_to_not_be_in_set", column=column, value_set=[outcome]),
        derived=((column, state),),
        message=lit(text),
    )


def _known_to_authority(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    register = derive.known_register(registry, ds, rule.column)
    assert register is not None, rule.id
    element = _element(registry, ds, rule.column)
    owner = registry.department(register.provider).short_name
    text = f"{owner}的{register.name}中没有此{element.name}的对象：副本记录无法与权威部门核对"
    return _register_check(rule, ds, registry, "unknown", text)


def _authority_behind(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    register = derive.known_register(registry, ds, rule.column)
    assert register is not None, rule.id
    element = _element(registry, ds, rule.column)
    owner = registry.department(register.provider).short_name
    text = (
        f"{owner}的{register.name}中找不到此{element.name}，但有一条{element.name}有误、"
        "其余部分相同的记录：应由权威部门更正其记录键"
    )
    return _register_check(rule, ds, registry, "behind", text)


def _subject_ended(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    assert ds.active is not None
    subject = derive.subject_column(registry, ds)
    assert subject is not None, rule.id
    events = derive.ending_events(registry)
    ended = " or ".join(
        f"exists (select 1 from intermediate.{latest_model(e.dataset)} as d "
        f"where d.{e.subject} = r.{subject} and {sound(registry, e.dataset, e.column, 'd')})"
        for e in events
    )
    active = (
        "true"
        if ds.active.present
        else f"r.{ds.active.column} in ({', '.join(lit(v) for v in ds.active.values)})"
    )
    violated = f"r.{subject} is not null and ({active}) and ({ended})"
    told = "、".join(
        f"{registry.department(e.element.authority).short_name}已记录其{e.element.name}"
        for e in events
    )
    state = "仍在本数据集中" if ds.active.present else "在本数据集中仍为有效状态"
    return _flag(rule, violated, lit(f"{told}，{state}，应及时注销或更新"))


# --------------------------------------------------------------------------- consistency


def _consistency(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    c = rule.column
    found = consistency_side(registry, ds, c)
    assert found is not None, rule.id  # checked when the rules were loaded
    check, _ = found
    element = check.element
    authority = registry.department(element.authority)
    return Check(
        rule,
        _expect(
            rule,
            "column_pair_values_to_be_equal",
            column_A="holder_value",
            column_B="__authority_comparable",
            ignore_row_if="either_value_is_missing",
            # GX's condition object (the string form is deprecated), as GX serialises it.
            row_condition={
                "type": "comparison",
                "column": {"name": "holder_column"},
                "operator": "==",
                "parameter": c,
            },
        ),
        message=lit(f"{element.name}与权威部门{authority.short_name}的值不一致"),
        authority="r.authority_value",
        authority_department=element.authority,
    )


def comparable_authority(registry: Registry, ds: Dataset, columns: list[str], period: str) -> str:
    """SQL over a consistency row `r`: the authority's value when both it and the copy's value
    pass the element's own rules (a broken value is reported by its own rule, not as a
    disagreement) and the authority's value agrees with what the subject's GB 11643 number
    encodes where the standard fixes it, else null: a copy is never blamed for differing from
    an authoritative value that the authority's own rules reject."""
    branches = []
    for column in columns:
        found = consistency_side(registry, ds, column)
        if found is None:
            continue
        element = found[0].element
        ok = (
            f"{value_ok(element, 'r.holder_value', registry)} "
            f"and {value_ok(element, 'r.authority_value', registry)}"
        ).replace(PERIOD_TOKEN, period)
        if element.encoded_in == "birth_date":
            encoded = encoded_sql("birth_date", "r.subject_key")
            ok += f" and try_cast(r.authority_value as date) = {encoded}"
        elif element.encoded_in == "gender":
            ok += f" and r.authority_value = {encoded_sql('gender', 'r.subject_key')}"
        branches.append(f"when {lit(column)} then case when {ok} then r.authority_value end")
    if not branches:
        return "cast(null as varchar)"
    return "case r.holder_column " + " ".join(branches) + " end"


# --------------------------------------------------------------------------- delivery


def _missing(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    return Check(
        rule,
        _expect(rule, "column_values_to_not_be_in_set", column="status", value_set=["missing"]),
        message="coalesce(r.reason, '本期未报送')",
    )


def _late(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    return Check(
        rule,
        # Arrived no later than due; a delivery that never arrived is 按期报送's concern.
        _expect(
            rule,
            "column_pair_values_a_to_be_greater_than_b",
            column_A="due_at",
            column_B="arrived_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        message=(
            "'应于 ' || strftime(r.due_at, '%Y-%m-%d') || ' 前报送，实际 '"
            " || strftime(r.arrived_at, '%Y-%m-%d %H:%M') || ' 到达'"
        ),
        value="strftime(r.arrived_at, '%Y-%m-%d %H:%M:%S')",
    )


def _readable(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    return Check(
        rule,
        _expect(rule, "column_values_to_not_be_in_set", column="status", value_set=["quarantined"]),
        message="'报送文件无法读取，已隔离：' || coalesce(r.reason, '')",
        value="r.source",
    )


def _rows_rejected(rule: Rule, ds: Dataset, registry: Registry) -> Check:
    return Check(
        rule,
        _expect(rule, "column_values_to_be_between", column="rows_rejected", max_value=0),
        message="r.rows_rejected || ' 行被拒收（原文与原因见拒收表）'",
        value="r.source",
    )


_COMPILERS = {
    "not_null": _not_null,
    "primary_key": _primary_key,
    "duplicate_row": _duplicate_row,
    "standard_form": _standard_form,
    "regex": _regex,
    "ric": _ric,
    "uscc": _uscc,
    "mobile": _mobile,
    "region": _region,
    "code_list": _code_list,
    "range": _range,
    "parse": _parse,
    "logic": _logic,
    "consistency": _consistency,
    "missing_delivery": _missing,
    "late_delivery": _late,
    "readable": _readable,
    "rows_rejected": _rows_rejected,
    "row_count": _row_count,
    "placeholder": _placeholder,
    "id_encodes": _id_encodes,
    "not_after_period": _not_after_period,
    "not_before": _not_before,
    "known_to_authority": _known_to_authority,
    "authority_behind": _authority_behind,
    "subject_ended": _subject_ended,
}
assert set(_COMPILERS) == set(TEMPLATES)
