"""Placeholders: what departments type for "no value" (catalog/registry/placeholders.yaml).

Staging turns a delivered placeholder into a missing value and keeps the delivered text beside
it; `text` spellings are compared trimmed and case-folded, `date` ones after date normalisation.
A spelling that is a valid code of an element's code list is never a placeholder for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from bzdata.registry.loader import default_root

FILE = "placeholders.yaml"


@dataclass(frozen=True)
class Placeholders:
    text: tuple[str, ...]
    dates: tuple[date, ...]

    def is_placeholder(self, value: str | None) -> bool:
        return value is not None and value.strip().casefold() in self.text


@lru_cache(maxsize=4)
def load_placeholders(root: Path | None = None) -> Placeholders:
    path = Path(root or default_root()) / FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems = []
    text = []
    for i, value in enumerate(data.get("text") or []):
        if not isinstance(value, str | int) or not str(value).strip():
            problems.append(f"{path.name} text[{i}]：应为非空文字，实际为 {value!r}")
        else:
            text.append(str(value).strip().casefold())
    dates = []
    for i, value in enumerate(data.get("date") or []):
        if not isinstance(value, date):
            problems.append(f"{path.name} date[{i}]：应为日期 YYYY-MM-DD，实际为 {value!r}")
        else:
            dates.append(value)
    if problems:
        raise ValueError("占位符清单有误：\n" + "\n".join(problems))
    return Placeholders(tuple(dict.fromkeys(text)), tuple(dict.fromkeys(dates)))
