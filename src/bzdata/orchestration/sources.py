"""Real sources as Airflow users configure them: each department's 前置库 is a Connection.

`frontdb_urls()` looks up `bzdata_frontdb_<dept>` for every 前置库 department of the registry,
through Airflow's own secrets chain (metadata database, AIRFLOW_CONN_* variables, a secrets
backend), and turns each into a SQLAlchemy URL. Called inside a running task only, never while
a DAG file parses (STYLE point 2). The env-variable form BZDATA_FRONTDB_URL_<DEPT> remains the
fallback, read by bzdata.ingest.frontdb.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL

from bzdata.config import ConfigError
from bzdata.ingest.frontdb import connection_id

# Airflow connection types -> SQLAlchemy drivers the platform ships (psycopg 3 for PostgreSQL).
_DRIVERS = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg"}


def to_sqlalchemy_url(conn: Any) -> str:
    """An Airflow Connection as a SQLAlchemy URL; extra `sqlalchemy_url` wins when given."""
    extra = conn.extra_dejson or {}
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    kind = (conn.conn_type or "").lower()
    if kind == "sqlite":
        return f"sqlite:///{conn.host}"
    if kind not in _DRIVERS:
        raise ConfigError(
            f"连接 {conn.conn_id} 的类型“{conn.conn_type}”不受支持：请用 postgres 或 sqlite，"
            "或在 extra 中给出 sqlalchemy_url"
        )
    return URL.create(
        _DRIVERS[kind],
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
    ).render_as_string(hide_password=False)


def connection_url(conn_id: str) -> str | None:
    """The SQLAlchemy URL of an Airflow Connection, None when it is not defined."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    return to_sqlalchemy_url(conn)


def frontdb_urls(departments: list[str]) -> dict[str, str]:
    """dept -> URL for the departments that have a `bzdata_frontdb_<dept>` Connection."""
    found = {}
    for dept in departments:
        url = connection_url(connection_id(dept))
        if url:
            found[dept] = url
    return found
