"""Match a delivered header onto the registry fields and describe any schema drift in Chinese.

A delivered column matches a field by its registered `header`, else by its `column` name, both
compared after NFKC normalisation without whitespace (full-width brackets and stray spaces are
habits of export tools, not drift). What is left is drift: added columns (not loaded, reported),
missing fields (optional ones load as null, required ones quarantine the file) and probable
renames (a left-over column at the field's registered position or with a similar name).
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from bzdata.registry import Dataset

# Below this similarity two header names are not taken for a rename of each other.
RENAME_SIMILARITY = 0.5


def normalise(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


@dataclass
class HeaderMatch:
    """How the delivered header maps onto the dataset's fields."""

    dataset: Dataset
    headers: list[str]  # as delivered, stripped
    positions: list[int | None]  # per registry field: index of the delivered column, or None
    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    renamed: list[dict] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return sum(p is not None for p in self.positions)

    @property
    def missing(self) -> list:
        return [f for f, p in zip(self.dataset.fields, self.positions, strict=True) if p is None]

    @property
    def missing_required(self) -> list:
        return [f for f in self.missing if f.required]

    @property
    def reordered(self) -> bool:
        found = [p for p in self.positions if p is not None]
        return found != sorted(found)

    def add_keys(self, keys: list[str]) -> None:
        """Record columns seen after the header (JSON lines may vary key sets per record)."""
        for key in keys:
            if key not in self.added:
                self.added.append(key)

    def advice(self) -> str:
        """What the department or the registry maintainer should do, in Chinese."""
        ds = self.dataset
        yaml = f"catalog/registry/datasets/{ds.id}.yaml"
        parts = []
        for item in self.renamed:
            parts.append(
                f"表头“{item['delivered']}”疑似登记字段“{item['header']}”（{item['column']}）"
                f"改名（{item['basis']}）：如确为同一字段，请更新 {yaml} 中该字段的 header，"
                "否则请部门按登记表头修正后重新报送"
            )
        renamed = {item["delivered"] for item in self.renamed}
        extra = [h for h in self.added if h not in renamed]
        if extra:
            parts.append(f"多出的列 {'、'.join(extra)} 未入库：如需采集，请在 {yaml} 中登记为字段")
        required = self.missing_required
        optional = [f for f in self.missing if not f.required]
        if required:
            names = "、".join(f"{f.header}（{f.column}）" for f in required)
            parts.append(f"缺少必填列 {names}，文件已隔离，请部门补齐后重新报送")
        if optional:
            names = "、".join(f"{f.header}（{f.column}）" for f in optional)
            parts.append(f"缺少可选列 {names}，已按空值入库")
        if self.reordered:
            parts.append("列顺序与登记不同，已按表头名称对应")
        return "；".join(parts)

    def drift(self) -> str | None:
        """JSON for the manifest's schema_drift column; None when the header is as registered."""
        if not (self.added or self.missing or self.reordered):
            return None
        body = {
            "added": self.added,
            "missing": [
                {"column": f.column, "header": f.header, "required": f.required}
                for f in self.missing
            ],
            "renamed": self.renamed,
            "reordered": self.reordered,
            "advice": self.advice(),
        }
        return json.dumps(body, ensure_ascii=False, sort_keys=True)


def match_headers(ds: Dataset, delivered: list[str]) -> HeaderMatch:
    """Map delivered header names onto the dataset's fields."""
    headers = [(h or "").strip().lstrip("\ufeff") for h in delivered]
    lookup: dict[str, int] = {}
    for index, item in enumerate(ds.fields):
        lookup.setdefault(normalise(item.header), index)
    for index, item in enumerate(ds.fields):
        lookup.setdefault(normalise(item.column), index)
    positions: list[int | None] = [None] * len(ds.fields)
    result = HeaderMatch(ds, headers, positions)
    for place, name in enumerate(headers):
        index = lookup.get(normalise(name))
        if index is None:
            if name:
                result.added.append(name)
        elif positions[index] is None:
            positions[index] = place
        else:
            result.duplicates.append(name)
    result.renamed = _renames(ds, headers, result)
    return result


def _renames(ds: Dataset, headers: list[str], result: HeaderMatch) -> list[dict]:
    left = {h: i for i, h in enumerate(headers) if h in result.added}
    found = []
    for index, item in enumerate(ds.fields):
        if result.positions[index] is not None or not left:
            continue
        same_place = [h for h, i in left.items() if i == index]
        if same_place:
            name, basis = same_place[0], "位置相同"
        else:
            score, name = max(
                (SequenceMatcher(None, normalise(h), normalise(item.header)).ratio(), h)
                for h in left
            )
            if score < RENAME_SIMILARITY:
                continue
            basis = "名称相近"
        del left[name]
        found.append(
            {"delivered": name, "header": item.header, "column": item.column, "basis": basis}
        )
    return found
