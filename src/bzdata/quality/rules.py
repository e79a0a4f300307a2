"""Quality rules as data: the rule model, its templates, and reading expectations/ into a RuleSet.

A rule names a dataset, a template (in the spirit of Qualitis: 空值, 主键唯一, 正则, 身份证号校验,
码表, 范围, 逻辑, 一致性, 时效性, 表行数波动 …), its parameters, a GB/T 36344 dimension, a severity
and the department responsible for fixing what it finds. Rules live in two folders:

    expectations/rules/<dataset>.yaml   generated from the registry (`bzdata quality rules`)
    expectations/custom/*.yaml          written by hand, same shape

Each file holds `rules:`, a list of rules. `load_rules()` checks every rule against the registry
and raises RuleError naming file, line, rule and key for every problem, like the registry does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field as PydanticField
from pydantic import StringConstraints

from bzdata import config
from bzdata.registry import Dataset, Registry, load_registry
from bzdata.registry.loader import RegistryIssue, _read_yaml, _validate
from bzdata.registry.models import (
    Bound,
    Issue,
    SnakeId,
    Text,
    _Model,
    did_you_mean,
    format_loc,
)

RULES_DIR = "rules"
CUSTOM_DIR = "custom"
SUITES_DIR = "suites"

Dimension = Literal["规范性", "完整性", "准确性", "一致性", "时效性", "可访问性"]
Severity = Literal["严重", "一般", "提示"]
Template = Literal[
    "not_null",
    "primary_key",
    "duplicate_row",
    "standard_form",
    "regex",
    "ric",
    "uscc",
    "mobile",
    "region",
    "code_list",
    "range",
    "parse",
    "logic",
    "consistency",
    "missing_delivery",
    "late_delivery",
    "readable",
    "rows_rejected",
    "row_count",
    "placeholder",
    "id_encodes",
    "not_after_period",
    "not_before",
    "known_to_authority",
    "authority_behind",
    "subject_ended",
]
Asset = Literal["records", "pulls", "consistency", "delivery"]

DIMENSIONS: tuple[str, ...] = get_args(Dimension)
SEVERITIES: tuple[str, ...] = get_args(Severity)
# GX's own severity names, so the suites read naturally in GX Data Docs.
GX_SEVERITY = {"严重": "critical", "一般": "warning", "提示": "info"}

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$")]


@dataclass(frozen=True)
class TemplateInfo:
    """What a template checks, where it reads and what it needs."""

    label: str  # Chinese name, as in the issue list and the report
    asset: Asset
    column: bool  # needs `column`
    record_level: bool  # one issue per record (else one per dataset and period)
    channels: tuple[str, ...] = ("file", "frontdb")


TEMPLATES: dict[str, TemplateInfo] = {
    "not_null": TemplateInfo("空值检查", "records", True, True),
    "primary_key": TemplateInfo("主键唯一", "records", False, True),
    "duplicate_row": TemplateInfo("行重复", "records", False, True),
    "standard_form": TemplateInfo("规范格式", "records", True, True),
    "regex": TemplateInfo("正则/格式", "records", True, True),
    "ric": TemplateInfo("身份证号校验", "records", True, True),
    "uscc": TemplateInfo("统一社会信用代码校验", "records", True, True),
    "mobile": TemplateInfo("手机号码校验", "records", True, True),
    "region": TemplateInfo("行政区划代码校验", "records", True, True),
    "code_list": TemplateInfo("码表/枚举", "records", True, True),
    "range": TemplateInfo("数值/日期范围", "records", True, True),
    "parse": TemplateInfo("日期/数值格式", "records", True, True),
    "logic": TemplateInfo("逻辑校验", "records", False, True),
    "consistency": TemplateInfo("一致性（一数一源）", "consistency", True, True),
    "missing_delivery": TemplateInfo("按期报送", "delivery", False, False),
    "late_delivery": TemplateInfo("报送及时", "delivery", False, False, ("file",)),
    "readable": TemplateInfo("文件可读取", "delivery", False, False, ("file",)),
    "rows_rejected": TemplateInfo("行级拒收", "delivery", False, False, ("file",)),
    "row_count": TemplateInfo("表行数波动", "records", False, False, ("file",)),
    # Derived from what the registry says an element means (expectations/README.md).
    "placeholder": TemplateInfo("占位符", "records", True, True),
    "id_encodes": TemplateInfo("与身份号码一致", "records", True, True),
    "not_after_period": TemplateInfo("不晚于报送期", "records", True, True),
    "not_before": TemplateInfo("时间先后", "records", True, True),
    "known_to_authority": TemplateInfo("权威部门有此对象", "records", True, True),
    "authority_behind": TemplateInfo("权威部门记录键有误", "records", True, True),
    "subject_ended": TemplateInfo("对象已终止", "records", True, True),
}
# Templates that need the named element format on their column.
FORMAT_OF = {"ric": "ric", "uscc": "uscc", "mobile": "mobile", "region": "region"}
STANDARD_FORMATS = ("ric", "uscc", "mobile", "region")


class Rule(_Model):
    """One quality rule (see the module docstring); template parameters are optional keys."""

    id: RuleId
    name: Text
    dataset: SnakeId
    template: Template
    column: SnakeId | None = None
    dimension: Dimension
    severity: Severity
    department: SnakeId
    mostly: Annotated[float, PydanticField(gt=0, le=1)] | None = None
    description: Text | None = None
    code_list: SnakeId | None = None
    values: tuple[Text, ...] | None = None
    min: Bound | None = None
    max: Bound | None = None
    regex: Text | None = None
    when: Text | None = None
    then: Text | None = None
    band: Annotated[float, PydanticField(gt=0)] | None = None
    lookback: Annotated[int, PydanticField(ge=1, le=24)] | None = None

    @property
    def info(self) -> TemplateInfo:
        return TEMPLATES[self.template]

    @property
    def slug(self) -> str:
        """The rule id as a SQL-safe name part."""
        return self.id.replace(".", "__")

    def issues(self) -> list[Issue]:
        found: list[Issue] = []
        info = TEMPLATES[self.template]
        if info.column and self.column is None:
            found.append(Issue(("column",), f"模板 {self.template}（{info.label}）必须填写 column"))
        if not self.id.startswith(f"{self.dataset}."):
            found.append(Issue(("id",), f"规则 id 应以数据集 id 加点开头（{self.dataset}.…）"))
        needs = {
            "code_list": ("code_list 或 values", self.code_list is None and self.values is None),
            "range": ("min 或 max", self.min is None and self.max is None),
            "regex": ("regex", self.regex is None),
            "logic": ("when 和 then", self.when is None or self.then is None),
            "row_count": ("band（允许偏离近期均值的比例，如 0.2）", self.band is None),
        }
        if self.template in needs and needs[self.template][1]:
            found.append(
                Issue((), f"模板 {self.template}（{info.label}）必须填写 {needs[self.template][0]}")
            )
        if self.mostly is not None and not info.record_level:
            found.append(Issue(("mostly",), "mostly 只用于逐条记录检查的模板"))
        return found


@dataclass(frozen=True)
class RuleSet:
    """All rules, in file order; generated rules first, then custom ones."""

    rules: tuple[Rule, ...]

    def of(self, dataset: str) -> list[Rule]:
        return [rule for rule in self.rules if rule.dataset == dataset]

    @cached_property
    def _by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    def rule(self, rule_id: str) -> Rule:
        try:
            return self._by_id[rule_id]
        except KeyError:
            hint = did_you_mean(rule_id, list(self._by_id))
            raise KeyError(f"未知的规则 '{rule_id}'{hint}") from None

    @property
    def datasets(self) -> list[str]:
        return list(dict.fromkeys(rule.dataset for rule in self.rules))


class RuleError(Exception):
    """The rule files are invalid; `issues` lists every problem (file, line, rule, key)."""

    def __init__(self, issues: Sequence[RegistryIssue], root: Path | None = None) -> None:
        self.issues = tuple(issues)
        self.root = root
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"（{self.root}）" if self.root else ""
        lines = [f"质量规则校验未通过{where}，共 {len(self.issues)} 处问题："]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)


def default_root() -> Path:
    """The repository's expectations/ folder."""
    return config.project_root() / "expectations"


