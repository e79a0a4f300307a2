"""Encoding detection: decided from the bytes, the registry's declaration only breaks ties."""

from __future__ import annotations

from pathlib import Path

import pytest

from bzdata.ingest.detect import SAMPLE_BYTES, UnknownEncoding, detect

TEXT = "公民身份号码,姓名\n37162119591128174X,王兰清\n"


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "label", "codec"),
    [
        (TEXT.encode("utf-8"), "utf-8", "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig", "utf-8-sig"),
        (TEXT.encode("gbk"), "gbk", "gb18030"),
        # 𠮷 (U+20BB7) exists only in GB18030 (four bytes), not in GBK.
        ((TEXT + "1,𠮷\n").encode("gb18030"), "gb18030", "gb18030"),
    ],
)
def test_detects_each_accepted_encoding(tmp_path: Path, data: bytes, label: str, codec: str):
    found = detect(_file(tmp_path, data), declared="utf-8")
    assert (found.label, found.codec) == (label, codec)


def test_gbk_declared_as_utf8_is_still_gbk(tmp_path: Path):
    assert detect(_file(tmp_path, TEXT.encode("gbk")), declared="utf-8").label == "gbk"


def test_one_corrupt_byte_keeps_a_utf8_file_utf8(tmp_path: Path):
    lines = [f"{i},张三{i}\n".encode() for i in range(20)]
    lines[7] = b"7,\xff\xfe\n"
    assert detect(_file(tmp_path, b"".join(lines))).label == "utf-8"


def test_non_ascii_after_a_plain_ascii_first_mebibyte_is_seen(tmp_path: Path):
    head = b"a,b\n" * (SAMPLE_BYTES // 4 + 10)
    found = detect(_file(tmp_path, head + "1,王兰清\n".encode("gbk")))
    assert found.label == "gbk"


@pytest.mark.parametrize(
    ("data", "label", "bom"),
    [
        (b"\xff\xfe" + TEXT.encode("utf-16-le"), "utf-16-le", True),
        (b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16-be", True),
        (TEXT.encode("utf-16-le"), "utf-16-le", False),
        (TEXT.encode("utf-16-be"), "utf-16-be", False),
    ],
)
def test_utf16_is_told_by_its_bom_or_its_nul_side(tmp_path: Path, data, label, bom):
    found = detect(_file(tmp_path, data), declared="gbk")
    assert (found.label, found.bom, found.nul_padding) == (label, bom, 0)


def test_nul_padding_at_the_end_is_measured_not_refused(tmp_path: Path):
    found = detect(_file(tmp_path, TEXT.encode("gbk") + b"\x00" * 4096))
    assert (found.label, found.nul_padding) == ("gbk", 4096)


def test_cr_only_line_ends_are_seen(tmp_path: Path):
    found = detect(_file(tmp_path, TEXT.replace("\n", "\r").encode("utf-8")))
    assert found.cr_only and found.label == "utf-8"


def test_utf32_is_refused_with_a_guess(tmp_path: Path):
    with pytest.raises(UnknownEncoding) as caught:
        detect(_file(tmp_path, TEXT.encode("utf-32")))
    assert "UTF-8" in str(caught.value) and "UTF-16" in str(caught.value)


def test_binary_noise_is_refused_naming_the_line(tmp_path: Path):
    noise = bytes(range(0x80, 0x100)) * 4
    with pytest.raises(UnknownEncoding) as caught:
        detect(_file(tmp_path, b"\n".join([noise] * 5)))
    assert caught.value.line == 1
    assert "第 1 行起无法按 UTF-8、GBK 或 GB18030 解码" in str(caught.value)
