"""`bzdata catalog`: rebuild the embedded catalogue and search it from the terminal."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bzdata import config


def _work(args: argparse.Namespace) -> Path:
    return Path(args.work).expanduser().resolve() if args.work else config.settings().work_dir


def _build(args: argparse.Namespace) -> int:
    from bzdata.catalog.build import build_catalogue

    summary = build_catalogue(_work(args))
    print(
        f"目录已重建：{summary.entries} 个条目，{summary.edges} 条血缘，"
        f"用时 {summary.seconds:.1f} 秒 → {summary.path}"
    )
    return 0


def _search(args: argparse.Namespace) -> int:
    from bzdata.catalog.store import load_catalogue

    try:
        catalogue = load_catalogue(_work(args))
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    filters = {
        "provider": args.dept,
        "layer": args.layer,
        "share": args.share,
        "open": args.open,
        "security_level": args.security,
        "update_cycle": args.cycle,
    }
    hits = catalogue.search(args.query, filters=filters, limit=args.limit)
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("没有找到匹配的目录条目")
    for rank, hit in enumerate(hits, start=1):
        print(f"{rank:>2}. {hit.name_highlighted}  [{hit.layer}·{hit.provider or '—'}] {hit.id}")
        if hit.snippet:
            print(f"    {hit.snippet}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "catalog",
        help="公共数据资源目录：重建与检索",
        description="公共数据资源目录（GB/T 21063）：重建目录、中文/拼音检索。",
    )
    commands = parser.add_subparsers(title="子命令", dest="catalog_command", metavar="<子命令>")
    work = argparse.ArgumentParser(add_help=False)
    work.add_argument("--work", metavar="DIR", help="工作目录（默认 ./work 或 BZDATA_WORK）")
    build = commands.add_parser(
        "build", parents=[work], help="从登记册、dbt 产物、报送台账和质量结果重建目录"
    )
    build.set_defaults(func=_build)
    search = commands.add_parser("search", parents=[work], help="检索目录（中文、全拼或首字母）")
    search.add_argument("query", help="检索词，例如 人口、renkou、rk")
    search.add_argument("--dept", help="提供部门代码，例如 gaj")
    search.add_argument(
        "--layer", help="层级：资源目录、原始区、staging、基础库、主题库、专题库、指标库"
    )
    search.add_argument("--share", help="共享属性：无条件共享、有条件共享、不予共享")
    search.add_argument("--open", help="开放属性：无条件开放、有条件开放、不予开放")
    search.add_argument("--security", help="安全级别，例如 一般、重要")
    search.add_argument("--cycle", help="更新周期，例如 每月")
    search.add_argument("--limit", type=int, default=10, help="最多返回多少条（默认 10）")
    search.add_argument("--json", action="store_true", help="以 JSON 输出")
    search.set_defaults(func=_search)
    from bzdata.catalog.openmetadata.cli import add_publish_parser

    add_publish_parser(commands, parents=[work])
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