def rule_files(root: Path) -> list[str]:
    """Rule files relative to `root`: generated ones, then custom ones, each sorted."""
    files = []
    for folder in (RULES_DIR, CUSTOM_DIR):
        base = root / folder
        if base.is_dir():
            files += [f"{folder}/{p.name}" for p in sorted(base.glob("*.yaml")) if p.is_file()]
    return files


def load_rules(root: Path | None = None, registry: Registry | None = None) -> RuleSet:
    """Read and check every rule file under `root` (default: the repository's expectations/)."""
    root = Path(root) if root is not None else default_root()
    registry = registry or load_registry()
    problems: list[RegistryIssue] = []
    rules: list[Rule] = []
    first: dict[str, str] = {}
    for file in rule_files(root):
        document = _read_yaml(root, file, problems)
        if document is None:
            continue
        data = document.data
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            problems.append(RegistryIssue(file, 1, "文件应以 rules: 开头，下面是规则列表"))
            continue
        for key in data:
            if key != "rules":
                line = document.line((key,))
                problems.append(RegistryIssue(file, line, f"未知的顶层键 '{key}'，只应有 rules"))
        for index, raw in enumerate(data["rules"]):
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            label = f"规则 {raw_id}" if isinstance(raw_id, str) else f"rules[{index}]"
            entry, found = _validate(Rule, raw)
            if entry is not None:
                found += _registry_issues(entry, registry)  # type: ignore[arg-type]
                if entry.id in first:  # type: ignore[attr-defined]
                    found.append(Issue(("id",), f"规则 id 重复，已用于 {first[entry.id]}"))  # type: ignore[attr-defined]
                else:
                    first[entry.id] = file  # type: ignore[attr-defined]
            for issue in found:
                loc = ("rules", index, *issue.loc)
                problems.append(
                    RegistryIssue(
                        file, document.line(loc), issue.message, label, format_loc(issue.loc)
                    )
                )
            if entry is not None and not found:
                rules.append(entry)  # type: ignore[arg-type]
    if problems:
        raise RuleError(problems, root)
    return RuleSet(tuple(rules))


