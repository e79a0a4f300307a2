"""What the publish tests share about the contract server: its interpreter and a JSON reader."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

OM_PYTHON = Path(__file__).resolve().parents[3] / ".venv-om" / "bin" / "python"


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.load(resp)
