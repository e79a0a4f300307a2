"""Identifier checks used across the platform: 公民身份号码 (GB 11643), 统一社会信用代码
(GB 32100), Binzhou region codes (GB/T 2260) and mainland mobile numbers.

Each validator returns an `IdCheck` whose `code` names the defect and whose `message` tells
department staff, in Chinese, what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IdCheck:
    """Outcome of one identifier check; truthy when the identifier is valid."""

    ok: bool
    code: str  # 'ok' or the defect: 'empty', 'length', 'chars', 'check_digit', ...
    message: str
    value: str = ""  # the normalised identifier that was checked

    def __bool__(self) -> bool:
        return self.ok

    @classmethod
    def good(cls, value: str) -> IdCheck:
        return cls(True, "ok", "校验通过", value)

    @classmethod
    def bad(cls, code: str, message: str, value: str) -> IdCheck:
        return cls(False, code, message, value)
