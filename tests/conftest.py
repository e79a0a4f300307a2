"""Session-wide test settings: no progress output, no telemetry, and a throwaway work folder."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bzdata.config import disable_telemetry
from bzdata.orchestration.home import configure

# Set at import so it holds before any test module imports a tool that reads it.
os.environ["BZDATA_QUIET"] = "1"
disable_telemetry()

# Airflow reads its home once, at import: give the whole session one throwaway home before any
# test module can import Airflow (otherwise it would write to ~/airflow).
_AIRFLOW_WORK = Path(tempfile.mkdtemp(prefix="bzdata-airflow-"))
atexit.register(shutil.rmtree, _AIRFLOW_WORK, ignore_errors=True)
os.environ["BZDATA_TEST_AIRFLOW_WORK"] = str(_AIRFLOW_WORK)
_work_before = os.environ.get("BZDATA_WORK")
configure(_AIRFLOW_WORK, quiet=True)
# Only Airflow's variables stay set for the session; BZDATA_WORK is set per test where needed.
if _work_before is None:
    os.environ.pop("BZDATA_WORK", None)
else:
    os.environ["BZDATA_WORK"] = _work_before


@pytest.fixture
def tmp_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty work folder, also exported as BZDATA_WORK for code that reads settings()."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("BZDATA_WORK", str(work))
    return work
