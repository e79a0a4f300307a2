"""Argument types every command line shares (the top-level `bzdata` and each feature's own
sub-commands), so a feature's CLI does not import the top-level one."""

from __future__ import annotations

import argparse

from bzdata.periods import is_period


def period_arg(text: str) -> str:
    """argparse type for a monthly period, YYYY-MM."""
    if not is_period(text):
        raise argparse.ArgumentTypeError(f"期次应为 YYYY-MM 格式，例如 2023-01，而不是 {text!r}")
    return text


def positive_int(text: str) -> int:
    """argparse type for counts that must be at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}”不是整数") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"必须是正整数，收到 {value}")
    return value
