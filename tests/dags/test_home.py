"""The project-local Airflow home: its variables, the cheap migration check, the pool."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bzdata.config import ConfigError, project_root
from bzdata.orchestration.home import (
    WAREHOUSE_POOL,
    AirflowHome,
    airflow_home,
    configure,
    ensure_migrated,
    environment,
    is_migrated,
)


def test_local_environment_keeps_airflow_in_the_work_folder(tmp_work: Path) -> None:
    home = airflow_home()
    values = environment(home)
    assert home.home == tmp_work / "airflow"
    assert values["AIRFLOW_HOME"] == str(tmp_work / "airflow")
    assert (
        values["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_work}/airflow/airflow.db"
    )
    assert values["AIRFLOW__CORE__DAGS_FOLDER"] == str(project_root() / "dags")
    assert values["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert values["AIRFLOW__CORE__UNIT_TEST_MODE"] == "False"
    assert values["SCARF_ANALYTICS"] == "false"
    assert values["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
    assert values["BZDATA_WORK"] == str(tmp_work)
    assert "AIRFLOW__LOGGING__LOGGING_LEVEL" not in values
    assert environment(home, quiet=True)["AIRFLOW__LOGGING__LOGGING_LEVEL"] == "WARNING"


def test_scaleout_takes_the_database_from_the_deployment(
    tmp_work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BZDATA_ENV", "scaleout")
    values = environment(airflow_home())
    assert "AIRFLOW_HOME" not in values
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in values
    monkeypatch.delenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", raising=False)
    with pytest.raises(ConfigError, match="AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        configure(tmp_work)


def test_configure_refuses_a_second_home_once_airflow_is_imported(
    session_home: AirflowHome, tmp_path: Path
) -> None:
    import airflow.configuration  # noqa: F401  (imported with the session home)

    with pytest.raises(RuntimeError, match="AIRFLOW_HOME"):
        configure(tmp_path / "other")


def test_migration_runs_once_and_the_check_is_cheap(migrated_home: AirflowHome) -> None:
    assert is_migrated(migrated_home)
    started = time.monotonic()
    assert ensure_migrated(migrated_home) is False
    assert time.monotonic() - started < 0.5


def test_a_stamp_from_another_airflow_version_means_migrate_again(
    migrated_home: AirflowHome, tmp_path: Path
) -> None:
    fresh = AirflowHome(
        home=tmp_path,
        dags_folder=migrated_home.dags_folder,
        plugins_folder=migrated_home.plugins_folder,
        work_dir=tmp_path,
        env="local",
    )
    assert not is_migrated(fresh)  # no database, no stamp
    original = migrated_home.stamp.read_text(encoding="utf-8")
    stamp = json.loads(original)
    try:
        migrated_home.stamp.write_text(json.dumps({**stamp, "airflow": "2.10.0"}), "utf-8")
        assert not is_migrated(migrated_home)
        migrated_home.stamp.write_text(json.dumps({**stamp, "revision": "0000"}), "utf-8")
        assert not is_migrated(migrated_home)
        migrated_home.stamp.write_text("{not json", "utf-8")
        assert not is_migrated(migrated_home)
    finally:
        migrated_home.stamp.write_text(original, encoding="utf-8")
    assert is_migrated(migrated_home)


def test_the_warehouse_pool_has_one_slot(migrated_home: AirflowHome) -> None:
    from airflow.models.pool import Pool

    assert Pool.get_pool(WAREHOUSE_POOL).slots == 1
