"""Measure the peak RSS of parsing, and of ingesting, a message with one 25 MiB attachment (36 MB
as it travels, base64 and CRLF), each in a fresh process.

Usage: .venv/bin/python benchmarks/parse_memory.py [--mailparser] [--size-mib N]
       .venv/bin/python benchmarks/parse_memory.py --ingest [--size-mib N] [--no-postgres]

Prints the peak resident set size of a child process that imports intake.ingest.parsing, reads the
message from disk (as ingest holds it: one bytes object) and parses it. ``--mailparser`` runs
mail-parser's own MailParser.from_bytes instead, for comparison.

``--ingest`` starts a private Dovecot (and PostgreSQL), appends the message, and runs
``intake poll`` once per store (``[storage] backend``): files with SQLite, the database on
SQLite, the database on PostgreSQL; then ``intake show --raw`` of it from each. It prints each
process's peak RSS against the target (<= 250 MB while ingesting the 36 MB message).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path


def _word(text: str) -> bytes:
    return b"=?gb18030?B?" + base64.b64encode(text.encode("gb18030")) + b"?="


# A QQ Mail-style submission: GB18030 text part and one large .docx attachment.
HEADER = (
    b"From: " + _word("张三") + b" <zhang.san@qq.example.com>\r\n"
    b"To: submissions@news.example.cn\r\n"
    b"Subject: " + _word("投稿：故乡的河") + b"\r\n"
    b"Date: Tue, 5 Mar 2024 10:15:08 +0800\r\n"
    b"Message-ID: <big.attachment@qq.example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="----=_NextPart_BIG"\r\n'
    b"\r\n"
    b"------=_NextPart_BIG\r\n"
    b"Content-Type: text/plain; charset=gb18030\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n" + base64.b64encode("编辑老师您好，附件是我的投稿。".encode("gb18030")) + b"\r\n"
    b"------=_NextPart_BIG\r\n"
    b'Content-Type: application/octet-stream; name="' + _word("故乡的河.docx") + b'"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b'Content-Disposition: attachment; filename="' + _word("故乡的河.docx") + b'"\r\n'
    b"\r\n"
)


def build(size: int) -> bytes:
    body = base64.encodebytes(os.urandom(size)).replace(b"\n", b"\r\n")
    return HEADER + body + b"------=_NextPart_BIG--\r\n"


def child(path: str, use_mailparser: bool) -> None:
    if use_mailparser:
        import mailparser

        raw = Path(path).read_bytes()
        parsed = mailparser.MailParser.from_bytes(raw)
        size = len(parsed.attachments[0]["payload"])
    else:
        from intake.ingest.parsing import parse

        raw = Path(path).read_bytes()
        mail = parse(raw)
        size = mail.attachments[0].size
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{peak_kib / 1024:.1f} {size}")


def ingest(size: int, postgres: bool) -> None:
    """Peak RSS of `intake poll` ingesting the message, and of `intake show --raw`, per store."""
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from tests.servers import Dovecot, Postgres

    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        dovecot = stack.enter_context(Dovecot())
        stores = [
            ("files, SQLite", "filesystem", f"sqlite:///{tmp}/files/intake.db"),
            ("database, SQLite", "database", f"sqlite:///{tmp}/db-sqlite/intake.db"),
        ]
        if postgres:
            server = stack.enter_context(Postgres())
            stores.append(("database, PostgreSQL", "database", server.new_database()))
        for label, backend, url in stores:
            work = Path(tmp) / label.replace(", ", "-").replace(" ", "")
            work.mkdir()
            user, password = dovecot.add_user("big")
            # Built and appended by a child: a peak RSS is inherited across fork and exec, so
            # this process stays small for the measured ones to start from nothing.
            appended = subprocess.run(
                [sys.executable, __file__, "--append", str(dovecot.port), user, password,
                 str(size)],
                check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            if label == stores[0][0]:
                print(f"message {int(appended) / 1e6:.1f} MB (attachment {size / 2**20:.0f} MiB)")
            config = work / "intake.toml"
            config.write_text(
                f'[database]\nurl = "{url}"\n'
                f'[storage]\nbackend = "{backend}"\npath = "{work}/store"\n'
                f'[[mailboxes]]\nname = "big"\nhost = "{dovecot.host}"\nport = {dovecot.port}\n'
                f'security = "none"\nusername = "{user}"\npassword = "{password}"\n',
                encoding="utf-8",
            )
            command = [str(root / ".venv/bin/intake"), "--config", str(config)]
            _measure([*command, "db", "upgrade"])
            poll_rss = _measure([*command, "poll"])
            show_rss = _measure([*command, "show", "1", "--raw"])
            verdict = "ok" if poll_rss <= 250 else "OVER"
            print(
                f"{label:22} intake poll peak RSS {poll_rss:5.0f} MB ({verdict}, target <= 250); "
                f"show --raw {show_rss:4.0f} MB"
            )


def _measure(command: list[str]) -> float:
    """Run ``command`` with its output discarded; its peak RSS in MB (10^6 bytes)."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[1:])} failed")
    return usage.ru_maxrss * 1024 / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mailparser", action="store_true")
    parser.add_argument("--size-mib", type=float, default=25.0)
    parser.add_argument("--ingest", action="store_true", help="intake poll, per store")
    parser.add_argument("--no-postgres", action="store_true", help="with --ingest: skip it")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--append", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.mailparser)
        return
    if args.append:
        from imapclient import IMAPClient

        port, user, password, size = args.append
        imap = IMAPClient("127.0.0.1", port=int(port), ssl=False)
        imap.login(user, password)
        raw = build(int(size))
        imap.append("INBOX", raw)
        imap.logout()
        print(len(raw))
        return
    if args.ingest:
        ingest(int(args.size_mib * 1024 * 1024), postgres=not args.no_postgres)
        return
    size = int(args.size_mib * 1024 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.eml"
        path.write_bytes(build(size))
        command = [sys.executable, __file__, "--child", str(path)]
        if args.mailparser:
            command.append("--mailparser")
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        peak, decoded = out.split()
        what = (
            "mail-parser MailParser.from_bytes"
            if args.mailparser
            else "intake.ingest.parsing.parse"
        )
        print(f"{what}: message {path.stat().st_size / 2**20:.1f} MiB, ", end="")
        print(f"attachment {int(decoded) / 2**20:.1f} MiB, peak RSS {peak} MiB")


if __name__ == "__main__":
    main()
