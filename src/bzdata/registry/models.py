"""Typed models of the registry (catalog/registry/) and the rules that keep it consistent.

The registry is the platform's one list of departments, code lists, data elements (each with ONE
authoritative department: 一数一源), datasets and the plan's indicators. Every model is frozen and
rejects unknown keys, so a misspelt key in YAML is an error rather than a silently ignored line.

Rules that span several keys live in each model's `issues()`, which returns every problem with its
location; validation raises on them unless the context asks to defer (the loader does, so it can
report all problems of all files at once with file and line).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from difflib import get_close_matches
from functools import cached_property
from typing import Annotated, Any, Literal, NamedTuple, Self, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic import Field as PydanticField
from pydantic_core import PydanticCustomError

# Lowercase words joined by single underscores: safe in paths, SQL and dbt names (`stg_a__b`).
SNAKE_PATTERN = r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$"
TABLE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$"

SnakeId = Annotated[str, StringConstraints(pattern=SNAKE_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

ElementType = Literal["string", "integer", "decimal", "date", "datetime"]
ElementFormat = Literal["ric", "uscc", "region", "mobile", "code_list"]
# Facts a GB 11643 number encodes (positions 7-14 the birth date, 17 the sex by parity).
EncodedFact = Literal["birth_date", "gender"]
Category = Literal["基础", "主题", "部门"]
Library = Literal["人口", "法人", "信用", "自然资源和空间地理", "电子证照", "宏观经济"]
ResourceFormat = Literal["数据库", "电子文件"]
ShareType = Literal["无条件共享", "有条件共享", "不予共享"]
OpenType = Literal["无条件开放", "有条件开放", "不予开放"]
UpdateCycle = Literal["实时", "每日", "每周", "每月", "每季", "每年"]
SecurityLevel = Literal["一般", "重要", "核心"]
ExtractMode = Literal["snapshot", "increment"]
Channel = Literal["file", "frontdb"]
FileFormat = Literal["csv", "xlsx", "jsonl"]
Encoding = Literal["utf-8", "utf-8-sig", "gbk", "gb18030"]
Comparator = Literal[">=", "<="]
IndicatorAttribute = Literal["预期性", "约束性"]
IndicatorCategory = Literal[
    "数字基础设施建设指标",
    "数字科创建设指标",
    "数字经济建设指标",
    "数字政府建设指标",
    "数字社会建设指标",
    "数据要素生态指标",
]
IndicatorSource = Literal["reported", "computed"]

LIBRARIES: tuple[str, ...] = get_args(Library)
INDICATOR_CATEGORIES: tuple[str, ...] = get_args(IndicatorCategory)

# Context key that makes validation collect rule problems instead of raising on them.
DEFER_RULES = "bzdata_defer_rules"

Loc = tuple[str | int, ...]


class Issue(NamedTuple):
    """One problem: where (a path of keys and list indexes) and what was expected (Chinese)."""

    loc: Loc
    message: str


def format_loc(loc: Loc) -> str:
    """`("fields", 3, "element")` -> `fields[3].element`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def did_you_mean(value: object, candidates: Sequence[str]) -> str:
    """A Chinese hint naming the closest candidate, or "" when none is close."""
    match = get_close_matches(str(value), list(candidates), n=1, cutoff=0.6)
    return f"（是否为 '{match[0]}'？）" if match else ""


def _prefixed(prefix: Loc, issues: Sequence[Issue]) -> list[Issue]:
    return [Issue(prefix + issue.loc, issue.message) for issue in issues]


def _number(value: Any) -> Any:
    # Checked before the union so a bad value gives one message, not one per union member.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError(
            "number_expected", "应为数字，实际为 {value}", {"value": repr(value)}
        )
    return value


def _bound(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int | float | date):
        raise PydanticCustomError(
            "bound_expected", "应为数字或日期（YYYY-MM-DD），实际为 {value}", {"value": repr(value)}
        )
    return value


