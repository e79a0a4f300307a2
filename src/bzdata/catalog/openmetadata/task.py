"""Publishing as a pipeline step: the CLI handler and the Airflow task body share `publish_work`.

Where to publish comes from the Airflow connection `bzdata_openmetadata` (host = server URL,
password = the bot's JWT) when Airflow has one, else from BZDATA_OM_SERVER / BZDATA_OM_TOKEN.
The token never lands in the repository or in the document written to disk.
A failed publish is reported (log + publish_report.json) and never fails the period's data:
the Airflow task returns the report instead of raising.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bzdata.catalog.openmetadata.backend import OpenMetadataPublisher, PublishError

CONNECTION_ID = "bzdata_openmetadata"
TASK_ID = "publish_openmetadata"
log = logging.getLogger(__name__)


def _target(server: str | None) -> tuple[str | None, str | None]:
    token = os.environ.get("BZDATA_OM_TOKEN")
    server = server or os.environ.get("BZDATA_OM_SERVER")
    if server and token:
        return server, token
    try:  # only inside Airflow; the connection is read when the task runs, never at parse time
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(CONNECTION_ID)
        return server or conn.host, token or conn.password
    except Exception:  # no Airflow, or no such connection
        return server, token


def publish_work(work_dir: Path, *, server: str | None = None, dry_run: bool = False):
    """Publish the embedded catalogue of a work folder; returns the report (also written)."""
    from bzdata.catalog import load_catalogue

    out = Path(work_dir) / "catalog" / "openmetadata"
    catalogue = load_catalogue(work_dir)
    entries = list(catalogue.entries())
    edges = catalogue.edges()
    server, token = (server, None) if dry_run else _target(server)
    publisher = OpenMetadataPublisher(
        out, server=server, token=token, dry_run=out / "requests" if dry_run else None
    )
    publisher.publish(entries, edges)
    report = {
        "status": "成功",
        "dry_run": dry_run,
        "server": None if dry_run else server,
        "entries": len(entries),
        "edges": len(edges),
        **(publisher.summary or {}),
    }
    _write_report(out, report)
    return report


def _write_report(out: Path, report: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    report = {**report, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    (out / "publish_report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def publish_task(logical_date=None, run_id=None, work_dir: Path | None = None) -> dict[str, Any]:
    """Airflow task body (runs after the scorecard): publish, report, never fail the run."""
    from bzdata import config

    work = Path(work_dir) if work_dir is not None else config.settings().work_dir
    server, token = _target(None)
    if not (server and token):
        report = {
            "status": "未配置",
            "detail": f"未设置 Airflow 连接 {CONNECTION_ID} 或 "
            "BZDATA_OM_SERVER/BZDATA_OM_TOKEN，跳过发布",
        }
        log.warning(report["detail"])
        return report
    try:
        return publish_work(work, server=server)
    except (PublishError, FileNotFoundError, OSError) as err:
        report = {"status": "失败", "run_id": str(run_id), "detail": str(err)}
        log.error("发布到 OpenMetadata 失败（本期数据不受影响）：%s", err)
        _write_report(work / "catalog" / "openmetadata", report)
        return report
