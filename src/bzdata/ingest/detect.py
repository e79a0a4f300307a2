"""Detect the encoding of a delivered text file instead of trusting the registry.

Departments declare an encoding but export with whatever their tool uses, so the ingest decides
from the bytes: a UTF-8 byte-order mark first, then which of UTF-8 and GB18030 decodes more lines
of a sample strictly. Counting lines (rather than failing on the first bad byte) keeps a UTF-8
file with one corrupt byte UTF-8, so that only the damaged line is rejected. GBK is decoded by
GB18030, its superset, but reported as GBK when every sampled line is valid GBK. When neither
fits, charset-normalizer names what the file probably is, for the quarantine reason.

UTF-16 (Excel's "Unicode text" export, LE or BE, with or without a byte-order mark) is told by
its BOM or by the NUL byte every ASCII character carries on one side. NUL bytes at the very end
of an otherwise text file are padding (a copy or a crash that preallocated the file), not text;
they are measured here and the reader ignores them. Old Mac line ends (CR only) are seen too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SAMPLE_BYTES = 1 << 20
BOM = b"\xef\xbb\xbf"
UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}
# Share of the sample's NUL bytes that must sit on one side for a file without BOM to be UTF-16.
UTF16_NUL_SIDE = 0.95
# Labels the registry uses, in the family a tie between the candidates falls back to.
_FAMILY = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030", "gb18030": "gb18030"}


@dataclass(frozen=True)
class Encoding:
    label: str  # reported in the manifest: utf-8, utf-8-sig, gbk, gb18030, utf-16-le/-be
    codec: str  # Python codec that decodes it
    bom: bool = True  # UTF-16 only: whether the file starts with its byte-order mark
    nul_padding: int = 0  # NUL bytes at the end of the file, not part of the text
    cr_only: bool = False  # line ends are bare CR (old Mac / some hand tools)

    @property
    def utf16(self) -> bool:
        return self.label.startswith("utf-16")


class UnknownEncoding(ValueError):
    """Neither UTF-8 nor GBK/GB18030 decodes the file (Chinese message with line and byte)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def detect(path: Path, declared: str | None = None) -> Encoding:
    """The encoding of `path`; `declared` (the registry's) only breaks ties."""
    padding = nul_padding(path)
    sample, at_start = _sample(path, padding)
    utf16 = _utf16(sample, at_start)
    if utf16 is not None:
        if (path.stat().st_size - padding) % 2:
            padding -= 1  # the high byte of a UTF-16-LE character (e.g. of the last LF) is 0
        text = sample.decode(utf16.codec, errors="ignore")
        cr_only = "\r" in text and "\n" not in text
        return Encoding(utf16.label, utf16.codec, utf16.bom, padding, cr_only)
    if sample.startswith(BOM):
        return _with(Encoding("utf-8-sig", "utf-8-sig"), sample, padding)
    lines = sample.split(b"\n")
    if b"\x00" in sample:
        raise UnknownEncoding(_unknown_message(sample, "含有 NUL 字节，不是文本文件"), None)
    utf8 = _bad_lines(lines, "utf-8")
    if not utf8:
        return _with(Encoding("utf-8", "utf-8"), sample, padding)
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
        return _with(Encoding("utf-8", "utf-8"), sample, padding)
    label = "gbk" if _bad_lines(lines, "gbk") == gb else "gb18030"
    return _with(Encoding(label, "gb18030"), sample, padding)


def _with(encoding: Encoding, sample: bytes, padding: int) -> Encoding:
    cr_only = b"\r" in sample and b"\n" not in sample
    return Encoding(encoding.label, encoding.codec, True, padding, cr_only)


def nul_padding(path: Path) -> int:
    """Number of NUL bytes that end the file (0 for a file that is NULs only: not padding)."""
    size = path.stat().st_size
    count = 0
    with open(path, "rb") as f:
        while count < size:
            step = min(SAMPLE_BYTES, size - count)
            f.seek(size - count - step)
            chunk = f.read(step)
            kept = len(chunk.rstrip(b"\x00"))
            count += step - kept
            if kept:
                break
    return 0 if count == size else count


def _utf16(sample: bytes, at_start: bool) -> Encoding | None:
    """UTF-16 by its BOM, or by NULs on one side of most ASCII characters."""
    if sample.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return None  # UTF-32, which no spreadsheet of ours exports
    for bom, label in UTF16_BOMS.items():
        if at_start and sample.startswith(bom):
            return Encoding(label, label, True)
    body = sample[: len(sample) - len(sample) % 2]
    nuls = body.count(b"\x00")
    if nuls < max(8, len(body) // 20):
        return None
    even = body[0::2].count(b"\x00")
    label = None
    if even >= nuls * UTF16_NUL_SIDE:
        label = "utf-16-be"
    elif nuls - even >= nuls * UTF16_NUL_SIDE:
        label = "utf-16-le"
    if label is None:
        return None
    try:
        body.decode(label)
    except UnicodeDecodeError as exc:
        if exc.start < len(body) - 4:  # only a character cut at the sample's edge is allowed
            return None
    return Encoding(label, label, False)


def _sample(path: Path, padding: int = 0) -> tuple[bytes, bool]:
    """The first MiB or, if that is plain ASCII, the next MiB holding a non-ASCII byte; and
    whether the sample starts the file (line numbers in messages are then the file's)."""
    end = path.stat().st_size - padding
    with open(path, "rb") as f:
        head = f.read(min(SAMPLE_BYTES, end))
        sample, at_start = head, True
        while sample.isascii() and len(sample) == SAMPLE_BYTES:
            sample, at_start = f.read(max(0, min(SAMPLE_BYTES, end - f.tell()))), False
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
    return f"文件{what}{guess}；平台只接受 UTF-8（可带 BOM）、GBK、GB18030 或 UTF-16 编码的文本"
