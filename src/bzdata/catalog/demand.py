"""供给清单 / 需求清单: demands filed against the catalogue, matched, answered and counted.

The store is an append-only JSON-lines file (`<store>/demands.jsonl`); every change appends a new
version of the demand and the latest version wins, so a catalogue rebuild never touches it and
the history of every demand is kept. A demand is answered once: the answer is checked and
appended under an exclusive lock on the store, so two answers arriving together (threads,
`serve --workers` processes, the command line) cannot both be taken. Deadlines are working
days (Mon–Fri) after filing, by the SLA of catalog/demand.yaml.

需求满足率 = 已满足 / 已到期: of the demands whose deadline has passed on the evaluation date,
those the provider answered 同意 on or before the deadline. Written per provider department and
city-wide (provider = "全市") to

    <work>/lake/catalog/demand_satisfaction/period=<YYYY-MM>/demand_satisfaction.parquet
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import yaml

from bzdata.catalog.model import Demand, Entry
from bzdata.config import project_root

STORE_FILE = "demands.jsonl"
CITY = "全市"
SATISFACTION_SCHEMA = pa.schema(
    [
        ("period", pa.string()),
        ("provider", pa.string()),
        ("due", pa.int64()),
        ("satisfied", pa.int64()),
        ("rate", pa.float64()),
    ]
)
TEMPLATE_COLUMNS = ("需求名称", "所需信息项", "用途", "需求方", "提供部门", "提出日期")


class DemandError(ValueError):
    """A demand or answer that cannot be accepted; the message is for the user (Chinese)."""


def sla_days(config_path: Path | None = None) -> dict[str, int]:
    path = config_path or project_root() / "catalog" / "demand.yaml"
    return {
        str(k): int(v)
        for k, v in yaml.safe_load(path.read_text("utf-8"))["sla_working_days"].items()
    }


def add_working_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def load_demands(store: Path | str) -> dict[str, Demand]:
    """Latest version of every demand in the store, by id."""
    path = Path(store) / STORE_FILE
    latest: dict[str, Demand] = {}
    if not path.is_file():
        return latest
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            item = Demand.from_dict(json.loads(line))
            if item.id not in latest or item.version > latest[item.id].version:
                latest[item.id] = item
    return latest


def _append(store: Path | str, demand: Demand) -> Demand:
    path = Path(store) / STORE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(demand.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return demand


def match(
    catalogue, title: str, fields: tuple[str, ...], provider: str
) -> tuple[str, Entry | None, tuple[str, ...]]:
    """(已满足 | 部分满足 | 未满足, best catalogue entry of the provider, 信息项 still missing)."""
    hits = catalogue.search(title, filters={"provider": provider, "kind": "dataset"}, limit=5)
    if not hits:
        return "未满足", None, tuple(fields)
    best, best_missing = None, None
    for hit in hits:
        entry = catalogue.entry(hit.id)
        have = set(entry.field_headers)
        missing = tuple(f for f in fields if f not in have)
        if best is None or len(missing) < len(best_missing):
            best, best_missing = entry, missing
    state = "已满足" if not best_missing else "部分满足"
    return state, best, best_missing


def file_demand(
    store: Path | str,
    catalogue,
    *,
    title: str,
    fields: list[str] | tuple[str, ...],
    purpose: str,
    requester: str,
    provider: str,
    filed: date,
    sla: dict[str, int] | None = None,
) -> Demand:
    """File one demand: matched against the catalogue, deadline by the SLA, stored as version 1."""
    for label, value in (
        ("需求名称", title),
        ("用途", purpose),
        ("需求方", requester),
        ("提供部门", provider),
    ):
        if not str(value or "").strip():
            raise DemandError(f"需求缺少“{label}”")
    fields = tuple(f.strip() for f in fields if f and f.strip())
    state, entry, missing = match(catalogue, title, fields, provider)
    sla = sla or sla_days()
    kind = entry.share if entry is not None and entry.share in sla else "未编目"
    key = "|".join([title, ",".join(fields), requester, provider, filed.isoformat()])
    demand = Demand(
        id="XQ" + hashlib.sha1(key.encode()).hexdigest()[:10].upper(),
        version=1,
        title=title,
        fields=fields,
        purpose=purpose,
        requester=requester,
        provider=provider,
        filed=filed.isoformat(),
        deadline=add_working_days(filed, sla[kind]).isoformat(),
        sla=kind,
        match=state,
        matched_entry=entry.id if entry else None,
        missing_fields=missing,
    )
    existing = load_demands(store).get(demand.id)
    return existing if existing is not None else _append(store, demand)


class AlreadyAnswered(DemandError):
    """The demand was answered before; an answer is given once."""


ANSWER_LOCK = ".answer.lock"


@contextmanager
def _answering(store: Path | str):
    """An exclusive lock on the store while an answer is checked and appended."""
    Path(store).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(store) / ANSWER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def answer_demand(
    store: Path | str, demand_id: str, answer: str, reason: str | None, answered: date
) -> Demand:
    """The provider's answer (同意 / 拒绝), given once; a refusal must give its reason."""
    with _answering(store):  # read, check and append as one step
        current = load_demands(store).get(demand_id)
        if current is None:
            raise DemandError(f"找不到需求 {demand_id}")
        if current.status != "待答复":
            when = f"，{current.answered}" if current.answered else ""
            raise AlreadyAnswered(
                f"该需求已经答复（{current.status}{when}），不能重复答复；如需更改请联系平台管理员。"
            )
        if answer not in ("同意", "拒绝"):
            raise DemandError(f"答复只能是“同意”或“拒绝”，收到“{answer}”")
        if answer == "拒绝" and not (reason or "").strip():
            raise DemandError(
                "拒绝共享需求必须说明理由（法律法规依据或不予共享的原因），请填写理由后再提交"
            )
        return _append(
            store,
            replace(
                current,
                version=current.version + 1,
                status=answer,
                answer_reason=(reason or "").strip() or None,
                answered=answered.isoformat(),
            ),
        )


