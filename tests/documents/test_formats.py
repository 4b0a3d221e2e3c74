"""The formats added for contributors beyond .docx/.doc/.pdf: OpenDocument text, Word's
macro-enabled and template variants, short documents, forwarded messages and Outlook's
winmail.dat."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.core.config import ExtractConfig
from intake.documents.extract import Extracted, extract
from intake.ingest.parsing import parse

DOCS = Path(__file__).parents[1] / "data" / "docs"
OCTET = "application/octet-stream"
POEM = "春夜\n\n雨落在窗台上\n灯亮在河对岸\n我想起你，和那条开满槐花的老街"


def run(name: str, ctype: str = OCTET, sent_as: str = "") -> Extracted:
    return extract(sent_as or name, ctype, (DOCS / name).read_bytes(), ExtractConfig())


@pytest.mark.parametrize(
    ("name", "fmt", "variant"),
    [
        ("article-zh.odt", "odt", ""),
        ("article-zh.ott", "odt", ""),
        ("article-zh.docm", "docx", "docm"),
        ("article-zh.dotx", "docx", "dotx"),
        ("article-zh.dotm", "docx", "dotm"),
    ],
)
def test_more_word_processor_formats(name: str, fmt: str, variant: str) -> None:
    result = run(name)
    assert (result.kind, result.format, result.error) == ("document", fmt, "")
    assert result.text.startswith("春天里的老街\n")
    assert "每天清晨五点半准时亮灯，老板王镕师傅说" in result.text
    assert "老槐树据说种于清朝末年。" in result.text  # the footnote, after the body
    assert "年份\t事件" in result.text  # a table row, tab-separated
    assert result.meta.get("variant", "") == variant


def test_odt_mislabelled_as_doc_is_still_read() -> None:
    result = run("article-zh.odt", "application/msword", sent_as="稿件.doc")
    assert (result.format, result.error) == ("odt", "")


@pytest.mark.parametrize("ext", ["docx", "doc", "rtf", "odt"])
def test_a_short_document_is_read_whole(ext: str) -> None:
    result = run(f"poem-zh.{ext}")
    assert (result.kind, result.error) == ("document", "")
    assert result.text == POEM


def test_a_short_pdf_is_read_whole() -> None:
    assert run("poem-zh.pdf").text == POEM.replace("\n\n", "\n")


@pytest.mark.parametrize(
    ("sent_as", "ctype"),
    [("老街.eml", "message/rfc822"), ("老街.eml", OCTET), ("", "message/rfc822")],
)
def test_a_forwarded_message_is_a_document(sent_as: str, ctype: str) -> None:
    result = run("forwarded-article.eml", ctype, sent_as=sent_as or "noname")
    assert (result.kind, result.format, result.error) == ("document", "eml", "")
    assert result.text.startswith("春天里的老街")
    assert "老板王镕师傅说" in result.text  # GB18030 body, decoded by its label


def test_text_that_is_not_a_message_is_not_read_as_one() -> None:
    result = extract("x.eml", OCTET, b"From the editor's desk\n\nhello", ExtractConfig())
    assert (result.text, result.error) == ("", "not a eml file: its content is unrecognised")


# --------------------------------------------------------------------------- winmail.dat


def _outlook_mail(dat: str, body: str = "Please see the attached files.\r\n") -> bytes:
    """An Outlook rich-text mail as Exchange sends it: a text part and winmail.dat."""
    import base64

    blob = base64.encodebytes((DOCS / dat).read_bytes()).decode()
    return (
        "From: Hans <hans@outlook.example>\r\nTo: tougao@nsnews.example\r\n"
        "Subject: Beitrag\r\nMessage-ID: <tnef.1@outlook.example>\r\n"
        "Date: Mon, 4 Mar 2024 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}\r\n"
        '--b\r\nContent-Type: application/ms-tnef; name="winmail.dat"\r\n'
        'Content-Disposition: attachment; filename="winmail.dat"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{blob}\r\n--b--\r\n"
    ).encode()


def test_winmail_dat_attachments_are_the_mails_own() -> None:
    mail = parse(_outlook_mail("winmail-umlaut.dat"))
    names = [a.filename for a in mail.attachments]
    assert names == ["TBZ PARIV GmbH.jpg", "image003.jpg", "UmlautAnhang-äüö.txt"]
    assert [a.content_type for a in mail.attachments][0] == "image/jpeg"
    assert "winmail.dat" not in names
    assert any("TNEF unpacked (3 files)" in d for d in mail.defects)
    assert mail.text.startswith("Please see the attached files.")


def test_winmail_dat_body_becomes_the_body_when_the_mail_has_none() -> None:
    mail = parse(_outlook_mail("winmail-html-body.dat", body=""))
    assert mail.text.strip()  # the HTML body inside the blob, made text
    assert mail.attachments == ()


def test_two_files_in_winmail_dat() -> None:
    mail = parse(_outlook_mail("winmail-two-files.dat"))
    assert [a.filename for a in mail.attachments] == ["AUTHORS", "README"]
    assert b"tnefparse" in mail.attachments[1].payload.lower() or mail.attachments[1].size


def test_a_damaged_winmail_dat_is_kept_as_it_came() -> None:
    raw = _outlook_mail("winmail-two-files.dat").replace(b"eJ8+Ig", b"eJ8+Ig" + b"A" * 8, 1)
    mail = parse(raw)
    assert len(mail.attachments) >= 1


def test_a_saved_message_attached_as_a_file_lists_its_attachments() -> None:
    import base64

    inner = (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="i"\r\n\r\n--i\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n--i\r\n"
        b'Content-Type: application/octet-stream; name="poem.odt"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes((DOCS / "poem-zh.odt").read_bytes())
        + b"\r\n--i--\r\n"
    )
    outer = (
        b"From: c@example.com\r\nTo: tougao@nsnews.example\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\n'
        b"Content-Type: text/plain\r\n\r\nforwarding\r\n--o\r\n"
        b'Content-Type: application/octet-stream; name="saved.eml"\r\n'
        b'Content-Disposition: attachment; filename="saved.eml"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(inner) + b"\r\n--o--\r\n"
    )
    mail = parse(outer)
    assert [a.filename for a in mail.attachments] == ["saved.eml", "poem.odt"]
    assert mail.text == "forwarding"


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable"])
def test_an_encoded_message_rfc822_part_is_decoded_before_it_is_read(encoding: str) -> None:
    # RFC 2046 forbids encoding message/rfc822, but some clients do; the standard library
    # then parses the base64 as the message itself (no headers, a body of base64).
    import base64
    import quopri

    inner = (DOCS / "forwarded-article.eml").read_bytes()
    encoded = base64.encodebytes(inner) if encoding == "base64" else quopri.encodestring(inner)
    outer = (
        b"From: c@example.com\r\nTo: tougao@nsnews.example\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\n'
        b"Content-Type: text/plain\r\n\r\nforwarding\r\n--o\r\n"
        b"Content-Type: message/rfc822\r\n"
        b'Content-Disposition: attachment; filename="saved.eml"\r\n'
        b"Content-Transfer-Encoding: "
        + encoding.encode()
        + b"\r\n\r\n"
        + encoded
        + b"\r\n--o--\r\n"
    )
    mail = parse(outer)
    assert [a.filename for a in mail.attachments] == ["saved.eml"]
    assert mail.attachments[0].payload.startswith(b"From: ")
    assert any("message/rfc822 sent" in defect for defect in mail.defects)
    result = extract("saved.eml", "message/rfc822", mail.attachments[0].payload, ExtractConfig())
    assert (result.format, result.error) == ("eml", "")
    assert result.text.startswith("春天里的老街")
    assert mail.text == "forwarding"