def _registry_issues(rule: Rule, registry: Registry) -> list[Issue]:
    """What a rule says that the registry contradicts."""
    found: list[Issue] = []
    try:
        ds = registry.dataset(rule.dataset)
    except KeyError as exc:
        return [Issue(("dataset",), str(exc.args[0]))]
    try:
        registry.department(rule.department)
    except KeyError as exc:
        found.append(Issue(("department",), str(exc.args[0])))
    info = rule.info
    if ds.delivery.channel not in info.channels:
        found.append(
            Issue(("template",), f"模板 {rule.template} 只用于文件报送的数据集，{ds.id} 为前置库")
        )
    if rule.template == "row_count" and ds.extract != "snapshot":
        found.append(Issue(("template",), "表行数波动只用于全量报送（extract: snapshot）的数据集"))
    if rule.column is not None:
        if rule.column not in ds.columns:
            hint = did_you_mean(rule.column, ds.columns)
            found.append(Issue(("column",), f"数据集 {ds.id} 没有列 '{rule.column}'{hint}"))
            return found
        found += _column_issues(rule, ds, registry)
    if rule.code_list is not None:
        try:
            registry.code_list(rule.code_list)
        except KeyError as exc:
            found.append(Issue(("code_list",), str(exc.args[0])))
    return found


def _column_issues(rule: Rule, ds: Dataset, registry: Registry) -> list[Issue]:
    assert rule.column is not None
    element = registry.element(ds.field(rule.column).element)
    wanted = FORMAT_OF.get(rule.template)
    if wanted and element.format != wanted:
        return [Issue(("template",), f"列 {rule.column} 的数据元 {element.id} 不是 {wanted} 格式")]
    if rule.template == "standard_form" and element.format not in STANDARD_FORMATS:
        return [Issue(("template",), "规范格式只用于身份号码、信用代码、手机号码和区划代码列")]
    if rule.template in ("parse", "range") and element.type == "string":
        return [Issue(("template",), f"模板 {rule.template} 只用于日期或数值列")]
    if rule.template == "consistency":
        from bzdata.quality.templates import consistency_side

        if consistency_side(registry, ds, rule.column) is None:
            return [
                Issue(
                    ("column",),
                    f"列 {rule.column} 不是多源校核中的副本列（见 quality.consistency_checks）",
                )
            ]
    return []
