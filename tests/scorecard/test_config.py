"""catalog/scorecard.yaml loads, and a bad copy fails naming the key in Chinese."""

from __future__ import annotations

import pytest
import yaml

from bzdata.scorecard.config import (
    SECTIONS,
    ScorecardConfigError,
    default_path,
    load_config,
)


def test_shipped_config_loads():
    cfg = load_config()
    assert sum(cfg.weights.of(s) for s in SECTIONS) == pytest.approx(1.0)
    assert list(cfg.quality.dimensions) == [
        "规范性",
        "完整性",
        "准确性",
        "一致性",
        "时效性",
        "可访问性",
    ]
    assert 0 < cfg.quality.pass_rate_floor < 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["weights"].pop("quality"), "weights.quality: 缺少此项"),
        (lambda d: d["collection"].update(late_credit=2), "collection.late_credit"),
        (lambda d: d["quality"]["dimensions"].pop("时效性"), "六个维度"),
        (lambda d: d["catalog"].update(resource_code_pattern="("), "正则表达式"),
        (lambda d: d.update(colour="red"), "colour: 不认识的键"),
    ],
)
def test_bad_config_names_the_key(tmp_path, change, expected):
    data = yaml.safe_load(default_path().read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "scorecard.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScorecardConfigError) as caught:
        load_config(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)
