"""`bzdata build` and `bzdata build sources` from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bzdata.build import dbt
from bzdata.cli import main


def test_sources_check_passes_on_the_committed_project(capsys):
    assert main(["build", "sources", "--check"]) == 0
    assert "一致" in capsys.readouterr().out


def test_build_without_a_warehouse_says_to_ingest_first(tmp_path: Path, capsys):
    assert main(["build", "--work", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "找不到数据仓库" in err and "bzdata ingest" in err


def test_build_rejects_a_malformed_period(tmp_path: Path, capsys):
    assert main(["build", "--work", str(tmp_path), "--period", "2023-13"]) == 2
    assert "YYYY-MM" in capsys.readouterr().err


def test_second_writer_is_told_who_holds_the_warehouse(tmp_path: Path):
    warehouse = tmp_path / "warehouse" / "bzdata.duckdb"
    warehouse.parent.mkdir()
    warehouse.touch()
    # The lock is re-entrant within a process: the other writer must be another process.
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(dbt.BuildError, match="ingest-7"):
            dbt.build(tmp_path, docs=False)
    finally:
        holder.kill()
        holder.wait()


_HOLD = """
import sys, time
from bzdata.ingest.lock import writer_lock
from bzdata.ingest.paths import Paths
with writer_lock(Paths.from_work(sys.argv[1]), "ingest-7", "bzdata ingest"):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.mark.slow
def test_period_var_selects_the_build_period(city, tmp_path: Path):
    # A copy of the built warehouse, so the session's city stays as it was.
    (tmp_path / "warehouse").mkdir()
    source = city.work / "warehouse" / "bzdata.duckdb"
    (tmp_path / "warehouse" / "bzdata.duckdb").write_bytes(source.read_bytes())
    result = dbt.build(tmp_path, period=city.periods[0], select="int_build_period", docs=False)
    assert result.success, result.problems
    import duckdb

    con = duckdb.connect(str(tmp_path / "warehouse" / "bzdata.duckdb"), read_only=True)
    assert con.execute("select target_period from intermediate.int_build_period").fetchone() == (
        city.periods[0],
    )
