"""intake.documents.extract: real documents from tests/data/docs, hostile files built here."""

from __future__ import annotations

import io
import re
import struct
import tracemalloc
import unicodedata
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from intake.core.config import ExtractConfig
from intake.documents import fonts
from intake.documents.articles import choose_article
from intake.documents.extract import Extracted, count_words, detect_format, extract
from tests.conftest import unavailable

DOCS = Path(__file__).parents[1] / "data" / "docs"
LIMITS = ExtractConfig()
OCTET = "application/octet-stream"

# Phrases from the first two paragraphs of every Chinese test document (see make_docs.py):
# 镕 and 喆 are in GBK but not in GB2312, the charset Chinese mailers claim.
CHINESE = ("春天里的老街", "老板王镕师傅说", "看看修鞋的李喆大爷", "2019")


def read(name: str) -> bytes:
    return (DOCS / name).read_bytes()


def run(name: str, payload: bytes | None = None, ctype: str = OCTET, **limits: Any) -> Extracted:
    config = replace(LIMITS, **limits) if limits else LIMITS
    return extract(name, ctype, read(name) if payload is None else payload, config)


def members(result: Extracted) -> list[str]:
    names = result.meta["members"]
    assert isinstance(names, list)
    return [str(name) for name in names]


def assert_read(result: Extracted, fmt: str, kind: str = "document") -> None:
    assert (result.kind, result.format, result.error, result.encrypted) == (kind, fmt, "", False)


# --------------------------------------------------------------------------- documents


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("article-zh-python-docx.docx", "docx"),
        ("article-zh-libreoffice.docx", "docx"),
        ("article-zh.doc", "doc"),
        ("article-zh.wps", "doc"),
        ("article-zh.rtf", "rtf"),
        ("wordpad-gbk.rtf", "rtf"),
        ("article-zh.pdf", "pdf"),
        ("article-zh.html", "html"),
        ("article-gb18030.txt", "txt"),
        ("article-utf8.txt", "txt"),
    ],
)
def test_chinese_comes_out_of_every_format(name: str, fmt: str) -> None:
    result = run(name)
    assert_read(result, fmt)
    for phrase in CHINESE:
        assert phrase in result.text
    assert "\ufffd" not in result.text


def test_docx_from_libreoffice_keeps_table_rows_links_and_footnotes() -> None:
    text = run("article-zh-libreoffice.docx").text
    assert "1990\t豆浆铺开张\n2019\t我搬来老街" in text
    assert "花开得比往年更盛。 老街地图" in text  # the hyperlink's text, in place
    assert text.endswith("老槐树据说种于清朝末年。")  # the footnote, after the body


def test_docx_from_python_docx_paragraphs_and_table() -> None:
    lines = run("article-zh-python-docx.docx").text.splitlines()
    assert lines[0] == "春天里的老街"
    assert lines[-3:] == ["年份\t事件", "1990\t豆浆铺开张", "2019\t我搬来老街"]


def test_doc_keeps_field_results_drops_field_codes_and_keeps_footnotes() -> None:
    result = run("article-zh.doc")
    assert "老街地图" in result.text
    assert "HYPERLINK" not in result.text
    assert "1990\t豆浆铺开张" in result.text
    assert result.text.endswith("老槐树据说种于清朝末年。")


def test_doc_written_by_microsoft_word_with_compressed_cp1252_text() -> None:
    result = run("word97-compressed.doc")
    assert_read(result, "doc")
    assert result.text == "Test OLE file, saved as Word 97-2003 Document."
    assert result.meta["nfib"] == 0x00C1


def test_wps_file_is_a_word_document() -> None:
    result = run("article-zh.wps", ctype="application/kswps")
    assert_read(result, "doc")
    assert result.text.splitlines()[-1].endswith("听听茶馆里的评书。")


def test_wordpad_rtf_decodes_gbk_escapes_and_unicode_beyond_the_bmp() -> None:
    result = run("wordpad-gbk.rtf", ctype="application/rtf")
    assert result.meta == {"codepage": 936}
    assert result.text.splitlines()[-1] == "表情 😀 与符号 €"


