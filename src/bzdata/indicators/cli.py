"""`bzdata indicators template|ingest`: the 指标 reporting channel on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bzdata import config
from bzdata.arguments import period_arg


def _work(args: argparse.Namespace) -> Path:
    return Path(args.work).expanduser().resolve() if args.work else config.settings().work_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "indicators",
        help="指标库：生成部门填报模板、接收填报文件、生成指标报告",
        description=(
            "规划指标表 45 项指标：由部门填报的指标按部门和报送期生成 XLSX 模板，"
            "接收、校验并按版本保存回报的文件；按报送期汇总平台计算和部门填报的值，生成指标报告。"
        ),
    )
    commands = parser.add_subparsers(dest="indicators_command", required=True, metavar="<子命令>")
    work_help = "工作目录（默认 ./work，可用环境变量 BZDATA_WORK 指定）"
    tpl = commands.add_parser("template", help="生成某部门某报送期的填报模板")
    tpl.add_argument("--dept", required=True, metavar="CODE", help="部门代码，如 wjw")
    tpl.add_argument("--period", type=period_arg, required=True, metavar="YYYY-MM", help="报送期")
    tpl.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="输出目录（默认 <工作目录>/indicators/templates/<期>）",
    )
    tpl.add_argument("--work", metavar="DIR", help=work_help)
    tpl.set_defaults(func=run_template)
    ing = commands.add_parser(
        "ingest", help="接收填报文件：校验后按版本保存，坏行写明文件、行和原因"
    )
    ing.add_argument("files", nargs="+", type=Path, metavar="FILE", help="回报的 XLSX 文件")
    ing.add_argument("--work", metavar="DIR", help=work_help)
    ing.set_defaults(func=run_ingest)
    rep = commands.add_parser(
        "report",
        help="生成某报送期的指标报告（指标库、序列、进度；XLSX 和 HTML）",
        description=(
            "汇总规划指标表 45 项指标本期的值（平台计算、需求清单、部门填报），"
            "写入 <工作目录>/indicators/<期>/：index.html 和 指标报告_<年月>.xlsx。"
        ),
    )
    rep.add_argument("--period", type=period_arg, required=True, metavar="YYYY-MM", help="报送期")
    rep.add_argument("--work", metavar="DIR", help=work_help)
    rep.set_defaults(func=run_report)


def run_template(args: argparse.Namespace) -> int:
    from bzdata.indicators import template
    from bzdata.registry import load_registry

    work = _work(args)
    out = args.out or work / "indicators" / "templates" / args.period
    try:
        path = template(load_registry(), args.dept, args.period, work / "lake", out)
    except (KeyError, ValueError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def run_ingest(args: argparse.Namespace) -> int:
    from bzdata.indicators import IndicatorFileError, ingest_file, read_rejects
    from bzdata.registry import load_registry

    registry, lake, failed = load_registry(), _work(args) / "lake", 0
    for path in args.files:
        try:
            row = ingest_file(registry, path, lake)
        except IndicatorFileError as exc:
            print(f"拒收：{exc}", file=sys.stderr)
            failed += 1
            continue
        print(
            f"{path.name}：读取 {row['rows_read']} 行，接收 {row['rows_accepted']}，"
            f"拒收 {row['rows_rejected']}"
        )
        for reject in read_rejects(lake).to_pylist():
            if reject["delivery_id"] == row["delivery_id"]:
                print(
                    f"  - {reject['source_file']} 第 {reject['source_row']} 行：{reject['reason']}"
                )
    return 1 if failed else 0


def run_report(args: argparse.Namespace) -> int:
    from bzdata.indicators.report import build_report, summary

    folder, rows = build_report(_work(args), args.period)
    figures = summary(rows)
    print(folder)
    print(
        f"规划指标 {figures['indicators']} 项：本期有值 {figures['with_value']}"
        f"（平台计算 {figures['computed']}，部门填报 {figures['reported']}），"
        f"已达标 {figures['met']}，按进度或已达标 {figures['on_track']}，"
        f"滞后 {figures['lagging']}，"
        f"缺报或被拒 {figures['missing']}，无责任部门 {figures['no_department']}，"
        f"无数据 {figures['no_data']}"
    )
    return 0
