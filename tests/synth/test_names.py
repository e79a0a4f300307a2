"""Tests for bzdata.synth.names."""

from __future__ import annotations

import re
import time
from collections import Counter

import numpy as np
import pytest
from pypinyin import Style, lazy_pinyin, pinyin

from bzdata.synth import names, places

ENTITY_TYPES = np.array(["1100", "1200", "4100", "4200", "9100", "9600"])
ENTITY_TYPE_P = [0.26, 0.01, 0.03, 0.01, 0.03, 0.66]
INDUSTRIES = np.array(list("ABCDEFGHIJKLMNOPQRS"))


def _gbk(texts) -> bool:
    try:
        "\n".join(texts).encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def _sex(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.where(rng.random(n) < 0.505, "1", "2").astype(object)


def _entities(seed: int, n: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    counties = np.array(list(places.COUNTIES), dtype=object)
    county = counties[rng.choice(7, n, p=list(places.POPULATION_SHARE.values()))]
    etype = ENTITY_TYPES[rng.choice(6, n, p=ENTITY_TYPE_P)].astype(object)
    industry = INDUSTRIES[rng.integers(0, len(INDUSTRIES), n)].astype(object)
    owners = names.person_names(rng, _sex(rng, n))
    return county, industry, etype, owners


# --- pools ------------------------------------------------------------------------------------


def test_surnames_are_common_shandong_ones_with_rare_compounds() -> None:
    assert 110 <= len(names.SURNAMES) <= 140
    ranked = sorted(names.SURNAMES, key=names.SURNAMES.get, reverse=True)
    assert ranked[:4] == ["王", "张", "李", "刘"]
    for s in "王张李刘陈杨赵孙周吴徐马高":
        assert s in names.SURNAMES
    for s in ("欧阳", "司马"):
        assert names.SURNAMES[s] < names.SURNAMES["王"] / 100
    assert _gbk(names.SURNAMES)


def test_given_name_pools_are_about_150_characters_and_partly_shared() -> None:
    male, female = set(names.MALE_CHARS), set(names.FEMALE_CHARS)
    assert len(male) == len(names.MALE_CHARS) and len(female) == len(names.FEMALE_CHARS)
    assert 140 <= len(male) <= 170 and 140 <= len(female) <= 170
    assert 10 <= len(male & female) <= 40
    assert len(set(names.BRAND_CHARS)) >= 190
    assert _gbk([names.MALE_CHARS, names.FEMALE_CHARS, names.BRAND_CHARS])


# --- person names -----------------------------------------------------------------------------


def test_person_names_are_deterministic_per_seed() -> None:
    sex = _sex(np.random.default_rng(0), 5000)
    a = names.person_names(np.random.default_rng(1), sex)
    b = names.person_names(np.random.default_rng(1), sex)
    c = names.person_names(np.random.default_rng(2), sex)
    assert a.dtype == object and len(a) == 5000
    assert (a == b).all()
    assert (a != c).mean() > 0.9


def test_person_names_follow_sex_and_length_rules() -> None:
    n = 200_000
    sex = _sex(np.random.default_rng(3), n)
    out = names.person_names(np.random.default_rng(4), sex)
    male, female = set(names.MALE_CHARS), set(names.FEMALE_CHARS)
    lengths = []
    for name, s in zip(out.tolist(), sex.tolist(), strict=True):
        surname, given = names.split_name(name)
        assert surname in names.SURNAMES
        assert set(given) <= (male if s == "1" else female)
        lengths.append(len(given))
    share_two = np.mean(np.asarray(lengths) == 2)
    assert set(lengths) == {1, 2}
    assert 0.67 < share_two < 0.73
    top = Counter(names.split_name(x)[0] for x in out.tolist()).most_common(3)
    assert [s for s, _ in top] == ["王", "张", "李"]
    assert _gbk(out.tolist())


def test_person_names_accept_unknown_sex_codes() -> None:
    out = names.person_names(np.random.default_rng(0), np.array(["0", "9", "1", "2"] * 50))
    assert all(isinstance(x, str) and 2 <= len(x) <= 4 for x in out)


def test_person_names_at_city_scale_are_fast_and_gbk() -> None:
    n = 3_930_000
    sex = _sex(np.random.default_rng(5), n)
    t = time.perf_counter()
    out = names.person_names(np.random.default_rng(6), sex)
    took = time.perf_counter() - t
    assert len(out) == n
    assert took < 15  # about 1.5 s on a 2-core machine; generous for shared load
    assert _gbk(out[::7].tolist())


# --- homophones -------------------------------------------------------------------------------


def test_homophone_index_holds_unambiguous_level1_characters() -> None:
    index = names.homophone_index()
    assert index is names.homophone_index()  # built once
    chars = [c for group in index.values() for c in group]
    assert len(chars) == len(set(chars)) > 2000
    for reading, group in list(index.items())[::20]:
        assert reading.isascii() and reading.isalpha()
        for c in group:
            assert 0xB0A1 <= int.from_bytes(c.encode("gb2312"), "big") <= 0xD7F9
            assert set(pinyin(c, style=Style.NORMAL, heteronym=True)[0]) == {reading}
    assert "鸣" in index["ming"] and "小" in index["xiao"]


def _check_homophone(name: str, variant: str) -> None:
    surname, _ = names.split_name(name)
    assert variant != name and len(variant) == len(name)
    assert variant.startswith(surname)
    diff = [i for i, (a, b) in enumerate(zip(name, variant, strict=True)) if a != b]
    assert len(diff) == 1 and diff[0] >= len(surname)
    new = variant[diff[0]]
    assert lazy_pinyin(new) == lazy_pinyin(name[diff[0]])
    assert len(set(pinyin(new, style=Style.NORMAL, heteronym=True)[0])) == 1
    assert lazy_pinyin(list(variant)) == lazy_pinyin(list(name))


def test_homophone_variant_changes_one_given_name_character() -> None:
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(200):
        v = names.homophone_variant("王晓明", rng)
        assert v is not None
        _check_homophone("王晓明", v)
        seen.add(v)
    assert "王小明" in seen and "王晓鸣" in seen
    for name in ("欧阳晓明", "司马明"):
        v = names.homophone_variant(name, rng)
        assert v is not None
        _check_homophone(name, v)


def test_homophone_variant_is_none_without_a_homophone() -> None:
    rng = np.random.default_rng(0)
    assert names.homophone_variant("王德", rng) is None  # 德 is the only unambiguous "de"
    assert names.homophone_variant("王", rng) is None


def test_homophone_variants_over_an_array() -> None:
    sample = names.person_names(np.random.default_rng(7), _sex(np.random.default_rng(8), 20_000))
    sample[0] = "王德"
    sample[1] = None
    a = names.homophone_variants(sample, np.random.default_rng(9))
    b = names.homophone_variants(sample, np.random.default_rng(9))
    assert a.dtype == object and len(a) == len(sample)
    assert a[0] is None and a[1] is None
    assert [x for x in a] == [x for x in b]
    done = [(n, v) for n, v in zip(sample[2:], a[2:], strict=True) if v is not None]
    assert len(done) > 0.95 * (len(sample) - 2)
    for name, v in done:
        _check_homophone(name, v)
    assert _gbk(v for _, v in done)


# --- entity names -----------------------------------------------------------------------------

COMPANY_PREFIXES = ("山东", "滨州", *places.COUNTIES.values(), *places.SHORT_NAMES.values())


def test_entity_names_follow_the_form_of_each_type() -> None:
    county, industry, etype, owners = _entities(10, 20_000)
    out = names.entity_names(np.random.default_rng(11), county, industry, etype, owners)
    assert out.dtype == object and len(set(out.tolist())) == len(out)
    ends = {
        "1100": ("有限公司", "有限责任公司"),
        "1200": ("股份有限公司",),
        "4100": ("（个人独资）",),
        "4200": ("（有限合伙）", "（普通合伙）"),
        "9100": ("专业合作社",),
    }
    for name, c, t, o in zip(out, county, etype, owners, strict=True):
        full = places.COUNTIES[c]
        if t in ("1100", "1200", "4100", "4200"):
            assert name.startswith(COMPANY_PREFIXES)
            assert name.endswith(ends[t])
            if t == "1100":
                assert not name.endswith("股份有限公司")
        elif t == "9100":
            assert name.endswith("专业合作社")
            assert any(name.startswith(full + town) for town in places.TOWNS[c])
        else:
            assert name.startswith(full + o)
            assert len(name) > len(full + o)
    assert _gbk(out.tolist())


def test_entity_names_are_deterministic_per_seed() -> None:
    args = _entities(12, 3000)
    a = names.entity_names(np.random.default_rng(1), *args)
    b = names.entity_names(np.random.default_rng(1), *args)
    c = names.entity_names(np.random.default_rng(2), *args)
    assert (a == b).all()
    assert (a != c).mean() > 0.5


def test_entity_names_disambiguate_collisions_and_respect_taken() -> None:
    n = 3000
    county = np.full(n, "371602", dtype=object)
    industry = np.full(n, "F", dtype=object)
    etype = np.full(n, "9600", dtype=object)
    owners = np.full(n, "王小明", dtype=object)
    out = names.entity_names(np.random.default_rng(0), county, industry, etype, owners)
    assert len(set(out.tolist())) == n
    assert all(x.startswith("滨城区王小明") for x in out)
    assert sum(x in {f"滨城区王小明{w}" for w in names.SHOP_WORDS["F"]} for x in out) == len(
        names.SHOP_WORDS["F"]
    )
    again = names.entity_names(
        np.random.default_rng(0), county, industry, etype, owners, taken=set(out.tolist())
    )
    assert len(set(again.tolist())) == n and not set(again.tolist()) & set(out.tolist())


def test_entity_names_map_retired_codes_and_reject_unknown_ones() -> None:
    rng = np.random.default_rng(0)
    one = np.array(["C"], dtype=object)
    out = names.entity_names(rng, np.array(["371626"]), one, np.array(["9600"]), ["张三"])
    assert out[0].startswith("邹平市张三")
    with pytest.raises(ValueError, match="县"):
        names.entity_names(rng, np.array(["110101"]), one, np.array(["1100"]), ["张三"])
    with pytest.raises(ValueError, match="市场主体类型"):
        names.entity_names(rng, np.array(["371602"]), one, np.array(["9999"]), ["张三"])
    with pytest.raises(ValueError, match="行业门类"):
        names.entity_names(rng, np.array(["371602"]), np.array(["Z"]), np.array(["1100"]), [""])


def test_individual_without_owner_name_gets_a_brand() -> None:
    out = names.entity_names(
        np.random.default_rng(0),
        np.array(["371625"] * 3),
        np.array(["H"] * 3),
        np.array(["9600"] * 3),
        [None, "", "李四"],
    )
    assert all(x.startswith("博兴县") for x in out)
    assert len(out[0]) > len("博兴县") + 2 and out[2].startswith("博兴县李四")


def test_entity_name_variant_is_plausible_and_never_the_input() -> None:
    county, industry, etype, owners = _entities(13, 5000)
    out = names.entity_names(np.random.default_rng(14), county, industry, etype, owners)
    rng = np.random.default_rng(15)
    kinds = Counter()
    for name in out.tolist():
        v = names.entity_name_variant(name, rng)
        assert v is not None and v != name
        if v.replace("有限责任公司", "有限公司") == name.replace("有限责任公司", "有限公司"):
            kinds["form"] += 1
        elif "(" in v:
            kinds["brackets"] += 1
        elif len(v) == len(name) - 1:
            kinds["dropped"] += 1
        else:
            assert len(v) == len(name)
            diff = [i for i, (a, b) in enumerate(zip(name, v, strict=True)) if a != b]
            assert len(diff) == 1
            assert lazy_pinyin(name[diff[0]]) == lazy_pinyin(v[diff[0]])
            kinds["homophone"] += 1
    assert set(kinds) == {"form", "brackets", "dropped", "homophone"}
    assert names.entity_name_variant("滨州市鑫源化工有限公司", rng) != "滨州市鑫源化工有限公司"
    assert names.entity_name_variant("", rng) is None


def test_entity_name_variant_drops_shi_or_switches_the_form() -> None:
    rng = np.random.default_rng(0)
    seen = {names.entity_name_variant("滨州市德德德有限公司", rng) for _ in range(50)}
    assert seen == {"滨州德德德有限公司", "滨州市德德德有限责任公司"}


@pytest.mark.slow
def test_entity_names_at_city_scale_are_unique_and_gbk() -> None:
    args = _entities(16, 450_000)
    t = time.perf_counter()
    out = names.entity_names(np.random.default_rng(17), *args)
    took = time.perf_counter() - t
    assert len(set(out.tolist())) == 450_000
    assert _gbk(out.tolist())
    assert not any(re.search(r"第[一二三四五六七八九十]+", x) for x in out[::97].tolist())
    assert took < 15  # about 0.8 s on a 2-core machine
