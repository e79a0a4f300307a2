"""公民身份号码 (GB 11643-1999): check digit, validation, field extraction, 15→18 upgrade
and makers for synthetic data (scalar and vectorised).

python-stdnum's `cn.ric.validate` is not used: it ties the region code to the birth year
through its own table, so it rejects e.g. 371681 (邹平市, since 2018) for anyone born
earlier, and it has no upper bound on the birth date.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from bzdata.ids import IdCheck
from bzdata.ids._arrays import broadcast_len, char_matrix, to_strings
from bzdata.ids.region import is_binzhou, is_valid_code
from bzdata.ids.text import normalize

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
MIN_BIRTH = dt.date(1900, 1, 1)
_CHECK_CHARS = "0123456789X"
_WEIGHTS_NP = np.array(WEIGHTS, dtype=np.int64)


def _digits(s: str) -> bool:
    return s.isascii() and s.isdigit()


def _date(yyyymmdd: str) -> dt.date | None:
    try:
        return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def check_digit(first17: str) -> str:
    """Check character for the first 17 digits: (12 − Σ mod 11) mod 11, 10 → 'X'."""
    if len(first17) != 17 or not _digits(first17):
        raise ValueError("前17位应为17个数字")
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return _CHECK_CHARS[(12 - total % 11) % 11]


def validate(s: str, ref_date: dt.date | None = None, require_binzhou: bool = False) -> IdCheck:
    """Check an 18-character number after `normalize`; births after `ref_date` are rejected
    (no upper bound when it is None), births before 1900 always."""
    v = normalize(s)
    if not v:
        return IdCheck.bad("empty", "号码为空", v)
    if len(v) == 15 and _digits(v):
        return IdCheck.bad("legacy15", "为15位旧号码，应升级为18位公民身份号码", v)
    if len(v) != 18:
        return IdCheck.bad("length", f"长度应为18位，实际为{len(v)}位", v)
    if not _digits(v[:17]) or v[17] not in _CHECK_CHARS:
        return IdCheck.bad("chars", "前17位应为数字，第18位应为数字或X", v)
    expected = check_digit(v[:17])
    if v[17] != expected:
        return IdCheck.bad("check_digit", f"校验码应为{expected}，实际为{v[17]}", v)
    born = _date(v[6:14])
    if born is None:
        return IdCheck.bad("birth_date", f"出生日期{v[6:14]}不是有效日期", v)
    if born < MIN_BIRTH:
        return IdCheck.bad("birth_date", f"出生日期{born}早于{MIN_BIRTH}", v)
    if isinstance(ref_date, dt.datetime):
        ref_date = ref_date.date()
    if ref_date is not None and born > ref_date:
        return IdCheck.bad("birth_date", f"出生日期{born}不应晚于{ref_date}", v)
    if not is_valid_code(v[:6]):
        return IdCheck.bad("region", f"地区码{v[:6]}不是有效的行政区划代码", v)
    if require_binzhou and not is_binzhou(v[:6]):
        return IdCheck.bad("region", f"地区码{v[:6]}不是滨州市的行政区划代码", v)
    return IdCheck.good(v)


def is_valid(s: str, ref_date: dt.date | None = None, require_binzhou: bool = False) -> bool:
    """True if `validate` passes."""
    return validate(s, ref_date, require_binzhou).ok


def is_legacy15(s: str) -> bool:
    """True for a 15-digit number (pre-1999 form) with a real 19yy date and a valid region."""
    v = normalize(s)
    return (
        len(v) == 15 and _digits(v) and is_valid_code(v[:6]) and _date("19" + v[6:12]) is not None
    )


def upgrade15(s15: str) -> str:
    """18-digit form of a 15-digit number: insert the century '19' and add the check digit."""
    if not is_legacy15(s15):
        raise ValueError("应为15位旧号码：6位地区码、6位出生日期(YYMMDD)、3位顺序码")
    v = normalize(s15)
    first17 = v[:6] + "19" + v[6:]
    return first17 + check_digit(first17)


def _as18(s: str) -> str:
    v = normalize(s)
    if len(v) == 15 and _digits(v):
        v = v[:6] + "19" + v[6:] + "0"  # check digit is irrelevant for field extraction
    if len(v) != 18 or not _digits(v[:17]):
        raise ValueError("应为18位或15位公民身份号码")
    return v


def birth_date(s: str) -> dt.date:
    """Birth date of an 18- or 15-digit number (the check digit is not verified)."""
    v = _as18(s)
    born = _date(v[6:14])
    if born is None:
        raise ValueError(f"出生日期{v[6:14]}不是有效日期")
    return born


def sex(s: str) -> str:
    """GB/T 2261.1 sex code: '1' (male, odd order code) or '2' (female, even)."""
    return "1" if int(_as18(s)[16]) % 2 else "2"


def region(s: str) -> str:
    """The 6-digit region code an 18- or 15-digit number starts with."""
    return _as18(s)[:6]


def _male(sex_code: object) -> bool:
    if str(sex_code) not in ("1", "2"):
        raise ValueError("性别代码应为'1'(男)或'2'(女)")
    return str(sex_code) == "1"


def _order(seq: int | np.ndarray, male: bool | np.ndarray) -> np.ndarray:
    # seq fills digits 15-16; digit 17 varies with seq, is odd for men and never makes '000'.
    return seq * 10 + np.where(male, 2 * (seq % 5) + 1, 2 * (seq % 4) + 2)


def make(region: str, birth: dt.date, seq: int, sex: str) -> str:
    """A valid number for `region`, `birth`, sequence `seq` (0..99) and sex code '1'/'2'."""
    if not is_valid_code(region):
        raise ValueError(f"地区码{region}不是有效的行政区划代码")
    if not 0 <= seq <= 99:
        raise ValueError("顺序号应在0到99之间")
    order = int(_order(seq, _male(sex)))
    first17 = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{order:03d}"
    return first17 + check_digit(first17)


def _check_values(d: np.ndarray) -> np.ndarray:
    return (12 - (d.astype(np.int64) @ _WEIGHTS_NP) % 11) % 11


def check_digits_np(first17: np.ndarray) -> np.ndarray:
    """Check characters ('0'..'9', 'X') for an (n, 17) array of digit values."""
    d = np.asarray(first17)
    if d.ndim != 2 or d.shape[1] != 17:
        raise ValueError("应为形状(n, 17)的数字数组")
    return np.array(list(_CHECK_CHARS))[_check_values(d)]


def _int_digits(x: np.ndarray, width: int) -> np.ndarray:
    return (x[:, None] // 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)) % 10


def make_np(region: object, birth: object, seq: object, sex: object) -> np.ndarray:
    """Vectorised `make`: scalars or 1-D arrays (regions as str/int, births as datetime64 or
    dates, seq 0..99, sex '1'/'2'), broadcast together; returns an array of str."""
    births = np.asarray(birth, dtype="datetime64[D]")
    n = broadcast_len(region, births, seq, sex)
    out = np.empty((n, 18), dtype=np.uint8)
    out[:, :6] = char_matrix(region, 6, n) - ord("0")
    if (out[:, :6] > 9).any():
        raise ValueError("地区码应为6位数字")
    for code in np.unique(out[:, :6].astype(np.int64) @ 10 ** np.arange(5, -1, -1)):
        if not is_valid_code(f"{code:06d}"):
            raise ValueError(f"地区码{code:06d}不是有效的行政区划代码")
    seqs = np.broadcast_to(np.asarray(seq, dtype=np.int64).reshape(-1), (n,))
    if ((seqs < 0) | (seqs > 99)).any():
        raise ValueError("顺序号应在0到99之间")
    sexes = np.asarray(sex).reshape(-1)
    sexes = sexes if sexes.dtype.kind == "U" else sexes.astype(str)
    for code in np.unique(sexes):
        _male(code)
    births = np.broadcast_to(births.reshape(-1), (n,))
    months = births.astype("datetime64[M]")
    ymd = (
        (months.astype("datetime64[Y]").astype(np.int64) + 1970) * 10000
        + (months.astype(np.int64) % 12 + 1) * 100
        + (births - months).astype(np.int64)
        + 1
    )
    out[:, 6:14] = _int_digits(ymd, 8)
    out[:, 14:17] = _int_digits(_order(seqs, np.broadcast_to(sexes == "1", (n,))), 3)
    checks = _check_values(out[:, :17])
    out[:, :17] += ord("0")
    out[:, 17] = np.frombuffer(_CHECK_CHARS.encode(), dtype=np.uint8)[checks]
    return to_strings(out)
