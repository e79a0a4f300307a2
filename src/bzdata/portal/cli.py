"""`bzdata serve` (the portal), `bzdata portal user add|disable` and `bzdata portal publish`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from bzdata.arguments import period_arg, positive_int


def _work(args: argparse.Namespace) -> Path:
    from bzdata import config

    return Path(args.work).expanduser().resolve() if args.work else config.settings().work_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="启动门户网站（目录、需求清单、数据晾晒台、指标库、部门问题清单）",
        description="启动门户网站，读取工作目录中已发布的快照（published/current），从不读取运行中的仓库。",
    )
    serve.add_argument("--work", metavar="DIR", help="工作目录（默认 ./work 或 BZDATA_WORK）")
    serve.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    serve.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    serve.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="N",
        help="工作进程数（默认 1）；各进程只读打开同一快照，请求限速按进程计",
    )
    serve.add_argument(
        "--rate-limit",
        type=positive_int,
        default=50,
        metavar="N",
        help="每个客户端每秒最多请求数（默认 50）",
    )
    serve.set_defaults(func=run_serve)

    portal = subparsers.add_parser("portal", help="门户管理：发布快照、部门账号")
    portal.set_defaults(func=lambda args: portal.print_help() or 2)
    actions = portal.add_subparsers(title="子命令", dest="portal_command", metavar="<子命令>")
    publish = actions.add_parser("publish", help="把某期的晾晒、问题清单和指标发布为门户快照")
    publish.add_argument("--period", type=period_arg, required=True, metavar="YYYY-MM")
    publish.add_argument("--work", metavar="DIR", help="工作目录")
    publish.set_defaults(func=run_publish)
    user = actions.add_parser("user", help="部门账号：add 新建，disable 停用")
    user.set_defaults(func=lambda args: user.print_help() or 2)
    ops = user.add_subparsers(title="操作", dest="user_command", metavar="<操作>")
    add = ops.add_parser("add", help="新建账号（密码从环境变量 BZDATA_PORTAL_PASSWORD 或提示输入）")
    add.add_argument("username")
    add.add_argument("--dept", required=True, help="部门代码（admin 为平台管理员）")
    add.add_argument("--work", metavar="DIR", help="工作目录")
    add.set_defaults(func=run_user_add)
    disable = ops.add_parser("disable", help="停用账号并结束其全部会话")
    disable.add_argument("username")
    disable.add_argument("--work", metavar="DIR", help="工作目录")
    disable.set_defaults(func=run_user_disable)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bzdata import snapshot
    from bzdata.portal.app import create_app

    work = _work(args)
    if snapshot.current(work) is None:
        print(
            f"提示：{work} 中还没有发布的快照，请先运行 bzdata demo 或 bzdata portal publish",
            file=sys.stderr,
        )
    print(f"门户：http://{args.host}:{args.port}/ （快照目录 {snapshot.root(work)}）")
    if args.workers == 1:
        app = create_app(work, rate_limit=args.rate_limit)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return 0
    from bzdata.portal import accounts
    from bzdata.portal.app import RATE_VARIABLE, WORK_VARIABLE

    accounts.secret_key(work)  # one key for all workers, made before any of them starts
    os.environ[WORK_VARIABLE] = str(work)
    os.environ[RATE_VARIABLE] = str(args.rate_limit)
    uvicorn.run(
        "bzdata.portal.app:app_from_environment",
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_level="warning",
    )
    return 0


def run_publish(args: argparse.Namespace) -> int:
    from bzdata import snapshot

    try:
        snap = snapshot.publish(_work(args), args.period)
    except snapshot.SnapshotError as exc:
        print(f"发布失败：{exc}", file=sys.stderr)
        return 1
    print(f"已发布 {snap.period} 快照 {snap.id}（{len(snap.manifest['files'])} 个文件）")
    return 0


def run_user_add(args: argparse.Namespace) -> int:
    from bzdata.portal.accounts import AccountError, Accounts

    password = os.environ.get("BZDATA_PORTAL_PASSWORD") or getpass.getpass("密码：")
    try:
        Accounts(_work(args)).add(args.username, args.dept, password)
    except AccountError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"已新建账号 {args.username}（部门 {args.dept}）")
    return 0


def run_user_disable(args: argparse.Namespace) -> int:
    from bzdata.portal.accounts import AccountError, Accounts

    try:
        Accounts(_work(args)).disable(args.username)
    except AccountError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"已停用账号 {args.username}")
    return 0
