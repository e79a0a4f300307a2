"""数据高铁: the near-real-time DAG that micro-batches new 前置库 rows every few minutes.

One task per 前置库 dataset of the registry calls `bzdata.ingest.stream.micro_batch`: rows past
the stored watermark are written as one batch and applied to a current-state table keyed by the
record key, so at-least-once pulls land exactly once. Each dataset keeps its own state file, so
the tasks run in parallel without sharing a file. The 前置库 is found by
`bzdata.ingest.frontdb.frontdb_url` (BZDATA_FRONTDB_URL_<DEPT>, else the synthetic city's
latest SQLite file); a dataset with neither is skipped with the reason shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, CronTriggerTimetable, task

from bzdata.orchestration.schedule import TIMEZONE, TIMEZONE_NAME
from bzdata.registry import Registry, load_registry

STREAM_DAG_ID = "bzdata_stream_frontdb"
STREAM_CRON = "*/5 * * * *"  # every five minutes: near real time without hammering the 前置库
STREAM_PREFIX = "stream_"
START_DATE = datetime(2023, 1, 1, tzinfo=TIMEZONE)


def stream_folder(work_dir: Path) -> Path:
    return Path(work_dir) / "lake" / "stream"


def stream_dataset(dataset_id: str, work_dir: Path | None = None) -> dict[str, Any]:
    """One micro-batch of one 前置库 dataset; returns a summary for XCom."""
    from bzdata import config
    from bzdata.ingest import Paths
    from bzdata.ingest.frontdb import URL_ENV_PREFIX, frontdb_url
    from bzdata.ingest.stream import micro_batch

    work = Path(work_dir) if work_dir else config.settings().work_dir
    ds = load_registry().dataset(dataset_id)
    url = frontdb_url(ds, None, Paths.from_work(work).frontdb)
    if url is None:
        from airflow.exceptions import AirflowSkipException

        raise AirflowSkipException(
            f"{dataset_id}：未配置前置库（设置 {URL_ENV_PREFIX}{ds.provider.upper()}）"
        )
    folder = stream_folder(work)
    result = micro_batch(ds, url, folder / ds.id / "state.json", folder)
    return {
        "dataset": dataset_id,
        "rows_pulled": result.rows_pulled,
        "rows_new": result.rows_new,
        "watermark": result.watermark,
    }


def _stream_callable(dataset_id: str) -> dict[str, Any]:
    return stream_dataset(dataset_id)


def build_stream_dags(registry: Registry | None = None) -> dict[str, DAG]:
    """The 数据高铁 DAG over every 前置库 dataset (none when the registry has no such dataset)."""
    datasets = [d for d in (registry or load_registry()).datasets if d.is_frontdb]
    if not datasets:
        return {}
    dag = DAG(
        dag_id=STREAM_DAG_ID,
        description="数据高铁：每5分钟增量抽取前置库新数据（按记录键恰好一次）",
        schedule=CronTriggerTimetable(STREAM_CRON, timezone=TIMEZONE_NAME),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # a batch must finish before the next reads the watermark
        dagrun_timeout=timedelta(minutes=30),
        default_args={"owner": "bzdata", "retries": 1, "retry_delay": timedelta(minutes=1)},
        tags=["bzdata", "数据高铁"],
        doc_md="### 数据高铁\n\n" + "\n".join(f"- `{d.id}` {d.name}" for d in datasets),
    )
    with dag:
        for ds in datasets:
            task(
                python_callable=_stream_callable,
                task_id=f"{STREAM_PREFIX}{ds.id}",
                doc_md=f"增量抽取 **{ds.name}**（表 {ds.delivery.table}，"
                f"水位线 {ds.delivery.watermark}）",
            )(ds.id)
    return {STREAM_DAG_ID: dag}
