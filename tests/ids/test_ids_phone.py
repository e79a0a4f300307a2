"""Tests for bzdata.ids.phone."""

import pytest

from bzdata.ids import phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("19912345678", "19912345678"),
        ("+8613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("＋８６１３８１２３４５６７８", "13812345678"),
        (" 13812345678\u3000", "13812345678"),
    ],
)
def test_valid_mobiles_normalise_to_eleven_digits(raw: str, expected: str) -> None:
    assert phone.normalize_mobile(raw) == expected
    assert phone.is_valid_mobile(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "12812345678",  # second digit must be 3-9
        "10812345678",
        "23812345678",
        "1381234567",
        "138123456789",
        "+8612812345678",
        "+85213812345678",
        "1381234567X",
        "0531-12345678",
        "",
        "abc",
    ],
)
def test_invalid_mobiles(raw: str) -> None:
    assert not phone.is_valid_mobile(raw)


def test_prefix_is_only_stripped_when_eleven_digits_remain() -> None:
    assert phone.normalize_mobile("86123") == "86123"
    assert phone.normalize_mobile("+86 138 1234 567") == "+861381234567"
    assert phone.normalize_mobile("8613812345678") == "13812345678"
