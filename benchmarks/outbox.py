"""Measure how fast replies are queued and delivered: Replier.queue into SQLite, then
OutboxSender over one SMTP connection per batch to a local aiosmtpd (no Sent folder).

Usage: .venv/bin/python benchmarks/outbox.py [--replies N] [--batch-size N] [--database URL]

Prints replies per second for queueing (render + HMAC Message-ID + insert, one transaction
each, as an ingest hook does) and for delivery (claim, renew, SMTP, record sent).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intake.core.mail import Address, MessageRef, RawMail  # noqa: E402
from tests.helpers import make_app, settings_for, submission  # noqa: E402
from tests.smtpserver import SmtpServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--database", default="", help="default: a new SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, SmtpServer() as server:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        settings = settings_for(Path(tmp), url, smtp=server)
        assert settings.smtp is not None
        settings = replace(settings, smtp=replace(settings.smtp, batch_size=args.batch_size))
        app = make_app(settings)
        app._hooks = []  # only the submission to answer; the replies are queued below
        app.ingestor.ingest(RawMail(MessageRef("bench", "INBOX", 1, 1), submission()))
        to = Address("张三", "zhangsan@qq.example")

        start = time.perf_counter()
        for _ in range(args.replies):
            with app.sessions() as session, session.begin():
                app.replier.queue(
                    session, template="accepted", to=to, context={}, submission_id=1,
                    automatic=False,
                )  # fmt: skip
        queued = time.perf_counter() - start

        start = time.perf_counter()
        sent = 0
        while sent < args.replies:
            result = app.deliver_outbox()
            if not result.sent:
                break
            sent += result.sent
        delivered = time.perf_counter() - start
        server.wait_for(sent, timeout=30)
        app.close()

    print(f"queue:   {args.replies} replies in {queued:.2f} s = {args.replies / queued:.0f}/s")
    print(
        f"deliver: {sent} replies in {delivered:.2f} s = {sent / delivered:.0f}/s "
        f"(batch size {args.batch_size}, {-(-sent // args.batch_size)} SMTP connections)"
    )


if __name__ == "__main__":
    main()
