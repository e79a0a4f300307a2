"""`bzdata registry check|show` on the fixture registry."""

from __future__ import annotations

import argparse

from bzdata.registry.cli import add_parser


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="bzdata")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_check_prints_chinese_summary(reg, capsys):
    assert run("registry", "--root", str(reg.root), "check") == 0
    out = capsys.readouterr().out
    assert "注册表校验通过" in out
    assert "部门：4 个" in out
    assert "数据集：3 个（基础 2、主题 0、部门 1）" in out
    assert "基础库：人口 2、法人 0" in out
    assert "数据元：5 个（其中个人信息 2 个）" in out
    assert "指标：3 项（平台计算 1 项，部门填报 2 项）" in out


def test_check_lists_problems_and_fails(reg, capsys):
    reg.edit("datasets/gaj_hjrk.yaml", "provider: gaj", "provider: gaa")
    assert run("registry", "check", "--root", str(reg.root)) == 1
    err = capsys.readouterr().err
    line = reg.line_of("datasets/gaj_hjrk.yaml", "provider:")
    assert f"datasets/gaj_hjrk.yaml 第{line}行 [数据集 gaj_hjrk] provider: 未知的部门 'gaa'" in err


def test_show_element_names_authority_and_copy_holders(reg, capsys):
    assert run("registry", "--root", str(reg.root), "show", "citizen_id") == 0
    out = capsys.readouterr().out
    assert "数据元 citizen_id：公民身份号码" in out
    assert "权威来源部门（一数一源）：滨州市公安局（gaj）" in out
    assert "持有副本的部门：滨州市卫生健康委员会（wjw）、滨州市民政局（mzj）" in out
    assert "mzj_hydj.female_id（女方身份号码）" in out


def test_show_dataset_lists_metadata_and_fields(reg, capsys):
    assert run("registry", "--root", str(reg.root), "show", "mzj_hydj") == 0
    out = capsys.readouterr().out
    assert "数据集 mzj_hydj：婚姻登记信息" in out
    assert "提供部门：滨州市民政局（mzj）" in out
    assert "文件 婚姻登记_{period}.csv（csv，编码 gbk），次月 10 日前报送" in out
    assert "male_id  男方身份号码  → citizen_id（公民身份号码），string，必填、个人信息" in out


def test_show_unknown_id_suggests_and_fails(reg, capsys):
    assert run("registry", "--root", str(reg.root), "show", "citizen_idd") == 1
    assert "是否为 'citizen_id'" in capsys.readouterr().err
