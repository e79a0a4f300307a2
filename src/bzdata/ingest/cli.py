"""`bzdata ingest` (汇聚 one period into the lake and refresh the warehouse) and `bzdata status`
(what the manifest says per dataset and period, as a Chinese table or JSON)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from bzdata import config, progress
from bzdata.arguments import period_arg
from bzdata.ingest.paths import Paths

STATUS_LABELS = {
    "loaded": "已入库",
    "duplicate": "重复报送",
    "quarantined": "已隔离",
    "missing": "未报送",
}
# Exit code when another process holds the warehouse writer lock (EX_TEMPFAIL: retry later).
EXIT_BUSY = 75


def _logical_date(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"逻辑日期应为 ISO 格式，例如 2023-02-01T00:00:00+00:00，而不是 {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def default_logical_date(period: str) -> datetime:
    """The end of the period's data interval (midnight UTC on the 1st of the next month)."""
    year, month = int(period[:4]), int(period[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def _work(args: argparse.Namespace) -> Path:
    return Path(args.work).expanduser().resolve() if args.work else config.settings().work_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    work_help = "工作目录（默认 ./work，可用环境变量 BZDATA_WORK 指定）"
    ingest = subparsers.add_parser(
        "ingest",
        help="汇聚：把某一期的各部门报送载入原始区并刷新数据仓库",
        description=(
            "汇聚一期数据：读取落地区（work/synth/landing）中各部门报送的文件和前置库表，"
            "自动识别编码，逐行校验后写入原始区 Parquet（work/lake/raw），"
            "坏行进入拒收表，无法读取的文件进入隔离区，每个文件记入清单；"
            "最后刷新数据仓库的 raw 视图。"
            "同一期重跑得到逐字节相同的结果。"
        ),
    )
    ingest.add_argument("--period", type=period_arg, required=True, metavar="YYYY-MM", help="期次")
    ingest.add_argument("--work", metavar="DIR", help=work_help)
    ingest.add_argument(
        "--logical-date",
        type=_logical_date,
        metavar="ISO",
        help="逻辑日期，写入 _loaded_at（默认为期次次月 1 日 0 时 UTC）",
    )
    ingest.set_defaults(func=run_ingest)
    status = subparsers.add_parser(
        "status",
        help="查看汇聚清单：各数据集每期的文件、行数、状态",
        description="按数据集和期次汇总汇聚清单（work/lake/manifest）：报送状态、读取/入库/拒收行数、迟报和编码。",
    )
    status.add_argument("--period", type=period_arg, metavar="YYYY-MM", help="只看这一期")
    status.add_argument("--json", action="store_true", help="输出 JSON（供程序读取）")
    status.add_argument("--work", metavar="DIR", help=work_help)
    status.set_defaults(func=run_status)


def run_ingest(args: argparse.Namespace) -> int:
    from bzdata.ingest.load import ingest_dataset
    from bzdata.ingest.lock import WriterBusy, writer_lock
    from bzdata.ingest.warehouse import refresh_warehouse
    from bzdata.registry import load_registry

    paths = Paths.from_work(_work(args))
    if not paths.landing.is_dir():
        print(
            f"落地区 {paths.landing} 不存在：请先运行 bzdata synth --out {paths.landing.parent}"
            " 或 bzdata demo",
            file=sys.stderr,
        )
        return 2
    period = args.period
    logical = args.logical_date or default_logical_date(period)
    run_id = f"cli-{period}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}"
    datasets = load_registry().datasets
    try:
        with writer_lock(paths, run_id, f"bzdata ingest --period {period}"):
            with progress.task(f"汇聚 {period}", total=len(datasets)) as advance:
                for ds in datasets:
                    ingest_dataset(ds.id, period, logical, paths, run_id)
                    advance()
            with progress.step("刷新数据仓库 raw 视图"):
                refresh_warehouse(paths, run_id=run_id)
    except WriterBusy as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_BUSY
    print(_table(_summaries(paths.lake, period)))
    return 0


def run_status(args: argparse.Namespace) -> int:
    paths = Paths.from_work(_work(args))
    summaries = _summaries(paths.lake, args.period)
    if args.json:
        print(json.dumps(summaries, ensure_ascii=False, indent=1))
    elif not summaries:
        where = f"{args.period} 期" if args.period else "任何一期"
        print(f"尚无{where}的汇聚记录（{paths.lake / 'manifest'}）：请先运行 bzdata ingest")
    else:
        print(_table(summaries))
    return 0


def _summaries(lake: Path, period: str | None) -> list[dict]:
    """Manifest rows grouped per period and dataset, JSON-ready."""
    from bzdata.ingest.manifest import read_manifest

    groups: dict[tuple[str, str], dict] = {}
    for row in read_manifest(lake, period).to_pylist():
        key = (row["period"], row["dataset"])
        group = groups.setdefault(
            key,
            {
                "period": row["period"],
                "dataset": row["dataset"],
                "department": row["department"],
                "channel": row["channel"],
                "statuses": {},
                "files": 0,
                "rows_read": 0,
                "rows_accepted": 0,
                "rows_rejected": 0,
                "late": False,
                "encodings": [],
                "deliveries": [],
            },
        )
        group["statuses"][row["status"]] = group["statuses"].get(row["status"], 0) + 1
        group["files"] += row["status"] != "missing"
        for count in ("rows_read", "rows_accepted", "rows_rejected"):
            group[count] += row[count]
        group["late"] = group["late"] or bool(row["late"])
        if row["encoding"] and row["encoding"] not in group["encodings"]:
            group["encodings"].append(row["encoding"])
        group["deliveries"].append(
            {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
        )
    return list(groups.values())


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def status_label(status: str) -> str:
    """The Chinese word for a manifest status (抽取失败 comes from its one home, imported here
    so that `bzdata --help` does not load pyarrow)."""
    from bzdata.ingest.failures import FAILED, FAILED_LABEL

    return {**STATUS_LABELS, FAILED: FAILED_LABEL}.get(status, status)


def _table(summaries: list[dict]) -> str:
    head = ["期次", "数据集", "部门", "状态", "文件", "读取", "入库", "拒收", "迟报", "编码"]
    numeric = {4, 5, 6, 7}
    body = []
    notes = []
    for s in summaries:
        statuses = "、".join(status_label(k) for k in s["statuses"])
        body.append(
            [
                s["period"],
                s["dataset"],
                s["department"],
                statuses,
                str(s["files"]),
                f"{s['rows_read']:,}",
                f"{s['rows_accepted']:,}",
                f"{s['rows_rejected']:,}",
                "是" if s["late"] else "",
                "、".join(s["encodings"]),
            ]
        )
        for d in s["deliveries"]:
            if d["reason"]:
                notes.append(f"- {s['period']} {s['dataset']} {d['source']}：{d['reason']}")
    widths = [max(_width(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = []
    for cells in [head, *body]:
        padded = [
            _pad(c, w, i in numeric) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        lines.append("  ".join(padded).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    if notes:
        lines += ["", "说明：", *notes]
    return "\n".join(lines)
