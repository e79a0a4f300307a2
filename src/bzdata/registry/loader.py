"""Read catalog/registry/ into a checked `Registry`, or fail with every problem found.

Each problem names the file, the line, the entry (dataset id, element id or list index), the key
path and what was expected, in Chinese, so department staff can fix the YAML themselves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bzdata import config
from bzdata.registry.models import (
    DEFER_RULES,
    SNAKE_PATTERN,
    CodeList,
    DataElement,
    Dataset,
    Department,
    Indicator,
    Issue,
    Loc,
    Registry,
    did_you_mean,
    format_loc,
    indicator_numbering_issues,
    registry_issues,
)

REGISTRY_ENV = "BZDATA_REGISTRY"
DATASETS_DIR = "datasets"


@dataclass(frozen=True)
class _ListFile:
    """A registry file holding one top-level list of entries."""

    file: str
    key: str
    model: type[BaseModel]
    label: str  # what one entry is called in messages
    id_key: str


DEPARTMENTS = _ListFile("departments.yaml", "departments", Department, "部门", "code")
CODE_LISTS = _ListFile("code_lists.yaml", "code_lists", CodeList, "代码表", "id")
DATA_ELEMENTS = _ListFile("data_elements.yaml", "data_elements", DataElement, "数据元", "id")
INDICATORS = _ListFile("indicators.yaml", "indicators", Indicator, "指标", "no")
LIST_FILES = (DEPARTMENTS, CODE_LISTS, DATA_ELEMENTS, INDICATORS)


@dataclass(frozen=True)
class RegistryIssue:
    """One problem in the registry files, located for a person to fix."""

    file: str  # relative to the registry root, e.g. "datasets/gaj_hjrk.yaml"
    line: int | None
    message: str
    entry: str | None = None  # e.g. "数据集 gaj_hjrk", "数据元 citizen_id", "departments[3]"
    path: str = ""  # key path inside the entry, e.g. "fields[3].element"
    column: int | None = None  # YAML syntax errors only

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" 第{self.line}行"
            if self.column is not None:
                where += f"第{self.column}列"
        if self.entry:
            where += f" [{self.entry}]"
        if self.path:
            where += f" {self.path}"
        return f"{where}: {self.message}"


class RegistryError(Exception):
    """The registry is invalid; `issues` lists every problem found."""

    def __init__(self, issues: Sequence[RegistryIssue], root: Path | None = None) -> None:
        self.issues: tuple[RegistryIssue, ...] = tuple(issues)
        self.root = root
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"（{self.root}）" if self.root else ""
        lines = [f"注册表校验未通过{where}，共 {len(self.issues)} 处问题："]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)


# --- YAML with line numbers ---------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false, so keys such as `no` stay strings."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

_YAML_PROBLEMS = {
    "mapping values are not allowed here": (
        "此处不能出现“键: 值”（冒号后缺空格、缩进不对或值中含未加引号的冒号）"
    ),
    "could not find expected ':'": "找不到应有的冒号“:”",
    "found character '\\t' that cannot start any token": "不能用制表符（Tab）缩进，请改用空格",
    "found duplicate anchor": "锚点重复",
    "expected a single document in the stream": "文件中只能有一个 YAML 文档（不要用 ---分隔多个）",
    "found unexpected end of stream": "文件意外结束（引号或括号未闭合？）",
    "found undefined alias": "引用了未定义的锚点",
    "expected ',' or '}'": "行内映射 {…} 缺少逗号或右花括号",
    "expected ',' or ']'": "行内列表 […] 缺少逗号或右方括号",
}


@dataclass
class _Document:
    file: str
    data: Any
    lines: dict[Loc, int]

    def line(self, loc: Loc) -> int:
        """Line of the deepest existing key on the path (a missing key points at its parent)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = str(getattr(exc, "problem", "") or exc).strip()
    for english, chinese in _YAML_PROBLEMS.items():
        if problem.startswith(english):
            return f"{chinese}（{problem}）"
    if problem.startswith("expected <block end>"):
        return f"缩进不一致（{problem}）"
    if problem.startswith("while"):
        return f"格式错误（{problem}）"
    return problem


