"""The catalogue's data model, shared by every backend (embedded SQLite, OpenMetadata).

Plain frozen dataclasses with `to_dict()` / `from_dict()` so a backend can store them as JSON and
the portal can render them without knowing where they came from. Text meant for people is Chinese.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Kinds of catalogue entry, in lineage order.
KINDS: tuple[str, ...] = ("dataset", "raw", "model")
# Library layers of an entry (资源目录 / 原始区 / dbt layers).
LAYERS: tuple[str, ...] = (
    "资源目录",
    "原始区",
    "staging",
    "中间层",
    "基础库",
    "主题库",
    "专题库",
    "指标库",
    "质量",
)
SHARE_TYPES: tuple[str, ...] = ("无条件共享", "有条件共享", "不予共享")
OPEN_TYPES: tuple[str, ...] = ("无条件开放", "有条件开放", "不予开放")
MATCH_STATES: tuple[str, ...] = ("已满足", "部分满足", "未满足")
ANSWERS: tuple[str, ...] = ("同意", "拒绝")


@dataclass(frozen=True)
class FieldInfo:
    """One 信息项 / column: type, Chinese description, data element, personal flag, security."""

    name: str
    header: str  # Chinese name shown to people (信息项名称)
    type: str | None = None
    description: str | None = None
    element: str | None = None
    personal: bool = False
    security_level: str | None = None


@dataclass(frozen=True)
class LineageEdge:
    """upstream → downstream between two entry ids; column-level when both columns are known."""

    upstream: str
    downstream: str
    upstream_column: str | None = None
    downstream_column: str | None = None


@dataclass(frozen=True)
class QualitySummary:
    """Latest quality pass rate of an entry, per GB/T 36344 dimension (0..1), for one period."""

    period: str
    pass_rate: dict[str, float] = field(default_factory=dict)  # dimension -> rate
    rules: int = 0
    failed_rules: int = 0


@dataclass(frozen=True)
class Entry:
    """One catalogue entry: a registry dataset (资源目录), a raw table, or a dbt library model.

    GB/T 21063 core metadata: name (名称), abstract (摘要), id/resource_code (标识符), provider
    (提供方), category (分类), format (格式), fields (信息项), share/share_condition
    (共享属性/条件), open/open_condition (开放属性/条件), update_cycle (更新周期),
    publish_date (发布日期). `delivered` is False for entries registered but not delivered
    through the platform (most of a city's catalogue).
    """

    id: str
    kind: str  # one of KINDS
    layer: str  # one of LAYERS
    name: str
    abstract: str = ""
    resource_code: str | None = None
    provider: str | None = None  # department code
    provider_name: str | None = None
    category: str | None = None
    library: str | None = None
    format: str | None = None
    share: str | None = None
    share_condition: str | None = None
    open: str | None = None
    open_condition: str | None = None
    update_cycle: str | None = None
    publish_date: str | None = None  # ISO date
    security_level: str | None = None
    owner: str | None = None  # owner department code (same as provider for registry datasets)
    delivered: bool = True
    fields: tuple[FieldInfo, ...] = ()
    last_success: str | None = None  # ISO timestamp of the last successful update
    row_count: int | None = None
    quality: QualitySummary | None = None
    upstream: tuple[str, ...] = ()
    downstream: tuple[str, ...] = ()
    relation: str | None = None  # warehouse relation (schema.table) when there is one

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        data = dict(data)
        data["fields"] = tuple(FieldInfo(**f) for f in data.get("fields") or ())
        quality = data.get("quality")
        data["quality"] = QualitySummary(**quality) if quality else None
        data["upstream"] = tuple(data.get("upstream") or ())
        data["downstream"] = tuple(data.get("downstream") or ())
        return cls(**data)

    @property
    def field_headers(self) -> tuple[str, ...]:
        return tuple(f.header for f in self.fields)


@dataclass(frozen=True)
class SearchHit:
    """One search result: the entry's id and name, score (higher is better), highlighted snippet."""

    id: str
    name: str
    layer: str
    provider: str | None
    score: float
    snippet: str  # 摘要 excerpt with matches wrapped in 【】
    name_highlighted: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Demand:
    """One 需求清单 item (a version of it: the store is append-only, the latest version wins).

    status: 待答复 / 同意 / 拒绝; match: 已满足 / 部分满足 / 未满足 against the catalogue, with
    the 信息项 still missing. deadline is the ISO date by which the provider must answer.
    """

    id: str
    version: int
    title: str  # dataset wanted
    fields: tuple[str, ...]  # 信息项 wanted
    purpose: str
    requester: str
    provider: str  # department asked
    filed: str  # ISO date
    deadline: str  # ISO date
    sla: str = "共享"  # which SLA in configuration applies
    status: str = "待答复"
    answer_reason: str | None = None
    answered: str | None = None  # ISO date
    match: str | None = None
    matched_entry: str | None = None
    missing_fields: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Demand:
        data = dict(data)
        data["fields"] = tuple(data.get("fields") or ())
        data["missing_fields"] = tuple(data.get("missing_fields") or ())
        return cls(**data)
