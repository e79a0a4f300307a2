"""DuckDB's limits come from one place and reach every connection the platform opens."""

from __future__ import annotations

import pytest

from bzdata import duck
from bzdata.config import ConfigError


def _setting(con, name: str) -> str:
    return con.execute("select current_setting(?)", [name]).fetchone()[0]


def test_connections_take_the_configured_limits(monkeypatch, tmp_path):
    monkeypatch.setenv(duck.ENV_MEMORY, "512MB")
    monkeypatch.setenv(duck.ENV_THREADS, "1")
    con = duck.connect(tmp_path / "x.duckdb", spill=tmp_path / "spill")
    try:
        # DuckDB reports the limit in its own units (512MB → 488.2 MiB).
        assert _setting(con, "memory_limit") == "488.2 MiB"
        assert int(_setting(con, "threads")) == 1
        assert _setting(con, "temp_directory") == str(tmp_path / "spill")
    finally:
        con.close()


def test_the_default_is_not_duckdbs_eighty_percent(monkeypatch):
    monkeypatch.delenv(duck.ENV_MEMORY, raising=False)
    monkeypatch.delenv(duck.ENV_THREADS, raising=False)
    con = duck.connect()
    try:
        assert _setting(con, "memory_limit") == "3.7 GiB"
    finally:
        con.close()
    assert duck.environment() == {duck.ENV_MEMORY: "4GB", duck.ENV_THREADS: "2"}


@pytest.mark.parametrize(
    ("name", "value"), [(duck.ENV_MEMORY, "lots"), (duck.ENV_THREADS, "0"), (duck.ENV_THREADS, "x")]
)
def test_a_bad_limit_names_its_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        duck.limits()
