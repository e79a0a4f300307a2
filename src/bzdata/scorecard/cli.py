"""`bzdata scorecard`: build one period's 数据晾晒台 and print the ranking (or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

from bzdata.arguments import period_arg


def _pad(text: str, width: int, right: bool = False) -> str:
    """Pad to a terminal width where CJK characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    fill = " " * max(0, width - used)
    return fill + text if right else text + fill


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scorecard",
        help="生成某月的数据晾晒台：部门评分、赛马排名、报告和工作簿",
        description=(
            "按归集清单、质量检查结果和资源目录，计算各部门的编目、归集、质量、整改得分和综合得分，"
            "排出名次（赛马）并与上月比较；写出 HTML 报告、XLSX 工作簿、SVG/PNG 图表和"
            "scores.json、scores.parquet，位于 <工作目录>/scorecard/<YYYY-MM>/。"
            "权重与阈值见 catalog/scorecard.yaml。"
        ),
    )
    parser.add_argument(
        "--period", type=period_arg, required=True, metavar="YYYY-MM", help="报告期（月份）"
    )
    parser.add_argument(
        "--work",
        type=Path,
        metavar="DIR",
        help="工作目录（默认 ./work，可用环境变量 BZDATA_WORK 指定）",
    )
    parser.add_argument(
        "--json", action="store_true", help="把 scores.json 的内容输出到标准输出，而不是排名表"
    )
    parser.add_argument("--no-png", action="store_true", help="不用 Chromium 生成 PNG 图表")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bzdata import config
    from bzdata.registry import RegistryError
    from bzdata.scorecard.build import build_scorecard
    from bzdata.scorecard.charts import movement
    from bzdata.scorecard.compute import ScorecardError
    from bzdata.scorecard.config import SECTIONS, ScorecardConfigError
    from bzdata.scorecard.render import RenderError

    work = args.work.expanduser().resolve() if args.work else config.settings().work_dir
    try:
        folder = build_scorecard(work, args.period, png=not args.no_png)
    except (ScorecardError, ScorecardConfigError, RenderError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except RegistryError as exc:
        print(f"资源目录有误：{exc}", file=sys.stderr)
        return 2
    document = json.loads((folder / "scores.json").read_text(encoding="utf-8"))
    if args.json:
        print(json.dumps(document, ensure_ascii=False, indent=1))
        return 0
    print(f"{document['title']} {document['period_label']}")
    heads = "".join(_pad(h, 8, right=True) for h in ("综合", "编目", "归集", "质量", "整改"))
    print(f"{_pad('名次', 4, right=True)}  {_pad('变化', 6)}{_pad('部门', 18)}{heads}")
    for dept in document["departments"]:
        scores = [dept["composite"]] + [dept["sections"][s]["score"] for s in SECTIONS]
        cells = "".join(_pad("—" if v is None else f"{v:.2f}", 8, right=True) for v in scores)
        rank = "—" if dept["rank"] is None else str(dept["rank"])
        change = movement(dept["rank_change"], dept["prev_rank"])
        print(
            f"{_pad(rank, 4, right=True)}  {_pad(change, 6)}{_pad(dept['short_name'], 18)}{cells}"
        )
    for note in document["notes"]:
        print(f"注：{note}")
    print(f"报告：{folder / 'report' / 'index.html'}")
    print(f"工作簿：{folder / ('数据晾晒台_' + document['period_label'] + '.xlsx')}")
    return 0
