"""统一社会信用代码 (GB 32100-2015): check character, validation and makers for synthetic
data (scalar and vectorised).

python-stdnum's `cn.uscc.validate` is not used: it requires positions 1-8 to be digits and so
rejects the legal letter registration codes (A, N, Y), and it does not check the GB 11714
check character of the organisation code (positions 9-17), which this module does.
"""

from __future__ import annotations

import numpy as np

from bzdata.ids import IdCheck
from bzdata.ids._arrays import broadcast_len, char_matrix, to_strings
from bzdata.ids.region import is_valid_code
from bzdata.ids.text import normalize

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code
NATIONAL_REGION = "100000"  # registrations by central authorities

# 登记管理部门码 -> (name, allowed 机构类别码), GB 32100 code tables.
CATEGORIES: dict[str, tuple[str, str]] = {
    "1": ("机构编制", "1239"),
    "2": ("外交", "19"),
    "3": ("司法行政", "123459"),
    "4": ("文化", "19"),
    "5": ("民政", "1239"),
    "6": ("旅游", "129"),
    "7": ("宗教", "129"),
    "8": ("工会", "19"),
    "9": ("工商", "123"),
    "A": ("中央军委改革和编制办公室", "19"),
    "N": ("农业", "1239"),
    "Y": ("其他", "1"),
}

_VALUE = np.full(256, 255, dtype=np.uint8)
_VALUE[[ord(c) for c in ALPHABET]] = np.arange(len(ALPHABET))
_ALPHABET_BYTES = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
# GB 11714 values letters A=10..Z=35, unlike the USCC alphabet index.
_ORG_VALUE = np.full(256, 255, dtype=np.uint8)
_ORG_VALUE[[ord(c) for c in ALPHABET]] = [int(c, 36) for c in ALPHABET]
_ORG_CHECK_BYTES = np.frombuffer(b"?123456789X0", dtype=np.uint8)


def check_char(first17: str) -> str:
    """Check character for 17 alphabet characters: (31 − Σ mod 31) mod 31 in the alphabet."""
    if len(first17) != 17 or any(c not in ALPHABET for c in first17):
        raise ValueError("前17位应为数字或除I、O、Z、S、V以外的大写字母")
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_check_char(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation code body (10 → X, 11 → 0)."""
    if len(body8) != 8 or any(c not in ALPHABET for c in body8):
        raise ValueError("组织机构代码本体应为8位数字或大写字母")
    c = 11 - sum(int(ch, 36) * w for ch, w in zip(body8, ORG_WEIGHTS, strict=True)) % 11
    return "X" if c == 10 else str(c % 11)


def validate(s: str, check_org: bool = True) -> IdCheck:
    """Check an 18-character code after `normalize`: alphabet, check character, registration
    department and category, region (positions 3-8) and, if `check_org`, the GB 11714 check."""
    v = normalize(s)
    if not v:
        return IdCheck.bad("empty", "代码为空", v)
    if len(v) != 18:
        return IdCheck.bad("length", f"长度应为18位，实际为{len(v)}位", v)
    wrong = "".join(sorted({c for c in v if c not in ALPHABET}))
    if wrong:
        return IdCheck.bad(
            "chars", f"含有不允许的字符{wrong}，应为数字或除I、O、Z、S、V以外的大写字母", v
        )
    expected = check_char(v[:17])
    if v[17] != expected:
        return IdCheck.bad("check_digit", f"校验码应为{expected}，实际为{v[17]}", v)
    if v[1] not in CATEGORIES.get(v[0], ("", ""))[1]:
        return IdCheck.bad("category", f"登记管理部门码和机构类别码{v[:2]}不在GB 32100代码表中", v)
    if v[2:8] != NATIONAL_REGION and not is_valid_code(v[2:8]):
        return IdCheck.bad("region", f"第3-8位{v[2:8]}不是有效的行政区划代码", v)
    if check_org and v[16] != (org := org_check_char(v[8:16])):
        return IdCheck.bad("org_check", f"组织机构代码校验码应为{org}，实际为{v[16]}", v)
    return IdCheck.good(v)


def is_valid(s: str, check_org: bool = True) -> bool:
    """True if `validate` passes."""
    return validate(s, check_org).ok


def _check_parts(dept_code: str, kind_code: str, region: str) -> None:
    if kind_code not in CATEGORIES.get(dept_code, ("", ""))[1] or len(kind_code) != 1:
        raise ValueError(f"登记管理部门码和机构类别码{dept_code}{kind_code}不在GB 32100代码表中")
    if region != NATIONAL_REGION and not is_valid_code(region):
        raise ValueError(f"地区码{region}不是有效的行政区划代码")


def make(dept_code: str, kind_code: str, region: str, org_body8: str) -> str:
    """A valid code from its parts; the organisation code gets its GB 11714 check char."""
    _check_parts(dept_code, kind_code, region)
    first17 = f"{dept_code}{kind_code}{region}{org_body8}{org_check_char(org_body8)}"
    return first17 + check_char(first17)


def make_np(dept_code: object, kind_code: object, region: object, org_body8: object) -> np.ndarray:
    """Vectorised `make`: scalars or 1-D arrays of str, broadcast together; array of str."""
    n = broadcast_len(dept_code, kind_code, region, org_body8)
    parts = [
        char_matrix(dept_code, 1, n),
        char_matrix(kind_code, 1, n),
        char_matrix(region, 6, n),
        char_matrix(org_body8, 8, n),
    ]
    # The 8-byte heads (dept, kind, region) viewed as uint64: few distinct, cheap to check.
    heads = np.ascontiguousarray(np.hstack(parts[:3])).view(np.uint64).reshape(-1)
    for key in np.unique(heads):
        head = key.tobytes().decode("ascii", errors="replace")
        _check_parts(head[0], head[1], head[2:])
    body = parts[3]
    if (_VALUE[body] == 255).any():
        raise ValueError("组织机构代码本体应为数字或除I、O、Z、S、V以外的大写字母")
    org = 11 - (_ORG_VALUE[body].astype(np.int64) @ np.array(ORG_WEIGHTS)) % 11
    first17 = np.hstack([*parts, _ORG_CHECK_BYTES[org][:, None]])
    total = _VALUE[first17].astype(np.int64) @ np.array(WEIGHTS, dtype=np.int64)
    return to_strings(np.hstack([first17, _ALPHABET_BYTES[(31 - total % 31) % 31][:, None]]))