def test_rtf_with_raw_gbk_bytes_instead_of_escapes() -> None:
    escaped = read("wordpad-gbk.rtf")
    raw = re.sub(rb"\\'([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), escaped)
    assert b"\\'" not in raw.partition(b"\\fonttbl")[2][40:]
    result = run("wordpad-gbk.rtf", raw)
    for phrase in CHINESE:
        assert phrase in result.text


def test_rtf_font_tagged_ansi_in_a_gbk_document() -> None:
    payload = read("wordpad-gbk.rtf").replace(b"\\fcharset134", b"\\fcharset0")
    assert "老板王镕师傅说" in run("wordpad-gbk.rtf", payload).text


def test_pdf_text_is_unwrapped_but_paragraphs_stay() -> None:
    result = run("article-zh.pdf")
    lines = result.text.splitlines()
    assert lines[0] == "春天里的老街"  # a short title line is not glued to the paragraph
    assert "每天清晨五点半准时亮灯" in result.text  # this was broken across two PDF lines
    assert result.meta["pages"] == 1


def test_english_pdf() -> None:
    result = run("article-en.pdf", ctype="application/pdf")
    assert_read(result, "pdf")
    assert result.text.startswith("The Old Street in Spring\n")
    assert "rain still lies on the flagstones." in result.text


def test_text_charset_from_the_content_type_label() -> None:
    # GB2312 cannot encode 镕 or 喆: the label must be read as GB18030, as browsers do.
    result = run("article-gb18030.txt", ctype="text/plain; charset=gb2312")
    assert "老板王镕师傅说" in result.text
    assert "\r" not in result.text


def test_markdown_is_text() -> None:
    result = run("article.md", read("article-utf8.txt"), ctype="text/markdown")
    assert_read(result, "md")


def test_html_becomes_plain_text() -> None:
    result = run("article-zh.html", ctype="text/html")
    assert "<" not in result.text
    assert "https://example.org/laojie" in result.text


# --------------------------------------------------------------------------- mislabelled files


@pytest.mark.parametrize(
    ("source", "sent_as", "ctype", "fmt"),
    [
        ("article-zh-libreoffice.docx", "稿件.doc", "application/msword", "docx"),
        ("article-zh.doc", "稿件.docx", OCTET, "doc"),
        ("article-zh.rtf", "稿件.doc", "application/msword", "rtf"),
        ("article-zh.html", "稿件.doc", "application/msword", "html"),  # Word "web page"
        ("article-zh.pdf", "稿件", OCTET, "pdf"),
        ("article-gb18030.txt", "稿件", OCTET, "txt"),
        ("article-zh-python-docx.docx", "noname", "", "docx"),
    ],
)
def test_format_comes_from_the_bytes_not_the_name(
    source: str, sent_as: str, ctype: str, fmt: str
) -> None:
    result = run(sent_as, read(source), ctype=ctype)
    assert_read(result, fmt)
    assert "春天里的老街" in result.text


def test_detect_format_images_and_unknowns() -> None:
    assert detect_format("a.bin", OCTET, b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") == "heic"
    assert detect_format("a.png", "image/png", b"\x89PNG\r\n\x1a\n....") == "png"
    assert detect_format("setup.exe", OCTET, b"MZ\x90\x00\x03\x00\x00\x00") == "exe"
    assert detect_format("x", OCTET, b"\x00\x01\x02") == "bin"


# --------------------------------------------------------------------------- encrypted files


def test_password_protected_pdf_is_flagged() -> None:
    result = run("encrypted.pdf")
    assert (result.kind, result.format, result.encrypted) == ("document", "pdf", True)
    assert result.error == "encrypted: PDF needs a password to open"
    assert result.text == ""


def test_pdf_restricted_only_by_an_owner_password_is_read() -> None:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=DOCS / "article-en.pdf")
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    result = run("restricted.pdf", out.getvalue())
    assert_read(result, "pdf")
    assert result.meta["restrictions"] is True
    assert "The Old Street in Spring" in result.text


def test_password_protected_docx_is_flagged() -> None:
    result = run("encrypted.docx")
    assert (result.kind, result.format, result.encrypted) == ("document", "docx", True)
    assert "EncryptedPackage" in result.error


def test_password_protected_doc_is_flagged() -> None:
    # Word sets fEncrypted in the FIB of a password-protected file; no writer here can make
    # one, so the flag is set on a real document (the reader looks at nothing else).
    payload = bytearray(read("article-zh.doc"))
    fib = payload.index(b"\xec\xa5\x01\x01")
    payload[fib + 0x0B] |= 0x01  # high byte of the little-endian flags word: 0x0100 fEncrypted
    result = run("稿件.doc", bytes(payload))
    assert (result.kind, result.format, result.encrypted) == ("document", "doc", True)
    assert result.error == "encrypted: password-protected Word file (encrypted)"


def test_zip_with_encrypted_members_is_listed_and_flagged() -> None:
    result = run("encrypted.zip", ctype="application/zip")
    assert (result.kind, result.format, result.encrypted) == ("archive", "zip", True)
    assert members(result) == ["稿件.txt"]
    assert result.error == "encrypted: 1 of 1 members need a password"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("rar5-psw.rar", "encrypted: 2 of 2 members need a password"),
        ("rar5-hpsw.rar", "encrypted: RAR headers need a password to list"),
    ],
)
def test_password_protected_rar(name: str, error: str) -> None:
    pytest.importorskip("rarfile")
    result = run(name)
    assert (result.kind, result.format, result.encrypted, result.error) == (
        "archive",
        "rar",
        True,
        error,
    )


