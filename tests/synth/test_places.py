"""Tests for bzdata.synth.places."""

from __future__ import annotations

import math
import re
import time
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from bzdata.ids import region
from bzdata.synth import places

COLUMNS = ["address_code", "admin_region", "town_name", "community_name", "standard_address"]


def _gbk(texts) -> bool:
    try:
        "\n".join(texts).encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def test_counties_and_population_shares() -> None:
    assert list(places.COUNTIES.items()) == list(region.COUNTIES.items())
    assert list(places.POPULATION_SHARE) == list(places.COUNTIES)
    assert math.isclose(sum(places.POPULATION_SHARE.values()), 1.0, abs_tol=1e-9)
    assert all(0.05 < s < 0.3 for s in places.POPULATION_SHARE.values())
    assert max(places.POPULATION_SHARE, key=places.POPULATION_SHARE.get) in ("371602", "371681")


def test_towns_are_non_empty_and_well_formed() -> None:
    assert list(places.TOWNS) == list(places.COUNTIES)
    for code, towns in places.TOWNS.items():
        assert towns and len(set(towns)) == len(towns)
        assert all(re.fullmatch(r"\w+(街道|镇|乡)", t) for t in towns), code
        assert any(t.endswith("街道") for t in towns)
    assert len(places.TOWNS["371681"]) == 16 and "魏桥镇" in places.TOWNS["371681"]
    assert "秦皇台乡" in places.TOWNS["371602"] and "利国乡" in places.TOWNS["371603"]
    assert _gbk(t for towns in places.TOWNS.values() for t in towns)


def test_town_codes_follow_gbt_10114_ranges() -> None:
    codes = places.town_codes("371602")
    assert codes["市中街道"] == "371602001"
    assert codes["三河湖镇"] == "371602101"
    assert codes["秦皇台乡"] == "371602201"
    assert places.town_codes("邹平")["长山镇"] == "371681101"
    for c in places.COUNTIES:
        assert len(set(places.town_codes(c).values())) == len(places.TOWNS[c])


def test_county_lookup_by_code_name_short_name_and_retired_code() -> None:
    assert places.county_code("371602") == "371602"
    assert places.county_code("博兴县") == "371625"
    assert places.county_code("邹平") == "371681"
    assert places.county_code("371626") == "371681"
    with pytest.raises(ValueError, match="不是滨州市"):
        places.county_code("110101")


def test_roads() -> None:
    binzhou = places.roads("371602")
    assert {"黄河五路", "渤海七路", "长江二路", "黄河十二路", "渤海二十四路"} <= set(binzhou)
    assert {"鹤伴一路", "黛溪三路"} <= set(places.roads("邹平市"))
    for c in places.COUNTIES:
        r = places.roads(c)
        assert len(r) >= 20 and len(set(r)) == len(r)
        assert all(re.fullmatch(r"\w+(路|街|大街|大道)", x) for x in r)
        assert _gbk(r)
    assert places.cn_number(10) == "十" and places.cn_number(24) == "二十四"


def test_hospitals_and_issuing_authorities() -> None:
    for code, name in places.COUNTIES.items():
        h = places.hospital_names(code)
        assert f"{name}人民医院" in h and f"{name}妇幼保健院" in h
        assert len(set(h)) == len(h)
        assert _gbk(h)
    assert places.hospital_names("滨城区")[0] == "滨州医学院附属医院"
    assert places.market_regulator("371625") == "博兴县市场监督管理局"
    assert places.market_regulator() == "滨州市市场监督管理局"
    assert places.market_regulator("371600") == "滨州市市场监督管理局"
    assert places.public_security("371602") == "滨州市公安局滨城分局"
    assert places.public_security("惠民县") == "惠民县公安局"
    assert places.health_authority() == "滨州市卫生健康委员会"
    auth = places.issuing_authorities("371681")
    assert auth["market_regulator"] == "邹平市市场监督管理局"
    assert auth["civil_affairs"] == "邹平市民政局"
    assert all(v.startswith("邹平市") for v in auth.values())