def _read_yaml(root: Path, file: str, problems: list[RegistryIssue]) -> _Document | None:
    path = root / file
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(RegistryIssue(file, None, f"文件不存在：{path}"))
        return None
    except UnicodeDecodeError:
        problems.append(RegistryIssue(file, None, "文件不是 UTF-8 编码，请另存为 UTF-8"))
        return None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        lines: dict[Loc, int] = {}
        if node is not None:
            _index(loader, node, (), lines, file, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        opened = exc.context_mark
        # The problem is often found a line after the construct that started it.
        since = f"（此结构从第{opened.line + 1}行开始）" if opened and opened is not mark else ""
        problems.append(
            RegistryIssue(
                file,
                mark.line + 1 if mark else None,
                f"YAML 语法错误：{_yaml_problem(exc)}{since}",
                column=mark.column + 1 if mark else None,
            )
        )
        return None
    except yaml.YAMLError as exc:
        problems.append(RegistryIssue(file, None, f"YAML 语法错误：{_yaml_problem(exc)}"))
        return None
    finally:
        loader.dispose()
    return _Document(file, data, lines)


def _index(
    loader: _Loader,
    node: Node,
    loc: Loc,
    lines: dict[Loc, int],
    file: str,
    problems: list[RegistryIssue],
) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        first: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                continue
            key = loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first:
                problems.append(
                    RegistryIssue(
                        file,
                        line,
                        f"键 '{key}' 重复（第{first[key]}行已出现），后写的值会覆盖前面的",
                        path=format_loc(loc),
                    )
                )
                continue
            first[key] = line
            lines[(*loc, key)] = line
            _index(loader, value_node, (*loc, key), lines, file, problems)
    elif isinstance(node, SequenceNode):
        for number, item in enumerate(node.value):
            lines[(*loc, number)] = item.start_mark.line + 1
            _index(loader, item, (*loc, number), lines, file, problems)


# --- pydantic errors in Chinese -------------------------------------------------------------


def _model_at(model: type[BaseModel] | None, loc: Loc) -> type[BaseModel] | None:
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        model = _find_model(info.annotation) if info else None
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _trim_loc(data: Any, loc: Loc, keep_last: bool) -> Loc:
    """The part of a pydantic location that exists in the data (drops union member tags)."""
    current = data
    kept: list[str | int] = []
    for number, part in enumerate(loc):
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            current = current[part]
        else:
            if keep_last and number == len(loc) - 1 and isinstance(part, str):
                kept.append(part)
            break
        kept.append(part)
    return tuple(kept)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _translate(error: Any, model: type[BaseModel], loc: Loc) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        allowed = list(owner.model_fields) if owner else []
        hint = did_you_mean(loc[-1], allowed) if allowed else ""
        keys = f"。可用的键：{'、'.join(allowed)}" if allowed else ""
        return f"未知的键 '{loc[-1]}'{hint}{keys}"
    if kind == "missing":
        return "缺少必填项"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(value, expected)
        return f"取值 '{value}' 无效{hint}，应为以下之一：{'、'.join(expected)}"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == SNAKE_PATTERN:
            return (
                f"'{value}' 不是小写蛇形命名：应以小写字母开头，只含小写字母、数字和单个下划线"
                "（如 citizen_id）"
            )
        return f"'{value}' 格式不符，应匹配 {ctx.get('pattern')}"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "string_type":
        if error["loc"] and error["loc"][-1] == "[key]":
            return (
                f'代码 {_short(value)} 须加引号写成字符串，如 "{value}"'
                "（未加引号时 YAML 会把 01 读成数字 1）"
            )
        return f"应为文本，实际为 {_short(value)}"
    simple = {
        "int_type": "应为整数",
        "int_parsing": "应为整数",
        "int_from_float": "应为整数",
        "float_type": "应为数字",
        "float_parsing": "应为数字",
        "bool_type": "应为 true 或 false",
        "bool_parsing": "应为 true 或 false",
        "date_type": "应为日期（YYYY-MM-DD）",
        "date_parsing": "应为日期（YYYY-MM-DD）",
        "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
        "date_from_datetime_inexact": "应为日期（YYYY-MM-DD），不带时间",
        "list_type": "应为列表",
        "tuple_type": "应为列表",
        "dict_type": "应为映射（键: 值）",
        "model_type": "应为映射（键: 值）",
        "model_attributes_type": "应为映射（键: 值）",
    }
    if kind in simple:
        return f"{simple[kind]}，实际为 {_short(value)}"
    if kind == "too_short":
        return f"至少需要 {ctx.get('min_length')} 项"
    if kind == "greater_than_equal":
        return f"应不小于 {ctx.get('ge')}，实际为 {_short(value)}"
    if kind == "less_than_equal":
        return f"应不大于 {ctx.get('le')}，实际为 {_short(value)}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _validate(model: type[BaseModel], data: Any) -> tuple[BaseModel | None, list[Issue]]:
    """Validate one entry; None and its problems (located within the entry) when invalid."""
    try:
        entry = model.model_validate(data, context={DEFER_RULES: True})
    except ValidationError as exc:
        found: list[Issue] = []
        for error in exc.errors():
            loc = _trim_loc(data, tuple(error["loc"]), keep_last=error["type"] == "missing")
            found.append(Issue(loc, _translate(error, model, loc)))
        return None, _unique(found)
    return entry, entry.issues()


def _unique(issues: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))


