"""Time the whole ingest path on hostile message shapes of size n, 2n and 4n.

Usage: .venv/bin/python benchmarks/hostile.py [--scale F] [--repeat N] [--only SHAPE] [--parse-only]

For each shape a message is built at three sizes and run through what ingest does with it:
``Recorder.ingest`` on a fresh SQLite database and blob store (raw bytes stored, parsed by
``intake.ingest.parsing.parse_or_reason``: stdlib MIME parsing, headers, addresses, RFC 2047,
bodies, format=flowed, attachments, ``html_to_text`` for an HTML-only body; then classified,
its attachments stored and read, its rows written and the ingest hooks run, acknowledgment
included). ``--parse-only`` times the parse alone. Times are this process's CPU seconds
(``time.process_time``: the wall clock of a shared machine measures its other load), the best
of ``--repeat`` rounds (each round runs every size in turn), printed with the ratio per
doubling; a linear path gives about 2.0, the
target is at most 2.2.
Numbers, never assertions: tests check correctness, this measures.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import tempfile
import time
from collections.abc import Callable, Iterator

from intake.ingest.parsing import parse_or_reason

HEAD = (
    b"From: =?utf-8?B?5byg5LiJ?= <zhangsan@qq.example>\r\n"
    b"To: tougao@nsnews.example\r\n"
    b"Subject: hostile\r\n"
    b"Date: Tue, 5 Mar 2024 10:15:08 +0800\r\n"
    b"Message-ID: <hostile@qq.example>\r\n"
    b"MIME-Version: 1.0\r\n"
)


def _single(ctype: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return HEAD + extra + b"Content-Type: " + ctype + b"\r\n\r\n" + body + b"\r\n"


def nested_tags(n: int) -> bytes:
    html = b"<div><span><b>" * n + "正文".encode() + b"</b></span></div>" * n
    return _single(b"text/html; charset=utf-8", html)


def nested_links(n: int) -> bytes:
    html = b"".join(b'<a href="https://e.example/%d">x ' % i for i in range(n)) + b"</a>" * n
    return _single(b"text/html; charset=utf-8", html)


def unclosed_tags(n: int) -> bytes:
    # Lists nested without end, then hidden elements left open and stray end tags for them.
    html = b"<ul><li><p>text " * n + b"<noscript>" * n + b"</object>" * n
    return _single(b"text/html; charset=utf-8", html)


def long_line(n: int) -> bytes:
    return _single(b"text/plain; charset=utf-8", "长".encode() * (n * 10))


def long_html_line(n: int) -> bytes:
    return _single(b"text/html; charset=utf-8", b"<p>" + b"word " * (n * 4) + b"</p>")


def flowed(n: int) -> bytes:
    # One paragraph soft-broken into n lines: every line joins the one before it.
    body = b"word word word \r\n" * n + b"end\r\n"
    return _single(b"text/plain; charset=utf-8; format=flowed; delsp=yes", body)


def many_parts(n: int) -> bytes:
    parts = b"".join(
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\npart %d\r\n" % i for i in range(n)
    )
    return _single(b'multipart/mixed; boundary="b"', parts + b"--b--")


def deep_nesting(n: int) -> bytes:
    # Multiparts nested n deep: deeper than MAX_DEPTH is refused after the stdlib has read it.
    body = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(n)
    )
    body += b"Content-Type: text/plain\r\n\r\nbottom\r\n"
    body += b"".join(b"--b%d--\r\n" % i for i in reversed(range(n)))
    return HEAD + body


def nested_messages(n: int) -> bytes:
    # message/rfc822 inside message/rfc822, n deep, each level with a 1 KB text.
    inner = b"Subject: bottom\r\n\r\n" + b"x" * 1000 + b"\r\n"
    for i in range(n):
        inner = (
            b"Subject: level %d\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="m%d"\r\n\r\n--m%d\r\n'
            b"Content-Type: text/plain\r\n\r\n" % (i, i, i) + b"y" * 20_000 + b"\r\n"
            b"--m%d\r\nContent-Type: message/rfc822\r\n\r\n" % i + inner + b"\r\n--m%d--\r\n" % i
        )
    return HEAD + inner.split(b"\r\n", 2)[2]


def many_attachments(n: int) -> bytes:
    payload = base64.encodebytes(b"\x00\x01binary" * 40)
    parts = b"".join(
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="=?utf-8?B?5paH5Lu2?=%d.bin"\r\n\r\n'
        % i
        + payload
        for i in range(n)
    )
    return _single(b'multipart/mixed; boundary="b"', parts + b"--b--")


def many_headers(n: int) -> bytes:
    extra = b"".join(b"X-Filler-%d: value %d\r\n" % (i, i) for i in range(n))
    return _single(b"text/plain", b"body", extra)


def many_addresses(n: int) -> bytes:
    to = b", ".join(b"=?utf-8?B?5byg5LiJ?= <user%d@example.com>" % i for i in range(n))
    return _single(b"text/plain", b"body", b"Cc: " + to + b"\r\n")


def encoded_words(n: int) -> bytes:
    word = b"=?gb2312?B?" + base64.b64encode("投稿".encode("gb18030")) + b"?="
    return _single(b"text/plain", b"body", b"X-Long-Subject: " + b" ".join([word] * n) + b"\r\n")


SHAPES: dict[str, tuple[Callable[[int], bytes], int]] = {
    "nested tags": (nested_tags, 20_000),
    "nested links": (nested_links, 10_000),
    "unclosed tags": (unclosed_tags, 10_000),
    "long line": (long_line, 100_000),
    "long html line": (long_html_line, 50_000),
    "flowed text": (flowed, 20_000),
    "many parts": (many_parts, 2_000),
    "deep nesting": (deep_nesting, 24),
    "nested messages": (nested_messages, 12),
    "many attachments": (many_attachments, 500),
    "many headers": (many_headers, 5_000),
    "many addresses": (many_addresses, 2_000),
    "encoded words": (encoded_words, 5_000),
}


def _parse_only(raw: bytes, run: int) -> None:
    parse_or_reason(raw)


@contextlib.contextmanager
def _recorders(count: int) -> Iterator[list[Callable[[bytes, int], None]]]:
    """``count`` ingest functions, each on a fresh SQLite database and blob store. Each call
    records a new message (its Message-ID made unique by the run number), so none is a
    duplicate of the bytes before."""
    from intake import store
    from intake.app import App
    from intake.core import configfile
    from intake.core.mail import MessageRef, RawMail

    with contextlib.ExitStack() as stack:
        functions: list[Callable[[bytes, int], None]] = []
        for _ in range(count):
            directory = stack.enter_context(tempfile.TemporaryDirectory())
            settings = configfile.from_mapping(
                {
                    "database": {"url": f"sqlite:///{directory}/intake.db"},
                    "storage": {"path": f"{directory}/store"},
                    "smtp": {"host": "127.0.0.1", "port": 25, "security": "none",
                             "from_address": "tougao@nsnews.example"},
                    "replies": {"site_name": "benchmark", "copyright_request": "manual"},
                },
                env={},
            )  # fmt: skip
            app = App(settings)
            stack.callback(app.close)
            store.upgrade(app.engine)

            def ingest(raw: bytes, run: int, app: App = app) -> None:
                unique = raw.replace(b"<hostile@", b"<hostile-%d@" % run, 1)
                app.ingestor.ingest(RawMail(MessageRef("bench", "INBOX", 1, run + 1), unique))

            functions.append(ingest)
        yield functions


def _best_times(raws: list[bytes], repeat: int, parse_only: bool) -> list[float]:
    """The best CPU time of each message over ``repeat`` rounds. Each round times every size
    in turn, so a change in the machine's load falls on all sizes alike."""
    best = [float("inf")] * len(raws)
    with _recorders(0 if parse_only else len(raws)) as recorders:
        steps = [_parse_only] * len(raws) if parse_only else recorders
        for run in range(repeat):
            for index, (raw, step) in enumerate(zip(raws, steps, strict=True)):
                gc.collect()
                start = time.process_time()
                step(raw, run)
                best[index] = min(best[index], time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every n by F")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--only", help="one shape")
    parser.add_argument("--parse-only", action="store_true", help="time the parse alone")
    args = parser.parse_args()
    print(f"{'shape':18} {'n':>8} {'size':>9} {'t(n)':>8} {'t(2n)':>8} {'t(4n)':>8}  ratios")
    for name, (build, base) in SHAPES.items():
        if args.only and args.only != name:
            continue
        n = max(1, int(base * args.scale))
        raws = [build(n * k) for k in (1, 2, 4)]
        times = _best_times(raws, args.repeat, args.parse_only)
        ratios = [b / a if a > 0 else float("nan") for a, b in zip(times, times[1:], strict=False)]
        worst = max(ratios)
        print(
            f"{name:18} {n:>8} {len(raws[0]) / 1024:>7.0f}KB {times[0]:>8.3f} {times[1]:>8.3f} "
            f"{times[2]:>8.3f}  {' '.join(f'{r:.2f}' for r in ratios)}"
            + ("" if worst <= 2.2 else "  (over 2.2)")
        )


if __name__ == "__main__":
    main()
