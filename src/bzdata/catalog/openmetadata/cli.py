"""`bzdata catalog publish [--dry-run] [--server URL]`: add_publish_parser hooks it under the
`catalog` subcommand's own subparsers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_publish_parser(catalog_subparsers, parents=()) -> argparse.ArgumentParser:
    parser = catalog_subparsers.add_parser(
        "publish",
        parents=list(parents),
        help="发布数据资源目录到 OpenMetadata",
        description="在独立环境 .venv-om 中用 openmetadata-ingestion 发布目录。令牌取自环境变量 "
        "BZDATA_OM_TOKEN 或 Airflow 连接 bzdata_openmetadata，绝不写入仓库。",
    )
    parser.add_argument("--server", help="OpenMetadata API 地址，如 http://localhost:8585/api")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="不发送：把每个请求体写到 work/catalog/openmetadata/requests/",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from bzdata import config
    from bzdata.catalog.openmetadata.backend import PublishError
    from bzdata.catalog.openmetadata.task import publish_work

    try:
        work = Path(args.work).expanduser().resolve() if getattr(args, "work", None) else None
        report = publish_work(
            work or config.settings().work_dir, server=args.server, dry_run=args.dry_run
        )
    except (PublishError, FileNotFoundError) as err:
        print(err, file=sys.stderr)
        return 1
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0
