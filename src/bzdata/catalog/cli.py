"""`bzdata catalog`: rebuild the embedded catalogue, search it, and list 供给/需求清单."""

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


def _supply(args: argparse.Namespace) -> int:
    from bzdata.catalog import supply
    from bzdata.catalog.store import load_catalogue
    from bzdata.registry import load_registry

    try:
        if args.dept:
            supply.check_department(args.dept, (d.code for d in load_registry().departments))
        catalogue = load_catalogue(_work(args))
    except (supply.SupplyError, FileNotFoundError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    items = supply.supply_list(catalogue.entries(), args.dept)
    catalogue.close()
    if args.xlsx:
        path = supply.write_xlsx(items, args.xlsx)
        print(f"供给清单已写入 {path}（{len(items)} 个数据资源）")
        return 0
    print("\n".join(supply.describe(items)))
    return 0


def _demand(args: argparse.Namespace) -> int:
    from datetime import date

    from bzdata.catalog import demand as demands
    from bzdata.catalog.build import demand_store
    from bzdata.catalog.store import load_catalogue

    store = Path(args.store) if args.store else demand_store(_work(args))
    try:
        if args.demand_command == "template":
            print(f"模板已写入 {demands.write_template(args.out)}")
            return 0
        if args.demand_command == "answer":
            item = demands.answer_demand(
                store, args.id, args.answer, args.reason, date.fromisoformat(args.date)
            )
            print(f"{item.id}：{item.status}（第 {item.version} 版）")
            return 0
        if args.demand_command == "list":
            for item in sorted(demands.load_demands(store).values(), key=lambda d: d.id):
                if args.dept and item.provider != args.dept:
                    continue
                gap = f"（缺 {'、'.join(item.missing_fields)}）" if item.missing_fields else ""
                print(
                    f"{item.id} {item.title} → {item.provider} {item.match}{gap} "
                    f"{item.status} 期限 {item.deadline}"
                )
            return 0
        catalogue = load_catalogue(_work(args))
        if args.demand_command == "import":
            filed = demands.import_xlsx(store, catalogue, args.file)
        else:
            filed = [
                demands.file_demand(
                    store,
                    catalogue,
                    title=args.title,
                    fields=args.fields.replace("，", "、").replace(",", "、").split("、"),
                    purpose=args.purpose,
                    requester=args.requester,
                    provider=args.provider,
                    filed=date.fromisoformat(args.date),
                )
            ]
    except (demands.DemandError, FileNotFoundError, ValueError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    for item in filed:
        gap = f"（缺 {'、'.join(item.missing_fields)}）" if item.missing_fields else ""
        print(f"{item.id} {item.match}{gap} 期限 {item.deadline}")
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
    offer = commands.add_parser(
        "supply",
        parents=[work],
        help="供给清单：各提供部门供给的数据资源及其共享、开放属性",
        description="按提供部门列出供给的数据资源：信息项、共享属性/共享条件、"
        "开放属性/开放条件、更新周期和最近更新时间。",
    )
    offer.add_argument("--dept", help="只看该提供部门（部门代码，例如 gaj）")
    offer.add_argument("--xlsx", metavar="文件", help="导出为 Excel 工作簿（.xlsx）")
    offer.set_defaults(func=_supply)
    demand = commands.add_parser("demand", help="需求清单：提出、导入、答复、查看")
    steps = demand.add_subparsers(title="子命令", dest="demand_command", metavar="<子命令>")
    store = argparse.ArgumentParser(add_help=False, parents=[work])
    store.add_argument("--store", help="需求清单存放目录（默认 <工作目录>/catalog/demands）")
    add = steps.add_parser("add", parents=[store], help="提出一条需求")
    add.add_argument("--title", required=True, help="所需资源名称")
    add.add_argument("--fields", required=True, help="所需信息项，用顿号分隔")
    add.add_argument("--purpose", required=True, help="用途")
    add.add_argument("--requester", required=True, help="需求方")
    add.add_argument("--provider", required=True, help="提供部门代码")
    add.add_argument("--date", required=True, help="提出日期 YYYY-MM-DD")
    imp = steps.add_parser("import", parents=[store], help="从 XLSX 模板导入需求")
    imp.add_argument("file", help="填好的需求清单模板（catalog/templates/需求清单模板.xlsx）")
    ans = steps.add_parser("answer", parents=[store], help="提供部门答复需求")
    ans.add_argument("id", help="需求编号")
    ans.add_argument("answer", choices=["同意", "拒绝"], help="同意 或 拒绝")
    ans.add_argument("--reason", help="拒绝理由（拒绝时必填）")
    ans.add_argument("--date", required=True, help="答复日期 YYYY-MM-DD")
    lst = steps.add_parser("list", parents=[store], help="查看需求清单")
    lst.add_argument("--dept", help="只看该提供部门")
    tpl = steps.add_parser("template", parents=[store], help="写出空白 XLSX 模板")
    tpl.add_argument("out", help="输出文件")
    for sub in (add, imp, ans, lst, tpl):
        sub.set_defaults(func=_demand)
    from bzdata.catalog.openmetadata.cli import add_publish_parser

    add_publish_parser(commands, parents=[work])
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
