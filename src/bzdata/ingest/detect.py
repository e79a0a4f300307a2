"""Detect the encoding of a delivered text file instead of trusting the registry.

Departments declare an encoding but export with whatever their tool uses, so the ingest decides
from the bytes: a UTF-8 byte-order mark first, then which of UTF-8 and GB18030 decodes more lines
of a sample strictly. Counting lines (rather than failing on the first bad byte) keeps a UTF-8
file with one corrupt byte UTF-8, so that only the damaged line is rejected. GBK is decoded by
GB18030, its superset, but reported as GBK when every sampled line is valid GBK. When neither
fits, charset-normalizer names what the file probably is, for the quarantine reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SAMPLE_BYTES = 1 << 20
BOM = b"\xef\xbb\xbf"
# Labels the registry uses, in the family a tie between the candidates falls back to.
_FAMILY = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030", "gb18030": "gb18030"}


@dataclass(frozen=True)
class Encoding:
    label: str  # reported in the manifest: utf-8, utf-8-sig, gbk or gb18030
    codec: str  # Python codec that decodes it


class UnknownEncoding(ValueError):
    """Neither UTF-8 nor GBK/GB18030 decodes the file (Chinese message with line and byte)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def detect(path: Path, declared: str | None = None) -> Encoding:
    """The encoding of `path`; `declared` (the registry's) only breaks ties."""
    sample, at_start = _sample(path)
    if sample.startswith(BOM):
        return Encoding("utf-8-sig", "utf-8-sig")
    lines = sample.split(b"\n")
    if b"\x00" in sample:
        raise UnknownEncoding(_unknown_message(sample, "含有 NUL 字节，不是文本文件"), None)
    utf8 = _bad_lines(lines, "utf-8")
    if not utf8:
        return Encoding("utf-8", "utf-8")
    gb = _bad_lines(lines, "gb18030")
    prefer_gb = len(gb) < len(utf8) or (
        len(gb) == len(utf8) and _FAMILY.get(declared or "") == "gb18030"
    )
    bad = gb if prefer_gb else utf8
    # More than half the lines undecodable: the file is in neither encoding.
    if len(bad) * 2 > sum(1 for line in lines if line.strip()):
        first = bad[0] if at_start else None
        where = f"第 {first} 行起" if first else "部分行"
        raise UnknownEncoding(
            _unknown_message(sample, f"{where}无法按 UTF-8、GBK 或 GB18030 解码"), first
        )
    if not prefer_gb:
        return Encoding("utf-8", "utf-8")
    label = "gbk" if _bad_lines(lines, "gbk") == gb else "gb18030"
    return Encoding(label, "gb18030")


def _sample(path: Path) -> tuple[bytes, bool]:
    """The first MiB or, if that is plain ASCII, the next MiB holding a non-ASCII byte; and
    whether the sample starts the file (line numbers in messages are then the file's)."""
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
        sample, at_start = head, True
        while sample.isascii() and len(sample) == SAMPLE_BYTES:
            sample, at_start = f.read(SAMPLE_BYTES), False
        if sample.isascii():
            sample, at_start = head, True
    # Whole lines only: a character cut at either edge of the sample is not an error.
    if len(sample) == SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n")]
    if not at_start and b"\n" in sample:
        sample = sample[sample.index(b"\n") + 1 :]
    return sample, at_start


def _bad_lines(lines: list[bytes], codec: str) -> list[int]:
    """1-based numbers (within the sample) of lines that do not decode strictly."""
    bad = []
    for number, line in enumerate(lines, start=1):
        try:
            line.decode(codec)
        except UnicodeDecodeError:
            bad.append(number)
    return bad


def _unknown_message(sample: bytes, what: str) -> str:
    from charset_normalizer import from_bytes  # only consulted for files that fail

    best = from_bytes(sample).best()
    guess = f"，疑似 {best.encoding} 编码" if best is not None else ""
    return f"文件{what}{guess}；平台只接受 UTF-8（可带 BOM）、GBK 或 GB18030 编码的文本"
