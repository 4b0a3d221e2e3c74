"""Small generators of hostile messages, for shapes too large to keep as files: each returns
the bytes an attacker would send, built the way a mail client or a script would build them."""

from __future__ import annotations

import base64

HEAD = (
    b"From: =?utf-8?B?5byg5LiJ?= <zhangsan@qq.example>\r\n"
    b"To: tougao@news.example\r\n"
    b"Date: Fri, 20 Nov 2026 09:30:00 +0800\r\n"
    b"MIME-Version: 1.0\r\n"
)


def _message(subject: str, message_id: str, rest: bytes) -> bytes:
    return HEAD + f"Subject: {subject}\r\nMessage-ID: <{message_id}@qq.example>\r\n".encode() + rest


def _text(body: str) -> bytes:
    return b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.encode() + b"\r\n"


def nested_messages(depth: int, filler: int, *, as_files: bool = False) -> bytes:
    """A message enclosing a message enclosing a message ... ``depth`` deep, each level with
    ``filler`` bytes of its own text; ``as_files``: each level attached as a ``.eml`` file
    (application/octet-stream, 8bit) instead of message/rfc822."""
    inner = b"Subject: bottom\r\n" + _text("最底层。")
    for level in range(depth):
        if as_files:
            enclosed = (
                b"Content-Type: application/octet-stream\r\n"
                b'Content-Disposition: attachment; filename="level%d.eml"\r\n\r\n' % level
            )
        else:
            enclosed = b"Content-Type: message/rfc822\r\n\r\n"
        inner = (
            b"Subject: level %d\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="m%d"\r\n\r\n'
            b"--m%d\r\nContent-Type: text/plain\r\n\r\n"
            % (level, level, level)
            + b"y" * filler
            + b"\r\n--m%d\r\n" % level
            + enclosed
            + inner
            + b"\r\n--m%d--\r\n" % level
        )
    return _message("投稿：转发", f"nested-{depth}", inner.split(b"\r\n", 1)[1])


def many_attachments(count: int, size: int = 300) -> bytes:
    """A submission with ``count`` small attachments, each with an encoded file name."""
    payload = base64.encodebytes(b"\x00\x01binary" * (size // 8 + 1)).replace(b"\n", b"\r\n")
    parts = b"".join(
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="=?utf-8?B?5paH5Lu2?=%d.bin"\r\n\r\n'
        % i
        + payload
        for i in range(count)
    )
    body = b"--b\r\n" + _text("编辑老师您好：附件是我的作品。" * 5) + parts + b"--b--\r\n"
    return _message(
        "投稿：很多附件",
        f"many-{count}",
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + body,
    )


def nested_links(count: int) -> bytes:
    """An HTML-only body of ``count`` links, each opened inside the one before and all closed
    at the end (quadratic for a parser that re-walks its open elements)."""
    html = (
        b"".join(b'<a href="https://e.example/%d">x ' % i for i in range(count)) + b"</a>" * count
    )
    return _message(
        "投稿：链接", f"links-{count}",
        b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html + b"\r\n",
    )  # fmt: skip


def flowed(lines: int) -> bytes:
    """One format=flowed paragraph soft-broken into ``lines`` lines."""
    body = b"word word word \r\n" * lines + b"end\r\n"
    return _message(
        "投稿：长段落", f"flowed-{lines}",
        b"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\r\n\r\n" + body,
    )  # fmt: skip


def deep_multiparts(depth: int) -> bytes:
    """Multiparts nested ``depth`` deep around one text part."""
    body = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    body += _text("最里面的正文。" * 20)
    body += b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    return _message("投稿：深", f"deep-{depth}", body)