Number = Annotated[int | float, BeforeValidator(_number)]
Bound = Annotated[datetime | date | int | float, BeforeValidator(_bound)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def issues(self) -> list[Issue]:
        """Problems that involve several keys of this entry; empty when consistent."""
        return []

    @model_validator(mode="after")
    def _apply_rules(self, info: ValidationInfo) -> Self:
        if isinstance(info.context, dict) and info.context.get(DEFER_RULES):
            return self
        problems = self.issues()
        if problems:
            detail = "；".join(f"{format_loc(p.loc) or '（整体）'}: {p.message}" for p in problems)
            raise PydanticCustomError("registry_rule", "{detail}", {"detail": detail})
        return self


class Department(_Model):
    """A department that provides data (资源提供方) or is the authority of data elements."""

    code: SnakeId
    name: Text
    short_name: Text
    unified_code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{18}$")] | None = None


class CodeList(_Model):
    """A closed list of codes (code -> label) that values of a data element must come from."""

    id: SnakeId
    name: Text
    standard: Text | None = None
    values: Annotated[dict[Text, Text], PydanticField(min_length=1)]

    def label(self, code: str) -> str | None:
        return self.values.get(code)


class DataElement(_Model):
    """数据元: one kind of value, with its single authoritative department (一数一源)."""

    id: SnakeId
    name: Text
    type: ElementType
    format: ElementFormat | None = None
    code_list: SnakeId | None = None
    min: Bound | None = None
    max: Bound | None = None
    authority: SnakeId
    personal: bool
    description: Text | None = None
    # What the element's definition implies beyond its format (see expectations/README.md):
    # an event that has happened, so not after the period it is delivered for;
    event: bool = False
    # dates of the same subject it cannot precede (in the record, encoded in its identifier, or
    # held by that element's authority);
    after: tuple[SnakeId, ...] = ()
    # the fact of the subject's GB 11643 number it must equal;
    encoded_in: EncodedFact | None = None
    # an event that ends its subject (a death): datasets that declare `active` must not still
    # hold the subject as active once the element's authority records it.
    ends_subject: bool = False

    def issues(self) -> list[Issue]:
        found: list[Issue] = []
        if (self.event or self.after) and self.type not in ("date", "datetime"):
            found.append(
                Issue(("event",), f"event/after 只适用于日期或时间数据元，实际为 {self.type}")
            )
        if self.ends_subject and not self.event:
            found.append(
                Issue(("ends_subject",), "ends_subject 为 true 的数据元必须是事件（event: true）")
            )
        if self.format == "code_list" and self.code_list is None:
            found.append(
                Issue(("code_list",), "format 为 code_list 时必须填写 code_list（代码表 id）")
            )
        if self.code_list is not None and self.format != "code_list":
            found.append(
                Issue(
                    ("code_list",),
                    "只有 format 为 code_list 时才能填写 code_list；"
                    "请删去或把 format 改为 code_list",
                )
            )
        if self.format is not None and self.type != "string":
            found.append(
                Issue(
                    ("type",),
                    f"format 为 {self.format} 的数据元应为 string 类型（保留前导零和校验位 X），"
                    f"实际为 {self.type}",
                )
            )
        for key in ("min", "max"):
            bound = getattr(self, key)
            if bound is None:
                continue
            if self.type == "string":
                found.append(Issue((key,), "string 类型的数据元不能设置 min/max"))
            elif self.type in ("integer", "decimal") and isinstance(bound, date):
                found.append(
                    Issue((key,), f"{self.type} 类型的数据元的 {key} 应为数字，实际为日期 {bound}")
                )
            elif self.type in ("date", "datetime") and not isinstance(bound, date):
                found.append(
                    Issue(
                        (key,),
                        f"{self.type} 类型的数据元的 {key} 应为日期（YYYY-MM-DD），实际为 {bound}",
                    )
                )
        if self.min is not None and self.max is not None and not found:
            low, high = self.min, self.max
            if isinstance(low, datetime) != isinstance(high, datetime):
                low, high = _as_datetime(low), _as_datetime(high)
            if low > high:
                found.append(Issue(("max",), f"max（{self.max}）不能小于 min（{self.min}）"))
        return found


def _as_datetime(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


class Field(_Model):
    """信息项: one column of a dataset, mapped to exactly one data element.

    `type` and `personal` are overrides; a Registry fills them from the element when omitted, so
    fields read through a Registry always carry both.
    """

    column: SnakeId
    header: Text
    element: SnakeId
    required: bool = False
    personal: bool | None = None
    type: ElementType | None = None


class Delivery(_Model):
    """How the department hands the data over: a file per period, or a table in its 前置库."""

    channel: Channel
    format: FileFormat | None = None
    encoding: Encoding | None = None
    title_rows: Annotated[int, PydanticField(ge=0)] = 0
    file_name: Text | None = None
    due_day: Annotated[int, PydanticField(ge=1, le=28)] | None = None
    table: Annotated[str, StringConstraints(pattern=TABLE_PATTERN)] | None = None
    watermark: Text | None = None

    def issues(self) -> list[Issue]:
        return self._file_issues() if self.channel == "file" else self._frontdb_issues()

    def _file_issues(self) -> list[Issue]:
        found: list[Issue] = []
        for key in ("table", "watermark"):
            if getattr(self, key) is not None:
                found.append(
                    Issue((key,), f"channel 为 file 时不填写 {key}（{key} 只用于前置库 frontdb）")
                )
        if self.format is None:
            found.append(
                Issue(("format",), "channel 为 file 时必须填写 format：csv、xlsx 或 jsonl")
            )
        elif self.format == "xlsx":
            if self.encoding is not None:
                found.append(Issue(("encoding",), "xlsx 文件不填写 encoding（xlsx 自带编码）"))
        else:
            if self.encoding is None:
                found.append(
                    Issue(
                        ("encoding",),
                        f"{self.format} 文件必须填写 encoding：utf-8、utf-8-sig、gbk 或 gb18030",
                    )
                )
            if self.title_rows:
                found.append(
                    Issue(("title_rows",), "title_rows 只用于 xlsx 文件（表头上方的标题行数）")
                )
        if self.file_name is None:
            found.append(
                Issue(
                    ("file_name",),
                    'channel 为 file 时必须填写 file_name，如 "户籍人口_{period}.csv"',
                )
            )
        else:
            found.extend(self._file_name_issues())
        if self.due_day is None:
            found.append(
                Issue(("due_day",), "channel 为 file 时必须填写 due_day（次月几日前报送，1–28）")
            )
        return found

    def _file_name_issues(self) -> list[Issue]:
        assert self.file_name is not None
        try:
            names = {
                name
                for _, name, _, _ in string.Formatter().parse(self.file_name)
                if name is not None
            }
        except ValueError:
            return [Issue(("file_name",), "file_name 中的花括号不成对；只允许占位符 {period}")]
        found: list[Issue] = []
        if names - {"period"}:
            unknown = "、".join(sorted("{" + n + "}" for n in names - {"period"}))
            found.append(
                Issue(("file_name",), f"file_name 只允许占位符 {{period}}，不认识 {unknown}")
            )
        if "period" not in names:
            found.append(Issue(("file_name",), "file_name 必须含有 {period}（报送期 YYYYMM）"))
        if self.format is not None and not self.file_name.lower().endswith(f".{self.format}"):
            found.append(
                Issue(("file_name",), f"file_name 应以 .{self.format} 结尾，与 format 一致")
            )
        return found

    def _frontdb_issues(self) -> list[Issue]:
        found: list[Issue] = []
        if self.table is None:
            found.append(Issue(("table",), "channel 为 frontdb 时必须填写 table（前置库中的表名）"))
        if self.watermark is None:
            found.append(
                Issue(
                    ("watermark",),
                    "channel 为 frontdb 时必须填写 watermark（增量抽取所用的更新时间列）",
                )
            )
        for key in ("format", "encoding", "file_name"):
            if getattr(self, key) is not None:
                found.append(
                    Issue((key,), f"channel 为 frontdb 时不填写 {key}（{key} 只用于文件报送）")
                )
        if self.title_rows:
            found.append(
                Issue(("title_rows",), "channel 为 frontdb 时不填写 title_rows（只用于 xlsx 文件）")
            )
        return found


class Active(_Model):
    """How a dataset shows its subject as active: every record (`present: true`), or a code
    column whose listed values mean active."""

    present: bool = False
    column: SnakeId | None = None
    values: tuple[str, ...] = ()

    def issues(self) -> list[Issue]:
        if self.present == (self.column is not None):
            return [Issue((), "active 应为 present: true，或 column 加 values（二者取一）")]
        if self.column is not None and not self.values:
            return [Issue(("values",), "active.column 须列出表示有效状态的代码 values")]
        return []


class Share(_Model):
    """共享属性 and, unless unconditional, its condition (or the basis for not sharing)."""

    type: ShareType
    condition: Text | None = None

    def issues(self) -> list[Issue]:
        return _condition_issues(self.type, self.condition, "无条件共享", "共享")


class Open(_Model):
    """开放属性 and, unless unconditional, its condition (or the basis for not opening)."""

    type: OpenType
    condition: Text | None = None

    def issues(self) -> list[Issue]:
        return _condition_issues(self.type, self.condition, "无条件开放", "开放")


def _condition_issues(kind: str, condition: str | None, free: str, verb: str) -> list[Issue]:
    if kind == free and condition is not None:
        return [
            Issue(("condition",), f"{free} 不填写 condition；如有条件请把 type 改为 有条件{verb}")
        ]
    if kind != free and condition is None:
        return [Issue(("condition",), f"{kind} 必须填写 condition（{verb}条件或不予{verb}的依据）")]
    return []


# Months whose period a 更新周期 delivers: quarterly and yearly deliveries are named after the
# last month of the quarter or year. Faster cycles deliver every monthly period.
PERIOD_MONTHS: dict[str, tuple[int, ...]] = {
    "每月": tuple(range(1, 13)),
    "每季": (3, 6, 9, 12),
    "每年": (12,),
}


class Dataset(_Model):
    """A data resource of one department: GB/T 21063 core metadata, security, delivery, fields."""

    id: SnakeId
    resource_code: Text
    name: Text
    provider: SnakeId
    category: Category
    library: Library | None = None
    abstract: Text
    format: ResourceFormat
    share: Share
    open: Open
    update_cycle: UpdateCycle
    publish_date: date
    security_level: SecurityLevel
    extract: ExtractMode
    record_key: Annotated[tuple[SnakeId, ...], PydanticField(min_length=1)]
    delivery: Delivery
    fields: Annotated[tuple[Field, ...], PydanticField(min_length=1)]
    # When a record holds its subject as active (for events that end a subject, e.g. a death):
    # `present` (a snapshot lists active subjects only) or a column and its active codes.
    active: Active | None = None

    def issues(self) -> list[Issue]:
        found = (
            _prefixed(("share",), self.share.issues())
            + _prefixed(("open",), self.open.issues())
            + _prefixed(("delivery",), self.delivery.issues())
            + (_prefixed(("active",), self.active.issues()) if self.active else [])
        )
        if self.category == "基础" and self.library is None:
            found.append(
                Issue(("library",), f"资源分类为 基础 时必须填写 library：{'、'.join(LIBRARIES)}")
            )
        for key in ("column", "header"):
            first: dict[str, int] = {}
            for index, item in enumerate(self.fields):
                value = getattr(item, key)
                if value in first:
                    found.append(
                        Issue(
                            ("fields", index, key),
                            f"{key} '{value}' 重复，已用于 fields[{first[value]}]",
                        )
                    )
                else:
                    first[value] = index
        columns = self.columns
        seen: set[str] = set()
        for index, key in enumerate(self.record_key):
            if key in seen:
                found.append(Issue(("record_key", index), f"'{key}' 在 record_key 中重复"))
            elif key not in columns:
                found.append(
                    Issue(
                        ("record_key", index),
                        f"'{key}' 不是本数据集 fields 中的 column{did_you_mean(key, columns)}，"
                        f"应为：{'、'.join(columns)}",
                    )
                )
            seen.add(key)
        watermark = self.delivery.watermark
        if (
            self.delivery.channel == "frontdb"
            and watermark is not None
            and self.watermark_field is None
        ):
            found.append(
                Issue(
                    ("delivery", "watermark"),
                    f"'{watermark}' 不是本数据集 fields 中的列{did_you_mean(watermark, columns)}，"
                    "应为某一项的 column 或 header",
                )
            )
        return found

    def field(self, column: str) -> Field:
        """The field with this column name; KeyError when the dataset has none."""
        for item in self.fields:
            if item.column == column:
                return item
        raise KeyError(f"数据集 {self.id} 没有列 '{column}'")

    @property
    def columns(self) -> list[str]:
        return [item.column for item in self.fields]

    @property
    def headers(self) -> list[str]:
        return [item.header for item in self.fields]

    @property
    def personal_columns(self) -> list[str]:
        """Columns holding personal information (masked wherever a person sees them)."""
        return [item.column for item in self.fields if item.personal]

    @property
    def is_frontdb(self) -> bool:
        return self.delivery.channel == "frontdb"

    def is_due(self, period: str) -> bool:
        """Whether the 更新周期 expects a delivery for the monthly period 'YYYY-MM'."""
        return int(period[5:7]) in PERIOD_MONTHS.get(self.update_cycle, range(1, 13))

    @property
    def watermark_field(self) -> Field | None:
        """The field named by delivery.watermark (by column, else by header); None if absent."""
        watermark = self.delivery.watermark
        if watermark is None:
            return None
        by_column = [item for item in self.fields if item.column == watermark]
        by_header = [item for item in self.fields if item.header == watermark]
        return (by_column or by_header or [None])[0]


class Indicator(_Model):
    """One indicator of the plan's indicator table (滨州市数字强市建设规划指标表)."""

    no: Annotated[int, PydanticField(ge=1)]
    name: Text
    unit: Annotated[str, StringConstraints(strip_whitespace=True)]
    target: Number
    comparator: Comparator
    attribute: IndicatorAttribute
    category: IndicatorCategory
    source: IndicatorSource
    department: SnakeId | None = None
    # Bounds of a reported value; None derives them from the unit (% -> 0..100, else >= 0).
    min: Number | None = None
    max: Number | None = None

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """(lowest, highest) acceptable value; either may be None (unbounded)."""
        low = self.min if self.min is not None else 0
        high = self.max if self.max is not None else (100 if self.unit == "%" else None)
        return low, high

    def is_met(self, value: float) -> bool:
        """Whether a measured value reaches the 2025 target."""
        return value >= self.target if self.comparator == ">=" else value <= self.target


def indicator_numbering_issues(indicators: Sequence[Indicator | None]) -> list[Issue]:
    """Numbers must be unique and run 1, 2, … without gaps."""
    found: list[Issue] = []
    first: dict[int, int] = {}
    for index, item in enumerate(indicators):
        if item is None:
            continue
        if item.no in first:
            found.append(
                Issue(
                    ("indicators", index, "no"),
                    f"序号 {item.no} 重复，已用于 indicators[{first[item.no]}]",
                )
            )
        else:
            first[item.no] = index
    if first and all(item is not None for item in indicators):
        missing = sorted(set(range(1, max(first) + 1)) - set(first))
        if missing:
            listed = "、".join(str(n) for n in missing)
            found.append(Issue(("indicators",), f"指标序号应从 1 起连续编号，缺少 {listed}"))
    return found


def registry_issues(
    *,
    departments: Sequence[Department | None],
    code_lists: Sequence[CodeList | None],
    data_elements: Sequence[DataElement | None],
    datasets: Sequence[Dataset | None],
    indicators: Sequence[Indicator | None],
    also_known: Mapping[str, set[str]] | None = None,
    unreadable: frozenset[str] = frozenset(),
) -> list[Issue]:
    """Problems across entries: duplicates and references that do not resolve.

    Locations start with the collection and the entry's index, e.g. ("datasets", 2, "provider").
    None entries (that failed validation) are skipped; `also_known` adds their ids per collection
    so their absence does not cause a second, misleading "unknown" problem; references into a
    collection named in `unreadable` (its file could not be read) are not checked at all.
    """
    extra = also_known or {}
    found: list[Issue] = []

    def unique(collection: str, entries: Sequence[Any], key: str, label: str) -> list[str]:
        first: dict[Any, int] = {}
        for index, item in enumerate(entries):
            if item is None:
                continue
            value = getattr(item, key)
            if value in first:
                found.append(
                    Issue(
                        (collection, index, key),
                        f"{label} '{value}' 重复，已用于 {collection}[{first[value]}]",
                    )
                )
            else:
                first[value] = index
        return [str(value) for value in first]

    dept_codes = unique("departments", departments, "code", "部门代码")
    list_ids = unique("code_lists", code_lists, "id", "代码表 id")
    element_ids = unique("data_elements", data_elements, "id", "数据元 id")
    unique("datasets", datasets, "id", "数据集 id")
    codes: dict[str, str] = {}
    for index, item in enumerate(datasets):
        if item is None:
            continue
        if item.resource_code in codes:
            found.append(
                Issue(
                    ("datasets", index, "resource_code"),
                    f"资源代码 '{item.resource_code}' 重复，"
                    f"已用于数据集 {codes[item.resource_code]}",
                )
            )
        else:
            codes[item.resource_code] = item.id

    known_depts = set(dept_codes) | extra.get("departments", set())
    known_lists = set(list_ids) | extra.get("code_lists", set())
    known_elements = set(element_ids) | extra.get("data_elements", set())

    def dept_ref(loc: Loc, code: str) -> None:
        if code not in known_depts and "departments" not in unreadable:
            found.append(
                Issue(
                    loc,
                    f"未知的部门 '{code}'{did_you_mean(code, dept_codes)}，"
                    "应为 departments.yaml 中已定义的 code",
                )
            )

    for index, element in enumerate(data_elements):
        if element is None:
            continue
        dept_ref(("data_elements", index, "authority"), element.authority)
        if (
            element.code_list is not None
            and element.code_list not in known_lists
            and "code_lists" not in unreadable
        ):
            found.append(
                Issue(
                    ("data_elements", index, "code_list"),
                    f"未知的代码表 '{element.code_list}'"
                    f"{did_you_mean(element.code_list, list_ids)}，"
                    "应为 code_lists.yaml 中已定义的 id",
                )
            )
    for index, dataset in enumerate(datasets):
        if dataset is None:
            continue
        dept_ref(("datasets", index, "provider"), dataset.provider)
        if dataset.provider in known_depts and not dataset.id.startswith(f"{dataset.provider}_"):
            found.append(
                Issue(
                    ("datasets", index, "id"),
                    f"数据集 id 应以提供部门代码加下划线开头（{dataset.provider}_…），"
                    f"实际为 '{dataset.id}'",
                )
            )
        for number, item in enumerate(dataset.fields):
            if item.element not in known_elements and "data_elements" not in unreadable:
                found.append(
                    Issue(
                        ("datasets", index, "fields", number, "element"),
                        f"未知的数据元 '{item.element}'{did_you_mean(item.element, element_ids)}，"
                        "应为 data_elements.yaml 中已定义的 id",
                    )
                )
    dated = {e.id for e in data_elements if e is not None and e.type in ("date", "datetime")}
    for index, element in enumerate(data_elements):
        for j, other in enumerate(() if element is None else element.after):
            if other not in dated and "data_elements" not in unreadable:
                found.append(
                    Issue(
                        ("data_elements", index, "after", j),
                        f"'{other}' 不是日期或时间类型的数据元{did_you_mean(other, sorted(dated))}",
                    )
                )
    for index, item in enumerate(datasets):
        active = None if item is None else item.active
        if active is not None and active.column is not None and active.column not in item.columns:
            found.append(
                Issue(
                    ("datasets", index, "active", "column"),
                    f"'{active.column}' 不是本数据集的列"
                    + did_you_mean(active.column, item.columns),
                )
            )
    for index, indicator in enumerate(indicators):
        if indicator is not None and indicator.department is not None:
            dept_ref(("indicators", index, "department"), indicator.department)
    found.extend(indicator_numbering_issues(indicators))
    return found


class Registry(_Model):
    """The whole registry, cross-checked; fields carry their element's type/personal by default."""

    departments: tuple[Department, ...]
    code_lists: tuple[CodeList, ...]
    data_elements: tuple[DataElement, ...]
    datasets: tuple[Dataset, ...]
    indicators: tuple[Indicator, ...]

    @field_validator("datasets", mode="after")
    @classmethod
    def _fill_field_defaults(
        cls, datasets: tuple[Dataset, ...], info: ValidationInfo
    ) -> tuple[Dataset, ...]:
        elements = {item.id: item for item in info.data.get("data_elements", ())}
        return tuple(_with_element_defaults(dataset, elements) for dataset in datasets)

    def issues(self) -> list[Issue]:
        found: list[Issue] = []
        for collection in ("departments", "code_lists", "data_elements", "datasets", "indicators"):
            for index, item in enumerate(getattr(self, collection)):
                found.extend(_prefixed((collection, index), item.issues()))
        found.extend(
            registry_issues(
                departments=self.departments,
                code_lists=self.code_lists,
                data_elements=self.data_elements,
                datasets=self.datasets,
                indicators=self.indicators,
            )
        )
        return found

    # --- look-ups -----------------------------------------------------------------------------

    @cached_property
    def _departments(self) -> dict[str, Department]:
        return {item.code: item for item in self.departments}

    @cached_property
    def _datasets(self) -> dict[str, Dataset]:
        return {item.id: item for item in self.datasets}

    @cached_property
    def _elements(self) -> dict[str, DataElement]:
        return {item.id: item for item in self.data_elements}

    @cached_property
    def _code_lists(self) -> dict[str, CodeList]:
        return {item.id: item for item in self.code_lists}

    @cached_property
    def _fields_by_element(self) -> dict[str, list[tuple[Dataset, Field]]]:
        index: dict[str, list[tuple[Dataset, Field]]] = {}
        for dataset in self.datasets:
            for item in dataset.fields:
                index.setdefault(item.element, []).append((dataset, item))
        return index

    def department(self, code: str) -> Department:
        return _lookup(self._departments, code, "部门")

    def dataset(self, dataset_id: str) -> Dataset:
        return _lookup(self._datasets, dataset_id, "数据集")

    def element(self, element_id: str) -> DataElement:
        return _lookup(self._elements, element_id, "数据元")

    def code_list(self, code_list_id: str) -> CodeList:
        return _lookup(self._code_lists, code_list_id, "代码表")

    def indicator(self, no: int) -> Indicator:
        for item in self.indicators:
            if item.no == no:
                return item
        raise KeyError(f"未知的指标序号 {no}")

    def datasets_of(self, dept_code: str) -> list[Dataset]:
        """Datasets the department provides, in registry order."""
        self.department(dept_code)
        return [item for item in self.datasets if item.provider == dept_code]

    def fields_of_element(self, element_id: str) -> list[tuple[Dataset, Field]]:
        """Every (dataset, field) carrying the element, in registry order."""
        self.element(element_id)
        return list(self._fields_by_element.get(element_id, []))

    def copy_holders(self, element_id: str) -> list[Department]:
        """Departments holding copies: providers of datasets with the element, minus the authority.

        Ordered as in departments.yaml.
        """
        authority = self.element(element_id).authority
        providers = {dataset.provider for dataset, _ in self.fields_of_element(element_id)}
        return [
            item for item in self.departments if item.code in providers and item.code != authority
        ]

    def base_libraries(self) -> dict[str, list[Dataset]]:
        """Each 基础库 (all six, in fixed order) -> the category-基础 datasets that feed it."""
        result: dict[str, list[Dataset]] = {name: [] for name in LIBRARIES}
        for dataset in self.datasets:
            if dataset.category == "基础" and dataset.library is not None:
                result[dataset.library].append(dataset)
        return result


def _lookup(index: Mapping[str, Any], key: str, label: str) -> Any:
    try:
        return index[key]
    except KeyError:
        raise KeyError(f"未知的{label} '{key}'{did_you_mean(key, list(index))}") from None


def _with_element_defaults(dataset: Dataset, elements: Mapping[str, DataElement]) -> Dataset:
    fields = []
    for item in dataset.fields:
        element = elements.get(item.element)
        if element is None:  # reported by registry_issues
            fields.append(item)
            continue
        fields.append(
            item.model_copy(
                update={
                    "type": item.type if item.type is not None else element.type,
                    "personal": item.personal if item.personal is not None else element.personal,
                }
            )
        )
    return dataset.model_copy(update={"fields": tuple(fields)})
