"""供给清单: what each provider department supplies, read from the built catalogue.

One row per 资源目录 entry (a registry dataset delivered through the platform, or a resource
registered but not delivered here) with its 信息项, 共享属性/共享条件, 开放属性/开放条件,
更新周期 and last successful update. The catalogue is the source, so a dataset held back by the
period's severity hold is not offered. `write_xlsx` exports it for Excel: a 汇总 sheet per
department and a 供给清单 sheet with a frozen, filterable header, codes kept as text and the
last update as a real date-time cell.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bzdata.catalog.model import OPEN_TYPES, SHARE_TYPES, Entry

ALL_DEPARTMENTS = None
COLUMNS: tuple[tuple[str, int], ...] = (  # (header, Excel column width)
    ("提供部门代码", 12),
    ("提供部门", 20),
    ("资源代码", 18),
    ("数据资源名称", 36),
    ("信息项", 60),
    ("信息项数", 8),
    ("共享属性", 12),
    ("共享条件", 30),
    ("开放属性", 12),
    ("开放条件", 30),
    ("更新周期", 10),
    ("资源格式", 12),
    ("经平台汇聚", 10),
    ("最近更新（UTC）", 18),
    ("目录条目", 18),
)


class SupplyError(ValueError):
    """A 供给清单 request that cannot be answered; the message is for the user (Chinese)."""


@dataclass(frozen=True)
class SupplyItem:
    """One resource a department supplies, with the attributes it is shared and opened under."""

    provider: str
    provider_name: str
    resource_code: str | None
    name: str
    fields: tuple[str, ...]  # 信息项 names
    share: str | None
    share_condition: str | None
    open: str | None
    open_condition: str | None
    update_cycle: str | None
    format: str | None
    delivered: bool  # delivered through the platform (else registered only)
    last_update: str | None  # ISO timestamp of the last successful delivery
    entry_id: str

    @classmethod
    def of(cls, entry: Entry) -> SupplyItem:
        return cls(
            provider=entry.provider or "",
            provider_name=entry.provider_name or entry.provider or "",
            resource_code=entry.resource_code,
            name=entry.name,
            fields=entry.field_headers,
            share=entry.share,
            share_condition=entry.share_condition,
            open=entry.open,
            open_condition=entry.open_condition,
            update_cycle=entry.update_cycle,
            format=entry.format,
            delivered=entry.delivered,
            last_update=entry.last_success,
            entry_id=entry.id,
        )


def supply_list(entries: Iterable[Entry], dept: str | None = ALL_DEPARTMENTS) -> list[SupplyItem]:
    """The 供给清单 of one department (or all), ordered by department, then resource code."""
    items = [
        SupplyItem.of(e)
        for e in entries
        if e.kind == "dataset" and e.provider and (dept is None or e.provider == dept)
    ]
    return sorted(items, key=lambda i: (i.provider, i.resource_code or "", i.entry_id))


def check_department(dept: str, known: Iterable[str]) -> None:
    known = sorted(set(known))
    if dept not in known:
        raise SupplyError(f"未知的部门代码 {dept}：应为 {'、'.join(known)} 之一")


def _stamp(value: str | None) -> datetime | None:
    """The last update as a naive UTC datetime for Excel (None when there is none)."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _condition(kind: str | None, condition: str | None) -> str:
    return f"{kind or '未注明'}（{condition}）" if condition else (kind or "未注明")


def describe(items: Sequence[SupplyItem]) -> list[str]:
    """Terminal lines: each department's totals, then one block per resource."""
    lines: list[str] = []
    current = None
    for item in items:
        if item.provider != current:
            current = item.provider
            own = [i for i in items if i.provider == current]
            delivered = sum(i.delivered for i in own)
            if lines:
                lines.append("")
            lines.append(
                f"{item.provider_name}（{item.provider}）：供给 {len(own)} 个数据资源，"
                f"其中经平台汇聚 {delivered} 个"
            )
        stamp = _stamp(item.last_update)
        updated = stamp.strftime("%Y-%m-%d %H:%M UTC") if stamp else "无"
        lines.append(f"  {item.resource_code or '—'} {item.name}")
        lines.append(
            f"    共享：{_condition(item.share, item.share_condition)}；"
            f"开放：{_condition(item.open, item.open_condition)}；"
            f"更新周期：{item.update_cycle or '未注明'}；最近更新：{updated}"
        )
        lines.append(f"    信息项（{len(item.fields)}）：{'、'.join(item.fields) or '无'}")
    if not lines:
        lines.append("没有供给的数据资源")
    return lines


def write_xlsx(items: Sequence[SupplyItem], path: Path | str) -> Path:
    """Write the 供给清单 workbook whole (a temporary file renamed into place)."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xlsx")
    book = xlsxwriter.Workbook(
        str(tmp),
        {"strings_to_numbers": False, "strings_to_urls": False, "strings_to_formulas": False},
    )
    try:
        book.set_properties({"title": "数据供给清单", "author": "滨州公共数据平台"})
        head = book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}
        )
        text = book.add_format({"num_format": "@"})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        _summary(book.add_worksheet("汇总"), items, head)
        sheet = book.add_worksheet("供给清单")
        for col, (label, width) in enumerate(COLUMNS):
            sheet.set_column(col, col, width, wrap if label == "信息项" else None)
            sheet.write_string(0, col, label, head)
        for row, item in enumerate(items, start=1):
            values = (
                item.provider,
                item.provider_name,
                item.resource_code or "",
                item.name,
                "、".join(item.fields),
            )
            for col, value in enumerate(values):
                sheet.write_string(row, col, value, text)
            sheet.write_number(row, 5, len(item.fields))
            for col, value in enumerate(
                (
                    item.share,
                    item.share_condition,
                    item.open,
                    item.open_condition,
                    item.update_cycle,
                    item.format,
                    "是" if item.delivered else "否",
                ),
                start=6,
            ):
                sheet.write_string(row, col, value or "")
            stamp = _stamp(item.last_update)
            if stamp is None:
                sheet.write_blank(row, 13, None)
            else:
                sheet.write_datetime(row, 13, stamp, when)
            sheet.write_string(row, 14, item.entry_id, text)
        sheet.freeze_panes(1, 4)
        sheet.autofilter(0, 0, len(items), len(COLUMNS) - 1)
    finally:
        book.close()
    os.replace(tmp, path)
    return path


def _summary(sheet, items: Sequence[SupplyItem], head) -> None:
    """One row per department: resources supplied, delivered, and counts by 共享/开放属性."""
    headers = ["提供部门代码", "提供部门", "数据资源数", "经平台汇聚数", *SHARE_TYPES, *OPEN_TYPES]
    for col, label in enumerate(headers):
        sheet.set_column(col, col, 20 if col == 1 else 12)
        sheet.write_string(0, col, label, head)
    departments: dict[str, list[SupplyItem]] = {}
    for item in items:
        departments.setdefault(item.provider, []).append(item)
    for row, (code, own) in enumerate(sorted(departments.items()), start=1):
        sheet.write_string(row, 0, code)
        sheet.write_string(row, 1, own[0].provider_name)
        sheet.write_number(row, 2, len(own))
        sheet.write_number(row, 3, sum(i.delivered for i in own))
        for col, kind in enumerate(SHARE_TYPES, start=4):
            sheet.write_number(row, col, sum(i.share == kind for i in own))
        for col, kind in enumerate(OPEN_TYPES, start=4 + len(SHARE_TYPES)):
            sheet.write_number(row, col, sum(i.open == kind for i in own))
    sheet.freeze_panes(1, 2)
