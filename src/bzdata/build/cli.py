"""`bzdata build`: run the dbt project (staging → 基础库 → 多源校核) on the work folder's
warehouse; `bzdata build sources` regenerates the dbt files that come from the registry."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bzdata import config
from bzdata.arguments import period_arg, positive_int


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "build",
        help="治理：运行 dbt，生成 staging、基础库和多源校核结果",
        description=(
            "在工作目录的数据仓库（warehouse/bzdata.duckdb）上运行一次 dbt build："
            "各数据集的规范化（staging）、六个基础库和多源校核，随后生成数据文档"
            "（manifest.json、catalog.json、run_results.json 写入 <工作目录>/dbt/target）。"
            "子命令 sources 根据登记簿重新生成 dbt 的源、staging 和校核模型。"
        ),
    )
    parser.add_argument(
        "--work", metavar="DIR", help="工作目录（默认 ./work，可用环境变量 BZDATA_WORK 指定）"
    )
    parser.add_argument(
        "--period", type=period_arg, metavar="YYYY-MM", help="基础库所属报送期（默认取最新一期）"
    )
    parser.add_argument("--select", metavar="选择器", help="只构建选中的 dbt 节点（dbt 选择语法）")
    parser.add_argument(
        "--threads", type=positive_int, default=2, metavar="N", help="dbt 并行线程数，默认 2"
    )
    parser.add_argument("--no-docs", action="store_true", help="不生成数据文档（catalog.json）")
    parser.set_defaults(func=run_build)
    actions = parser.add_subparsers(title="子命令", dest="build_command", metavar="<子命令>")
    sources = actions.add_parser(
        "sources",
        help="根据登记簿生成 dbt 源、staging、最新状态和多源校核模型",
        description="根据 catalog/registry 重新生成 dbt_project 中由登记簿决定的文件；"
        "--check 只检查已提交的文件是否与登记簿一致。",
    )
    sources.add_argument(
        "--check", action="store_true", help="只检查，不写入；不一致时返回非零退出码"
    )
    sources.set_defaults(func=run_sources)


def run_sources(args: argparse.Namespace) -> int:
    from bzdata.build import generate
    from bzdata.build.dbt import PROJECT_DIR

    if args.check:
        problems = generate.stale(PROJECT_DIR)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("dbt 文件与登记簿不一致：请运行 bzdata build sources", file=sys.stderr)
            return 1
        print("dbt 文件与登记簿一致")
        return 0
    written = generate.write(PROJECT_DIR)
    print(f"已根据登记簿生成 dbt 文件：更新 {len(written)} 个，目录 {PROJECT_DIR}")
    return 0


def run_build(args: argparse.Namespace) -> int:
    from bzdata.build.dbt import BuildError, build

    settings = config.settings()
    work = Path(args.work).expanduser().resolve() if args.work else settings.work_dir
    try:
        result = build(
            work,
            period=args.period,
            select=args.select,
            threads=args.threads,
            docs=not args.no_docs,
        )
    except BuildError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    counts = "，".join(f"{k} {v}" for k, v in sorted(result.counts.items()))
    for line in result.problems:
        print(f"  {line}", file=sys.stderr)
    verdict = "完成" if result.success else "失败"
    print(
        f"治理{verdict}：{counts or '无节点'}，用时 {result.seconds:.1f} 秒，文档在 {result.target}"
    )
    return 0 if result.success else 1
