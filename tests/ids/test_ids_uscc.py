"""Tests for bzdata.ids.uscc (统一社会信用代码, GB 32100)."""

import random

import numpy as np
import pytest
from stdnum.cn import uscc as stdnum_uscc

from bzdata.ids import uscc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Weights printed in GB 32100 (3^(i-1) mod 31).
W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PUBLISHED = ["91110000600037341L", "914403001922038216", "91440300708461136T", "91350100M000100Y43"]


def ref_check(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, W, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def ref_org_check(body8: str) -> str:
    """GB 11714: C9 = 11 − Σ(Ci·Wi) mod 11, letters A=10 … Z=35; 10 → X, 11 → 0."""
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body8]
    c9 = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def build(head10: str, body8: str) -> str:
    first17 = head10[:8] + body8 + ref_org_check(body8)
    return first17 + ref_check(first17)


def random_code(rng: random.Random) -> str:
    dept = rng.choice(sorted(uscc.CATEGORIES))
    kind = rng.choice(uscc.CATEGORIES[dept][1])
    body = "".join(rng.choice(ALPHABET) for _ in range(8))
    return build(f"{dept}{kind}{rng.choice(['371602', '371681', '100000', '110105'])}", body)


def test_weights_are_powers_of_three_mod_31() -> None:
    assert uscc.WEIGHTS == W
    assert uscc.ALPHABET == ALPHABET and len(ALPHABET) == 31
    assert not set("IOZSV") & set(ALPHABET)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert uscc.check_char(code[:17]) == code[17]
    assert uscc.org_check_char(code[8:16]) == code[16]
    result = uscc.validate(code)
    assert result.ok and result.value == code
    assert stdnum_uscc.is_valid(code)


def test_check_char_matches_reference_and_stdnum() -> None:
    rng = random.Random(32100)
    for _ in range(1000):
        first17 = "".join(rng.choice(ALPHABET) for _ in range(17))
        assert uscc.check_char(first17) == ref_check(first17)
        assert uscc.check_char(first17) == stdnum_uscc.calc_check_digit(first17)


def test_org_check_char_matches_reference() -> None:
    rng = random.Random(11714)
    outcomes = set()
    for _ in range(1000):
        body = "".join(rng.choice(ALPHABET) for _ in range(8))
        outcomes.add(uscc.org_check_char(body))
        assert uscc.org_check_char(body) == ref_org_check(body)
    assert {"X", "0"} <= outcomes


@pytest.mark.parametrize("bad", ["1234567", "123456789", "1234567I"])
def test_org_check_char_rejects_bad_body(bad: str) -> None:
    with pytest.raises(ValueError):
        uscc.org_check_char(bad)


@pytest.mark.parametrize("head", ["N2371602", "N1371602", "Y1371681", "A1100000", "A9371600"])
def test_letter_prefixes_are_valid_and_stdnum_rejects_them(head: str) -> None:
    code = build(head, "MA3C4LB5")
    assert uscc.is_valid(code)
    assert uscc.make(head[0], head[1], head[2:], "MA3C4LB5") == code
    assert not stdnum_uscc.is_valid(code)


@pytest.mark.parametrize("head", ["91371602", "92371602", "93371681", "12371600", "52371622"])
def test_numeric_prefixes_are_valid_for_us_and_stdnum(head: str) -> None:
    code = build(head, "MA3C4LB5")
    assert uscc.is_valid(code)
    assert stdnum_uscc.is_valid(code)


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_excluded_letters_are_rejected(letter: str) -> None:
    code = build("91371602", "MA3C4LB5")
    bad = code[:10] + letter + code[11:]
    result = uscc.validate(bad)
    assert result.code == "chars" and letter in result.message


def test_wrong_check_char() -> None:
    code = build("91371602", "MA3C4LB5")
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    result = uscc.validate(wrong)
    assert result.code == "check_digit" and f"校验码应为{code[17]}" in result.message


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty"),
        ("91371602MA3C4LB5", "length"),
        ("91371602MA3C4LB5XXX", "length"),
        ("91371602MA3C4LB5-X", "chars"),
    ],
)
def test_format_defects(raw: str, code: str) -> None:
    assert uscc.validate(raw).code == code


