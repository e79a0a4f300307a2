"""`bzdata run`: run the collect DAGs of one period in this process, as a scheduler would."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bzdata.cli import period_arg


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
