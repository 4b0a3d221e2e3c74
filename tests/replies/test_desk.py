"""Telling the desk about new mail (``[desk] notify``), end to end against the suite's real
Dovecot and aiosmtpd: a message per new submission and claim, or one digest per period;
never for ignored mail, never twice (restarts, a second daemon, a crash)."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from intake.app import App
from intake.core.config import DeskConfig
from intake.replies.desk import Desk, period_of
from intake.store.models import DeskDigest, DeskNotice, Event, Outbox
from tests.helpers import make_app, settings_for, submission
from tests.servers import Dovecot
from tests.smtpserver import Received, SmtpServer

DATA = Path(__file__).parents[1] / "data"
DESK = "desk@news.example"
CHIEF = "chief@news.example"
T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def body(received: Received) -> tuple[str, str]:
    msg = email.message_from_bytes(received.data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    text = msg.get_body(("plain",))
    assert text is not None
    return str(msg["Subject"]), text.get_content()


def make(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot | None,
    account: tuple[str, str] | None,
    smtp: SmtpServer,
    *,
    mode: str = "each",
    clock: Callable[[], datetime] | None = None,
) -> App:
    settings = settings_for(
        tmp_path,
        db_url,
        dovecot,
        account,
        smtp=smtp,
        replies={"site_name": "南山新闻网", "copyright_request": "manual"},
        site={"name": "南山新闻网", "domains": ["nsnews.example"]},
        desk={"notify": [DESK, f"总编 <{CHIEF}>"], "notify_mode": mode},
    )
    return make_app(settings, **({"clock": clock} if clock else {}))


def to_desk(smtp: SmtpServer) -> list[Received]:
    return [m for m in smtp.messages if m.rcpt_tos[0] in (DESK, CHIEF)]


def test_each_new_submission_and_claim_is_announced_once(
    tmp_path: Path, sqlite_url: str, dovecot: Dovecot, imap_account: tuple[str, str],
    smtp_server: SmtpServer,
) -> None:  # fmt: skip
    app = make(tmp_path, sqlite_url, dovecot, imap_account, smtp_server)
    dovecot.append(*imap_account, "INBOX", submission(subject="投稿：《秋收》", body="秋天" * 300))
    dovecot.append(*imap_account, "INBOX", (DATA / "claims" / "claim-zh-qq-url.eml").read_bytes())
    # Ignored mail is never announced: auto-replies, bounces, lists, spam, our own.
    for name in ("autoreply-qq.eml", "bounce-postfix.eml", "list-mailman.eml",
                 "spam-spamassassin.eml", "own-loop.eml"):  # fmt: skip
        dovecot.append(*imap_account, "INBOX", (DATA / "classify" / name).read_bytes())
    app.poll_mailbox(app.settings.mailboxes[0])
    app.deliver_outbox()
    announced = 2
    desk_mail = to_desk(smtp_server)
    assert len(desk_mail) == 2 * announced  # each piece, to each of the two addresses
    subject, text = body(next(m for m in desk_mail if "新投稿" in body(m)[0]))
    assert subject == "新投稿 #1：投稿：《秋收》 — 张三"
    assert "长度：600 字" in text and "intake show 1" in text and "zhangsan@qq.example" in text
    subject, text = body(next(m for m in desk_mail if "新版权声明" in body(m)[0]))
    assert subject.startswith("新版权声明 #1：") and "intake claim show 1" in text
    with app.sessions() as session, session.begin():
        notices = list(session.scalars(select(DeskNotice)))
        assert len(notices) == announced and all(n.digest == "" for n in notices)
        assert "outbox #" in notices[0].note
        assert (
            session.scalars(
                select(Event.note).where(Event.action == "desk", Event.submission_id == 1)
            )
            .one()
            .startswith("desk told: outbox #")
        )
    # Polling again, and a restart, tell nobody anything new.
    app.poll_mailbox(app.settings.mailboxes[0])
    app.close()
    again = make(tmp_path, sqlite_url, dovecot, imap_account, smtp_server)
    again.poll_mailbox(again.settings.mailboxes[0])
    again.deliver_outbox()
    assert len(to_desk(smtp_server)) == 2 * announced
    again.close()


def test_a_digest_per_period_exactly_once(
    tmp_path: Path, db_url: str, smtp_server: SmtpServer
) -> None:
    clock = Clock(T0)
    app = make(tmp_path, db_url, None, None, smtp_server, mode="hourly", clock=clock)
    from tests.cli.test_cli_queue import add_submission

    with app.sessions() as session, session.begin():
        for i in range(3):
            add_submission(session, subject=f"投稿：第{i}篇", article="字" * (100 * (i + 1)))
    first = Desk(app.settings, app.automatic_letters, clock).digest(app.sessions)
    assert first.items == 3 and len(first.outbox_ids) == 2
    assert first.period == "hourly 2026-11-20T09:00+08:00"
    # The same period again (a second run, a restart, another daemon): nothing.
    second = make(tmp_path, db_url, None, None, smtp_server, mode="hourly", clock=clock)
    assert Desk(second.settings, second.automatic_letters, clock).digest(second.sessions).items == 0
    with app.sessions() as session, session.begin():
        add_submission(session, subject="投稿：第4篇")
    clock.now = T0 + timedelta(minutes=20)  # still 09:xx: it waits for 10:00
    assert Desk(app.settings, app.automatic_letters, clock).digest(app.sessions).items == 0
    clock.now = T0 + timedelta(minutes=31)
    later = Desk(app.settings, app.automatic_letters, clock).digest(app.sessions)
    assert later.items == 1 and later.period == "hourly 2026-11-20T10:00+08:00"
    # An hour with nothing new is recorded and mails nobody.
    clock.now = T0 + timedelta(hours=2)
    assert Desk(app.settings, app.automatic_letters, clock).digest(app.sessions).outbox_ids == ()
    app.deliver_outbox()
    mail = to_desk(smtp_server)
    assert len(mail) == 4
    subject, text = body(mail[0])
    assert subject == "本小时来稿摘要：新投稿 3 篇"
    for n in range(1, 4):
        assert f"intake show {n}" in text
    assert "长度：300 字" in text
    with app.sessions() as session, session.begin():
        periods = list(session.scalars(select(DeskDigest.items).order_by(DeskDigest.period)))
        assert periods == [3, 1, 0]
        assert len(list(session.scalars(select(DeskNotice)))) == 4
    second.close()
    app.close()


def test_two_daemons_racing_for_one_digest_send_it_once(
    tmp_path: Path, db_url: str, smtp_server: SmtpServer
) -> None:
    clock = Clock(T0)
    apps = [
        make(tmp_path, db_url, None, None, smtp_server, mode="daily", clock=clock) for _ in range(2)
    ]
    from tests.cli.test_cli_queue import add_submission

    with apps[0].sessions() as session, session.begin():
        for i in range(5):
            add_submission(session, subject=f"投稿：第{i}篇")
    start = threading.Barrier(2)
    runs: list[Any] = []

    def run(app: App) -> None:
        start.wait()
        runs.append(Desk(app.settings, app.automatic_letters, clock).digest(app.sessions))

    threads = [threading.Thread(target=run, args=(a,)) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(r.items for r in runs) == [0, 5]
    with apps[0].sessions() as session, session.begin():
        assert len(list(session.scalars(select(Outbox)))) == 2  # one digest, two addresses
    apps[0].deliver_outbox()
    subject, _text = body(to_desk(smtp_server)[0])
    assert subject == "今日来稿摘要：新投稿 5 篇"
    for app in apps:
        app.close()


def test_a_digest_that_fails_is_rolled_back_whole(
    tmp_path: Path, sqlite_url: str, smtp_server: SmtpServer
) -> None:
    clock = Clock(T0)
    app = make(tmp_path, sqlite_url, None, None, smtp_server, mode="hourly", clock=clock)
    from tests.cli.test_cli_queue import add_submission

    with app.sessions() as session, session.begin():
        add_submission(session)

    class Broken(Desk):
        def _send_digest(self, *args: Any, **kwargs: Any) -> Any:
            queued = super()._send_digest(*args, **kwargs)
            raise RuntimeError("the database went away")  # after the rows were written
            return queued

    with pytest.raises(RuntimeError):
        Broken(app.settings, app.automatic_letters, clock).digest(app.sessions)
    with app.sessions() as session, session.begin():
        assert list(session.scalars(select(Outbox))) == []
        assert list(session.scalars(select(DeskDigest))) == []
    assert Desk(app.settings, app.automatic_letters, clock).digest(app.sessions).items == 1
    app.close()


@pytest.mark.parametrize(
    ("mode", "now", "expected"),
    [
        ("hourly", T0, "hourly 2026-11-20T09:00+08:00"),
        ("hourly", T0.replace(minute=59, second=59), "hourly 2026-11-20T09:00+08:00"),
        ("daily", T0, "daily 2026-11-20T08:00+08:00"),
        ("daily", T0.replace(hour=23, minute=59), "daily 2026-11-20T08:00+08:00"),  # 07:59 next day
        ("daily", datetime(2026, 11, 21, 0, 0, tzinfo=UTC), "daily 2026-11-21T08:00+08:00"),
        (
            "daily",
            T0.replace(hour=0, minute=0) - timedelta(minutes=1),
            "daily 2026-11-19T08:00+08:00",
        ),
    ],
)
def test_periods(mode: str, now: datetime, expected: str) -> None:
    import zoneinfo

    desk = DeskConfig(notify=[DESK], notify_mode=mode)  # type: ignore[arg-type]
    assert period_of(desk, now, zoneinfo.ZoneInfo("Asia/Shanghai")) == expected


def test_without_notify_nobody_is_told(
    tmp_path: Path, sqlite_url: str, smtp_server: SmtpServer
) -> None:
    settings = settings_for(tmp_path, sqlite_url, smtp=smtp_server)
    app = make_app(settings)
    desk = Desk(settings, app.automatic_letters, app.clock)
    assert desk.digest(app.sessions).skipped == "no digest configured"
    assert app.notify_desk() == 0
    app.close()