def test_password_protected_7z() -> None:
    py7zr = pytest.importorskip("py7zr")
    for headers in (False, True):
        buf = io.BytesIO()
        with py7zr.SevenZipFile(buf, "w", password="secret", header_encryption=headers) as z:
            z.writestr("稿件".encode(), "稿件.txt")
        result = run("a.7z", buf.getvalue())
        assert (result.kind, result.format, result.encrypted) == ("archive", "7z", True)
        assert result.meta.get("members", ["稿件.txt"]) == ["稿件.txt"]


# --------------------------------------------------------------------------- archives


def test_zip_names_written_in_gbk_without_the_utf8_flag() -> None:
    # Windows' "send to compressed folder" on a Chinese system writes GBK names unflagged.
    name_gbk = "稿件.docx".encode("gbk")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("X" * len(name_gbk), b"hello")
    payload = buf.getvalue().replace(b"X" * len(name_gbk), name_gbk)
    result = run("稿件.zip", payload, ctype="application/zip")
    assert_read(result, "zip", kind="archive")
    assert result.meta == {"member_count": 1, "members": ["稿件.docx"], "unpacked_bytes": 5}


def test_rar_members_are_listed_without_unrar() -> None:
    pytest.importorskip("rarfile")
    result = run("rar5-subdirs.rar")
    assert_read(result, "rar", kind="archive")
    assert result.meta["member_count"] == 10
    assert "sub/üȵĩöḋè/file.txt" in members(result)


def test_7z_members_are_listed() -> None:
    py7zr = pytest.importorskip("py7zr")
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as z:
        z.writestr("正文".encode(), "投稿/正文.txt")
        z.writestr(b"\xff" * 1000, "投稿/照片.jpg")
    result = run("投稿.7z", buf.getvalue())
    assert_read(result, "7z", kind="archive")
    assert sorted(members(result)) == ["投稿/正文.txt", "投稿/照片.jpg"]
    assert result.meta["unpacked_bytes"] == 1006


def _many_members(count: int, docx: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        if docx:
            zf.writestr("[Content_Types].xml", "<Types/>")
            zf.writestr("word/document.xml", "<w:document/>")
        for i in range(count):
            zf.writestr(f"m{i}", b"")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "kind", "fmt"), [("a.zip", "archive", "zip"), ("a.docx", "document", "docx")]
)
def test_zip_with_too_many_members_is_refused_before_opening(
    name: str, kind: str, fmt: str
) -> None:
    payload = _many_members(LIMITS.max_archive_members + 1, docx=fmt == "docx")
    result = run(name, payload)
    assert (result.kind, result.format) == (kind, fmt)
    assert result.error == f"zip has more than {LIMITS.max_archive_members} members; not opened"


# --------------------------------------------------------------------------- hostile documents