def _small(seed: int) -> pa.Table:
    counts = {"371602": 30_000, "371623": 12_000, "371681": 0}
    return places.build_addresses(np.random.default_rng(seed), counts)


def test_build_addresses_is_deterministic() -> None:
    a, b, c = _small(1), _small(1), _small(2)
    assert a.equals(b)
    assert not a.column("standard_address").equals(c.column("standard_address"))


def test_build_addresses_shape_and_codes() -> None:
    t = _small(3)
    assert t.column_names == COLUMNS
    assert all(t.schema.field(c).type == pa.string() for c in COLUMNS)
    assert t.num_rows == 42_000
    counts = dict(Counter(t.column("admin_region").to_pylist()))
    assert counts == {"371602": 30_000, "371623": 12_000}
    rows = t.to_pylist()
    for row in rows[::37]:
        code, county = row["address_code"], row["admin_region"]
        assert re.fullmatch(r"\d{18}", code) and code[:6] == county
        town = row["town_name"]
        assert places.town_codes(county)[town] == code[:9]
        head = f"山东省滨州市{places.COUNTIES[county]}{town}{row['community_name']}"
        assert row["standard_address"].startswith(head)
        door = row["standard_address"][len(head) :]
        if town.endswith("街道"):
            assert row["community_name"].endswith("社区") and 1 <= int(code[9:12]) <= 199
            m = re.fullmatch(r"(\w+?(?:路|街|大道))(\d+)号(\d+)号楼(\d)单元(\d+)室", door)
            assert m and m.group(1) in places.roads(county), door
            assert 101 <= int(m.group(5)) <= 2602
        else:
            assert row["community_name"].endswith("村") and 200 <= int(code[9:12]) <= 398
            assert re.fullmatch(r"[1-9]\d*号", door), door
    codes = t.column("address_code").to_pylist()
    assert len(set(codes)) == len(codes)
    assert codes == sorted(codes)
    assert _gbk(t.column("standard_address").to_pylist())


def test_build_addresses_validates_counts() -> None:
    rng = np.random.default_rng(0)
    assert places.build_addresses(rng, {}).num_rows == 0
    assert places.build_addresses(rng, {"371603": 1}).num_rows == 1
    with pytest.raises(ValueError, match="371626"):
        places.build_addresses(rng, {"371626": 10})
    with pytest.raises(ValueError, match="负"):
        places.build_addresses(rng, {"371603": -1})


def test_community_sizes_are_realistic() -> None:
    counts = {c: int(200_000 * s) for c, s in places.POPULATION_SHARE.items()}
    t = places.build_addresses(np.random.default_rng(4), counts)
    sizes = t.group_by(["admin_region", "town_name", "community_name"]).aggregate(
        [("address_code", "count")]
    )
    urban = pc.ends_with(sizes["town_name"], "街道").to_numpy(zero_copy_only=False)
    n = sizes["address_code_count"].to_numpy()
    assert 800 <= np.median(n[urban]) <= 3000
    assert 150 <= np.median(n[~urban]) <= 600
    assert np.percentile(n, 5) >= 80 and n.max() <= 8000


@pytest.mark.slow
def test_addresses_at_city_scale_are_unique_and_gbk() -> None:
    counts = {c: int(1_400_000 * s) for c, s in places.POPULATION_SHARE.items()}
    t0 = time.perf_counter()
    t = places.build_addresses(np.random.default_rng(5), counts)
    took = time.perf_counter() - t0
    assert t.num_rows == sum(counts.values())
    assert pc.count_distinct(t["address_code"]).as_py() == t.num_rows
    assert pc.count_distinct(t["standard_address"]).as_py() == t.num_rows
    assert pc.all(pc.equal(pc.utf8_length(t["address_code"]), 18)).as_py()
    assert _gbk(t.column("standard_address").to_pylist())
    assert took < 15  # about 1.5 s on a 2-core machine
