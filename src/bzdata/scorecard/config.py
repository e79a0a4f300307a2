"""The scorecard's weights and thresholds (catalog/scorecard.yaml), typed and checked.

The report prints its formulas from these values, so what a department reads is always what was
computed. A bad file fails with the file, the key and the expected form, in Chinese.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic import Field as PydanticField

from bzdata import config
from bzdata.dimensions import DIMENSIONS

SECTIONS: tuple[str, ...] = ("catalog", "collection", "quality", "rectification")
SECTION_NAMES: dict[str, str] = {
    "catalog": "编目",
    "collection": "归集",
    "quality": "质量",
    "rectification": "整改",
}

Weight = Annotated[float, PydanticField(ge=0)]
Share = Annotated[float, PydanticField(ge=0, le=1)]


class ScorecardConfigError(ValueError):
    """catalog/scorecard.yaml is unreadable or invalid; the message is for the user (Chinese)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Weights(_Model):
    catalog: Weight
    collection: Weight
    quality: Weight
    rectification: Weight

    def of(self, section: str) -> float:
        return float(getattr(self, section))


class CatalogRules(_Model):
    qualified_weight: Share
    warning_penalty: Weight
    min_abstract_chars: Annotated[int, PydanticField(ge=0)]
    resource_code_pattern: str

    @field_validator("resource_code_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"不是有效的正则表达式：{exc}") from None
        return value


class CollectionRules(_Model):
    late_credit: Share
    quarantine_penalty: Weight


class QualityRules(_Model):
    pass_rate_floor: Annotated[float, PydanticField(ge=0, lt=1)]
    dimensions: dict[str, Weight]

    @field_validator("dimensions")
    @classmethod
    def _six_dimensions(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != set(DIMENSIONS):
            raise ValueError(f"应列出 GB/T 36344 的六个维度：{'、'.join(DIMENSIONS)}")
        return {name: value[name] for name in DIMENSIONS}


class RectificationRules(_Model):
    reopen_weight: Weight


class ReportRules(_Model):
    top_problems: Annotated[int, PydanticField(ge=1)]
    max_issue_rows: Annotated[int, PydanticField(ge=1, le=1_048_000)]


class ScorecardConfig(_Model):
    """The whole of catalog/scorecard.yaml."""

    weights: Weights
    catalog: CatalogRules
    collection: CollectionRules
    quality: QualityRules
    rectification: RectificationRules
    report: ReportRules

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, value: Weights) -> Weights:
        if sum(value.of(s) for s in SECTIONS) <= 0:
            raise ValueError("至少一个分项的权重应大于 0")
        return value


def default_path() -> Path:
    return config.project_root() / "catalog" / "scorecard.yaml"


def load_config(path: Path | str | None = None) -> ScorecardConfig:
    """Read and check the scorecard configuration (default catalog/scorecard.yaml)."""
    file = Path(path) if path is not None else default_path()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScorecardConfigError(f"无法读取评分配置 {file}：{exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ScorecardConfigError(f"评分配置 {file} 不是有效的 YAML：{exc}") from None
    try:
        return ScorecardConfig.model_validate(data)
    except ValidationError as exc:
        problems = "；".join(
            f"{'.'.join(str(p) for p in err['loc']) or '（整体）'}: {_message(err)}"
            for err in exc.errors()
        )
        raise ScorecardConfigError(f"评分配置 {file} 有误：{problems}") from None


def _message(err: dict) -> str:
    kind = err.get("type", "")
    if kind == "missing":
        return "缺少此项"
    if kind == "extra_forbidden":
        return "不认识的键"
    if kind in ("greater_than_equal", "less_than_equal", "less_than", "greater_than"):
        return f"取值超出范围（{err.get('msg')}）"
    if kind.startswith("float") or kind.startswith("int"):
        return f"应为数字，实际为 {err.get('input')!r}"
    return str(err.get("msg", "")).removeprefix("Value error, ")
