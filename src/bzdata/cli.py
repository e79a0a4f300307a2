"""The `bzdata` command: one entry point whose subcommands come from the feature modules.

Each module named in FEATURES exposes `add_parser(subparsers)`, which adds its subcommand and
calls `set_defaults(func=handler)`; the handler takes the parsed arguments and returns an exit
code. The `demo` subcommand lives here because it chains the features into the whole flow.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import NoReturn

from bzdata import config, progress
from bzdata.arguments import positive_int

# Order here is the order of the subcommands in `bzdata --help`.
FEATURES: tuple[str, ...] = (
    "bzdata.registry.cli",
    "bzdata.synth.cli",
    "bzdata.build.cli",
    "bzdata.ingest.cli",
    "bzdata.orchestration.cli",
    "bzdata.quality.cli",
    "bzdata.scorecard.cli",
    "bzdata.catalog.cli",
    "bzdata.indicators.cli",
    "bzdata.portal.cli",
)

SUBCOMMAND_METAVAR = "<子命令>"

DEMO_SEED = 20230101
DEMO_MONTHS = 3
DEMO_START_PERIOD = "2023-01"  # YYYY-MM, the first month the synthetic departments deliver


class ChineseHelpFormatter(argparse.HelpFormatter):
    """Help formatter with a Chinese usage prefix."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)


# argparse's own messages are English; these cover the ones users meet.
_ERROR_TRANSLATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"the following arguments are required: (?P<args>.+)"), "缺少必需的参数：{args}"),
    (re.compile(r"unrecognized arguments: (?P<args>.+)"), "无法识别的参数：{args}"),
    (re.compile(r"argument (?P<arg>.+?): expected one argument"), "参数 {arg} 需要一个值"),
    (
        re.compile(r"argument (?P<arg>.+?): invalid (?P<type>\w+) value: (?P<value>.+)"),
        "参数 {arg} 的值 {value} 无效",
    ),
    (
        re.compile(
            r"argument (?P<arg>.+?): invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)"
        ),
        "参数 {arg} 的取值 {value} 无效，可选：{choices}",
    ),
    (re.compile(r"argument (?P<arg>.+?): (?P<detail>.+)"), "参数 {arg}：{detail}"),
)

_UNKNOWN_SUBCOMMAND = re.compile(
    rf"argument {re.escape(SUBCOMMAND_METAVAR)}: invalid choice: (?P<value>.+?) "
    r"\(choose from (?P<choices>.+)\)"
)


def translate_error(message: str) -> str:
    """Turn one of argparse's English error messages into Chinese (others pass through)."""
    unknown = _UNKNOWN_SUBCOMMAND.fullmatch(message)
    if unknown:
        choices = "、".join(c.strip(" '\"") for c in unknown["choices"].split(","))
        return f"未知的子命令 {unknown['value']}；可用的子命令：{choices}"
    for pattern, template in _ERROR_TRANSLATIONS:
        match = pattern.fullmatch(message)
        if match:
            return template.format(**match.groupdict())
    return message


class ChineseArgumentParser(argparse.ArgumentParser):
    """ArgumentParser whose help and errors are in Chinese; subcommand parsers inherit it."""

    def __init__(self, *args, add_help: bool = True, **kwargs) -> None:
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{translate_error(message)}\n")


def package_version() -> str:
    try:
        return metadata.version("bzdata")
    except metadata.PackageNotFoundError:
        return "未安装"


# --- demo: the whole flow on the built-in synthetic Binzhou --------------------------------


@dataclass(frozen=True)
class DemoRun:
    """What every demo step needs to know."""

    work_dir: Path
    months: int
    seed: int
    start_period: str


@dataclass(frozen=True)
class DemoStep:
    name: str  # shown to the user, in Chinese
    run: Callable[[DemoRun], None]


def _demo_synth(run: DemoRun) -> None:
    # Imported here so `bzdata --help` stays fast and needs none of the features' dependencies.
    from bzdata.synth import generate

    generate(
        run.work_dir / "synth",
        scale="demo",
        months=run.months,
        seed=run.seed,
        start_period=run.start_period,
    )


def _demo_periods(run: DemoRun) -> list[str]:
    start = run.start_period
    year, month = int(start[:4]), int(start[5:7])
    out = []
    for k in range(run.months):
        y, m = divmod(month - 1 + k, 12)
        out.append(f"{year + y:04d}-{m + 1:02d}")
    return out


def _demo_pipeline(run: DemoRun) -> None:
    # Month by month through the same Airflow DAGs a scheduler runs (collect → build …).
    from bzdata.orchestration.runner import run_period

    for period in _demo_periods(run):
        report = run_period(period, run.work_dir, echo=lambda line: None)
        if not report.ok:
            failed = [d.dag_id for d in report.dags if not d.ok]
            raise RuntimeError(
                f"{period} 的流程未全部成功：{'、'.join(failed)}（用 bzdata run -v 查看）"
            )
        print(f"  {period}：{'、'.join(d.dag_id for d in report.dags)} 完成")


