"""Tests for bzdata.ids.region."""

import pytest

from bzdata.ids import region

CURRENT = {
    "371602": "滨城区",
    "371603": "沾化区",
    "371621": "惠民县",
    "371622": "阳信县",
    "371623": "无棣县",
    "371625": "博兴县",
    "371681": "邹平市",
}


def test_counties_are_the_current_county_level_codes_in_stable_order() -> None:
    assert list(region.COUNTIES.items()) == list(CURRENT.items())
    assert region.CITY_CODE == "371600"
    assert region.name_of("371600") == "滨州市"


@pytest.mark.parametrize("code", [*CURRENT, "371600"])
def test_current_codes_are_binzhou(code: str) -> None:
    assert region.is_binzhou(code)
    assert region.is_binzhou(code, allow_retired=False)
    assert region.current_code(code) == code
    assert region.is_shandong(code)


@pytest.mark.parametrize(
    ("old", "new", "old_name"),
    [
        ("371624", "371603", "沾化县"),
        ("371626", "371681", "邹平县"),
        ("372321", "371621", "惠民县"),
        ("372330", "371681", "邹平县"),
        ("372301", "371602", "滨州市"),
    ],
)
def test_retired_codes_are_binzhou_and_map_to_current(old: str, new: str, old_name: str) -> None:
    assert region.is_binzhou(old)
    assert not region.is_binzhou(old, allow_retired=False)
    assert region.current_code(old) == new
    assert region.name_of(old) == old_name
    assert new == region.CITY_CODE or new in region.COUNTIES


def test_every_retired_code_maps_to_a_current_binzhou_code() -> None:
    for old, new in region.RETIRED.items():
        assert old not in region.COUNTIES
        assert region.is_binzhou(new, allow_retired=False), old
        assert region.name_of(old)


@pytest.mark.parametrize(
    "code",
    ["370102", "371502", "372326", "372327", "372329", "372331", "372332", "110105", "371601"],
)
def test_other_codes_are_not_binzhou(code: str) -> None:
    # 利津/广饶/垦利 (东营) and 桓台/高青 (淄博) left 惠民地区 before Binzhou was formed.
    assert not region.is_binzhou(code)
    assert region.current_code(code) == code
    assert region.name_of(code) is None


@pytest.mark.parametrize(
    ("code", "valid", "shandong"),
    [
        ("371602", True, True),
        ("370000", True, True),
        ("110105", True, False),
        ("820000", True, False),
        ("830000", True, False),
        ("100000", False, False),
        ("991234", False, False),
        ("37160", False, False),
        ("3716021", False, False),
        ("37160A", False, False),
        ("３７１６０２", False, False),
        ("", False, False),
    ],
)
def test_structural_checks(code: str, valid: bool, shandong: bool) -> None:
    assert region.is_valid_code(code) is valid
    assert region.is_shandong(code) is shandong
