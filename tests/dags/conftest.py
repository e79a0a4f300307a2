"""One Airflow home for the whole test session, set before any test module imports Airflow.

Airflow reads its home and metadata database URL once, at import, so every DAG test shares
AIRFLOW_HOME=<session work>/airflow (a throwaway folder). Tests that run DAGs use that work
folder too; the metadata database is migrated once, by the `migrated_home` fixture.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bzdata.orchestration.home import AirflowHome, airflow_home, ensure_migrated, environment

# The root conftest configured Airflow's home before any test module could import Airflow.
SESSION_HOME: AirflowHome = airflow_home(Path(os.environ["BZDATA_TEST_AIRFLOW_WORK"]))


@pytest.fixture(scope="session")
def session_home() -> AirflowHome:
    """The Airflow home Airflow was imported with (not migrated)."""
    return SESSION_HOME


@pytest.fixture(scope="session")
def migrated_home() -> AirflowHome:
    """The session's Airflow home with its SQLite metadata database migrated."""
    ensure_migrated(SESSION_HOME)
    return SESSION_HOME


@pytest.fixture
def airflow_env(monkeypatch: pytest.MonkeyPatch) -> AirflowHome:
    """The variables a run sets, registered with monkeypatch so the test leaves none behind."""
    for name, value in environment(SESSION_HOME, quiet=True).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BZDATA_ENV", "demo")  # these tests run the synthetic city
    return SESSION_HOME
