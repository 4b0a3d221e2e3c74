"""What a reply may decide (intake.conversations.binding): the confirmation code, DKIM alignment,
and every attack on consent and versions we could think of, through the real ingest pipeline
on a real SQLite database (the same paths on real Dovecot and SMTP: test_consent_e2e.py).

Each attack is a forged or misdirected reply: a forged From with the subject token, a guessed
or borrowed code, a stranger holding our whole letter, stuffed References, another
submission's Message-ID, an answer to another letter, answers after expiry or after staff
decided, several answers, and the same answer recorded twice.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dkim as dkimpy
import docx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake.adapters.memory.dns import StaticResolver
from intake.app import App
from intake.cli import cli
from intake.core.events import Ingested
from intake.core.mail import MessageRef, RawMail
from intake.ingest.pipeline import Outcome
from intake.replies import render
from intake.replies.render import confirmation_code, find_code, make_message_id
from intake.store.models import Attachment, Consent, Event, Message, Outbox, Submission, Version
from intake.submissions.editorial import Editorial
from intake.text import domains
from intake.workflow.submission import Action
from tests.helpers import make_app, settings_for, submission

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
FAKE_SMTP = SimpleNamespace(host="127.0.0.1", port=2525)  # settings only: nothing is sent
CONTRIBUTOR = "张三 <zhangsan@qq.example>"
STRANGER = "李四 <lisi@163.example>"
ARTICLE = (
    "三月的风吹过老街，青石板路上还留着昨夜的雨水。街口那家开了三十年的豆浆铺，每天清晨五点半准时亮灯，"
    "老板王师傅说，这是他父亲留下的规矩。我第一次走进这条街是在2019年，那时我刚到这座城市工作。"
)


# =========================================================================== the code


SECRET = b"a reply secret of the newsroom"
MID = "intake.6938f1a0.mfrggzdfmztwq.k7x2m4q9hv3c5a8d@nsnews.example"
CODE = confirmation_code(SECRET, MID)
FULL_WIDTH = str.maketrans(
    "0123456789ABCDEFGHJKMNPQRSTVWXYZ-",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＭＮＰＱＲＳＴＶＷＸＹＺ－",
)
RELAXED = CODE.replace("0", "O").replace("1", "l")

#: How contributors type a code back, each with whether it is found.
TYPED: list[tuple[str, bool]] = [
    (CODE, True),
    (CODE.lower(), True),
    (CODE.replace("-", ""), True),
    (CODE.replace("-", " "), True),
    (CODE.replace("-", "\u3000"), True),  # the ideographic space
    (CODE.replace("-", " - "), True),
    (" ".join(CODE.replace("-", "")), True),  # letter by letter
    (CODE.translate(FULL_WIDTH), True),
    (CODE.translate(FULL_WIDTH).lower(), True),
    (RELAXED, True),  # O for 0, l for 1
    (f"同意 {CODE}", True),
    (f"同意，确认码：{CODE}", True),
    (f"确认码{CODE}，同意授权", True),
    (f"同意（{CODE}）", True),
    (f"I agree. Confirmation code: {CODE.lower()}", True),
    (f"I agree\n{CODE}\n", True),
    (f"X{CODE}", False),  # part of a longer word
    (f"{CODE}7", False),
    (CODE[:-1], False),  # one character short
    (CODE[:-1] + ("A" if CODE[-1] != "A" else "B"), False),  # one character wrong
    (CODE[::-1], False),
    ("", False),
    ("同意", False),
]


def test_the_code_is_short_unambiguous_and_stable() -> None:
    assert len(CODE) == 9 and CODE[4] == "-"
    assert set(CODE.replace("-", "")) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert confirmation_code(SECRET, MID) == CODE
    assert confirmation_code(SECRET, f"<{MID.upper()}>") == CODE  # as gateways rewrite ids
    # Another letter, another secret: another code; nothing in it is the submission's number.
    other = make_message_id(SECRET, "nsnews.example", now=T0, nonce=b"12345678")
    assert confirmation_code(SECRET, other) != CODE
    assert confirmation_code(b"another secret", MID) != CODE
    with pytest.raises(ValueError):
        confirmation_code(b"", MID)


def test_the_table_of_typed_codes_is_broad() -> None:
    assert len(TYPED) >= 20


@pytest.mark.parametrize(("text", "found"), TYPED)
def test_codes_as_people_type_them(text: str, found: bool) -> None:
    span = find_code(text, CODE)
    assert (span is not None) is found
    if span is not None:  # the span is in the text as written, label included
        rest = text[: span[0]] + text[span[1] :]
        assert find_code(rest, CODE) is None and "确认码" not in rest


def test_a_thousand_guesses_in_one_reply_do_not_find_the_code() -> None:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    guesses = " ".join("".join(secrets.choice(alphabet) for _ in range(8)) for _ in range(1000))
    assert find_code(guesses, CODE) is None or CODE.replace("-", "") in guesses


ALIGNMENT: list[tuple[str, str, bool]] = [
    ("qq.com", "qq.com", True),
    ("QQ.COM.", "qq.com", True),
    ("mail.qq.com", "qq.com", True),  # a subdomain of the author's signs
    ("qq.com", "vip.qq.com", True),
    ("a.example.co.uk", "b.example.co.uk", True),  # siblings under one organisation
    ("evil.com.cn", "victim.com.cn", False),  # siblings under a public suffix
    ("com.cn", "victim.com.cn", False),  # a public suffix is nobody's organisation
    ("example.co.uk", "example.co.jp", False),
    ("qq.com.evil.example", "qq.com", False),
    ("163.com", "126.com", False),
    ("gmail.com", "googlemail.com", False),
    ("xn--fsqu00a.xn--fiqs8s", "mail.例子.中国", True),  # IDN: A-label and Unicode
    ("", "qq.com", False),
    ("not a domain", "qq.com", False),
]


@pytest.mark.parametrize(("signer", "author", "expected"), ALIGNMENT)
def test_dkim_alignment_on_the_organisational_domain(
    signer: str, author: str, expected: bool
) -> None:
    assert domains.aligned(signer, author) is expected


# =========================================================================== pipeline


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def build(tmp_path: Path, db_url: str, clock: Clock, **sections: Any) -> App:
    settings = settings_for(
        tmp_path,
        db_url,
        smtp=FAKE_SMTP,
        replies={"site_name": "南山新闻网", **sections.pop("replies", {})},
        copyright={"terms": "第一条 作者授权本网……", "terms_version": "2026-1"},
        **sections,
    )
    return make_app(settings, clock=clock)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str, clock: Clock) -> Iterator[App]:
    made = build(tmp_path, sqlite_url, clock)
    yield made
    made.close()


_uids = iter(range(1, 1_000_000))


def ingest(app: App, raw: bytes) -> Outcome:
    ref = MessageRef("submissions", "INBOX", 1, next(_uids))
    return app.ingestor.ingest(RawMail(ref, raw, app.clock()))


def query(app: App, model: type, *where: Any) -> list[Any]:
    with app.sessions() as session, session.begin():
        return list(session.scalars(select(model).where(*where).order_by(model.id)))  # type: ignore[attr-defined]


def letter(app: App, template: str, submission_id: int = 1, nth: int = -1) -> Outbox:
    rows = query(app, Outbox, Outbox.template == template, Outbox.submission_id == submission_id)
    return rows[nth]  # type: ignore[no-any-return]


def code_of(app: App, row: Outbox) -> str:
    return confirmation_code(app.reply_secret, row.message_id)


def reply(
    *,
    to: str | None = None,
    body: str = "同意",
    sender: str = CONTRIBUTOR,
    subject: str = "Re: [投稿 #1] 版权授权请求：《老街》",
    references: list[str] | None = None,
    **kwargs: Any,
) -> bytes:
    headers: dict[str, str] = {}
    if to:
        headers["In-Reply-To"] = f"<{to}>"
    chain = references if references is not None else ([to] if to else [])
    if chain:
        headers["References"] = " ".join(f"<{m}>" for m in chain)
    headers.update(kwargs.pop("headers", {}))
    return submission(sender=sender, subject=subject, body=body, headers=headers, **kwargs)


def start(app: App, sender: str = CONTRIBUTOR, body: str = ARTICLE) -> int:
    """A new submission (ack and copyright request queued); its id."""
    assert ingest(app, submission(sender=sender, body=body)) is Outcome.NEW
    return int(query(app, Submission)[-1].id)


def rights(app: App, submission_id: int = 1) -> Submission:
    (sub,) = query(app, Submission, Submission.id == submission_id)
    return sub  # type: ignore[no-any-return]


def consents(app: App, submission_id: int = 1) -> list[Consent]:
    return query(app, Consent, Consent.submission_id == submission_id)


def templates(app: App, submission_id: int = 1) -> list[str]:
    return [o.template for o in query(app, Outbox, Outbox.submission_id == submission_id)]


def cli_run(app: App, tmp_path: Path, *args: str) -> Any:
    config = tmp_path / "intake.toml"
    config.write_text(
        f'[database]\nurl = "{app.settings.database.url}"\n'
        f'[storage]\npath = "{app.settings.storage.path}"\n'
        '[smtp]\nhost = "127.0.0.1"\nport = 2525\nsecurity = "none"\n'
        'from_address = "投稿 <tougao@news.example>"\n',
        encoding="utf-8",
    )
    return CliRunner().invoke(
        cli, ["--config", str(config), *args], env={"NO_COLOR": "1", "INTAKE_USER": "wang"}
    )


# --------------------------------------------------------------------------- genuine answers


def test_a_genuine_answer_to_the_request_is_applied(app: App) -> None:
    start(app)
    request = letter(app, "copyright_request")
    ingest(app, reply(to=request.message_id, body="好的，同意！"))
    sub = rights(app)
    assert (sub.copyright_status, sub.flagged) == ("granted", "")
    (row,) = consents(app)
    assert (row.decision, row.state, row.authenticity) == ("grant", "applied", "request_bound")
    assert (row.answers_outbox_id, row.clause, row.sender) == (
        request.id, "好的，同意！", "zhangsan@qq.example",
    )  # fmt: skip
    assert templates(app)[-1] == "consent_receipt"


def test_the_request_prints_its_own_code_and_the_reminder_another(app: App, clock: Clock) -> None:
    start(app)
    request = letter(app, "copyright_request")
    text = render_text(request)
    assert f"确认码：{code_of(app, request)}" in text
    clock.advance(days=6)
    app.remind_copyright()
    reminder = letter(app, "copyright_reminder")
    assert code_of(app, reminder) in render_text(reminder)
    assert code_of(app, request) != code_of(app, reminder)


def test_the_english_request_prints_the_code(tmp_path: Path, sqlite_url: str) -> None:
    app = build(tmp_path, sqlite_url, Clock(T0), replies={"language": "en"})
    try:
        start(app)
        request = letter(app, "copyright_request")
        assert f"Your confirmation code: {code_of(app, request)}" in render_text(request)
    finally:
        app.close()


def render_text(row: Outbox) -> str:
    from intake.replies.letters import reply_of

    return reply_of(row.template, row.raw).text


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: f"同意 {c}",
        lambda c: f"同意，确认码：{c.lower()}",
        lambda c: f"{c.translate(FULL_WIDTH)}\n同意授权，谢谢！",
        lambda c: f"I agree. Code: {c.replace('-', ' ')}",
    ],
)
def test_a_web_mail_answer_with_only_the_code_waits_for_an_editor(
    app: App, tmp_path: Path, typed: Any
) -> None:
    start(app)
    code = code_of(app, letter(app, "copyright_request"))
    # No threading headers (a web mail client dropped them); the subject token files it.
    ingest(app, reply(body=typed(code)))
    sub = rights(app)
    assert sub.copyright_status == "requested"
    assert sub.flagged.startswith("consent pending:") and "intake consent confirm 1" in sub.flagged
    (row,) = consents(app)
    assert (row.decision, row.state, row.authenticity) == ("grant", "pending", "token_only")
    assert row.answers_outbox_id == letter(app, "copyright_request").id
    assert "consent_receipt" not in templates(app)
    # list --flagged and show say so.
    listed = json.loads(cli_run(app, tmp_path, "list", "--flagged", "--json").output)
    assert [d["id"] for d in listed] == [1] and "consent pending" in listed[0]["flagged"]
    shown = json.loads(cli_run(app, tmp_path, "show", "1", "--json").output)
    assert shown["consent"]["pending"]["id"] == row.id
    human = cli_run(app, tmp_path, "show", "1").output
    assert "consent pending" in human and "intake consent confirm 1" in human


def test_confirm_and_reject_a_pending_decision(app: App, tmp_path: Path, clock: Clock) -> None:
    start(app)
    start(app, sender="王五 <wangwu@163.example>", body=ARTICLE[::-1])
    for n in (1, 2):
        ingest(app, reply(body=f"同意 {code_of(app, letter(app, 'copyright_request', n))}",
                          sender=CONTRIBUTOR if n == 1 else "王五 <wangwu@163.example>",
                          subject=f"Re: [投稿 #{n}] 版权授权请求"))  # fmt: skip
    assert [c.state for c in query(app, Consent)] == ["pending", "pending"]
    # Nothing to confirm elsewhere; a stale --consent is refused.
    assert cli_run(app, tmp_path, "consent", "confirm", "1", "--consent", "99").exit_code == 1
    result = cli_run(app, tmp_path, "consent", "confirm", "1", "--json", "--as", "li")
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert {k: done[k] for k in ("id", "decision", "state", "from", "to")} == {
        "id": 1, "decision": "grant", "state": "confirmed", "from": "requested", "to": "granted",
    }  # fmt: skip
    assert done["outbox_id"] is not None
    sub = rights(app)
    assert (sub.copyright_status, sub.flagged) == ("granted", "")
    (row,) = consents(app)
    assert (row.state, row.reviewed_by, row.authenticity) == ("confirmed", "li", "token_only")
    receipt = query(app, Outbox, Outbox.id == done["outbox_id"])[0]
    assert receipt.template == "consent_receipt" and receipt.in_reply_to_pk == row.message_pk
    (moved,) = query(app, Event, Event.action == "copyright", Event.to_status == "granted")
    assert moved.actor == "li" and f"confirmed consent #{row.id}" in moved.note
    # Confirming again: nothing pending.
    again = cli_run(app, tmp_path, "consent", "confirm", "1")
    assert again.exit_code == 1 and "no pending consent" in again.output

    result = cli_run(app, tmp_path, "consent", "reject", "2", "--note", "不是本人")
    assert result.exit_code == 0, result.output
    assert "copyright stays requested" in result.output
    assert (rights(app, 2).copyright_status, rights(app, 2).flagged) == ("requested", "")
    assert consents(app, 2)[0].state == "rejected"
    # A rejected (or confirmed) decision no longer holds the request: reminders go on.
    clock.advance(days=6)
    assert app.remind_copyright().reminded == 1


def test_a_pending_decision_holds_reminders_and_expiry(app: App, clock: Clock) -> None:
    start(app)
    ingest(app, reply(body=f"同意 {code_of(app, letter(app, 'copyright_request'))}"))
    clock.advance(days=30)
    assert app.remind_copyright().as_json() == {"reminded": 0, "expired": 0, "unsent": 0}
    assert rights(app).copyright_status == "requested"


def test_an_aligned_dkim_signature_with_the_code_is_applied(
    tmp_path: Path, sqlite_url: str
) -> None:
    key = tmp_path / "dkim.key"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "1024"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    app = build(tmp_path, sqlite_url, Clock(T0))
    app.dkim_resolver = StaticResolver(
        {"s1._domainkey.mail.qq.example": record, "s1._domainkey.evil.example": record}
    )
    try:
        start(app)
        start(app, body=ARTICLE[::-1])

        def signed(domain: bytes, raw: bytes) -> bytes:
            headers = [b"from", b"to", b"subject", b"date", b"message-id"]
            return dkimpy.sign(raw, b"s1", domain, key.read_bytes(), include_headers=headers) + raw

        # Signed by a subdomain of the contributor's domain: aligned; the code binds it.
        code = code_of(app, letter(app, "copyright_request"))
        ingest(app, signed(b"mail.qq.example", reply(body=f"同意 {code}")))
        (row,) = consents(app)
        assert (row.authenticity, row.state, row.dkim) == ("dkim_aligned", "applied", "pass")
        assert rights(app).copyright_status == "granted"
        # A valid signature of another domain proves nothing about the sender: token only.
        code = code_of(app, letter(app, "copyright_request", 2))
        raw = signed(b"evil.example", reply(body=f"同意 {code}", subject="Re: [投稿 #2] 授权"))
        ingest(app, raw)
        (row,) = consents(app, 2)
        assert (row.authenticity, row.state, row.dkim) == ("token_only", "pending", "pass")
    finally:
        app.close()


# --------------------------------------------------------------------------- attacks


def test_forged_from_with_only_the_subject_token_decides_nothing(app: App) -> None:
    start(app)
    ingest(app, reply(body="同意授权，谢谢！"))  # From forged as the contributor's
    sub = rights(app)
    assert sub.copyright_status == "requested"
    assert "names none of our letters and carries no confirmation code" in sub.flagged
    assert consents(app) == [] and "consent_receipt" not in templates(app)


def test_forged_from_with_a_guessed_or_borrowed_code(app: App) -> None:
    start(app)
    start(app, sender="攻击者 <mallory@evil.example>", body=ARTICLE[::-1])
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    guesses = [
        "".join(secrets.choice(alphabet) for _ in range(4))
        + "-"
        + "".join(secrets.choice(alphabet) for _ in range(4))
        for _ in range(50)
    ]
    # Fifty guesses in one forged reply, then the attacker's own request's code (#2).
    ingest(app, reply(body="同意 " + " ".join(guesses), message_id="<g@evil.example>"))
    borrowed = code_of(app, letter(app, "copyright_request", 2))
    ingest(app, reply(body=f"同意 {borrowed}", message_id="<b@evil.example>"))
    assert rights(app).copyright_status == "requested"
    assert consents(app) == [] and consents(app, 2) == []
    assert rights(app, 2).copyright_status == "requested"


def test_a_stranger_holding_our_whole_letter_is_still_a_stranger(app: App) -> None:
    start(app)
    request = letter(app, "copyright_request")
    # Forwarded the request, headers and code and all, and answered it from their own address.
    ingest(
        app,
        reply(
            to=request.message_id, sender=STRANGER,
            body=f"同意 {code_of(app, request)}\n\n" + render_text(request),
        ),
    )  # fmt: skip
    sub = rights(app)
    assert sub.copyright_status == "requested"
    assert "from lisi@163.example is not from the contributor" in sub.flagged
    assert consents(app) == [] and "consent_receipt" not in templates(app)
    (message,) = query(app, Message, Message.kind == "reply")
    assert message.submission_id == 1  # kept and shown in the conversation


def test_a_second_from_header_has_no_sender(app: App) -> None:
    start(app)
    request = letter(app, "copyright_request")
    raw = reply(to=request.message_id, sender=STRANGER)
    raw = b"From: =?utf-8?b?5byg5LiJ?= <zhangsan@qq.example>\r\n" + raw
    ingest(app, raw)
    assert rights(app).copyright_status == "requested"
    assert "from no single sender is not from the contributor" in rights(app).flagged


def test_stuffed_references_bind_to_the_nearest_of_our_letters_only(app: App) -> None:
    start(app)
    ack = letter(app, "ack")
    forged = [
        make_message_id(b"not our secret", "nsnews.example", now=T0, nonce=secrets.token_bytes(8))
        for _ in range(2000)
    ]
    # In-Reply-To our acknowledgment; thousands of forged ids of ours in References.
    ingest(app, reply(to=ack.message_id, references=[*forged, ack.message_id]))
    sub = rights(app)
    assert sub.copyright_status == "requested"
    assert "it answers our ack" in sub.flagged and consents(app) == []


def test_another_submissions_request_id_binds_nothing_here(app: App) -> None:
    start(app)
    start(app, sender="攻击者 <mallory@evil.example>", body=ARTICLE[::-1])
    theirs = letter(app, "copyright_request", 2).message_id
    (original,) = query(app, Message, Message.submission_id == 1, Message.kind == "submission")
    # In-Reply-To the contributor's own (public) message of #1, References #2's request.
    raw = reply(to=original.message_id, references=[theirs, original.message_id])
    ingest(app, raw)
    (message,) = query(app, Message, Message.kind == "reply")
    assert message.submission_id == 1
    assert rights(app).copyright_status == "requested" and consents(app) == []
    (note,) = [e.note for e in query(app, Event, Event.action == "reply", Event.submission_id == 1)
               if e.note.startswith("message")]  # fmt: skip
    assert "names outbox #" in note and "of submission #2" in note


def test_agreeing_to_the_acknowledgment_or_a_question_is_no_consent(app: App) -> None:
    start(app)
    ingest(app, reply(to=letter(app, "ack").message_id, body="同意"))
    editorial = Editorial(app.settings, app.sessions, app.letters, app.clock)
    editorial.decide(1, Action.REQUEST_INFO, actor="li", message="标题可以改成《老街》吗？")
    needs_info = letter(app, "needs_info")
    ingest(app, reply(to=needs_info.message_id, body="同意", message_id="<n@qq.example>"))
    sub = rights(app)
    assert (sub.copyright_status, sub.status) == ("requested", "in_review")
    assert consents(app) == []
    assert "it answers our needs_info" in sub.flagged


def test_answers_after_expiry_and_from_an_earlier_round(app: App, clock: Clock) -> None:
    start(app)
    first = letter(app, "copyright_request")
    clock.advance(days=6)
    app.remind_copyright()
    reminder = letter(app, "copyright_reminder")
    clock.advance(days=10)
    app.remind_copyright()
    assert rights(app).copyright_status == "expired"
    # Bound to the request, but it expired: kept as evidence, flagged, not applied.
    ingest(app, reply(to=first.message_id, body="同意", message_id="<late@qq.example>"))
    (late,) = consents(app)
    assert (late.state, rights(app).copyright_status) == ("not_applied", "expired")
    assert "while copyright is expired" in rights(app).flagged
    # Asked again: the old reminder's code belongs to the earlier round.
    Editorial(app.settings, app.sessions, app.letters, app.clock).request_copyright(1, actor="li")
    second = letter(app, "copyright_request")
    ingest(app, reply(body=f"同意 {code_of(app, reminder)}", message_id="<old@qq.example>"))
    assert rights(app).copyright_status == "requested"
    assert f"an earlier request since replaced by outbox #{second.id}" in rights(app).flagged
    assert len(consents(app)) == 1
    # The new request's code is a (pending) answer.
    ingest(app, reply(body=f"同意 {code_of(app, second)}", message_id="<new@qq.example>"))
    assert consents(app)[-1].state == "pending"


def test_after_staff_decided_a_contrary_answer_is_kept_not_applied(
    app: App, tmp_path: Path
) -> None:
    start(app)
    assert (
        cli_run(app, tmp_path, "consent", "1", "refuse", "--note", "电话里说不同意").exit_code == 0
    )
    ingest(app, reply(to=letter(app, "copyright_request").message_id, body="同意"))
    sub = rights(app)
    assert sub.copyright_status == "refused" and "while copyright is refused" in sub.flagged
    assert [(c.decision, c.state) for c in consents(app)] == [
        ("refuse", "applied"), ("grant", "not_applied"),
    ]  # fmt: skip


def test_several_answers_the_first_applied_one_decides(app: App) -> None:
    start(app)
    request = letter(app, "copyright_request")
    ingest(app, reply(to=request.message_id, body="同意", message_id="<1@qq.example>"))
    ingest(app, reply(to=request.message_id, body="不同意", message_id="<2@qq.example>"))
    sub = rights(app)
    assert sub.copyright_status == "granted"
    assert "reads as refuse ('不同意') while copyright is granted" in sub.flagged
    assert [(c.decision, c.state) for c in consents(app)] == [
        ("grant", "applied"), ("refuse", "not_applied"),
    ]  # fmt: skip
    assert templates(app).count("consent_receipt") == 1


def test_a_later_answer_replaces_a_pending_one(app: App) -> None:
    start(app)
    request = letter(app, "copyright_request")
    code = code_of(app, request)
    ingest(app, reply(body=f"同意 {code}", message_id="<1@qq.example>"))
    ingest(app, reply(body=f"不同意 {code}", message_id="<2@qq.example>"))
    assert [(c.decision, c.state) for c in consents(app)] == [
        ("grant", "superseded"), ("refuse", "pending"),
    ]  # fmt: skip
    assert rights(app).flagged.count("consent pending") == 1
    # A bound answer settles it, and the pending one goes.
    ingest(app, reply(to=request.message_id, body="同意", message_id="<3@qq.example>"))
    assert [c.state for c in consents(app)] == ["superseded", "superseded", "applied"]
    sub = rights(app)
    assert (sub.copyright_status, sub.flagged) == ("granted", "")


def test_a_staff_decision_supersedes_a_pending_one(app: App, tmp_path: Path) -> None:
    start(app)
    ingest(app, reply(body=f"同意 {code_of(app, letter(app, 'copyright_request'))}"))
    assert cli_run(app, tmp_path, "consent", "1", "grant", "--note", "签了授权书").exit_code == 0
    assert [c.state for c in consents(app)] == ["superseded", "applied"]
    assert rights(app).flagged == ""


def test_one_reading_per_message_whoever_runs_it(
    app: App, tmp_path: Path, sqlite_url: str, clock: Clock
) -> None:
    start(app)
    raw = reply(to=letter(app, "copyright_request").message_id)
    # A second daemon on the same database records the same mail from another folder.
    other = build(tmp_path, sqlite_url, clock)
    try:
        assert ingest(app, raw) is Outcome.NEW
        assert other.ingestor.ingest(RawMail(MessageRef("b", "INBOX", 7, 1), raw, T0)) is (
            Outcome.DUPLICATE
        )
    finally:
        other.close()
    assert len(consents(app)) == 1 and templates(app).count("consent_receipt") == 1
    # The hook run again on the recorded message (a reprocess) reads nothing twice.
    (message,) = query(app, Message, Message.kind == "reply")
    with app.sessions() as session, session.begin():
        for hook in app.hooks():
            hook(session, _again(app, message))
    assert len(consents(app)) == 1 and templates(app).count("consent_receipt") == 1


def _again(app: App, message: Message) -> Ingested:
    from intake.core.mail import Kind, Verdict
    from intake.ingest import parsing

    raw = app.blobs.get(message.raw_path)
    return Ingested(
        message_pk=message.id, parsed=parsing.parse(raw),
        verdict=Verdict(Kind.REPLY, "reply", "again"), classified_as=Kind.REPLY,
        sha256=message.sha256, raw_path=message.raw_path, received_at=T0, now=T0,
        submission_id=message.submission_id, auto_reply_allowed=True,
    )  # fmt: skip


def test_a_quarantined_answer_reprocessed_is_read_once(app: App) -> None:
    start(app)
    raw = reply(to=letter(app, "copyright_request").message_id)
    hooks = app.hooks()
    failing = {"left": 1}

    def fail_once(session: Any, item: Ingested) -> None:
        if failing["left"]:
            failing["left"] -= 1
            raise RuntimeError("database hiccup")

    app._hooks = [*hooks, fail_once]
    app.__dict__.pop("ingestor", None)
    assert ingest(app, raw) is Outcome.QUARANTINED
    assert consents(app) == []
    (held,) = query(app, Message, Message.kind == "quarantined")
    assert app.ingestor.reprocess(held.id) is Outcome.NEW
    assert len(consents(app)) == 1 and rights(app).copyright_status == "granted"
    assert templates(app).count("consent_receipt") == 1


# --------------------------------------------------------------------------- the contributor


def test_an_address_staff_add_speaks_for_the_contributor(app: App, tmp_path: Path) -> None:
    start(app)
    request = letter(app, "copyright_request")
    second = "张三 <zs.writer@foxmail.example>"
    ingest(app, reply(to=request.message_id, sender=second, message_id="<1@fox.example>"))
    assert rights(app).copyright_status == "requested" and consents(app) == []
    added = cli_run(
        app, tmp_path, "contributor", "add-address", "1", "ZS.Writer@ＦＯＸＭＡＩＬ.example",
        "--note", "作者来电确认", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert json.loads(added.output) == {
        "id": 1, "address": "zs.writer@foxmail.example", "added": True,
    }  # fmt: skip
    listed = json.loads(cli_run(app, tmp_path, "contributor", "addresses", "1", "--json").output)
    assert [a["address"] for a in listed["added"]] == ["zs.writer@foxmail.example"]
    assert listed["sender"] == "zhangsan@qq.example"
    ingest(app, reply(to=request.message_id, sender=second, message_id="<2@fox.example>"))
    assert rights(app).copyright_status == "granted"
    (row,) = consents(app)
    assert row.sender == "zs.writer@foxmail.example"
    # Refused: the contributor's own address, a duplicate, garbage, an unknown one.
    own = cli_run(app, tmp_path, "contributor", "add-address", "1", "ZhangSan@QQ.example")
    assert own.exit_code == 1 and "own address" in own.output
    twice = cli_run(app, tmp_path, "contributor", "add-address", "1", "zs.writer@foxmail.example")
    assert twice.exit_code == 1 and "already" in twice.output
    bad = cli_run(app, tmp_path, "contributor", "add-address", "1", "not an address")
    assert bad.exit_code == 1
    removed = cli_run(
        app, tmp_path, "contributor", "remove-address", "1", "zs.writer@foxmail.example"
    )
    assert removed.exit_code == 0, removed.output
    gone = cli_run(app, tmp_path, "contributor", "remove-address", "1", "zs.writer@foxmail.example")
    assert gone.exit_code == 1
    history = [e.note for e in query(app, Event, Event.action == "contributor")]
    assert len(history) == 2 and "作者来电确认" in history[0]


def docx_attachment(text: str) -> tuple[str, str, bytes]:
    document = docx.Document()
    for paragraph in text.split("\n"):
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    kind = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return "老街-修改稿.docx", kind, buffer.getvalue()


REVISED = (
    "《老街》（修改稿）\n" + ARTICLE.replace("王师傅", "李师傅") + "后记：谨以此文献给老街坊。"
)


def test_new_versions_only_from_the_contributor_in_a_bound_thread(app: App) -> None:
    start(app)
    ack = letter(app, "ack").message_id
    before = rights(app).article_text
    # A stranger's revision, bound to our acknowledgment (they hold our letter).
    revision = [docx_attachment(REVISED)]
    stranger = reply(to=ack, sender=STRANGER, body="修改稿见附件", attachments=revision,
                     message_id="<s@163.example>")  # fmt: skip
    ingest(app, stranger)
    # The contributor's address forged, the subject token only.
    forged = reply(body="修改稿见附件", attachments=[docx_attachment(REVISED + "又改")],
                   message_id="<f@qq.example>")  # fmt: skip
    ingest(app, forged)
    sub = rights(app)
    assert sub.article_text == before and len(query(app, Version)) == 1
    assert "its files (老街-修改稿.docx) are kept on the message" in sub.flagged
    assert "bound to none of our letters" in sub.flagged
    kept = query(app, Attachment, Attachment.filename == "老街-修改稿.docx")
    assert len(kept) == 2 and all(a.version_id is None for a in kept)
    # The contributor, answering our acknowledgment: the new version.
    ingest(app, reply(to=ack, body="修改稿见附件", attachments=[docx_attachment(REVISED)],
                      message_id="<c@qq.example>"))  # fmt: skip
    assert "谨以此文献给老街坊" in rights(app).article_text
    assert len(query(app, Version)) == 2


def test_a_new_version_brings_the_authors_new_details(app: App) -> None:
    start(app)
    ack = letter(app, "ack").message_id
    ending = "\n作者：张三\n电话：13912345678\n开户行：中国银行广州分行\n账号：6222021234567890123"
    ingest(app, reply(to=ack, body="修改稿见附件，补上了稿费账户。",
                      attachments=[docx_attachment(REVISED + ending)],
                      message_id="<details@qq.example>"))  # fmt: skip
    author = rights(app).author
    assert author["phone"] == "13912345678" and author["account"] == "6222021234567890123"
    versions = [e.note for e in query(app, Event, Event.action == "version")]
    assert versions[-1].endswith("the author's details updated")


def test_an_edited_request_prints_the_letters_real_code(tmp_path: Path, sqlite_url: str) -> None:
    clock = Clock(T0)
    app = build(tmp_path, sqlite_url, clock, replies={"copyright_request": "manual"})
    try:
        start(app)
        editorial = Editorial(app.settings, app.sessions, app.letters, app.clock)
        dry = editorial.request_copyright(1, actor="li", dry_run=True)
        assert dry.reply is not None and render.CODE_PLACEHOLDER in dry.reply.text
        done = editorial.request_copyright(
            1, actor="li", edit=lambda text: "张老师好：\n" + text.replace("第一条", "第1条")
        )
        request = letter(app, "copyright_request")
        text = render_text(request)
        assert done.outbox_id == request.id and text.startswith("张老师好")
        assert code_of(app, request) in text and render.CODE_PLACEHOLDER not in text
    finally:
        app.close()


def test_binding_is_recorded_in_the_conversation(app: App, tmp_path: Path) -> None:
    start(app)
    request = letter(app, "copyright_request")
    ingest(app, reply(to=request.message_id))
    notes = [e.note for e in query(app, Event, Event.action == "reply") if "message" in e.note]
    assert any(f"answers outbox #{request.id} (copyright_request); request_bound" in n
               for n in notes)  # fmt: skip
    shown = json.loads(cli_run(app, tmp_path, "consent", "1", "--json").output)
    (evidence,) = shown["evidence"]
    assert {k: evidence[k] for k in ("authenticity", "answers_outbox_id", "clause", "state")} == {
        "authenticity": "request_bound", "answers_outbox_id": request.id, "clause": "同意",
        "state": "applied",
    }  # fmt: skip
    assert shown["pending"] is None
    human = cli_run(app, tmp_path, "consent", "1")
    assert human.exit_code == 0 and "request_bound" in human.output


def test_the_consent_command_refuses_what_it_cannot_do(app: App, tmp_path: Path) -> None:
    start(app)
    assert cli_run(app, tmp_path, "consent", "1", "maybe").exit_code == 2
    assert cli_run(app, tmp_path, "consent", "confirm").exit_code == 2
    assert cli_run(app, tmp_path, "consent", "confirm", "x").exit_code == 2
    missing = cli_run(app, tmp_path, "consent", "reject", "1")
    assert missing.exit_code == 1 and "no pending consent" in missing.output
    assert cli_run(app, tmp_path, "consent", "1", "--consent", "3").exit_code == 1