def _demo_publish(run: DemoRun) -> None:
    # Each period's DAG publishes a portal snapshot as its last step; this covers a pipeline
    # whose last DAG did not reach it (nothing to publish without the period's scorecard).
    from bzdata import snapshot

    latest = _demo_periods(run)[-1]
    published = snapshot.current(run.work_dir)
    if published is not None and published.period == latest:
        return
    try:
        snapshot.publish(run.work_dir, latest)
    except snapshot.SnapshotError as exc:
        print(f"  未发布门户快照：{exc}", file=sys.stderr)


DEMO_STEPS: tuple[DemoStep, ...] = (
    DemoStep("生成合成滨州数据", _demo_synth),
    DemoStep("逐月运行汇聚、治理、校核与晾晒（Airflow）", _demo_pipeline),
    DemoStep("发布门户快照", _demo_publish),
)


def run_demo(args: argparse.Namespace) -> int:
    # The demo is the one place that chooses the synthetic city, and it says so explicitly; for
    # this run only, so nothing else in the same process inherits the synthetic sources.
    import os

    config.env_name()  # a misspelt BZDATA_ENV is a configuration error, not silently replaced
    previous = os.environ.get(config.ENV_VAR)
    os.environ[config.ENV_VAR] = "demo"
    try:
        return _run_demo(args)
    finally:
        if previous is None:
            os.environ.pop(config.ENV_VAR, None)
        else:
            os.environ[config.ENV_VAR] = previous


def _run_demo(args: argparse.Namespace) -> int:
    settings = config.settings()
    work_dir = Path(args.work).expanduser().resolve() if args.work else settings.work_dir
    work_dir.mkdir(parents=True, exist_ok=True)
    run = DemoRun(
        work_dir=work_dir,
        months=args.months,
        seed=args.seed,
        start_period=DEMO_START_PERIOD,
    )
    print(f"演示：合成滨州，{run.months} 个月，随机种子 {run.seed}，输出目录 {work_dir}")
    for number, step in enumerate(DEMO_STEPS, start=1):
        with progress.step(f"[{number}/{len(DEMO_STEPS)}] {step.name}"):
            step.run(run)
    print(f"完成：全部 {len(DEMO_STEPS)} 步，结果在 {work_dir}")
    latest = _demo_periods(run)[-1]
    print(f"  晾晒台报告：{work_dir / 'scorecard' / latest / 'report' / 'index.html'}")
    print(f"  问题清单：bzdata quality report --period {latest} --work {work_dir}")
    print(f"  资源目录检索：bzdata catalog search 人口 --work {work_dir}")
    print(f"  指标库报告：{work_dir / 'indicators' / latest / 'index.html'}")
    from bzdata import snapshot

    if snapshot.current(work_dir) is not None:
        print(
            f"  门户：运行 .venv/bin/bzdata serve --work {work_dir}，"
            "然后在浏览器打开 http://127.0.0.1:8000/"
        )
        print(
            "  部门账号：.venv/bin/bzdata portal user add <用户名> --dept <部门代码> "
            f"--work {work_dir}"
        )
    return 0


def _add_demo_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="在内置的合成滨州上运行完整流程",
        description="在内置的合成滨州上运行完整流程，结果写入工作目录。",
    )
    parser.add_argument(
        "--work",
        metavar="DIR",
        help="工作目录（默认 ./work，可用环境变量 BZDATA_WORK 指定）",
    )
    parser.add_argument(
        "--months",
        type=positive_int,
        default=DEMO_MONTHS,
        metavar="N",
        help=f"生成多少个月的数据（默认 {DEMO_MONTHS}）",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEMO_SEED,
        help=f"随机种子，相同种子生成相同数据（默认 {DEMO_SEED}）",
    )
    parser.set_defaults(func=run_demo)


# --- entry point --------------------------------------------------------------------------


def build_parser(features: Iterable[str] = FEATURES) -> ChineseArgumentParser:
    parser = ChineseArgumentParser(
        prog="bzdata",
        description="滨州公共数据平台命令行工具",
        epilog="查看某个子命令的用法：bzdata <子命令> --help",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"bzdata {package_version()}",
        help="显示版本号并退出",
    )
    subparsers = parser.add_subparsers(
        title="子命令",
        dest="command",
        metavar=SUBCOMMAND_METAVAR,
    )
    _add_demo_parser(subparsers)
    for name in features:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, features: Iterable[str] = FEATURES) -> int:
    """Run `bzdata` with argv (default sys.argv[1:]); returns the exit code."""
    config.disable_telemetry()
    parser = build_parser(features)
    try:
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.error("请指定要运行的子命令，例如 bzdata demo；用 bzdata --help 查看全部子命令")
    except SystemExit as exc:  # --help, --version and usage errors
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 1
    try:
        return int(args.func(args))
    except config.ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
