"""Property tests: random and mutated MIME never makes ``poll`` raise and never loses the next
message.

Mutations start from the real messages under ``tests/data`` and ``tests/hostile/data``: bytes
flipped, cut or inserted, header lines dropped, doubled or filled with junk, boundaries renamed,
truncated or nested. Random messages are built as a MIME tree of random parts. Each example is
followed by an ordinary submission; the poll must record both (or quarantine the first) and
move both off the inbox. Examples run on the in-memory mailbox (fast, many examples) and a
few through Dovecot. Hypothesis is derandomised with a bounded number of examples and no
deadline, so the suite runs the same examples every time.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from intake.adapters.memory.mailbox import MemoryMailbox
from intake.app import App
from intake.core.config import MailboxConfig
from intake.store.models import Location, Message
from tests.helpers import make_app, settings_for, submission
from tests.hostile.conftest import MailRoom, RoomFactory
from tests.servers import Postgres

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted(
    p for p in [*ROOT.glob("data/**/*.eml"), *ROOT.glob("hostile/data/*.eml")] if p.is_file()
)
SEED_BYTES = [p.read_bytes() for p in SEEDS]

FAST = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
THROUGH_DOVECOT = settings(FAST, max_examples=8)
ON_POSTGRES = settings(FAST, max_examples=60)

_counter = itertools.count()


def following() -> bytes:
    """The ordinary submission that arrives after the hostile one: it must not be lost."""
    n = next(_counter)
    return submission(
        subject=f"投稿：第{n}篇", body=f"编辑老师您好：\n\n第{n}篇稿件的正文。" * 5,
        message_id=f"<following-{n}@qq.example>",
    )  # fmt: skip


# --------------------------------------------------------------------------- mutations

_BOUNDARY = re.compile(rb'boundary="?([^";\r\n]+)"?', re.IGNORECASE)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real message with a few mutations of the kinds a broken client or an attacker makes."""
    raw = bytearray(draw(st.sampled_from(SEED_BYTES)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(["flip", "cut", "insert", "header", "boundary", "truncate", "wrap"])
        )
        where = draw(st.integers(0, max(len(raw) - 1, 0)))
        if kind == "flip" and raw:
            raw[where] = draw(st.integers(0, 255))
        elif kind == "cut":
            del raw[where : where + draw(st.integers(1, 200))]
        elif kind == "insert":
            junk = draw(
                st.one_of(
                    st.binary(max_size=64),
                    st.sampled_from([b"\r\n", b"\r\n\r\n", b"\x00", b"=?utf-7?Q?+2AA-?=",
                                     b"\r\n--", b"=\r\n", b"\x1b]52;c;eA==\x07", b"\xff\xfe"]),
                )
            )  # fmt: skip
            raw[where:where] = junk
        elif kind == "header":
            raw = bytearray(_mutate_header(bytes(raw), draw))
        elif kind == "boundary":
            raw = bytearray(_mutate_boundary(bytes(raw), draw))
        elif kind == "truncate":
            raw = raw[: max(where, 1)]
        elif kind == "wrap":
            depth = draw(st.integers(1, 3))
            raw = bytearray(_wrap(bytes(raw), depth, draw(st.booleans())))
    return bytes(raw)


_HEADER_NAMES = [b"From", b"To", b"Subject", b"Message-ID", b"Date", b"Content-Type",
                 b"Content-Transfer-Encoding", b"References", b"Reply-To",
                 b"Content-Disposition"]  # fmt: skip


_POISON = [b"\x00", b"=?utf-7?Q?+2AA-?=", b"\xed\xa0\x80", b"\x00\x00\x1b"]


def _mutate_header(raw: bytes, draw: st.DrawFn) -> bytes:
    end = raw.find(b"\r\n\r\n")
    head, body = (raw[:end], raw[end:]) if end >= 0 else (raw, b"")
    lines = head.split(b"\r\n")
    index = draw(st.integers(0, max(len(lines) - 1, 0)))
    action = draw(st.sampled_from(["drop", "double", "junk", "long", "poison"]))
    if action == "drop" and lines:
        del lines[index]
    elif action == "double" and lines:
        lines.insert(index, lines[index])
    elif action == "junk":
        name = draw(st.sampled_from(_HEADER_NAMES))
        value = _line(draw(st.binary(max_size=120)))
        lines.insert(index, name + b": " + value)
    elif action == "poison" and lines and b":" in lines[index]:
        # what no database takes, in the value of a header every row names (Message-ID, ...)
        at = lines[index].index(b":") + draw(st.integers(1, 20))
        lines[index] = lines[index][:at] + draw(st.sampled_from(_POISON)) + lines[index][at:]
    elif action == "long" and lines:
        lines[index] = lines[index] + b" =?utf-8?B?5byg5LiJ?=" * draw(st.integers(10, 300))
    return b"\r\n".join(lines) + body


def _mutate_boundary(raw: bytes, draw: st.DrawFn) -> bytes:
    found = _BOUNDARY.search(raw)
    if found is None:
        return raw
    boundary = found.group(1)
    delimiter = b"--" + boundary
    places = [m.start() for m in re.finditer(re.escape(delimiter), raw)]
    if not places:
        return raw
    at = draw(st.sampled_from(places))
    action = draw(st.sampled_from(["rename", "drop-close", "prefix", "duplicate"]))
    if action == "rename":
        return raw[:at] + b"--" + boundary[:-1] + raw[at + len(delimiter) :]
    if action == "drop-close":
        return raw.replace(delimiter + b"--", b"")
    if action == "prefix":  # a boundary that is a prefix of another, nested inside it
        return raw[:at] + delimiter + b"x\r\n" + raw[at:]
    return raw[:at] + raw[at:].replace(delimiter, delimiter + b"\r\n" + delimiter, 1)


def _wrap(raw: bytes, depth: int, as_message: bool) -> bytes:
    for level in range(depth):
        if as_message:
            raw = (b"From: w@x.example\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
                   b"Content-Type: message/rfc822\r\n\r\n" + raw)  # fmt: skip
        else:
            raw = (
                b"From: w@x.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
                b'boundary="w%d"\r\n\r\n--w%d\r\n'
                % (level, level)
                + raw
                + b"\r\n--w%d--\r\n" % level
            )
    return raw


_KEY_HEADERS = [b"message-id", b"subject", b"from", b"content-disposition", b"content-type",
                b"references", b"in-reply-to"]  # fmt: skip


@st.composite
def poisoned(draw: st.DrawFn) -> bytes:
    """A real message with what no database takes (NUL, bytes that decode to a lone
    surrogate) in the value of a header every row is made from, then maybe more mutations."""
    raw = draw(st.sampled_from(SEED_BYTES))
    name = draw(st.sampled_from(_KEY_HEADERS))
    lines = raw.split(b"\r\n")
    found = [i for i, line in enumerate(lines) if line.lower().startswith(name + b":")]
    if found:
        i = draw(st.sampled_from(found))
        at = min(len(lines[i]), len(name) + 1 + draw(st.integers(1, 12)))
        lines[i] = lines[i][:at] + draw(st.sampled_from(_POISON)) + lines[i][at:]
    else:
        lines.insert(1, name + b": <" + draw(st.sampled_from(_POISON)) + b"@x.example>")
    raw = b"\r\n".join(lines)
    if draw(st.booleans()):
        raw = _mutate_header(raw, draw)
    return raw


# --------------------------------------------------------------------------- random MIME

_TYPES = ["text/plain", "text/html", "application/octet-stream", "image/png", "message/rfc822",
          "application/pdf", "text/calendar", "message/delivery-status",
          "application/ms-tnef"]  # fmt: skip
_CTES = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus", ""]
_CHARSETS = ["utf-8", "gb2312", "gbk", "big5", "utf-7", "utf-16", "iso-2022-jp", "x-unknown", ""]


@st.composite
def random_part(draw: st.DrawFn, depth: int = 0) -> bytes:
    if depth < 3 and draw(st.booleans()):
        boundary = draw(st.sampled_from([b"b", b"=_x", b"b" * 70, b"a b", b""])) + b"%d" % depth
        children = draw(st.lists(random_part(depth + 1), min_size=0, max_size=4))
        body = b"".join(b"--" + boundary + b"\r\n" + child + b"\r\n" for child in children)
        close = draw(st.sampled_from([b"--" + boundary + b"--\r\n", b""]))
        subtype = draw(st.sampled_from([b"mixed", b"alternative", b"related", b"report"]))
        return (b'Content-Type: multipart/' + subtype + b'; boundary="' + boundary + b'"\r\n\r\n'
                + body + close)  # fmt: skip
    ctype = draw(st.sampled_from(_TYPES)).encode()
    charset = draw(st.sampled_from(_CHARSETS)).encode()
    cte = draw(st.sampled_from(_CTES)).encode()
    name = draw(st.text(max_size=30)).encode("utf-8", "surrogatepass")
    head = b"Content-Type: " + ctype + (b"; charset=" + charset if charset else b"")
    if draw(st.booleans()):
        head += b'; name="' + name.replace(b'"', b"").replace(b"\r", b"").replace(b"\n", b"") + b'"'
    head += b"\r\n"
    if cte:
        head += b"Content-Transfer-Encoding: " + cte + b"\r\n"
    body = draw(st.one_of(st.binary(max_size=300), st.text(max_size=200).map(
        lambda t: t.encode("utf-8", "surrogatepass"))))  # fmt: skip
    return head + b"\r\n" + body


_SENDERS = [b"a@b.example", b"=?utf-8?B?5byg5LiJ?= <x@y.example>", b"", b"<>",
            b"\xe5\xbc\xa0 <\xe5\xbc\xa0@qq.example>"]  # fmt: skip


def _line(data: bytes) -> bytes:
    return data.replace(b"\r", b"").replace(b"\n", b" ")


@st.composite
def random_message(draw: st.DrawFn) -> bytes:
    """A header block with random values and a random MIME tree."""
    headers = [
        b"From: " + draw(st.sampled_from(_SENDERS)),
        b"Subject: " + _line(draw(st.binary(max_size=80))),
        b"Message-ID: <" + _line(draw(st.binary(max_size=40))) + b">",
        b"MIME-Version: 1.0",
    ]
    return b"\r\n".join(headers) + b"\r\n" + draw(random_part())


# --------------------------------------------------------------------------- the property


@pytest.fixture
def memory_app(tmp_path: Path) -> Iterator[App]:
    app = make_app(settings_for(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}"))
    yield app
    app.close()


def _check_recorded(app: App, mailbox: str, uids: list[int], last: int) -> None:
    """Every UID is recorded at its location, and the last one as the submission it is."""
    with app.sessions() as session:
        located = session.scalar(
            select(func.count())
            .select_from(Location)
            .where(Location.mailbox == mailbox, Location.uid.in_([*uids, last]))
        )
        kinds = session.scalars(
            select(Message.kind)
            .join(Location, Location.message_pk == Message.id)
            .where(Location.mailbox == mailbox, Location.uid == last)
        ).all()
    assert located == len(uids) + 1
    assert kinds == ["submission"], "the next message is recorded as what it is"


def _check(app: App, raws: list[bytes]) -> None:
    """Poll a fresh in-memory mailbox holding ``raws`` and then an ordinary submission."""
    name = f"prop-{next(_counter)}"  # a mailbox of its own: UIDs start again at 1
    box = MemoryMailbox(name)
    uids = [box.deliver(raw) for raw in raws]
    last = box.deliver(following())
    result = app.ingestor.poll(box, MailboxConfig(name=name, username=name, host="memory"))
    assert result.errors == ()
    assert box.messages("INBOX") == {}, "every message was recorded and moved"
    _check_recorded(app, name, uids, last)


@FAST
@given(raw=mutated())
def test_mutated_real_mail_never_stops_the_poll(memory_app: App, raw: bytes) -> None:
    _check(memory_app, [raw])


@FAST
@given(raw=random_message())
def test_random_mime_never_stops_the_poll(memory_app: App, raw: bytes) -> None:
    _check(memory_app, [raw])


@pytest.fixture
def postgres_app(tmp_path: Path, postgres: Postgres) -> Iterator[App]:
    app = make_app(settings_for(tmp_path, postgres.new_database()))
    yield app
    app.close()


@ON_POSTGRES
@given(raw=poisoned())
def test_mutated_mail_never_stops_the_poll_on_postgres(postgres_app: App, raw: bytes) -> None:
    # NUL bytes pass the in-memory mailbox as they would an IMAP server that keeps them.
    _check(postgres_app, [raw])


@pytest.fixture
def dovecot_room(room_factory: RoomFactory, sqlite_url: str) -> MailRoom:
    return room_factory(sqlite_url)


@THROUGH_DOVECOT
@given(raws=st.lists(st.one_of(mutated(), random_message()), min_size=1, max_size=3))
def test_mutated_mail_through_dovecot_never_stops_the_poll(
    dovecot_room: MailRoom, raws: list[bytes]
) -> None:
    room = dovecot_room
    uids = room.deliver(*[raw for raw in raws if raw.strip()])
    (last,) = room.deliver(following())
    result = room.poll()
    assert result.errors == ()
    assert room.inbox() == []
    _check_recorded(room.app, "submissions", uids, last)
