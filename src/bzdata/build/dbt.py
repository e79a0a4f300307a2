"""Run the dbt project against the work folder's warehouse: one in-process dbt at a time.

DuckDB takes one writer per file, so `build()` runs one `dbt build` process for the whole
project (then `dbt docs generate`), under the warehouse writer lock (`bzdata.ingest.lock`,
shared with the ingest), never one process per model.
Artifacts (manifest.json, run_results.json, catalog.json) go to `<work>/dbt/target`.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bzdata import config, duck, progress
from bzdata.ingest.lock import WriterBusy, writer_lock
from bzdata.ingest.paths import Paths as IngestPaths

PROJECT_DIR = config.project_root() / "dbt_project"
WAREHOUSE_NAME = "bzdata.duckdb"
ENV_WAREHOUSE = "BZDATA_WAREHOUSE"
ENV_THREADS = "BZDATA_DBT_THREADS"


class BuildError(RuntimeError):
    """The build could not start or dbt itself failed; the message is for the user (Chinese)."""


@dataclass(frozen=True)
class Paths:
    """Where one build reads and writes."""

    work_dir: Path
    project_dir: Path = PROJECT_DIR

    @property
    def warehouse(self) -> Path:
        return self.work_dir / "warehouse" / WAREHOUSE_NAME

    def ingest_paths(self) -> IngestPaths:
        # The writer lock lives with the ingest, which shares the warehouse.
        return IngestPaths.from_work(self.work_dir)

    @property
    def target(self) -> Path:
        return self.work_dir / "dbt" / "target"

    @property
    def logs(self) -> Path:
        return self.work_dir / "dbt" / "logs"


@dataclass
class BuildResult:
    """Outcome of `build()`: per-status counts of dbt nodes and what did not pass."""

    success: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    target: Path | None = None


def _common_args(paths: Paths, variables: dict[str, str] | None) -> list[str]:
    args = [
        "--project-dir",
        str(paths.project_dir),
        "--profiles-dir",
        str(paths.project_dir),
        "--target-path",
        str(paths.target),
    ]
    if variables:
        args += ["--vars", json.dumps(variables)]
    return args


# One of these per finished node at dbt's default log level (NodeFinished is debug-only).
_RESULT_EVENTS = frozenset(
    {"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult", "LogNodeResult"}
)


class _Progress:
    """Turns dbt's node events into progress advances (total known from the first start line)."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.stack = contextlib.ExitStack()
        self.advance = None

    def __call__(self, name: str, data: dict) -> None:
        if name == "LogStartLine" and self.advance is None:
            total = int(data.get("total") or 0) or None
            self.advance = self.stack.enter_context(progress.task(self.description, total))
        elif name in _RESULT_EVENTS and self.advance is not None:
            self.advance()

    def close(self) -> None:
        self.stack.close()


@dataclass(frozen=True)
class DbtRun:
    """One finished dbt command: exit code and the error lines it logged."""

    returncode: int
    errors: list[str]


def invoke(
    command: Sequence[str],
    paths: Paths,
    variables: dict[str, str] | None = None,
    threads: int = 2,
    description: str | None = None,
) -> DbtRun:
    """Run one dbt command in a child process and follow its JSON log for progress.

    A child process, not dbtRunner: dbt-duckdb keeps the database open for the life of the
    process, and the file must be free for the next reader or writer as soon as dbt is done.
    """
    paths.logs.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **config.TELEMETRY_OFF,
        **duck.environment(),
        ENV_WAREHOUSE: str(paths.warehouse),
        ENV_THREADS: str(threads),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_LOG_PATH": str(paths.logs),
        "DBT_LOG_FORMAT": "json",
        "DBT_USE_COLORS": "False",
    }
    argv = [sys.executable, "-c", _DBT_MAIN, *command, *_common_args(paths, variables)]
    tracker = _Progress(description or " ".join(command))
    errors: list[str] = []
    try:
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
        ) as child:
            assert child.stdout is not None
            for line in child.stdout:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    if line.strip():
                        errors.append(line.rstrip())
                    continue
                info = event.get("info", {})
                tracker(info.get("name", ""), event.get("data", {}))
                if info.get("level") == "error" and info.get("msg"):
                    errors.append(info["msg"])
            returncode = child.wait()
    finally:
        tracker.close()
    return DbtRun(returncode, errors)


_DBT_MAIN = "import sys; from dbt.cli.main import cli; sys.exit(cli())"


def _summarise(run: DbtRun, seconds: float, target: Path) -> BuildResult:
    counts: dict[str, int] = {}
    problems: list[str] = []
    results_file = target / "run_results.json"
    results = []
    if results_file.is_file():
        results = json.loads(results_file.read_text(encoding="utf-8")).get("results", [])
    for node in results:
        status = str(node["status"])
        counts[status] = counts.get(status, 0) + 1
        if status in ("error", "fail", "warn", "runtime error"):
            message = (node.get("message") or "").strip().splitlines()
            name = node["unique_id"].split(".", 2)[-1]
            problems.append(f"{status}: {name} {message[0] if message else ''}".strip())
    if run.returncode != 0 and not problems:
        problems.extend(run.errors[-5:] or [f"dbt 退出码 {run.returncode}"])
    return BuildResult(run.returncode == 0, seconds, counts, problems, target)


def build(
    work_dir: Path,
    *,
    period: str | None = None,
    select: str | None = None,
    threads: int = 2,
    docs: bool = True,
    project_dir: Path = PROJECT_DIR,
    variables: dict[str, str] | None = None,
) -> BuildResult:
    """`dbt build` (then `dbt docs generate`) against `<work_dir>/warehouse/bzdata.duckdb`.

    `variables` are further dbt vars (e.g. frontdb_partitions); raises BuildError when the
    warehouse is missing or another process is writing it.
    """
    paths = Paths(Path(work_dir), Path(project_dir))
    if not paths.warehouse.is_file():
        raise BuildError(
            f"找不到数据仓库 {paths.warehouse}：请先运行汇聚（bzdata ingest）生成原始区"
        )
    variables = {**(variables or {}), **({"period": period} if period else {})} or None
    command = ["build"] + (["--select", select] if select else [])
    start = time.monotonic()
    run_id = f"build-{os.getpid()}-{int(time.time())}"
    try:
        lock = writer_lock(paths.ingest_paths(), run_id, "bzdata build")
        lock.__enter__()
    except WriterBusy as exc:
        raise BuildError(str(exc)) from None
    try:
        results_file = paths.target / "run_results.json"
        results_file.unlink(missing_ok=True)  # never report an earlier run's results
        run = invoke(command, paths, variables, threads, "治理：dbt build")
        outcome = _summarise(run, time.monotonic() - start, paths.target)
        if docs and results_file.is_file():
            docs_run = invoke(
                ["docs", "generate", "--no-compile"], paths, variables, threads, "生成数据文档"
            )
            if docs_run.returncode != 0:
                outcome.success = False
                outcome.problems.append(
                    "dbt docs generate 失败：" + "；".join(docs_run.errors[-3:])
                )
    finally:
        lock.__exit__(None, None, None)
    outcome.seconds = time.monotonic() - start
    return outcome