@pytest.mark.parametrize("head", ["94371602", "B1371602", "Y2371602", "1A371602", "01371602"])
def test_unknown_department_or_category_is_rejected(head: str) -> None:
    result = uscc.validate(build(head, "MA3C4LB5"))
    assert result.code == "category" and head[:2] in result.message


def test_region_positions_must_be_a_division_code() -> None:
    assert uscc.validate(build("91991602", "MA3C4LB5")).code == "region"
    assert uscc.validate(build("913716A2", "MA3C4LB5")).code == "region"
    assert uscc.is_valid(build("91100000", "MA3C4LB5"))  # national registration


def test_org_check_char_is_checked_though_stdnum_does_not() -> None:
    first17 = "91110000600037342"  # 60003734 has GB 11714 check 1, not 2
    code = first17 + ref_check(first17)
    assert stdnum_uscc.is_valid(code)
    result = uscc.validate(code)
    assert result.code == "org_check" and "应为1" in result.message
    assert uscc.is_valid(code, check_org=False)


def test_fullwidth_lowercase_and_spaces_are_normalised() -> None:
    code = "91110000600037341L"
    full = "".join(chr(ord(c) + 0xFEE0) for c in code.lower())
    assert uscc.validate(full).value == code
    assert uscc.is_valid(" 9111 0000 6000 3734 1l ")


def test_make_builds_valid_codes() -> None:
    rng = random.Random(7)
    for _ in range(1000):
        code = random_code(rng)
        made = uscc.make(code[0], code[1], code[2:8], code[8:16])
        assert made == code
        assert uscc.validate(made).ok, made
        assert stdnum_uscc.is_valid(made) is made[:2].isdigit()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("9", "5", "371602", "MA3C4LB5"), "代码表"),
        (("B", "1", "371602", "MA3C4LB5"), "代码表"),
        (("9", "", "371602", "MA3C4LB5"), "代码表"),
        (("9", "12", "371602", "MA3C4LB5"), "代码表"),
        (("9", "1", "991602", "MA3C4LB5"), "地区码"),
        (("9", "1", "371602", "MA3C4LBO"), "本体"),
        (("9", "1", "371602", "MA3C4LB"), "本体"),
    ],
)
def test_make_rejects_bad_parts(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        uscc.make(*args)


def test_every_single_character_change_is_rejected() -> None:
    rng = random.Random(31)
    for _ in range(20):
        code = random_code(rng)
        for i in range(18):
            for c in ALPHABET:
                if c != code[i]:
                    changed = code[:i] + c + code[i + 1 :]
                    assert not uscc.is_valid(changed, check_org=False), changed


def test_make_np_matches_make() -> None:
    rng = random.Random(99)
    codes = [random_code(rng) for _ in range(1000)]
    out = uscc.make_np(
        np.array([c[0] for c in codes]),
        np.array([c[1] for c in codes]),
        np.array([c[2:8] for c in codes]),
        np.array([c[8:16] for c in codes]),
    )
    assert out.shape == (1000,) and out.dtype.kind == "U"
    assert list(out) == codes


def test_make_np_broadcasts_scalars() -> None:
    out = uscc.make_np("N", "2", "371602", ["MA3C4LB5", "12345678"])
    assert list(out) == [build("N2371602", "MA3C4LB5"), build("N2371602", "12345678")]


@pytest.mark.parametrize(
    ("dept", "region", "body", "match"),
    [
        ("B", "371602", "MA3C4LB5", "代码表"),
        ("9", "991602", "MA3C4LB5", "地区码"),
        ("9", "371602", "MA3C4LBI", "本体"),
        ("9", "371602", "MA3C4LB", "8个字符"),
        ("9", "37160", "MA3C4LB5", "6个字符"),
    ],
)
def test_make_np_rejects_bad_parts(dept: str, region: str, body: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        uscc.make_np(dept, "1", region, [body, "MA3C4LB5"])
