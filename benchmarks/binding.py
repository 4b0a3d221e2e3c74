"""What binding a reply to our letters costs (prints numbers; run on demand).

    .venv/bin/python benchmarks/binding.py

1. ``find_code`` on new text of growing size, searching for a code that is not there (the
   common case: every rights letter of the submission is tried) and one that is at the end;
   the search is cut at ``CODE_SEARCH_CHARS``, so the time stops growing there.
2. The Public Suffix List's first load (once per process) and one alignment check.
3. Ingesting a reply whose References hold n forged ids of ours (HMAC checks) plus the real
   request's id, for n = 100, 1,000 and 10,000, on SQLite: the time per message, and the
   ratio per tenfold.
"""

from __future__ import annotations

import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from intake.conversations.binding import CODE_SEARCH_CHARS  # noqa: E402
from intake.core.mail import MessageRef, RawMail  # noqa: E402
from intake.replies.render import confirmation_code, find_code, make_message_id  # noqa: E402
from intake.store.models import Consent, Outbox  # noqa: E402
from intake.text import domains  # noqa: E402
from tests.helpers import make_app, settings_for, submission  # noqa: E402

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def timed(fn: object, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def codes() -> None:
    code = confirmation_code(b"secret", "intake.1.abc.def@nsnews.example")
    print("find_code (median of 20), text without the code / with it at the end of the search:")
    for size in (100, 1_000, 4_000, 40_000):
        text = ("同意授权，谢谢编辑老师。I agree. " * (size // 20 + 1))[:size]
        missing = timed(lambda t=text[:CODE_SEARCH_CHARS]: find_code(t, code))
        ending = text[: CODE_SEARCH_CHARS - 10] + " " + code
        present = timed(lambda t=ending[:CODE_SEARCH_CHARS]: find_code(t, code))
        print(f"  {size:>6} chars: {missing * 1e6:8.0f} µs / {present * 1e6:8.0f} µs")


def alignment() -> None:
    start = time.perf_counter()
    domains.aligned("mail.qq.com", "qq.com")
    first = time.perf_counter() - start
    again = timed(lambda: domains.aligned("evil.com.cn", "victim.com.cn"), 1000)
    print(f"public suffix list: first use {first * 1e3:.1f} ms, then {again * 1e6:.1f} µs a check")


def stuffed() -> None:
    print("a reply with n forged ids of ours in References (ingest, SQLite):")
    last = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n in (100, 1_000, 10_000):
            root = Path(tmp) / str(n)
            root.mkdir()
            smtp = SimpleNamespace(host="127.0.0.1", port=2525)  # settings only: nothing is sent
            terms = {"terms": "第一条", "terms_version": "1"}
            url = f"sqlite:///{root / 'intake.db'}"
            settings = settings_for(root, url, smtp=smtp, copyright=terms)
            app = make_app(settings, clock=lambda: T0)
            uid = iter(range(1, 100))
            app.ingestor.ingest(RawMail(MessageRef("b", "INBOX", 1, next(uid)), submission(), T0))
            with app.sessions() as session:
                (request,) = session.scalars(
                    select(Outbox.message_id).where(Outbox.template == "copyright_request")
                ).all()
            forged = " ".join(
                f"<{make_message_id(b'x', 'nsnews.example', now=T0, nonce=secrets.token_bytes(8))}>"
                for _ in range(n)
            )
            raw = submission(
                subject="Re: [投稿 #1]", body="同意",
                headers={"In-Reply-To": f"<{request}>", "References": f"{forged} <{request}>"},
            )  # fmt: skip
            start = time.perf_counter()
            app.ingestor.ingest(RawMail(MessageRef("b", "INBOX", 1, next(uid)), raw, T0))
            took = time.perf_counter() - start
            with app.sessions() as session:
                (row,) = session.scalars(select(Consent)).all()
                assert row.authenticity == "request_bound"
            ratio = f"  x{took / last:.1f} per tenfold" if last else ""
            print(f"  n={n:>6}: {took * 1e3:8.1f} ms ({len(raw):,} bytes){ratio}")
            last = took
            app.close()


if __name__ == "__main__":
    codes()
    alignment()
    stuffed()