def _zip_bomb(unpacked: int, declared: int | None = None) -> bytes:
    """A real .docx whose word/document.xml inflates to ``unpacked`` bytes of spaces.

    Built from one deflate block repeated: after a full flush the compressor starts afresh,
    so the same input yields the same bytes and 1 GiB costs a second of CRC, not of deflate.
    ``declared`` is the size the zip directory claims, for a bomb that lies about it.
    """
    chunk = b" " * (1 << 20)
    assert unpacked % len(chunk) == 0
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = squeeze.compress(chunk) + squeeze.flush(zlib.Z_FULL_FLUSH)
    bomb = block * (unpacked // len(chunk)) + squeeze.flush()
    crc = 0
    for _ in range(unpacked // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    # (name, stored bytes, method, crc, uncompressed size)
    members: list[tuple[bytes, bytes, int, int, int]] = []
    with zipfile.ZipFile(DOCS / "article-zh-libreoffice.docx") as real:
        for member in real.namelist():
            if member != "word/document.xml":
                content = real.read(member)
                members.append((member.encode(), content, 0, zlib.crc32(content), len(content)))
    size = unpacked if declared is None else declared
    members.append((b"word/document.xml", bomb, 8, crc, size))
    out = io.BytesIO()
    offsets = []
    for name, data, method, crc_, usize in members:
        offsets.append(out.tell())
        out.write(
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                0,
                method,
                0,
                0,
                crc_,
                len(data),
                usize,
                len(name),
                0,
            )
            + name
            + data
        )
    directory = out.tell()
    for (name, data, method, crc_, usize), offset in zip(members, offsets, strict=True):
        out.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0,
                crc_,
                len(data),
                usize,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    end = out.tell()
    count = len(members)
    out.write(
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, end - directory, directory, 0)
    )
    return out.getvalue()


GIB = 1 << 30


def test_the_bomb_helper_makes_a_real_bomb() -> None:
    with zipfile.ZipFile(io.BytesIO(_zip_bomb(8 << 20))) as zf:
        assert zf.read("word/document.xml") == b" " * (8 << 20)


def test_docx_zip_bomb_is_refused_before_it_is_opened() -> None:
    bomb = _zip_bomb(GIB)
    assert len(bomb) < 2 << 20
    tracemalloc.start()
    try:
        result = run("稿件.docx", bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.kind, result.format) == ("document", "docx")
    limit = LIMITS.max_unpacked_bytes
    expected = rf"docx would unpack to 10737\d{{5}} bytes \(limit {limit}\); not opened"
    assert re.fullmatch(expected, result.error)
    assert peak < 1 << 20  # the census reads the directory in place: no copy of the payload


def test_bomb_that_lies_about_its_size_is_refused_before_it_is_opened() -> None:
    # zipfile inflates a whole read before cutting it to the declared size, so a declared
    # size is no bound on memory: a member holding more packed bytes than it declares is out.
    result = run("稿件.docx", _zip_bomb(GIB, declared=1000))
    assert (result.kind, result.format) == ("document", "docx")
    assert re.fullmatch(
        r"damaged zip: 'word/document.xml' holds \d+ packed bytes but declares 1000; not opened",
        result.error,
    )


def test_bomb_allowed_by_the_limits_hits_the_memory_limit_of_the_child() -> None:
    config = replace(LIMITS, max_unpacked_bytes=2 * GIB)
    result = extract("稿件.docx", OCTET, _zip_bomb(GIB), config, memory_bytes=256 << 20)
    assert (result.kind, result.format) == ("document", "docx")
    assert result.error == "ran out of memory (limit 256 MiB)"


