"""`bzdata synth`: generate synthetic Binzhou with its defect ledger."""

from __future__ import annotations

import argparse
from pathlib import Path

from bzdata.arguments import period_arg, positive_int
from bzdata.synth.world import SCALES


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="生成合成滨州：真实世界、各部门月度数据和缺陷台账",
        description=(
            "按固定随机种子生成合成滨州：真实世界（人口、市场主体、不动产等）、各部门按自身习惯报送的"
            "月度数据（GBK/UTF-8 CSV、带标题行的 XLSX、JSON Lines、前置库表），"
            "以及注入的每一处缺陷台账。"
            "相同种子生成的文件逐字节相同。"
        ),
    )
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="demo",
        help="规模：demo 约2万人（数秒），city 393万人（全市规模）；默认 demo",
    )
    parser.add_argument("--months", type=positive_int, default=3, help="生成的月份数，默认 3")
    parser.add_argument(
        "--start", type=period_arg, default="2023-01", help="起始月份 YYYY-MM，默认 2023-01"
    )
    parser.add_argument("--seed", type=int, default=20230101, help="随机种子，默认 20230101")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="输出目录")
    parser.add_argument(
        "--defect-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="缺陷率倍数（0 表示不注入缺陷），默认 1",
    )
    parser.add_argument(
        "--file-artefacts",
        type=float,
        default=0.0,
        metavar="P",
        help="带文件瑕疵（UTF-16、末尾空列、截断末行等）的文件报送所占比例（0–1），默认 0",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bzdata.synth import Rates, generate

    rates = Rates().scaled(args.defect_scale)
    summary = generate(
        args.out,
        scale=args.scale,
        months=args.months,
        seed=args.seed,
        start_period=args.start,
        rates=rates,
        file_artefacts=args.file_artefacts,
    )
    late = sum(d["status"] == "late" for d in summary.deliveries)
    missing = sum(d["status"] == "missing" for d in summary.deliveries)
    print(
        f"已生成 {len(summary.periods)} 个月（{summary.periods[0]} 至 {summary.periods[-1]}），"
        f"{len(summary.deliveries)} 次报送（迟报 {late}，未报 {missing}），"
        f"缺陷台账 {summary.defects:,} 条，输出目录 {summary.out_dir}"
    )
    return 0
