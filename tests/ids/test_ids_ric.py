"""Tests for bzdata.ids.ric (公民身份号码, GB 11643)."""

import datetime as dt
import random

import numpy as np
import pytest
from stdnum.cn import ric as stdnum_ric

from bzdata.ids import ric

W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
REF = dt.date(2024, 6, 30)
BINZHOU = ["371602", "371603", "371621", "371622", "371623", "371625", "371681"]


def ref_check(first17: str) -> str:
    """Check digit by the lookup table printed in GB 11643 (index = Σ mod 11)."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, W, strict=True)) % 11]


def build(first17: str) -> str:
    return first17 + ref_check(first17)


def random_id(rng: random.Random) -> str:
    born = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange((REF - dt.date(1900, 1, 1)).days))
    return build(f"{rng.choice(BINZHOU)}{born:%Y%m%d}{rng.randrange(1000):03d}")


@pytest.mark.parametrize("number", ["11010519491231002X", "360426199101010071"])
def test_published_vectors_are_valid(number: str) -> None:
    assert ric.check_digit(number[:17]) == number[17]
    result = ric.validate(number, ref_date=REF)
    assert result.ok and result.code == "ok" and result.value == number
    assert ric.is_valid(number, REF)
    assert stdnum_ric.is_valid(number)


def test_gb11643_sample_born_1880_has_right_check_digit_but_is_before_1900() -> None:
    assert ric.check_digit("44052418800101001") == "4"
    result = ric.validate("440524188001010014", ref_date=REF)
    assert result.code == "birth_date" and "1900" in result.message


def test_check_digit_matches_reference_formula_and_stdnum() -> None:
    rng = random.Random(11643)
    for _ in range(1000):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        assert ric.check_digit(first17) == ref_check(first17)
        assert ric.check_digit(first17) == stdnum_ric.calc_check_digit(first17 + "0")


@pytest.mark.parametrize(
    "bad", ["1234567890123456", "123456789012345678", "12345678901234567X", ""]
)
def test_check_digit_rejects_wrong_input(bad: str) -> None:
    with pytest.raises(ValueError, match="17"):
        ric.check_digit(bad)


def test_leading_zero_sequence_and_trailing_x() -> None:
    zero_seq = build("37160219900101001")  # order code 001
    assert ric.validate(zero_seq, REF).ok
    x_numbers = [build(f"37168119850615{n:03d}") for n in range(1000)]
    x_numbers = [n for n in x_numbers if n.endswith("X")]
    assert len(x_numbers) > 50
    for number in x_numbers:
        assert ric.is_valid(number, REF)
        assert ric.is_valid(number.lower(), REF)  # lower-case x is normalised


def test_wrong_check_digit() -> None:
    good = build("37162119800101123")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    result = ric.validate(wrong, REF)
    assert not result and result.code == "check_digit"
    assert f"校验码应为{good[17]}" in result.message


@pytest.mark.parametrize(
    ("date_part", "ok"),
    [("19900230", False), ("19900431", False), ("19001329", False), ("19000229", False),
     ("20000229", True), ("19000101", True), ("18991231", False)],
)  # fmt: skip
def test_birth_date_must_be_real_and_not_before_1900(date_part: str, ok: bool) -> None:
    result = ric.validate(build(f"371602{date_part}123"), REF)
    assert result.ok is ok
    assert ok or result.code == "birth_date"


def test_future_birth_date_depends_on_ref_date() -> None:
    number = build("37160220240701123")
    assert ric.validate(number, ref_date=dt.date(2024, 7, 1)).ok
    late = ric.validate(number, ref_date=dt.date(2024, 6, 30))
    assert late.code == "birth_date" and "2024-06-30" in late.message
    assert ric.validate(number, ref_date=dt.datetime(2024, 6, 30, 23, 59)).code == "birth_date"
    assert ric.validate(number).ok  # no ref_date: no upper bound


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("3716021990010100", "length"),
        ("3716021990010100123", "length"),
        ("371602900101123", "legacy15"),
        ("37160219900101A123", "chars"),
        ("37160219900101012Y", "chars"),
        ("37160219900101012-", "chars"),
    ],
)
def test_format_defects(raw: str, code: str) -> None:
    result = ric.validate(raw, REF)
    assert not result.ok and result.code == code and result.message


def test_fullwidth_and_spaced_input_is_normalised() -> None:
    number = build("37160219900101001")
    full = "".join(chr(ord(c) + 0xFEE0) for c in number)
    spaced = f" {number[:6]} {number[6:14]} {number[14:]}\u3000"
    assert ric.validate(full, REF).value == number
    assert ric.is_valid(spaced, REF)


def test_region_must_be_structural_and_optionally_binzhou() -> None:
    assert ric.validate(build("99160219900101001"), REF).code == "region"
    outside = build("11010519900101001")
    assert ric.is_valid(outside, REF)
    result = ric.validate(outside, REF, require_binzhou=True)
    assert result.code == "region" and "滨州" in result.message
    for code in ("371624", "371626", "372321"):  # retired codes still count as Binzhou
        assert ric.is_valid(build(f"{code}19800101001"), REF, require_binzhou=True)


def test_stdnum_rejects_new_zouping_code_for_older_births_and_we_accept() -> None:
    number = build("37168119900101123")
    assert not stdnum_ric.is_valid(number)
    assert ric.is_valid(number, REF, require_binzhou=True)


def test_fields() -> None:
    number = "11010519491231002X"
    assert ric.birth_date(number) == dt.date(1949, 12, 31)
    assert ric.sex(number) == "2"
    assert ric.sex("360426199101010071") == "1"
    assert ric.region(number) == "110105"
    assert ric.birth_date("110105491231002") == dt.date(1949, 12, 31)
    assert ric.sex("110105491231002") == "2"
    with pytest.raises(ValueError, match="有效日期"):
        ric.birth_date(build("37160219900230001"))
    with pytest.raises(ValueError):
        ric.region("37160219")


def test_upgrade15_round_trip() -> None:
    assert ric.is_legacy15("110105491231002")
    assert ric.upgrade15("110105491231002") == "11010519491231002X"
    old = "371626991231015"
    new = ric.upgrade15(old)
    assert new == build("37162619991231015")
    assert ric.birth_date(new) == dt.date(1999, 12, 31) == ric.birth_date(old)
    assert ric.sex(new) == ric.sex(old) == "1"
    assert ric.region(new) == ric.region(old) == "371626"
    assert ric.is_valid(new, REF, require_binzhou=True)
    assert ric.upgrade15("３７１６２１８００２２９１２４") == build("37162119800229124")


@pytest.mark.parametrize(
    "bad",
    [
        "371621800230124",
        "991621800101124",
        "37162180010112",
        "11010519491231002X",
        "37162180010112A",
    ],
)
def test_upgrade15_rejects_non_legacy_numbers(bad: str) -> None:
    assert not ric.is_legacy15(bad)
    with pytest.raises(ValueError, match="15位"):
        ric.upgrade15(bad)


def test_make_builds_valid_numbers() -> None:
    rng = random.Random(2260)
    seen = set()
    for _ in range(1000):
        code = rng.choice([*BINZHOU, "371624", "371626", "110105"])
        born = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(45_000))
        seq, sex = rng.randrange(100), rng.choice("12")
        number = ric.make(code, born, seq, sex)
        assert number == build(number[:17])
        assert ric.validate(number, ref_date=REF).ok, number
        assert (ric.region(number), ric.birth_date(number), ric.sex(number)) == (code, born, sex)
        assert number[14:16] == f"{seq:02d}" and number[14:17] != "000"
        seen.add(number)
    assert len(seen) > 990
    same_day = {ric.make("371602", REF, s, x) for s in range(100) for x in "12"}
    assert len(same_day) == 200  # every (seq, sex) gives a distinct number


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("37160", REF, 0, "1"), "地区码"),
        (("991602", REF, 0, "1"), "地区码"),
        (("371602", REF, 100, "1"), "顺序号"),
        (("371602", REF, -1, "1"), "顺序号"),
        (("371602", REF, 0, "M"), "性别"),
    ],
)
def test_make_rejects_bad_parts(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ric.make(*args)


def test_every_single_digit_change_is_rejected() -> None:
    rng = random.Random(17)
    for _ in range(40):
        number = random_id(rng)
        assert ric.validate(number, REF).ok
        for i in range(18):
            for c in "0123456789X":
                if c != number[i] and (i == 17 or c != "X"):
                    changed = number[:i] + c + number[i + 1 :]
                    assert not ric.is_valid(changed, REF), changed


def test_check_digits_np_matches_scalar() -> None:
    rng = np.random.default_rng(11643)
    digits = rng.integers(0, 10, size=(1000, 17), dtype=np.uint8)
    checks = ric.check_digits_np(digits)
    assert checks.shape == (1000,)
    for row, check in zip(digits, checks, strict=True):
        assert check == ref_check("".join(map(str, row)))
    with pytest.raises(ValueError):
        ric.check_digits_np(digits[:, :16])


def test_make_np_matches_make() -> None:
    rng = np.random.default_rng(2024)
    n = 1000
    regions = rng.choice(np.array([*BINZHOU, "371626"]), n)
    births = np.datetime64("1900-01-01") + rng.integers(0, 45_000, n).astype("timedelta64[D]")
    seqs = rng.integers(0, 100, n)
    sexes = rng.choice(np.array(["1", "2"]), n)
    numbers = ric.make_np(regions, births, seqs, sexes)
    assert numbers.shape == (n,) and numbers.dtype.kind == "U"
    for i in range(n):
        expected = ric.make(str(regions[i]), births[i].item(), int(seqs[i]), str(sexes[i]))
        assert numbers[i] == expected
        assert ric.is_valid(numbers[i], REF)


def test_make_np_broadcasts_scalars_and_int_regions() -> None:
    out = ric.make_np(371602, dt.date(2000, 2, 29), np.arange(3), 2)
    assert list(out) == [ric.make("371602", dt.date(2000, 2, 29), s, "2") for s in range(3)]


@pytest.mark.parametrize(
    ("region", "seq", "sex", "match"),
    [
        ("37160", 0, "1", "6个字符"),
        ("3716021", 0, "1", "6个字符"),
        ("37160A", 0, "1", "6位数字"),
        ("991602", 0, "1", "行政区划"),
        ("371602", 100, "1", "顺序号"),
        ("371602", 0, "3", "性别"),
    ],
)
def test_make_np_rejects_bad_parts(region: str, seq: int, sex: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ric.make_np([region, "371602"], np.datetime64("1990-01-01"), seq, sex)
