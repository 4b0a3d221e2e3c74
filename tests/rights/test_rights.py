"""Rights holders' claims end to end: mail arrives in the suite's Dovecot, becomes a claim (or
stays a submission), is linked to the published article it names, and every letter reaches the
suite's SMTP server in the claimant's thread. Staff actions run through
``intake.rights.actions``."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from intake.app import App
from intake.core.errors import TransitionRefused, UsageError
from intake.core.mail import MessageRef, RawMail
from intake.ingest import parsing
from intake.rights.actions import Rights
from intake.rights.reclassify import Reclassifier
from intake.store import claims as claim_store
from intake.store import queue as queue_store
from intake.store import submissions as submission_store
from intake.store.models import Claim, Message, Outbox, Submission
from intake.text import claims as claim_rules
from intake.workflow.claim import Outcome
from tests.cli.test_cli_queue import add_submission
from tests.data.claims.make_claims import text_pdf
from tests.helpers import make_app, settings_for, submission
from tests.servers import Dovecot
from tests.smtpserver import Received, SmtpServer

DATA = Path(__file__).parents[1] / "data" / "claims"
SITE = {"name": "南山新闻网", "domains": ["nsnews.example"], "claim_response_days": 3}
QQ_CLAIMANT = "1378921456@qq.example"
QQ_MESSAGE_ID = "<tencent_8C1F2E6A0B3D4C5E6F708192A3B4C5D6E7F8@qq.example>"
QQ_URL = "https://www.nsnews.example/wenhua/2024/0508/61207.html"


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def body(received: Received) -> str:
    part = parse(received.data).get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def make(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot | None,
    account: tuple[str, str] | None,
    smtp_server: SmtpServer,
    **sections: dict[str, Any],
) -> App:
    return make_app(
        settings_for(
            tmp_path, db_url, dovecot, account, smtp=smtp_server, site=SITE,
            replies={"site_name": "南山新闻网"}, **sections,
        )
    )  # fmt: skip


@pytest.fixture
def account(imap_account: tuple[str, str]) -> tuple[str, str]:
    return imap_account


@pytest.fixture
def app(
    tmp_path: Path,
    sqlite_url: str,
    dovecot: Dovecot,
    account: tuple[str, str],
    smtp_server: SmtpServer,
) -> Iterator[App]:
    made = make(tmp_path, sqlite_url, dovecot, account, smtp_server)
    yield made
    made.close()


def arrive(app: App, dovecot: Dovecot, account: tuple[str, str], *raws: bytes) -> None:
    """Mail lands in the box; the daemon polls, then sends what is due."""
    for raw in raws:
        dovecot.append(*account, "INBOX", raw)
    app.poll_mailbox(app.settings.mailboxes[0])
    app.deliver_outbox()


def rights(app: App) -> Rights:
    return Rights(app.settings, app.sessions, app.letters, app.clock)


def reclassifier(app: App) -> Reclassifier:
    return Reclassifier(
        app.settings, app.sessions, app.letters, app.clock, app.blobs, parsing.parse
    )


def publish(app: App, title: str, url: str) -> int:
    with app.sessions() as session, session.begin():
        sid = add_submission(session, subject=f"投稿：{title}", article="正文。" * 20)
        found = session.get(Submission, sid)
        assert found is not None
        found.status, found.title, found.published_url = "published", title, url
        return sid


def only_claim(app: App) -> Claim:
    with app.sessions() as session, session.begin():
        return session.scalars(select(Claim)).one()


def history(app: App, claim_id: int) -> list[tuple[str, str, str, str]]:
    with app.sessions() as session, session.begin():
        return [
            (e.action, e.from_status, e.to_status, e.note)
            for e in claim_store.events_for(session, claim_id)
        ]


def kinds(app: App) -> list[str]:
    with app.sessions() as session, session.begin():
        return list(session.scalars(select(Message.kind).order_by(Message.id)))


def reply_from_claimant(
    answered: Received, text: str, *, attachments: list[tuple[str, str, bytes]] | None = None
) -> bytes:
    """The claimant answering one of our letters from QQ Mail, quoting it."""
    ours = parse(answered.data)
    msg = EmailMessage()
    msg["From"] = f"李秋萍 <{QQ_CLAIMANT}>"
    msg["To"] = "tougao@nsnews.example"
    msg["Subject"] = f"回复：{ours['Subject']}"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = f"<tencent_{abs(hash(text)):X}@qq.example>"
    msg["In-Reply-To"] = ours["Message-ID"]
    msg["References"] = f"{QQ_MESSAGE_ID} {ours['Message-ID']}"
    quoted = "\n".join("> " + line for line in body(answered).splitlines())
    msg.set_content(f"{text}\n\n------------------ 原始邮件 ------------------\n{quoted}\n")
    for filename, ctype, payload in attachments or []:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(policy=SMTP)


# --------------------------------------------------------------------------- recognition


def test_claim_is_opened_linked_and_acknowledged_in_the_claimants_thread(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    account: tuple[str, str],
    smtp_server: SmtpServer,
) -> None:
    app = make(tmp_path, db_url, dovecot, account, smtp_server)
    # The article as we published it; the claimant copied the link from a browser.
    sid = publish(app, "老屋的桂花树", "http://nsnews.example/wenhua/2024/0508/61207.html/")
    arrive(app, dovecot, account, load("claim-zh-qq-url.eml"))

    claim = only_claim(app)
    assert (claim.status, claim.claimant, claim.claimant_name) == (
        "received",
        QQ_CLAIMANT,
        "李秋萍",
    )
    assert claim.urls == [QQ_URL]
    assert (claim.work_title, claim.demand) == ("老屋的桂花树", "both")
    assert claim.score >= 3.0 and any(s.startswith("source_line:") for s in claim.signals)
    assert claim.deadline is not None
    assert claim.deadline - claim.received_at == timedelta(days=3)
    assert claim.submission_id == sid
    assert "贵网的行为侵犯了本人" in claim.body_text
    with app.sessions() as session, session.begin():
        message = session.get(Message, claim.message_pk)
        assert message is not None and (message.kind, message.claim_id) == ("claim", claim.id)
        # The article's own history shows the claim.
        article_events = queue_store.history(session.connection(), sid)
        assert [(e.action, e.claim_id) for e in article_events][-1] == ("claim_linked", claim.id)
        assert queue_store.claims_naming(session.connection(), sid)[0].id == claim.id
        assert queue_store.open_claims(session.connection()) == 1
        assert claim_store.overdue_claims_count(session, datetime.now(UTC)) == 0
        later = claim.deadline.replace(tzinfo=UTC) + timedelta(seconds=1)
        assert claim_store.overdue_claims_count(session, later) == 1
    actions = [h[0] for h in history(app, claim.id)]
    assert actions == ["received", "claim_linked", "reply"]

    (ack,) = smtp_server.wait_for(1)
    assert ack.rcpt_tos == (QQ_CLAIMANT,)
    msg = parse(ack.data)
    assert str(msg["Subject"]) == f"[版权 #{claim.id}] 版权投诉已收到"
    assert msg["In-Reply-To"] == QQ_MESSAGE_ID
    assert msg["Auto-Submitted"] == "auto-replied"
    text = body(ack)
    assert "李秋萍，您好！" in text and f"投诉编号为 {claim.id}" in text
    assert QQ_URL in text and "3日内" in text
    with app.sessions() as session, session.begin():
        row = session.scalars(select(Outbox)).one()
        assert (row.template, row.claim_id, row.state, row.automatic) == (
            "claim_ack", claim.id, "sent", True,
        )  # fmt: skip
    app.close()


def test_html_only_claim_with_the_link_in_an_href(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer
) -> None:
    sid = publish(app, "暴雨过后的老街", "https://www.nsnews.example/shehui/2024/0611/62550.html")
    arrive(app, dovecot, account, load("claim-zh-163-html-only.eml"))
    claim = only_claim(app)
    assert claim.urls == ["https://m.nsnews.example/shehui/2024/0611/62550.html"]
    assert (claim.demand, claim.work_title, claim.submission_id) == ("fee", "暴雨过后的老街", sid)
    assert "claim_linked" in [h[0] for h in history(app, claim.id)]
    (ack,) = smtp_server.wait_for(1)
    assert ack.rcpt_tos == ("zhouyan_photo@163.example",)


def test_lawyers_letter_in_a_pdf_makes_the_claim(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer
) -> None:
    raw = load("claim-zh-lawyer-letter-pdf.eml")
    # The cover note alone reads like any short mail; the letter is in the PDF.
    assert claim_rules.assess(parsing.parse(raw), SITE["domains"]).score < 3.0  # type: ignore[arg-type]
    arrive(app, dovecot, account, raw)
    assert kinds(app) == ["claim"]
    claim = only_claim(app)
    assert claim.urls == ["https://www.nsnews.example/wenhua/2024/0301/60015.html"]
    assert (claim.work_title, claim.demand) == ("江畔晨读", "both")
    assert claim.claimant == "sun.lawyer@lawfirm.example"
    with app.sessions() as session, session.begin():
        (letter,) = claim_store.attachments_for(session, claim)
        assert letter.filename == "律师函.pdf" and letter.kind == "document"
        assert "侵犯了委托人" in letter.text and letter.submission_id is None
    (ack,) = smtp_server.wait_for(1)
    assert "《江畔晨读》" in body(ack)


def test_claims_with_and_without_links_in_both_languages(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer
) -> None:
    by_title = publish(
        app, "父亲的自行车", "https://www.nsnews.example/wenhua/2024/0620/62001.html"
    )
    arrive(
        app, dovecot, account, load("claim-en-gmail-url.eml"), load("claim-zh-foxmail-no-url.eml")
    )
    assert kinds(app)[1:] == ["claim", "claim"]  # after the published article's own message
    with app.sessions() as session, session.begin():
        english, chinese = session.scalars(select(Claim).order_by(Claim.id)).all()
    assert english.urls == [
        "https://www.nsnews.example/en/culture/2024/04/harbour-lights-at-dusk.html"
    ]
    assert english.demand == "both" and english.submission_id is None
    assert chinese.urls == [] and chinese.work_title == "父亲的自行车"
    assert chinese.submission_id == by_title  # linked by the title alone
    assert {r.rcpt_tos for r in smtp_server.wait_for(2)} == {
        ("hannah.wright.writes@gmail.example",),
        ("chenjianguo1962@126.example",),
    }


def test_look_alikes_stay_submissions_and_a_consent_reply_stays_a_reply(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer
) -> None:
    arrive(app, dovecot, account, submission(sender="张三 <zhangsan@qq.example>"))  # #1
    arrive(
        app,
        dovecot,
        account,
        load("not-claim-essay-on-copyright.eml"),
        load("not-claim-reprint-question.eml"),
        load("not-claim-consent-reply.eml"),
    )
    assert kinds(app) == ["submission", "submission", "submission", "reply"]
    with app.sessions() as session, session.begin():
        assert session.scalars(select(Claim)).all() == []
        consent = session.scalars(select(Message).where(Message.kind == "reply")).one()
        assert (consent.submission_id, consent.claim_id) == (1, None)


def test_robots_get_no_acknowledgement(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer
) -> None:
    arrive(app, dovecot, account, load("claim-en-noreply-agency.eml"))
    claim = only_claim(app)
    assert claim.claimant == "notices-noreply@rightsguard.example"
    last = history(app, claim.id)[-1]
    assert last[0] == "reply" and last[3].startswith("no claim_ack: ")
    assert "no-reply" in last[3]
    # An out-of-office answer to an acknowledgement joins nothing and gets nothing.
    arrive(app, dovecot, account, load("claim-zh-qq-url.eml"))
    (ack,) = smtp_server.wait_for(1)
    out_of_office = submission(
        sender=f"李秋萍 <{QQ_CLAIMANT}>",
        subject=f"自动回复: {parse(ack.data)['Subject']}",
        body="这是来自QQ邮箱的假期自动回复邮件。您好，我最近正在休假中。",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": parse(ack.data)["Message-ID"]},
    )
    arrive(app, dovecot, account, out_of_office)
    assert kinds(app)[-1] == "autoreply"
    assert len(smtp_server.messages) == 1
    with app.sessions() as session, session.begin():
        assert len(session.scalars(select(Claim)).all()) == 2


# --------------------------------------------------------------------------- the claimant's thread


def test_claim_from_evidence_request_to_payment(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer
) -> None:
    arrive(app, dovecot, account, load("claim-zh-qq-url.eml"))
    claim = only_claim(app)
    token = f"[版权 #{claim.id}]"
    use = rights(app)

    asked = use.request_info(claim.id, actor="王编辑", message="请提供作品首发的刊物版面照片。")
    assert (asked.from_status, asked.to_status, asked.outbox_id is not None) == (
        "received", "needs_info", True,
    )  # fmt: skip
    app.deliver_outbox()
    _ack, request = smtp_server.wait_for(2)
    assert str(parse(request.data)["Subject"]) == f"{token} 请补充投诉材料"
    assert parse(request.data)["In-Reply-To"] == QQ_MESSAGE_ID
    assert parse(request.data)["Auto-Submitted"] is None  # a person's letter, not a robot's
    assert "请提供作品首发的刊物版面照片。" in body(request)

    # The claimant answers in the thread, with a scan and one more page of ours.
    extra_url = "https://www.nsnews.example/wenhua/2024/0509/61290.html"
    answer = reply_from_claimant(
        request,
        f"附件是《湘江文艺》版面的照片。另外贵网这里也转载了：{extra_url}",
        attachments=[("版面.pdf", "application/pdf", text_pdf(["湘江文艺 2023年第9期 第42页"]))],
    )
    arrive(app, dovecot, account, answer)
    assert kinds(app) == ["claim", "reply"]
    after = only_claim(app)
    assert after.status == "investigating"
    assert after.urls == [QQ_URL, extra_url]
    assert after.deadline is not None and claim.deadline is not None
    assert after.deadline > claim.deadline  # a fresh response period from the answer
    action, frm, to, note = history(app, claim.id)[-1]
    assert (action, frm, to) == ("reply_received", "needs_info", "investigating")
    assert extra_url in note and "1 attachment" in note
    with app.sessions() as session, session.begin():
        files = claim_store.attachments_for(session, after)
        assert [f.filename for f in files] == ["版面.pdf"]
        assert len(claim_store.messages_for(session, after)) == 2

    paid = use.resolve(claim.id, Outcome.PAID, actor="王编辑", amount="500元")
    assert (paid.from_status, paid.to_status) == ("investigating", "resolved_paid")
    app.deliver_outbox()
    letter = smtp_server.wait_for(3)[-1]
    assert str(parse(letter.data)["Subject"]) == f"{token} 处理结果：使用费已支付"
    assert "金额为 500元" in body(letter) and "《老屋的桂花树》" in body(letter)
    assert only_claim(app).amount == "500元"
    with app.sessions() as session, session.begin():
        assert queue_store.open_claims(session.connection()) == 0
        templates = [o.template for o in claim_store.outbox_for(session, claim.id)]
    assert templates == ["claim_ack", "claim_needs_info", "claim_paid"]


# --------------------------------------------------------------------------- staff actions


def _ingest(app: App, raw: bytes, uid: int) -> None:
    """Ingest without IMAP: the same pipeline as a poll, for tests about what happens next."""
    app.ingestor.ingest(RawMail(MessageRef("submissions", "INBOX", 1, uid), raw))


@pytest.fixture
def offline(tmp_path: Path, sqlite_url: str, smtp_server: SmtpServer) -> Iterator[App]:
    made = make(tmp_path, sqlite_url, None, None, smtp_server)
    yield made
    made.close()


def test_every_move_with_its_letter_and_the_refused_ones(offline: App) -> None:
    app = offline
    _ingest(app, load("claim-zh-qq-url.eml"), 1)
    cid = only_claim(app).id
    use = rights(app)

    with pytest.raises(TransitionRefused) as refused:
        use.resolve(cid, Outcome.REMOVED, actor="a")
    assert str(refused.value) == (
        f"claim {cid} is received: cannot move to resolved_removed "
        "(allowed: investigating, needs_info, rejected)"
    )
    assert use.investigate(cid, actor="a").to_status == "investigating"
    with pytest.raises(TransitionRefused, match="already investigating"):
        use.investigate(cid, actor="a")

    removed = use.resolve(cid, Outcome.REMOVED, actor="a", message="已于今日下线。")
    assert removed.reply is not None and removed.reply.template == "claim_removed"
    assert QQ_URL in removed.reply.text and "已于今日下线。" in removed.reply.text

    assert use.investigate(cid, actor="a").from_status == "resolved_removed"  # reopened
    with pytest.raises(UsageError, match="needs --message"):
        use.resolve(cid, Outcome.REJECTED, actor="a")
    rejected = use.resolve(cid, Outcome.REJECTED, actor="a", message="该文系作者本人投稿并授权。")
    assert rejected.reply is not None
    assert "理由如下：\n\n该文系作者本人投稿并授权。" in rejected.reply.text
    assert "编辑附言" not in rejected.reply.text  # the reason is not repeated as a note

    use.investigate(cid, actor="a")
    licensed = use.resolve(cid, Outcome.LICENSED, actor="a", notify=False)
    assert (licensed.to_status, licensed.outbox_id, licensed.reply) == (
        "resolved_licensed", None, None,
    )  # fmt: skip
    with pytest.raises(UsageError, match="resolve paid needs --amount"):
        use.resolve(cid, Outcome.PAID, actor="a")  # checked before the move
    actions = [h[0] for h in history(app, cid)]
    assert actions == [
        "received", "reply", "investigate", "resolve_removed", "reply", "investigate",
        "resolve_rejected", "reply", "investigate", "resolve_licensed",
    ]  # fmt: skip
    with app.sessions() as session, session.begin():
        templates = [o.template for o in claim_store.outbox_for(session, cid)]
    assert templates == ["claim_ack", "claim_removed", "claim_rejected"]


def test_dry_run_changes_nothing_and_notes_and_assignments_start_the_work(offline: App) -> None:
    app = offline
    _ingest(app, load("claim-zh-foxmail-no-url.eml"), 1)
    cid = only_claim(app).id
    use = rights(app)
    before = history(app, cid)
    dry = use.request_info(cid, actor="a", dry_run=True)
    assert dry.dry_run and (dry.from_status, dry.to_status) == ("received", "needs_info")
    assert dry.reply is not None and dry.reply.subject == f"[版权 #{cid}] 请补充投诉材料"
    assert "《父亲的自行车》" in dry.reply.text
    assert history(app, cid) == before and only_claim(app).status == "received"

    edited = use.request_info(cid, actor="a", edit=lambda text: "请寄来原稿照片。")
    assert edited.reply is not None and edited.reply.text == "请寄来原稿照片。\n"
    assert history(app, cid)[-1][3].endswith("(edited)")

    use.investigate(cid, actor="a")
    assigned = use.assign(cid, "法务 李", actor="王编辑")
    assert (assigned.from_status, assigned.to_status) == ("investigating", "investigating")
    with pytest.raises(UsageError, match="already assigned to 法务 李"):
        use.assign(cid, "法务 李", actor="王编辑")
    assert use.assign(cid, "", actor="王编辑").action == "assign"
    assert history(app, cid)[-1][3] == "unassigned (was 法务 李)"
    with pytest.raises(UsageError, match="empty note"):
        use.note(cid, "  ", actor="a")

    _ingest(app, load("claim-en-gmail-url.eml"), 2)
    with app.sessions() as session, session.begin():
        second = max(c.id for c in session.scalars(select(Claim)))
    noted = use.note(second, "已转法务部", actor="a")
    assert (noted.from_status, noted.to_status) == ("received", "investigating")


# --------------------------------------------------------------------------- reclassify

MISSED_CLAIM = (
    "你好，你们网站上那篇《山路弯弯》是我写的，没经过我同意就发了，麻烦看一下。\n\n王小川"
)


def test_submission_reclassified_as_a_claim_and_back(offline: App, smtp_server: SmtpServer) -> None:
    app = offline
    _ingest(app, submission(subject="关于《山路弯弯》", body=MISSED_CLAIM), 1)
    with app.sessions() as session, session.begin():
        sub = session.scalars(select(Submission)).one()
        sid, mid = sub.id, sub.message_pk
    use = reclassifier(app)

    done = use.reclassify(sid, "claim", by="submission", actor="王编辑", message="是版权投诉")
    assert (done.kind, done.submission_id, done.closed) == (
        "claim", None, f"submission #{sid} withdrawn",
    )  # fmt: skip
    assert done.outbox_id is None  # nothing sent without notify
    claim = only_claim(app)
    assert (claim.message_pk, claim.work_title, claim.status) == (mid, "山路弯弯", "received")
    with app.sessions() as session, session.begin():
        message = session.get(Message, mid)
        assert message is not None
        assert (message.kind, message.claim_id, message.submission_id) == ("claim", claim.id, None)
        assert message.rule == "reclassified" and "王编辑" in message.reason
        kept = session.get(Submission, sid)
        assert kept is not None and kept.status == "withdrawn"
        last = queue_store.history(session.connection(), sid)[-1]
        assert (last.action, last.to_status, last.claim_id) == ("reclassify", "withdrawn", claim.id)
        assert last.note == f"reclassified as claim #{claim.id}: 是版权投诉"
    with pytest.raises(UsageError, match=f"already claim #{claim.id}"):
        use.reclassify(mid, "claim", actor="a")

    back = use.reclassify(claim.id, "submission", by="claim", actor="王编辑", notify=True)
    assert (back.submission_id, back.closed) == (sid, f"claim #{claim.id} rejected")
    assert back.outbox_id is not None
    with app.sessions() as session, session.begin():
        again = session.get(Submission, sid)
        assert again is not None and again.status == "received"
        row = session.get(Outbox, back.outbox_id)
        assert row is not None and (row.template, row.automatic) == ("ack", False)
    assert only_claim(app).status == "rejected"
    assert kinds(app) == ["submission"]


def test_claim_reclassified_as_a_new_submission(offline: App) -> None:
    app = offline
    _ingest(app, load("claim-zh-lawyer-letter-pdf.eml"), 1)
    claim = only_claim(app)
    done = reclassifier(app).reclassify(claim.message_pk, "submission", actor="a", message="误判")
    assert done.closed == f"claim #{claim.id} rejected" and done.outbox_id is None
    with app.sessions() as session, session.begin():
        sub = session.scalars(select(Submission)).one()
        assert (sub.status, sub.message_pk) == ("received", claim.message_pk)
        assert sub.article_source == "律师函.pdf"  # the cover note is short: the PDF is the text
        assert [a.submission_id for a in submission_store.attachments_for(session, sub.id)] == [
            sub.id
        ]
        events = queue_store.history(session.connection(), sub.id)
        assert (
            events[0].note == f"message {claim.message_pk} reclassified as a submission "
            f"(was claim #{claim.id}): 误判"
        )
    assert history(app, claim.id)[-1][:3] == ("reclassify", "received", "rejected")


def test_spam_flagged_claim_can_be_reclassified(offline: App, smtp_server: SmtpServer) -> None:
    app = offline
    raw = load("claim-zh-qq-url.eml").replace(
        b"MIME-Version", b"X-Spam-Flag: YES\r\nMIME-Version", 1
    )
    _ingest(app, raw, 1)
    assert kinds(app) == ["spam"]
    with app.sessions() as session, session.begin():
        mid = session.scalars(select(Message.id)).one()
    done = reclassifier(app).reclassify(mid, "claim", actor="a", notify=True)
    claim = only_claim(app)
    assert done.claim_id == claim.id and claim.urls == [QQ_URL]
    assert "贵网的行为侵犯了本人" in claim.body_text  # read back from the raw message
    with app.sessions() as session, session.begin():
        row = session.scalars(select(Outbox)).one()
        assert (row.template, row.automatic, row.claim_id) == ("claim_ack", False, claim.id)


def test_reclassify_refusals(offline: App) -> None:
    app = offline
    _ingest(app, submission(), 1)
    with app.sessions() as session, session.begin():
        sub = session.scalars(select(Submission)).one()
        sub.status = "published"
        mid = sub.message_pk
    use = reclassifier(app)
    with pytest.raises(UsageError, match="is published: an editor took it as an article"):
        use.reclassify(mid, "claim", actor="a")
    with pytest.raises(UsageError, match="already submission"):
        use.reclassify(mid, "submission", actor="a")
    with pytest.raises(UsageError, match="no message with id 99"):
        use.reclassify(99, "claim", actor="a")
    with app.sessions() as session, session.begin():
        message = session.get(Message, mid)
        assert message is not None
        message.kind = "bounce"
    with pytest.raises(UsageError, match="is bounce: only autoreply, list, spam, submission"):
        use.reclassify(mid, "claim", actor="a")
    with pytest.raises(UsageError, match="only a claim can become a submission"):
        use.reclassify(mid, "submission", actor="a")