def test_corrupt_docx() -> None:
    whole = read("article-zh-libreoffice.docx")
    result = run("稿件.docx", whole[: len(whole) // 2])
    assert (result.kind, result.format) == ("document", "docx")
    assert result.error == "not a zip file (no end of central directory)"


def test_docx_with_a_damaged_member() -> None:
    whole = bytearray(read("article-zh-libreoffice.docx"))
    with zipfile.ZipFile(io.BytesIO(bytes(whole))) as zf:
        info = zf.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + 20
    whole[start : start + 64] = bytes(64)
    result = run("稿件.docx", bytes(whole))
    assert result.format == "docx"
    assert result.error.startswith(("damaged docx", "cannot read docx"))


def test_corrupt_doc() -> None:
    whole = read("article-zh.doc")
    result = run("稿件.doc", whole[:1600])
    assert (result.kind, result.format) == ("document", "doc")
    assert result.error.startswith("not a readable OLE file")


def test_pdf_that_is_not_a_pdf() -> None:
    result = run("稿件.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 4)
    assert (result.kind, result.format) == ("document", "pdf")
    assert result.error


def test_timeout_is_enforced() -> None:
    result = run("article-zh.pdf", timeout_seconds=0.001)
    assert result.error == "timed out after 0.001 s"
    assert result.text == ""


def test_attachment_over_the_size_limit_is_not_read() -> None:
    result = run("article-zh.pdf", max_attachment_bytes=1000)
    assert (result.kind, result.format) == ("document", "pdf")
    assert result.error.startswith("too large to read: ")


@pytest.mark.parametrize("name", ["article-zh.doc", "article-utf8.txt", "article-zh.pdf"])
def test_text_is_cut_at_max_text_chars(name: str) -> None:
    result = run(name, max_text_chars=20)
    assert len(result.text) <= 20
    assert result.meta["truncated"] is True


# --------------------------------------------------------------------------- images


def _jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R5"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2024:05:01 10:20:30"
    sub[0x9011] = "+08:00"
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_photo_size_capture_time_and_camera() -> None:
    result = run("IMG_0001.JPG", _jpeg_with_exif(), ctype="image/jpeg")
    assert_read(result, "jpeg", kind="image")
    assert result.meta == {
        "format": "jpeg",
        "width": 64,
        "height": 48,
        "taken_at": "2024-05-01T10:20:30+08:00",
        "camera": "Canon EOS R5",
    }


def test_image_without_exif() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (10, 20)).save(buf, "PNG")
    result = run("a.png", buf.getvalue())
    assert result.meta == {"format": "png", "width": 10, "height": 20}


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">L", len(data)) + kind + data + struct.pack(">L", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">2L5B", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_huge_image_header_is_read_without_decoding() -> None:
    result = run("panorama.png", _png_header(12_000, 10_000))  # 120 Mpx: a warning for Pillow
    assert result.meta == {"format": "png", "width": 12_000, "height": 10_000}


def test_image_decompression_bomb_is_refused() -> None:
    result = run("bomb.png", _png_header(100_000, 100_000))
    assert (result.kind, result.format) == ("image", "png")
    assert result.error.startswith("implausible image size")


def test_broken_image() -> None:
    result = run("a.jpg", _jpeg_with_exif()[:20])
    assert (result.kind, result.format) == ("image", "jpeg")
    assert result.error.startswith("unreadable image")


def test_heic_is_kept_as_an_image_without_metadata() -> None:
    result = run("IMG_0002.HEIC", b"\x00\x00\x00\x18ftypheic" + bytes(64))
    assert (result.kind, result.format) == ("image", "heic")
    assert result.error


@pytest.mark.parametrize(
    ("name", "kind", "fmt"),
    [("稿件.doc", "document", "doc"), ("稿件.txt", "document", "txt"), ("a.jpg", "image", "jpeg")],
)
def test_bytes_that_do_not_bear_out_the_name(name: str, kind: str, fmt: str) -> None:
    result = run(name, bytes(range(256)) * 8)
    assert (result.kind, result.format, result.text) == (kind, fmt, "")
    assert result.error == f"not a {fmt} file: its content is unrecognised"


def test_spreadsheet_is_other_with_a_note() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    result = run("稿费.xlsx", buf.getvalue())
    assert result == Extracted("other", "xlsx", meta={"note": "no text extraction for xlsx"})


def test_unknown_binary_is_other_and_not_an_error() -> None:
    result = run("setup.exe", b"MZ\x90\x00" + bytes(100))
    assert result == Extracted("other", "exe")


# --------------------------------------------------------------------------- counting


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("", (0, 0)),
        ("你好，世界。", (6, 0)),  # full-width punctuation counts, as in Word's 字数
        ("Hello, world! It's a test.", (5, 5)),
        ("我用Python写代码", (6, 1)),
        ("2019年，我来到这座城市。", (11, 1)),
        ("他说：“好。”", (7, 0)),  # curly quotes touching Chinese count as Chinese
        ("“quoted” English", (2, 2)),  # ... and as nothing in English
        ("老槐树——它还在……", (10, 0)),
        ("e-mail 3.14 U.S.A 3,000", (4, 4)),
        ("　　首行缩进", (4, 0)),  # the ideographic space is not a character
    ],
)
def test_count_words(text: str, counts: tuple[int, int]) -> None:
    assert count_words(text) == counts


def test_count_words_is_the_same_whichever_writer_made_the_file() -> None:
    counts = {
        count_words(run(name).text) for name in ("article-zh.doc", "article-zh-libreoffice.docx")
    }
    chars, words = counts.pop()
    assert not counts
    assert words == 4  # 2019 and Python in the text, 1990 and 2019 in the table
    assert 300 <= chars <= 340


