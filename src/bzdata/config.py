"""Where the platform keeps things and where its sources are, chosen by one environment switch.

`BZDATA_ENV` picks the deployment, and every environment-specific choice is a function of it:

    demo      the built-in synthetic Binzhou: landing zone and 前置库 files under <work>/synth,
              Airflow's metadata database in SQLite under <work>/airflow. Only `bzdata demo`
              (or a user who says BZDATA_ENV=demo) chooses it; it is never a fallback.
    local     (default) one machine with real sources: the landing (drop) directory is
              BZDATA_LANDING, each department's 前置库 the Airflow Connection
              `bzdata_frontdb_<dept>` (or BZDATA_FRONTDB_URL_<DEPT>); SQLite metadata database.
    scaleout  as local, but Airflow's metadata database is the deployment's PostgreSQL
              (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, required) and the executor LocalExecutor
              (docker/compose.airflow.yaml).

A missing setting is an error naming the variable to set, raised where the setting is needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

EnvName = Literal["demo", "local", "scaleout"]
ENV_NAMES: tuple[EnvName, ...] = ("demo", "local", "scaleout")
DEFAULT_ENV: EnvName = "local"

ENV_VAR = "BZDATA_ENV"
WORK_VAR = "BZDATA_WORK"
LANDING_VAR = "BZDATA_LANDING"

# Set before Great Expectations, Airflow/Cosmos or dbt are imported, so none of them phones home.
TELEMETRY_OFF: dict[str, str] = {
    "GX_ANALYTICS_ENABLED": "False",
    "DO_NOT_TRACK": "1",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "SCARF_ANALYTICS": "false",
}


class ConfigError(ValueError):
    """A setting read from the environment is missing or invalid; the message (Chinese) names it."""


@dataclass(frozen=True)
class Settings:
    """Resolved locations and environment name for one run."""

    env: EnvName
    root: Path
    work_dir: Path
    registry_dir: Path
    landing_dir: Path | None = None  # BZDATA_LANDING as given; demo: <work>/synth/landing

    @property
    def is_demo(self) -> bool:
        return self.env == "demo"

    @property
    def synth_dir(self) -> Path:
        """Where the demo's synthetic city lives."""
        return self.work_dir / "synth"

    def landing(self) -> Path:
        """The landing (drop) directory; ConfigError naming BZDATA_LANDING outside the demo."""
        if self.is_demo:
            return self.landing_dir or self.synth_dir / "landing"
        if self.landing_dir is None:
            raise ConfigError(
                f"未配置落地区：请设置环境变量 {LANDING_VAR}（各部门报送文件的投放目录，"
                f"<部门>/<数据集>/<YYYY-MM>/<文件>）；"
                f"演示合成滨州请用 bzdata demo 或 {ENV_VAR}=demo"
            )
        if not self.landing_dir.is_dir():
            raise ConfigError(f"{LANDING_VAR}={self.landing_dir} 不是一个存在的目录")
        return self.landing_dir


def project_root() -> Path:
    """The repository root: the folder holding pyproject.toml above this package."""
    # src/bzdata/config.py -> repository root; the package is installed editable from the repo.
    candidate = Path(__file__).resolve().parents[2]
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd().resolve()


def env_name() -> EnvName:
    """BZDATA_ENV now; ConfigError for an unknown value."""
    env = os.environ.get(ENV_VAR, DEFAULT_ENV).strip() or DEFAULT_ENV
    if env not in ENV_NAMES:
        raise ConfigError(
            f"环境变量 {ENV_VAR} 的值“{env}”无效："
            f"只能是 {'、'.join(ENV_NAMES)}（默认 {DEFAULT_ENV}）"
        )
    return cast(EnvName, env)


def settings() -> Settings:
    """Read the environment now; raises ConfigError for an unknown BZDATA_ENV."""
    env = env_name()
    root = project_root()
    work = os.environ.get(WORK_VAR, "").strip()
    work_dir = Path(work).expanduser().resolve() if work else root / "work"
    landing = os.environ.get(LANDING_VAR, "").strip()
    return Settings(
        env=env,
        root=root,
        work_dir=work_dir,
        registry_dir=root / "catalog" / "registry",
        landing_dir=Path(landing).expanduser().resolve() if landing else None,
    )


def disable_telemetry() -> None:
    """Switch off usage reporting of the bundled tools, keeping any value the user set."""
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)
