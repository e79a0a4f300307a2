"""Session-wide test settings: no progress output, no telemetry, and a throwaway work folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bzdata.config import disable_telemetry

# Set at import so it holds before any test module imports a tool that reads it.
os.environ["BZDATA_QUIET"] = "1"
disable_telemetry()


@pytest.fixture
def tmp_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty work folder, also exported as BZDATA_WORK for code that reads settings()."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("BZDATA_WORK", str(work))
    return work