# --------------------------------------------------------------------------- choosing the article

ARTICLE = "\n".join((DOCS / "article-utf8.txt").read_text(encoding="utf-8").split("\n\n")).strip()


@pytest.mark.parametrize(
    "body",
    [
        "",
        "稿件见附件，请查收。",
        "编辑老师您好！\n\n附件是我的投稿《春天里的老街》，约五百字，请审阅。\n\n谢谢！\n张三\n13800000000",
        "Dear editor,\n\nPlease find my article attached.\n\nBest,\nZhang",
        "您好\n\n-- \n张三\n某某大学",
    ],
)
def test_cover_note_gives_way_to_the_document(body: str) -> None:
    assert choose_article(body, [("老街.docx", ARTICLE)]) == (ARTICLE, "老街.docx")


def test_body_much_shorter_than_the_document_is_a_cover_note() -> None:
    body = "我是一名退休教师，平时喜欢写写散文。" * 12  # about 200 characters, no pointer
    assert choose_article(body, [("老街.doc", ARTICLE * 3)])[1] == "老街.doc"


def test_article_in_the_body_wins_over_a_short_attachment() -> None:
    bio = "作者简介：张三，退休教师。"
    assert choose_article(ARTICLE, [("作者简介.docx", bio)]) == (ARTICLE, "body")


def test_article_both_pasted_and_attached_uses_the_body() -> None:
    assert choose_article(ARTICLE + "\n", [("老街.docx", ARTICLE)]) == (ARTICLE, "body")


def test_quoted_reply_is_not_counted_as_the_body() -> None:
    body = (
        "修改稿见附件。\n\n------------------ 原始邮件 ------------------\n"
        '发件人: "编辑部" <tougao@example.com>\n' + ARTICLE
    )
    assert choose_article(body, [("修改稿.docx", ARTICLE)]) == (ARTICLE, "修改稿.docx")


def test_several_documents_are_all_kept_with_a_header_each() -> None:
    text, source = choose_article(
        "稿件见附件", [("一.docx", "第一篇"), ("照片说明.txt", "说明"), ("空.pdf", "")]
    )
    assert source == "一.docx, 照片说明.txt"
    assert text == "=== 一.docx ===\n第一篇\n\n=== 照片说明.txt ===\n说明"


def test_no_document_text_means_the_body() -> None:
    assert choose_article("正文在此。\n", [("加密.pdf", "")]) == ("正文在此。", "body")


# --------------------------------------------------------------------------- CJK PDFs (CID fonts)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "cid-song-gb.pdf",
            "故乡\n我冒了严寒，回到相隔二千余里，别了二十余年的故乡去。\n"
            "时候既然是深冬；渐近故乡时，天气又阴晦了，冷风吹进船舱中，呜呜的响，"
            "从篷隙向外一望，苍黄的天底下，远近横着几个萧索的荒村，没有一些活气。",
        ),
        (
            "cid-mingti-big5.pdf",
            "論語・學而\n子曰：學而時習之，不亦說乎？有朋自遠方來，不亦樂乎？人不知而不慍，不亦君子乎？",
        ),
    ],
)
def test_cjk_pdf_with_cid_fonts_comes_out_exact(name: str, expected: str) -> None:
    result = run(name)
    assert_read(result, "pdf")
    assert result.text == expected


def test_japanese_pdf_without_tounicode_map() -> None:
    # dvipdfm wrote Kenji Miyazawa's preface with a CID font and no ToUnicode map: pypdf
    # gave control characters for it; PDFium reads the font's own mapping. The font
    # (Ryumin-Light, vertical) is not embedded: PDFium lays it out with a system CJK font,
    # and without one most of the text is lost (see intake.documents.fonts).
    if not fonts.has_cjk_font():
        unavailable(f"no CJK font installed (apt-get install {fonts.PACKAGE})")
    result = run("pdfminer-jo.pdf")
    assert_read(result, "pdf")
    assert result.text.startswith("序\n")
    assert "みんなのおのおののなかのすべてですから" in result.text
    assert "宇宙塵をたべ、または空気や塩水を呼吸しながら" in result.text
    assert not any(unicodedata.category(c) in ("Co", "Cn", "Cc") for c in result.text if c != "\n")
