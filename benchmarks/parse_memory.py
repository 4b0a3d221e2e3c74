"""Measure the peak RSS of parsing a message with one 25 MiB attachment, in a fresh process.

Usage: .venv/bin/python benchmarks/parse_memory.py [--mailparser] [--size-mib N]

Prints the peak resident set size of a child process that imports intake.ingest.parsing, reads the
message from disk (as ingest holds it: one bytes object) and parses it. ``--mailparser`` runs
mail-parser's own MailParser.from_bytes instead, for comparison.
"""

from __future__ import annotations

import argparse
import base64
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mailparser", action="store_true")
    parser.add_argument("--size-mib", type=float, default=25.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.mailparser)
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
