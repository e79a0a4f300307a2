"""Where the platform keeps things, chosen by one environment switch.

`BZDATA_ENV` picks the deployment: "local" (DuckDB files in the work folder, the default) or
"scaleout" (Airflow + PostgreSQL services). Builders for anything environment-specific are
functions of `settings().env`, never copied per-environment dictionaries.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

EnvName = Literal["local", "scaleout"]
ENV_NAMES: tuple[EnvName, ...] = ("local", "scaleout")

# Set before Great Expectations, Airflow/Cosmos or dbt are imported, so none of them phones home.
TELEMETRY_OFF: dict[str, str] = {
    "GX_ANALYTICS_ENABLED": "False",
    "DO_NOT_TRACK": "1",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "SCARF_ANALYTICS": "false",
}


class ConfigError(ValueError):
    """A setting read from the environment is invalid; the message is for the user (Chinese)."""


@dataclass(frozen=True)
class Settings:
    """Resolved locations and environment name for one run."""

    env: EnvName
    root: Path
    work_dir: Path
    registry_dir: Path


def project_root() -> Path:
    """The repository root: the folder holding pyproject.toml above this package."""
    # src/bzdata/config.py -> repository root; the package is installed editable from the repo.
    candidate = Path(__file__).resolve().parents[2]
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd().resolve()


def settings() -> Settings:
    """Read the environment now; raises ConfigError for an unknown BZDATA_ENV."""
    env = os.environ.get("BZDATA_ENV", "local").strip() or "local"
    if env not in ENV_NAMES:
        raise ConfigError(
            f"环境变量 BZDATA_ENV 的值“{env}”无效：只能是 {' 或 '.join(ENV_NAMES)}（默认 local）"
        )
    root = project_root()
    work = os.environ.get("BZDATA_WORK", "").strip()
    work_dir = Path(work).expanduser().resolve() if work else root / "work"
    return Settings(
        env=cast(EnvName, env),
        root=root,
        work_dir=work_dir,
        registry_dir=root / "catalog" / "registry",
    )


def disable_telemetry() -> None:
    """Switch off usage reporting of the bundled tools, keeping any value the user set."""
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)
