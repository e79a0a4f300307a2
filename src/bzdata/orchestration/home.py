"""The project-local Airflow home: environment, metadata database migration and pools.

`configure()` is the one place that sets Airflow's environment variables; it must run before
`airflow` is first imported, because Airflow reads its home and database URL at import time.
In the demo and local environments the home is <work>/airflow with a SQLite metadata database;
in the scale-out environment the database URL comes from the deployment
(docker/compose.airflow.yaml).
Nothing here reaches the network.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bzdata import config

# DuckDB takes one writer process per file: every task that writes the warehouse uses this pool.
WAREHOUSE_POOL = "bzdata_warehouse"
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = "DuckDB 仓库只允许一个写入进程：写仓库的任务排队使用这 1 个槽位"

_STAMP_NAME = "bzdata-migrated.json"
_SQL_CONN = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"


@dataclass(frozen=True)
class AirflowHome:
    """Where Airflow keeps its state for one work folder."""

    home: Path
    dags_folder: Path
    plugins_folder: Path
    work_dir: Path
    env: config.EnvName

    @property
    def uses_sqlite(self) -> bool:
        """demo and local keep Airflow's metadata in SQLite; scaleout uses the deployment's."""
        return self.env != "scaleout"

    @property
    def database(self) -> Path:
        """The SQLite metadata database (demo and local environments)."""
        return self.home / "airflow.db"

    @property
    def stamp(self) -> Path:
        return self.home / _STAMP_NAME


def airflow_home(work_dir: Path | None = None) -> AirflowHome:
    """The Airflow home of a work folder (default: the configured work folder)."""
    settings = config.settings()
    work = (work_dir or settings.work_dir).expanduser().resolve()
    return AirflowHome(
        home=work / "airflow",
        dags_folder=settings.root / "dags",
        plugins_folder=settings.root / "plugins",
        work_dir=work,
        env=settings.env,
    )


def environment(home: AirflowHome, *, quiet: bool = False) -> dict[str, str]:
    """The variables `configure` sets (a pure function, so tests can inspect it)."""
    values = {
        "BZDATA_WORK": str(home.work_dir),  # tasks read their work folder from settings()
        "AIRFLOW__CORE__DAGS_FOLDER": str(home.dags_folder),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home.plugins_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # Cosmos' plugin reads the lineage namespace at import and warns when it is unset.
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "bzdata",
        "SCARF_ANALYTICS": "false",
        "DO_NOT_TRACK": "1",
    }
    if home.uses_sqlite:
        values["AIRFLOW_HOME"] = str(home.home)
        values[_SQL_CONN] = f"sqlite:///{home.database}"
    if quiet:
        values["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    return values


def configure(work_dir: Path | None = None, *, quiet: bool = False) -> AirflowHome:
    """Point Airflow at the project-local home; call before the first `import airflow`.

    Raises ConfigError (Chinese) when the scale-out environment lacks its database URL, and
    RuntimeError when Airflow was already imported with another home (its settings would not
    follow the new variables).
    """
    home = airflow_home(work_dir)
    values = environment(home, quiet=quiet)
    if home.env == "scaleout" and not os.environ.get(_SQL_CONN, "").strip():
        raise config.ConfigError(
            f"BZDATA_ENV=scaleout 时必须设置 {_SQL_CONN}（Airflow 元数据库，PostgreSQL），"
            "参见 docker/compose.airflow.yaml"
        )
    loaded = sys.modules.get("airflow.configuration")
    if loaded is not None and "AIRFLOW_HOME" in values:
        current = Path(loaded.AIRFLOW_HOME).resolve()  # type: ignore[attr-defined]
        if current != home.home:
            raise RuntimeError(
                f"Airflow was imported with AIRFLOW_HOME={current} before configure() "
                f"could set {home.home}"
            )
    config.disable_telemetry()
    os.environ.update(values)
    if home.uses_sqlite:
        home.home.mkdir(parents=True, exist_ok=True)
    return home


# --- metadata database ------------------------------------------------------------------------


def _airflow_version() -> str:
    return metadata.version("apache-airflow")


def _sqlite_revision(database: Path) -> str | None:
    if not database.is_file():
        return None
    try:
        # Read-only URI: checking must never create or lock the database.
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            row = conn.execute("select version_num from alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def is_migrated(home: AirflowHome) -> bool:
    """Cheap check (no Airflow import): the stamp matches this Airflow and the database's revision.

    Only answers for the local SQLite database; in scale-out the deployment migrates.
    """
    if not home.uses_sqlite or not home.stamp.is_file():
        return False
    try:
        stamp = json.loads(home.stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        stamp.get("airflow") == _airflow_version()
        and stamp.get("revision") is not None
        and stamp.get("revision") == _sqlite_revision(home.database)
    )


def ensure_migrated(home: AirflowHome) -> bool:
    """Migrate the metadata database unless already done (`airflow db migrate`, idempotent).

    Also creates the warehouse pool. Returns True when a migration ran. Call after `configure`.
    """
    if is_migrated(home):
        return False
    from airflow.utils.db import upgradedb

    upgradedb()
    ensure_pools()
    if home.uses_sqlite:
        stamp = {"airflow": _airflow_version(), "revision": _sqlite_revision(home.database)}
        home.stamp.write_text(json.dumps(stamp, ensure_ascii=False), encoding="utf-8")
    return True


def ensure_pools() -> None:
    """Create (or reset) the pools the DAGs use; a task in a missing pool is never scheduled."""
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(
        WAREHOUSE_POOL,
        slots=WAREHOUSE_POOL_SLOTS,
        description=WAREHOUSE_POOL_DESCRIPTION,
        include_deferred=False,
    )
