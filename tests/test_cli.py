"""The `bzdata` entry point: Chinese help and errors, feature wiring, version, demo chain."""

from __future__ import annotations

import argparse
import os
import sys
import types
from importlib import metadata
from pathlib import Path

import pytest

from bzdata import cli


def _fake_feature(
    monkeypatch: pytest.MonkeyPatch, module_name: str, command: str, help_text: str, calls: list
) -> None:
    """Register a feature module in sys.modules that adds `command` the way real features do."""
    module = types.ModuleType(module_name)

    def handler(args: argparse.Namespace) -> int:
        calls.append((command, args.name))
        return 7

    def add_parser(subparsers: argparse._SubParsersAction) -> None:
        parser = subparsers.add_parser(command, help=help_text)
        parser.add_argument("--name", default="滨州")
        parser.set_defaults(func=handler)

    module.add_parser = add_parser
    monkeypatch.setitem(sys.modules, module_name, module)


def test_help_is_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"], features=()) == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：bzdata")
    assert "滨州公共数据平台命令行工具" in out
    assert "显示本帮助并退出" in out
    assert "在内置的合成滨州上运行完整流程" in out
    assert "show this help" not in out


def test_missing_subcommand_is_a_chinese_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([], features=()) == 2
    err = capsys.readouterr().err
    assert "错误：请指定要运行的子命令" in err


def test_unknown_subcommand_fails_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["nope"], features=()) == 2
    err = capsys.readouterr().err
    assert "未知的子命令 'nope'" in err
    assert "可用的子命令：demo" in err
    assert "invalid choice" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"], features=()) == 0
    assert capsys.readouterr().out == f"bzdata {metadata.version('bzdata')}\n"


def test_feature_modules_are_wired_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list = []
    _fake_feature(monkeypatch, "fake_features.zeta.cli", "zeta", "最后一个功能", calls)
    _fake_feature(monkeypatch, "fake_features.alpha.cli", "alpha", "第二个功能", calls)
    features = ("fake_features.zeta.cli", "fake_features.alpha.cli")

    assert cli.main(["alpha", "--name", "沾化区"], features=features) == 7
    assert calls == [("alpha", "沾化区")]

    assert cli.main(["--help"], features=features) == 0
    out = capsys.readouterr().out
    assert "最后一个功能" in out
    assert out.index("zeta") < out.index("alpha")


def test_feature_subcommand_help_is_chinese(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_feature(monkeypatch, "fake_features.beta.cli", "beta", "测试功能", [])
    assert cli.main(["beta", "--help"], features=["fake_features.beta.cli"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：bzdata beta")
    assert "显示本帮助并退出" in out


def test_a_missing_feature_module_is_an_error_not_skipped() -> None:
    with pytest.raises(ModuleNotFoundError):
        cli.main(["--help"], features=["bzdata.no_such_feature.cli"])


def test_default_features_are_bzdata_modules() -> None:
    assert cli.FEATURES[:2] == ("bzdata.registry.cli", "bzdata.synth.cli")
    assert len(set(cli.FEATURES)) == len(cli.FEATURES)


def test_main_switches_telemetry_off_but_keeps_user_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GX_ANALYTICS_ENABLED", raising=False)
    monkeypatch.setenv("DO_NOT_TRACK", "yes")
    assert cli.main(["--version"], features=()) == 0
    assert os.environ["GX_ANALYTICS_ENABLED"] == "False"
    assert os.environ["DO_NOT_TRACK"] == "yes"


@pytest.fixture
def fake_synth(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Stand-in for bzdata.synth that records how the demo calls generate()."""
    calls: list[dict] = []
    module = types.ModuleType("bzdata.synth")

    def generate(out_dir: Path, **kwargs: object) -> None:
        calls.append({"out_dir": out_dir, **kwargs})

    module.generate = generate
    monkeypatch.setitem(sys.modules, "bzdata.synth", module)
    return calls


@pytest.fixture(autouse=True)
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Stand-in for the Airflow runner: records which periods the demo runs, in order."""
    import bzdata.orchestration.runner as runner

    calls: list[tuple] = []

    def run_period(period, work_dir, **kwargs):
        calls.append((period, work_dir))
        return types.SimpleNamespace(ok=True, dags=[])

    monkeypatch.setattr(runner, "run_period", run_period)
    return calls


def test_demo_runs_each_step_with_progress(
    tmp_work: Path,
    fake_synth: list[dict],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BZDATA_QUIET", "0")
    assert cli.main(["demo", "--months", "2", "--seed", "7"], features=()) == 0

    assert fake_synth == [
        {
            "out_dir": tmp_work / "synth",
            "scale": "demo",
            "months": 2,
            "seed": 7,
            "start_period": cli.DEMO_START_PERIOD,
        }
    ]
    err = capsys.readouterr().err
    total = len(cli.DEMO_STEPS)
    for number, step in enumerate(cli.DEMO_STEPS, start=1):
        assert f"▶ [{number}/{total}] {step.name}\n" in err
        assert f"✔ [{number}/{total}] {step.name}（" in err


def test_demo_defaults_and_work_option(
    tmp_path: Path, fake_synth: list[dict], fake_pipeline: list[tuple]
) -> None:
    work = tmp_path / "elsewhere"
    assert cli.main(["demo", "--work", str(work)], features=()) == 0
    assert work.is_dir()
    (call,) = fake_synth
    assert call["out_dir"] == work.resolve() / "synth"
    assert (call["months"], call["seed"]) == (3, 20230101)
    # Then every generated month, in order, through the pipeline.
    assert fake_pipeline == [(p, work.resolve()) for p in ("2023-01", "2023-02", "2023-03")]


def test_demo_step_failure_is_reported_and_raised(
    tmp_work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = types.ModuleType("bzdata.synth")

    def generate(out_dir: Path, **kwargs: object) -> None:
        raise RuntimeError("boom")

    module.generate = generate
    monkeypatch.setitem(sys.modules, "bzdata.synth", module)
    monkeypatch.setenv("BZDATA_QUIET", "0")
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["demo"], features=())
    assert "✘ [1/" in capsys.readouterr().err


@pytest.mark.parametrize("months", ["0", "-1", "三"])
def test_demo_months_must_be_a_positive_integer(
    months: str, fake_synth: list[dict], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo", f"--months={months}"], features=()) == 2
    assert "错误：参数 --months：" in capsys.readouterr().err
    assert fake_synth == []


@pytest.mark.parametrize("work_option", [[], ["--work", "unused"]])
def test_bad_environment_name_is_a_chinese_error(
    work_option: list[str],
    fake_synth: list[dict],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BZDATA_ENV", "cloud")
    assert cli.main(["demo", *work_option], features=()) == 2
    err = capsys.readouterr().err
    assert "配置错误" in err
    assert "BZDATA_ENV" in err
    assert fake_synth == []