# --- loading --------------------------------------------------------------------------------


def default_root() -> Path:
    """$BZDATA_REGISTRY if set, else the repository's catalog/registry."""
    env = os.environ.get(REGISTRY_ENV, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    return config.project_root() / "catalog" / "registry"


@dataclass
class _Located:
    """A loaded entry (or None if invalid) with where it came from."""

    entry: BaseModel | None
    raw: Any
    document: _Document
    prefix: Loc  # location of the entry inside its document
    label: str


class _Collector:
    """Gathers problems with enough context to place each one in a file and line."""

    def __init__(self) -> None:
        self.problems: list[RegistryIssue] = []

    def add(self, where: _Located | _Document, issue: Issue) -> None:
        if isinstance(where, _Located):
            document, prefix, label = where.document, where.prefix, where.label
        else:
            document, prefix, label = where, (), None
        loc = prefix + issue.loc
        self.problems.append(
            RegistryIssue(
                document.file,
                document.line(loc),
                issue.message,
                entry=label,
                path=format_loc(issue.loc),
            )
        )


def _entries(document: _Document | None, spec: _ListFile, out: _Collector) -> list[_Located] | None:
    """Validate the entries of a one-list file; None when the file itself is unusable."""
    if document is None:
        return None
    data = document.data
    if not isinstance(data, dict) or spec.key not in data:
        out.add(document, Issue((), f"文件应以 {spec.key}: 开头，下面是{spec.label}列表"))
        return None
    for key in data:
        if key != spec.key:
            out.add(document, Issue((key,), f"未知的顶层键 '{key}'，此文件只应包含 {spec.key}"))
    items = data[spec.key]
    if not isinstance(items, list):
        out.add(document, Issue((spec.key,), f"{spec.key} 应为列表（每项以 - 开头）"))
        return None
    located = []
    for index, raw in enumerate(items):
        raw_id = raw.get(spec.id_key) if isinstance(raw, dict) else None
        label = (
            f"{spec.label} {raw_id}" if isinstance(raw_id, str | int) else f"{spec.key}[{index}]"
        )
        entry, found = _validate(spec.model, raw)
        item = _Located(entry, raw, document, (spec.key, index), label)
        for issue in found:
            out.add(item, issue)
        located.append(item)
    return located


def _datasets(root: Path, out: _Collector) -> list[_Located]:
    folder = root / DATASETS_DIR
    if not folder.is_dir():
        out.problems.append(RegistryIssue(f"{DATASETS_DIR}/", None, f"目录不存在：{folder}"))
        return []
    located = []
    for path in sorted(folder.iterdir()):
        file = f"{DATASETS_DIR}/{path.name}"
        if path.suffix == ".yml":
            out.problems.append(RegistryIssue(file, None, "数据集文件应以 .yaml 结尾（不是 .yml）"))
            continue
        if path.suffix != ".yaml" or not path.is_file():
            continue
        document = _read_yaml(root, file, out.problems)
        if document is None:
            continue
        raw = document.data
        if raw is None:
            out.problems.append(RegistryIssue(file, 1, "文件为空，应为一个数据集的元数据"))
            continue
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        label = f"数据集 {raw_id if isinstance(raw_id, str) else path.stem}"
        entry, found = _validate(Dataset, raw)
        item = _Located(entry, raw, document, (), label)
        for issue in found:
            out.add(item, issue)
        if isinstance(raw_id, str) and raw_id != path.stem:
            out.add(
                item,
                Issue(
                    ("id",),
                    f"数据集 id '{raw_id}' 与文件名 {path.name} 不一致：id 应等于文件名去掉 .yaml，"
                    f"即 '{path.stem}'（或把文件改名为 {raw_id}.yaml）",
                ),
            )
        located.append(item)
    return located


def _raw_ids(items: list[_Located], key: str) -> set[str]:
    return {
        item.raw[key]
        for item in items
        if item.entry is None and isinstance(item.raw, dict) and isinstance(item.raw.get(key), str)
    }


def _place_cross_issue(issue: Issue, groups: dict[str, list[_Located]], out: _Collector) -> None:
    collection = issue.loc[0]
    items = groups[str(collection)]
    if len(issue.loc) >= 2 and isinstance(issue.loc[1], int):
        out.add(items[issue.loc[1]], Issue(issue.loc[2:], issue.message))
    elif items:  # a problem of the whole list (e.g. indicator numbering)
        document = items[0].document
        out.add(document, Issue(issue.loc, issue.message))


def _load(root: Path) -> Registry:
    root = Path(root)
    if not root.is_dir():
        raise RegistryError([RegistryIssue(str(root), None, "注册表目录不存在")], root)
    out = _Collector()
    groups: dict[str, list[_Located]] = {}
    unreadable: set[str] = set()
    for spec in LIST_FILES:
        entries = _entries(_read_yaml(root, spec.file, out.problems), spec, out)
        if entries is None:
            unreadable.add(spec.key)
        groups[spec.key] = entries or []
    groups["datasets"] = _datasets(root, out)

    def valid(key: str) -> list[Any]:
        return [item.entry for item in groups[key]]

    cross = registry_issues(
        departments=valid("departments"),
        code_lists=valid("code_lists"),
        data_elements=valid("data_elements"),
        datasets=valid("datasets"),
        indicators=valid("indicators"),
        also_known={
            "departments": _raw_ids(groups["departments"], "code"),
            "code_lists": _raw_ids(groups["code_lists"], "id"),
            "data_elements": _raw_ids(groups["data_elements"], "id"),
        },
        unreadable=frozenset(unreadable),
    )
    for issue in cross:
        _place_cross_issue(issue, groups, out)
    if out.problems:
        raise RegistryError(_ordered(out.problems), root)
    try:
        return Registry(
            departments=valid("departments"),
            code_lists=valid("code_lists"),
            data_elements=valid("data_elements"),
            datasets=valid("datasets"),
            indicators=valid("indicators"),
        )
    except ValidationError as exc:  # every rule was checked above; this would be a defect here
        raise RegistryError([RegistryIssue(str(root), None, str(exc))], root) from exc


def _ordered(problems: list[RegistryIssue]) -> list[RegistryIssue]:
    """Files in reading order (datasets alphabetically, indicators last), then by line."""
    ranks = {DEPARTMENTS.file: 0, CODE_LISTS.file: 1, DATA_ELEMENTS.file: 2, INDICATORS.file: 4}

    def key(problem: RegistryIssue) -> tuple[int, str, int]:
        rank = ranks.get(problem.file, 3 if problem.file.startswith(DATASETS_DIR) else 5)
        return rank, problem.file, problem.line if problem.line is not None else 0

    return sorted(dict.fromkeys(problems), key=key)


@lru_cache(maxsize=4)
def _load_cached(root: Path) -> Registry:
    return _load(root)


def load_registry(root: Path | None = None) -> Registry:
    """Load and check the registry at `root` (default: $BZDATA_REGISTRY or catalog/registry).

    The default registry is read once per process; an explicit root is always read afresh.
    Raises RegistryError listing every problem.
    """
    if root is None:
        return _load_cached(default_root())
    return _load(Path(root))


def clear_cache() -> None:
    """Forget the cached default registry (after editing the YAML in a long-running process)."""
    _load_cached.cache_clear()


def load_indicators(root: Path | None = None) -> tuple[Indicator, ...]:
    """Only indicators.yaml, checked on its own (department codes are not resolved here)."""
    base = Path(root) if root is not None else default_root()
    out = _Collector()
    items = _entries(_read_yaml(base, INDICATORS.file, out.problems), INDICATORS, out) or []
    for issue in indicator_numbering_issues([item.entry for item in items]):  # type: ignore[misc]
        _place_cross_issue(issue, {"indicators": items}, out)
    if out.problems:
        raise RegistryError(_ordered(out.problems), base)
    return tuple(item.entry for item in items)  # type: ignore[misc]
