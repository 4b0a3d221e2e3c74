"""Claims are read from letters, not from books: every row of ``claim_letters`` is sent as a
real MIME message, parsed, its documents read and classified as ingest does."""

from __future__ import annotations

import io
import textwrap
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

import docx
import pytest

from intake.core.config import ExtractConfig
from intake.core.mail import Kind, Verdict
from intake.documents import extract
from intake.ingest import rows
from intake.ingest.classify import ClassifyContext, classify, with_documents
from intake.ingest.parsing import parse
from tests.data.claims.make_claims import text_pdf
from tests.ingest.claim_letters import CLAIMS, NOT_CLAIMS, Row

CTX = ClassifyContext(
    own_addresses=frozenset({"tougao@nsnews.example"}), site_domains=("nsnews.example",)
)


def _docx(text: str) -> bytes:
    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _pdf(text: str) -> bytes:
    # A page is some 40 Chinese characters wide: wrap as a word processor would.
    return text_pdf([part for line in text.split("\n") for part in textwrap.wrap(line, 40)])


def message(row: Row) -> bytes:
    """``row`` as the bytes a mailer would send."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address("寄件人", "writer", "mail.example")
    msg["To"] = Address("南山新闻网投稿", "tougao", "nsnews.example")
    if row.subject:
        msg["Subject"] = row.subject
    msg["Date"] = "Mon, 18 Mar 2024 09:12:33 +0800"
    msg["Message-ID"] = f"<{row.name}@mail.example>"
    subtype = "html" if row.html_only else "plain"
    msg.set_content(row.body.encode(row.charset), "text", subtype, cte="base64")
    msg.replace_header("Content-Type", f"text/{subtype}; charset={row.charset}")
    if row.attachment:
        name, text = row.attachment
        if name.endswith(".docx"):
            payload, mime = _docx(text), ("application", "octet-stream")
        elif name.endswith(".pdf"):
            payload, mime = _pdf(text), ("application", "pdf")
        else:
            payload, mime = text.encode(row.charset), ("text", "plain")
        msg.add_attachment(payload, *mime, filename=name)
    return msg.as_bytes()


def verdict_of(row: Row) -> Verdict:
    """What ingest decides: classify the mail, read its documents, classify again."""
    parsed = parse(message(row))
    verdict = classify(parsed, CTX)
    texts = tuple(
        found.text
        for a in parsed.attachments
        if (
            found := extract.extract(a.filename, rows.content_type(a), a.payload, ExtractConfig())
        ).text
    )
    return with_documents(parsed, CTX, verdict, texts)


@pytest.mark.parametrize("row", NOT_CLAIMS, ids=lambda r: r.name)
def test_a_submission_is_no_claim_because_of_what_it_says(row: Row) -> None:
    verdict = verdict_of(row)
    assert verdict.kind is Kind.SUBMISSION, verdict.reason


@pytest.mark.parametrize("row", CLAIMS, ids=lambda r: r.name)
def test_a_rights_holders_letter_is_a_claim(row: Row) -> None:
    verdict = verdict_of(row)
    assert verdict.kind is Kind.CLAIM, verdict.reason
