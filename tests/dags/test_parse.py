"""Tier 2: parsing dags/ opens no connection, no variable, no database and imports nothing heavy."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bzdata.orchestration.home import AirflowHome

# Audit hooks cannot be removed, so one hook records while `_WATCH` holds a folder.
_WATCH: list[Path] = []
_SEEN: list[tuple[str, str]] = []


def _audit(event: str, args: tuple) -> None:
    if not _WATCH or event not in ("open", "sqlite3.connect"):
        return
    target = args[0] if args else None
    if isinstance(target, bytes | str | os.PathLike):
        path = os.fsdecode(target)
        if path.startswith(str(_WATCH[0])):
            _SEEN.append((event, path))


sys.addaudithook(_audit)


class _Forbidden(AssertionError):
    pass


def _recorder(name: str, calls: list[str]):
    def forbidden(*args, **kwargs):
        calls.append(name)
        raise _Forbidden(f"{name} called while parsing DAG files")

    return forbidden


def test_parsing_opens_no_connection_variable_or_database(
    session_home: AirflowHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.connection import Connection as CoreConnection
    from airflow.models.variable import Variable as CoreVariable
    from airflow.sdk.bases.hook import BaseHook
    from airflow.sdk.definitions.connection import Connection
    from airflow.sdk.definitions.variable import Variable

    calls: list[str] = []
    # Airflow 3 moved BaseHook to the Task SDK (airflow.hooks.base re-exports it): patch the
    # SDK and the core look-ups a parse could reach.
    for owner, attr in [
        (BaseHook, "get_connection"),
        (Connection, "get"),
        (Variable, "get"),
        (CoreConnection, "get_connection_from_secrets"),
        (CoreVariable, "get"),
    ]:
        monkeypatch.setattr(owner, attr, _recorder(f"{owner.__name__}.{attr}", calls))
    monkeypatch.setattr(duckdb, "connect", _recorder("duckdb.connect", calls))
    monkeypatch.setattr(sqlite3, "connect", _recorder("sqlite3.connect", calls))

    work = session_home.work_dir
    before = sorted(str(p) for p in work.rglob("*"))
    _WATCH.append(work)
    _SEEN.clear()
    try:
        bag = DagBag(dag_folder=str(session_home.dags_folder))
    finally:
        _WATCH.clear()

    assert bag.import_errors == {}
    assert len(bag.dags) >= 1
    assert calls == []
    assert _SEEN == []  # nothing under the work folder: no Airflow DB, no DuckDB, no lake
    assert sorted(str(p) for p in work.rglob("*")) == before


def test_the_audit_hook_would_see_a_database_opened(session_home: AirflowHome) -> None:
    """Guards the test above: the hook does record an SQLite file opened under the work folder."""
    _WATCH.append(session_home.work_dir)
    _SEEN.clear()
    try:
        sqlite3.connect(session_home.work_dir / "probe.sqlite").close()
    finally:
        _WATCH.clear()
        (session_home.work_dir / "probe.sqlite").unlink(missing_ok=True)
    assert [event for event, _ in _SEEN] == ["sqlite3.connect"]


_PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from bzdata.orchestration.home import configure
    home = configure(Path(sys.argv[1]), quiet=True)
    from airflow.dag_processing.dagbag import DagBag
    before = set(sys.modules)
    bag = DagBag(dag_folder=str(home.dags_folder))
    print(json.dumps({"dags": sorted(bag.dags), "errors": bag.import_errors,
                      "new": sorted(set(sys.modules) - before)}))
    """
)
HEAVY = (
    "duckdb",
    "pyarrow",
    "pandas",
    "numpy",
    "great_expectations",
    "dbt",
    "psycopg",
    "charset_normalizer",
    "python_calamine",
    "openpyxl",
    "bzdata.ingest.load",
    "bzdata.ingest.warehouse",
)


def test_parsing_imports_nothing_heavy(tmp_path: Path) -> None:
    """In a fresh interpreter, parsing dags/ loads none of the data tools (only task bodies do)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["errors"] == {}
    assert probe["dags"]
    assert "bzdata.orchestration.dags" in probe["new"]  # the parse really ran in the probe
    loaded = [m for m in probe["new"] if m.split(".")[0] in HEAVY or m in HEAVY]
    assert loaded == []
