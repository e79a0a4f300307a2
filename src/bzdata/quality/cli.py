"""`bzdata quality`: run the checks of a period, report results, regenerate the rule files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bzdata import config
from bzdata.arguments import period_arg


def _work(args: argparse.Namespace) -> Path:
    return Path(args.work).expanduser().resolve() if args.work else config.settings().work_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quality",
        help="校核：按规则检查数据质量，列出每条问题记录并跟踪整改",
        description=(
            "质量校核（一数一源、多源校核）：规则在 expectations/ 中（rules/ 由登记簿生成，"
            "custom/ 为手写规则），由 Great Expectations 在数据仓库中校验，"
            "每条不通过的记录记为一个问题，跨期跟踪新发现、未整改、已整改和复发。"
        ),
    )
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
    actions = parser.add_subparsers(title="子命令", dest="quality_command", metavar="<子命令>")

    check = actions.add_parser(
        "check",
        help="校核一个报送期（治理完成后运行）",
        description=(
            "对一个报送期运行全部质量规则，结果写入 <工作目录>/lake/quality/"
            "（rule_results、issues、issue_status），GX 数据文档在 <工作目录>/quality/gx/。"
            "退出码：0 完成；1 有“严重”级规则未通过（下游应停止）；2 校验无法执行或规则出错。"
        ),
    )
    check.add_argument("--period", type=period_arg, required=True, metavar="YYYY-MM", help="报送期")
    check.add_argument("--work", metavar="DIR", help="工作目录（默认 ./work 或 BZDATA_WORK）")
    check.add_argument("--no-docs", action="store_true", help="不更新 GX 数据文档")
    check.add_argument(
        "--rules",
        metavar="DIR",
        help="规则目录（含 rules/、custom/、suites/；默认仓库的 expectations/）",
    )
    check.add_argument("--json", action="store_true", help="以 JSON 输出结果摘要")
    check.set_defaults(func=run_check)

    report = actions.add_parser(
        "report",
        help="按部门、维度和规则汇总一个报送期的校核结果",
        description=(
            "汇总已校核报送期的结果：按部门、GB/T 36344 维度和规则列出通过率与问题整改情况。"
        ),
    )
    report.add_argument(
        "--period", type=period_arg, metavar="YYYY-MM", help="报送期（默认最近一期）"
    )
    report.add_argument("--work", metavar="DIR", help="工作目录（默认 ./work 或 BZDATA_WORK）")
    report.add_argument("--json", action="store_true", help="以 JSON 输出")
    report.add_argument(
        "--top", type=int, default=20, metavar="N", help="列出不通过最多的 N 条规则"
    )
    report.set_defaults(func=run_report)

    rules = actions.add_parser(
        "rules",
        help="根据登记簿生成默认规则，并把全部规则编译为 GX 校验套件",
        description="重新生成 expectations/rules/*.yaml（来自登记簿）和 expectations/suites/*.json"
        "（由全部规则编译）；--check 只检查已提交的文件是否最新。",
    )
    rules.add_argument("--check", action="store_true", help="只检查，不写入；不一致时返回 1")
    rules.set_defaults(func=run_rules)


def run_check(args: argparse.Namespace) -> int:
    from bzdata.quality.checks import QualityError, run_checks
    from bzdata.quality.rules import RuleError

    try:
        summary = run_checks(
            _work(args),
            args.period,
            data_docs=not args.no_docs,
            rules_root=Path(args.rules).resolve() if args.rules else None,
        )
    except (QualityError, RuleError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=1))
    else:
        counts = "，".join(f"{k} {v}" for k, v in sorted(summary.statuses.items()))
        print(
            f"校核完成：{summary.period} 期，规则 {summary.rules} 条（评估 {summary.evaluated}），"
            f"未通过 {len(summary.failed)} 条，问题记录 {summary.issues} 条（{counts or '无'}），"
            f"用时 {summary.seconds:.1f} 秒"
        )
        if summary.data_docs:
            print(f"GX 数据文档：{summary.data_docs}")
        if summary.blocking:
            print(f"严重级规则未通过：{'、'.join(summary.blocking)}", file=sys.stderr)
    return 1 if summary.stop_downstream else 0


def run_report(args: argparse.Namespace) -> int:
    from bzdata.quality.report import ReportError, render, summarise

    try:
        summary = summarise(_work(args), args.period)
    except ReportError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        print(render(summary, top=args.top))
    return 0


def run_rules(args: argparse.Namespace) -> int:
    from bzdata.quality import generate
    from bzdata.quality.rules import RuleError, default_root

    try:
        if args.check:
            problems = generate.stale()
            for line in problems:
                print(line, file=sys.stderr)
            if problems:
                print("质量规则文件不是最新：请运行 bzdata quality rules", file=sys.stderr)
                return 1
            print("质量规则与 GX 校验套件均为最新")
            return 0
        written = generate.write()
    except RuleError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(f"已生成质量规则与 GX 校验套件：更新 {len(written)} 个文件，目录 {default_root()}")
    return 0
