"""Terminal escapes from real mail: a submission and a rights holder's claim whose subject,
name, body and file name carry OSC 52 (clipboard), OSC 0 (title), OSC 8 (links), CSI, C1 and
bidi controls arrive through Dovecot; every command an editor reads them with shows them
visibly, piped and on a real pseudo-terminal, and ``--json`` keeps them exact and escaped."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli_hostile import ESC_FREE, run_on_terminal, unsafe
from tests.hostile.conftest import MailRoom, RoomFactory, eml


@pytest.fixture
def escaped(room_factory: RoomFactory, sqlite_url: str) -> tuple[MailRoom, int, int]:
    room = room_factory(sqlite_url, site={"domains": ["nsnews.example"]})
    room.deliver(eml("escapes_submission.eml"), eml("escapes_claim.eml"))
    assert room.poll().new == 2
    (submission,) = room.json("list")
    (claim,) = room.json("claims")
    return room, submission["id"], claim["id"]


def commands(sid: int, cid: int) -> list[list[str]]:
    return [["list"], ["show", str(sid)], ["messages"], ["claims"], ["claim", "show", str(cid)]]


def test_piped_output_shows_every_control_visibly(escaped: tuple[MailRoom, int, int]) -> None:
    room, sid, cid = escaped
    for args in commands(sid, cid):
        shown = room.ok(*args)
        assert not unsafe(shown), (args, unsafe(shown))
    assert "\\x1b]52;c;" in room.ok("show", str(sid))  # there, for the editor to see
    assert "\\u202egpj.exe" in room.ok("claim", "show", str(cid))


def test_json_keeps_the_text_exact_and_escaped(escaped: tuple[MailRoom, int, int]) -> None:
    room, sid, cid = escaped
    for args in commands(sid, cid):
        out = room.ok(*args, "--json")
        assert not unsafe(out.replace("\n", "")), args
        json.loads(out)
    assert "\x1b]52;c;cm0gLXJmIH4=\x07" in room.json("show", str(sid))["subject"]


@pytest.mark.parametrize("which", range(5))
def test_nothing_reaches_a_real_terminal(escaped: tuple[MailRoom, int, int], which: int) -> None:
    room, sid, cid = escaped
    args = commands(sid, cid)[which]
    text = run_on_terminal(room.config, *args).decode("utf-8")
    assert "\x1b" not in ESC_FREE.sub("", text), (args, text)  # only rich's own styling
    assert not [c for c in text if 0x80 <= ord(c) <= 0x9F], args
    assert "\u202e" not in text and "\u2066" not in text, args
