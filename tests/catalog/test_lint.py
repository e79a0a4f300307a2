"""编目 checks on the real registry and on a deliberately broken copy of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bzdata.catalog.lint import METADATA_ITEMS, lint_registry
from bzdata.registry import default_root, load_registry
from bzdata.scorecard.config import load_config


@pytest.fixture(scope="module")
def rules():
    return load_config().catalog


def test_real_registry_is_catalogued_with_its_gaps_named(rules):
    entries, findings = lint_registry(default_root(), rules)
    registry = load_registry()
    assert entries.column("dataset").to_pylist() == sorted(ds.id for ds in registry.datasets)
    assert all(entries.column("qualified").to_pylist())
    # no department has its 统一社会信用代码 in the registry yet: one item missing everywhere
    assert set(entries.column("items_filled").to_pylist()) == {len(METADATA_ITEMS) - 1}
    assert set(entries.column("missing_items").to_pylist()) == {"信息资源提供方代码"}
    rows = findings.to_pylist()
    assert {r["severity"] for r in rows} == {"警告"}
    # personal fields shared or opened unconditionally are flagged
    flagged = {r["dataset"] for r in rows if r["rule_id"] == "BM14"}
    assert "fgw_sgs" in flagged
    for ds in registry.datasets:
        unconditional = ds.share.type == "无条件共享" or ds.open.type == "无条件开放"
        assert (ds.id in flagged) == (unconditional and bool(ds.personal_columns)), ds.id


def _broken_copy(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    shutil.copytree(default_root(), root)
    path = root / "datasets" / "rsj_shbx.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["abstract"]
    data["name"] = "户籍人口基本信息"  # the name of gaj_hjrk
    data["resource_code"] = "RSJ-1"
    data["share"] = {"type": "有条件共享"}
    data["fields"].append({"column": "extra", "element": "no_such_element"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    other = root / "datasets" / "tjj_zyjjzb.yaml"
    data = yaml.safe_load(other.read_text(encoding="utf-8"))
    data["provider"] = "nobody"
    data["abstract"] = "短摘要"
    other.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root


def test_broken_entries_are_found_and_named(tmp_path, rules):
    entries, findings = lint_registry(_broken_copy(tmp_path), rules)
    by_dataset: dict[str, set[str]] = {}
    for row in findings.to_pylist():
        by_dataset.setdefault(row["dataset"], set()).add(row["rule_id"])
    assert {"BM03", "BM02", "BM07", "BM09", "BM10", "BM13"} <= by_dataset["rsj_shbx"]
    assert "BM02" in by_dataset["gaj_hjrk"]  # both entries with the same name are flagged
    assert {"BM04", "BM05"} <= by_dataset["tjj_zyjjzb"]
    messages = {r["message"] for r in findings.to_pylist() if r["dataset"] == "rsj_shbx"}
    assert "缺少信息资源摘要（abstract）" in messages
    assert any("“extra”" in m or "fields[" in m for m in messages)
    rows = {r["dataset"]: r for r in entries.to_pylist()}
    assert rows["rsj_shbx"]["qualified"] is False
    assert rows["tjj_zyjjzb"]["department"] is None  # unknown provider: not counted for anyone
    assert "信息资源摘要" in rows["rsj_shbx"]["missing_items"]
    assert "共享条件" in rows["rsj_shbx"]["missing_items"]
    assert rows["rsj_shbx"]["items_filled"] < rows["gaj_hjrk"]["items_filled"]
    assert rows["gaj_hjrk"]["qualified"] is True
