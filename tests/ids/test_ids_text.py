"""Tests for bzdata.ids.text."""

import pytest

from bzdata.ids import text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("３７１６０２１９９００１０１００１ｘ", "37160219900101001X"),
        (" 3716 0219 9001 0100 1x ", "37160219900101001X"),
        ("\u3000ｎ２３７１６０２\u200b", "N2371602"),
        ("+８６ １３８-１２３４-５６７８", "+86138-1234-5678"),
        ("\ufeff\u00a0abc\t\n", "ABC"),
        ("（ＡＢ）．", "(AB)."),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert text.normalize(raw) == expected


def test_to_halfwidth_keeps_spaces_and_case() -> None:
    assert text.to_halfwidth("ａ　Ｂ") == "a B"


def test_halfwidth_maps_every_fullwidth_ascii_form() -> None:
    full = "".join(chr(cp) for cp in range(0xFF01, 0xFF5F))
    assert text.to_halfwidth(full) == "".join(chr(cp) for cp in range(0x21, 0x7F))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("３７", True),
        ("37\u3000", True),
        ("Ｘ", True),
        ("37X", False),
        ("滨州", False),
        ("", False),
    ],
)
def test_has_fullwidth(raw: str, expected: bool) -> None:
    assert text.has_fullwidth(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 371602", True),
        ("371602 ", True),
        ("3716 02", True),
        ("3716\u00a002", True),
        ("3716\u200b02", True),
        ("\u3000371602", True),
        ("371602\n", True),
        ("371602", False),
        ("３７１６０２", False),
    ],
)
def test_has_stray_space(raw: str, expected: bool) -> None:
    assert text.has_stray_space(raw) is expected
