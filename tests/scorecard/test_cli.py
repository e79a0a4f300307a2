"""`bzdata scorecard` prints the ranking or the JSON, and refuses bad periods in Chinese."""

from __future__ import annotations

import json

import pytest

from bzdata.cli import main

pytestmark = pytest.mark.slow


def test_json_output_is_the_scorecard(scored_city, capsys):
    code = main(
        ["scorecard", "--period", "2023-02", "--work", str(scored_city.work), "--json", "--no-png"]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["period"] == "2023-02"
    assert len(document["departments"]) == 12
    assert document["formulas"]["composite"].startswith("综合得分 =")


def test_table_output_lists_every_department(scored_city, capsys):
    code = main(["scorecard", "--period", "2023-02", "--work", str(scored_city.work), "--no-png"])
    out = capsys.readouterr().out
    assert code == 0
    assert "2023年02月" in out and "市公安局" in out and "市统计局" in out
    assert "数据晾晒台_2023年02月.xlsx" in out


def test_help_and_bad_period(tmp_path, capsys):
    assert main(["--help"]) == 0
    assert "scorecard" in capsys.readouterr().out
    assert main(["scorecard", "--period", "2023-13", "--work", str(tmp_path)]) == 2
    assert "期次应为 YYYY-MM 格式" in capsys.readouterr().err
    assert main(["scorecard", "--period", "2023-01", "--work", str(tmp_path)]) == 2
    assert "没有归集清单" in capsys.readouterr().err
