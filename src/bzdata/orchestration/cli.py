"""`bzdata run`: run the collect DAGs of one period in this process, as a scheduler would;
`bzdata airflow ui`: Airflow's UI (api-server, scheduler, dag-processor) over the work folder's
metadata database, for looking at those runs."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bzdata.arguments import period_arg


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="在本进程内用 Airflow 运行某一报送期的汇聚 DAG",
        description=(
            "在本进程内运行某一报送期到期的汇聚 DAG 和一次发布 DAG（dag.test，无需调度器）："
            "每个数据集一个入湖任务，然后构建、校核、晾晒与发布。"
            "Airflow 的主目录和元数据库（SQLite）在 <工作目录>/airflow，"
            "首次运行时自动初始化。与调度器运行的是同一批 DAG，只是失败时不重试。"
            "任一任务失败时退出码非零。"
        ),
    )
    parser.add_argument(
        "--period",
        type=period_arg,
        metavar="YYYY-MM",
        help="报送期（默认：落地区中最新的报送期）",
    )
    parser.add_argument(
        "--work",
        type=Path,
        metavar="DIR",
        help="工作目录（默认 ./work，可用环境变量 BZDATA_WORK 指定）",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="在合成滨州上运行（等同 BZDATA_ENV=demo；否则按配置读取落地区和前置库连接）",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="显示 Airflow 的全部日志（默认只显示警告和错误）",
    )
    parser.set_defaults(func=run)
    _add_airflow_parser(subparsers)


DEFAULT_UI_PORT = 8080


def _add_airflow_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "airflow",
        help="打开 Airflow 界面（api-server、scheduler、dag-processor）查看各次运行",
        description="Airflow 的服务，使用工作目录中的元数据库（<工作目录>/airflow）。",
    )
    actions = parser.add_subparsers(title="操作", dest="action", metavar="<操作>", required=True)
    ui = actions.add_parser(
        "ui",
        help="启动 api-server、scheduler 和 dag-processor，在浏览器中打开 Airflow 界面",
        description=(
            "在本机回环地址上启动 Airflow 的 api-server、scheduler 和 dag-processor"
            "（LocalExecutor），元数据库即 bzdata run / bzdata demo 使用的那一个，"
            "所以界面中能看到它们的每次运行、任务日志和 DAG 文档。"
            "新解析出的 DAG 默认暂停，需要时在界面中启用。按 Ctrl-C 停止全部服务。"
        ),
    )
    ui.add_argument(
        "--work",
        type=Path,
        metavar="DIR",
        help="工作目录（默认 ./work，可用环境变量 BZDATA_WORK 指定）",
    )
    ui.add_argument(
        "--port",
        type=int,
        default=DEFAULT_UI_PORT,
        help=f"界面端口（默认 {DEFAULT_UI_PORT}，只监听 127.0.0.1）",
    )
    ui.add_argument(
        "--demo",
        action="store_true",
        help="任务在合成滨州上运行（等同 BZDATA_ENV=demo）",
    )
    ui.set_defaults(func=airflow_ui)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def airflow_ui(args: argparse.Namespace) -> int:
    import os
    import signal

    from bzdata import config
    from bzdata.orchestration import home as airflow_home
    from bzdata.orchestration import services

    if args.demo:
        os.environ[config.ENV_VAR] = "demo"  # this process and the services it starts
    home = airflow_home.configure(args.work, quiet=True)  # before the first `import airflow`
    if airflow_home.ensure_migrated(home):
        print(f"已初始化 Airflow 元数据库：{home.home}")
    env = services.service_environment(home, args.port)
    logs = home.home / "logs"
    print(f"启动 Airflow（{'、'.join(services.PROCESSES)}），日志在 {logs} …")
    running = services.start(env, args.port, logs)
    # Ctrl-C and a plain `kill` both end the services this command started, nothing else.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        running.wait_ready()
        print(f"Airflow 界面：{running.url}/ （按 Ctrl-C 停止）")
        while not running.dead():
            time.sleep(2)
        print(f"Airflow 服务意外退出：{'、'.join(running.dead())}\n{running.log_tail()}")
        return 1
    except KeyboardInterrupt:
        print("正在停止 Airflow 服务…")
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    finally:
        running.stop()


def config_error() -> type[Exception]:
    from bzdata.config import ConfigError

    return ConfigError


def run(args: argparse.Namespace) -> int:
    import os

    from bzdata import config
    from bzdata.orchestration.runner import RunError, run_period
    from bzdata.orchestration.schedule import ScheduleError

    # --demo chooses the synthetic city for this run only: the process keeps its own setting.
    previous = os.environ.get(config.ENV_VAR)
    if args.demo:
        os.environ[config.ENV_VAR] = "demo"
    try:
        report = run_period(args.period, args.work, quiet=not args.verbose)
    except (RunError, ScheduleError, config_error()) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    finally:
        if args.demo:
            if previous is None:
                os.environ.pop(config.ENV_VAR, None)
            else:
                os.environ[config.ENV_VAR] = previous
    failed = [item.dag_id for item in report.dags if not item.ok]
    timings = "，".join(f"{name} {seconds:.1f} 秒" for name, seconds in report.timings.items())
    print(f"耗时：{timings}")
    if failed:
        print(f"报送期 {report.period}：{'、'.join(failed)} 有任务失败", file=sys.stderr)
        return 1
    print(f"完成：报送期 {report.period} 的 {len(report.dags)} 个汇聚 DAG 全部成功")
    return 0