def import_xlsx(store: Path | str, catalogue, path: Path | str) -> list[Demand]:
    """File every row of a filled 需求清单 template; errors name the file, row and column."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_index(0).to_python()
    if (
        not rows
        or tuple(str(c).strip() for c in rows[0][: len(TEMPLATE_COLUMNS)]) != TEMPLATE_COLUMNS
    ):
        raise DemandError(f"{path} 第 1 行应为表头：{'、'.join(TEMPLATE_COLUMNS)}")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [row[i] if i < len(row) else "" for i in range(len(TEMPLATE_COLUMNS))]
        if not any(str(c).strip() for c in cells):
            continue
        filed = cells[5]
        if isinstance(filed, str):
            try:
                filed = date.fromisoformat(filed.strip())
            except ValueError:
                raise DemandError(
                    f"{path} 第 {number} 行 F 列（提出日期）应为日期 YYYY-MM-DD，收到“{filed}”"
                ) from None
        elif isinstance(filed, datetime):
            filed = filed.date()
        elif not isinstance(filed, date):
            raise DemandError(f"{path} 第 {number} 行 F 列（提出日期）应为日期，收到“{filed}”")
        try:
            out.append(
                file_demand(
                    store,
                    catalogue,
                    title=str(cells[0]).strip(),
                    fields=str(cells[1]).replace("，", "、").replace(",", "、").split("、"),
                    purpose=str(cells[2]).strip(),
                    requester=str(cells[3]).strip(),
                    provider=str(cells[4]).strip(),
                    filed=filed,
                )
            )
        except DemandError as exc:
            raise DemandError(f"{path} 第 {number} 行：{exc}") from None
    return out


def write_template(path: Path | str) -> Path:
    """The XLSX template departments and the public fill in."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("需求清单")
    bold = book.add_format({"bold": True})
    for col, name in enumerate(TEMPLATE_COLUMNS):
        sheet.write(0, col, name, bold)
        sheet.set_column(col, col, 24)
    sheet.write_row(
        1,
        0,
        [
            "户籍人口基本信息",
            "公民身份号码、姓名、户籍地址",
            "社会救助对象核查",
            "市民政局",
            "gaj",
            "2023-03-01",
        ],
    )
    book.close()
    return path


def satisfaction(store: Path | str, period: str, as_of: date) -> pa.Table:
    """需求满足率 per provider department and city-wide, as of `as_of`."""
    counts: dict[str, list[int]] = {}
    for demand in load_demands(store).values():
        if date.fromisoformat(demand.deadline) > as_of:
            continue
        ok = (
            demand.status == "同意"
            and demand.answered is not None
            and demand.answered <= demand.deadline
        )
        for key in (demand.provider, CITY):
            pair = counts.setdefault(key, [0, 0])
            pair[0] += 1
            pair[1] += int(ok)
    rows = [
        {"period": period, "provider": k, "due": v[0], "satisfied": v[1], "rate": v[1] / v[0]}
        for k, v in sorted(counts.items())
    ]
    return pa.Table.from_pylist(rows, schema=SATISFACTION_SCHEMA)


def satisfaction_file(work_dir: Path | str, period: str) -> Path:
    return (
        Path(work_dir)
        / "lake"
        / "catalog"
        / "demand_satisfaction"
        / f"period={period}"
        / "demand_satisfaction.parquet"
    )


def write_satisfaction(work_dir: Path | str, store: Path | str, period: str, as_of: date) -> Path:
    from bzdata.storage import write_parquet

    path = satisfaction_file(work_dir, period)
    write_parquet(satisfaction(store, period, as_of), path)
    return path


@dataclass(frozen=True)
class Satisfaction:
    """需求满足率 of one provider department (or 全市): 已满足 / 已到期 demands of the period."""

    provider: str  # department code, or CITY
    due: int  # 已到期: demands whose answer deadline has passed by the period's end
    satisfied: int  # 已满足: of those, agreed (同意) by the deadline

    @property
    def rate(self) -> float | None:
        """0..1, or None when nothing was due (no rate, rather than 0 % or 100 %)."""
        return self.satisfied / self.due if self.due else None


def demand_satisfaction(work_dir: Path | str, period: str) -> dict[str, Satisfaction]:
    """The period's 需求满足率 per provider department code and city-wide (key CITY), as the
    catalogue stage wrote it; {} when it has not been written for the period. The one reader
    of the figures: indicator 44 takes CITY, a department's scorecard its own code (a department
    with no due demand has no key)."""
    import pyarrow.parquet as pq

    path = satisfaction_file(work_dir, period)
    if not path.is_file():
        return {}
    return {
        row["provider"]: Satisfaction(row["provider"], int(row["due"]), int(row["satisfied"]))
        for row in pq.read_table(path, columns=["provider", "due", "satisfied"]).to_pylist()
    }
