"""A mail room for hostile mail: an intake wired to a real Dovecot account (and the database
given, SQLite or a real PostgreSQL), into which a test delivers .eml bytes and polls."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from intake.app import App
from intake.ingest.results import PollResult
from intake.store.models import Attachment, Message
from tests.helpers import make_app, settings_for
from tests.servers import Dovecot, Postgres

DATA = Path(__file__).parent / "data"


def eml(name: str) -> bytes:
    """One of the hostile messages under ``tests/hostile/data``."""
    return (DATA / name).read_bytes()


@dataclass
class MailRoom:
    """One intake and its Dovecot account."""

    app: App
    dovecot: Dovecot
    account: tuple[str, str]
    config: Path  # a config file naming the same database and store, for the staff CLI

    def deliver(self, *raws: bytes) -> list[int]:
        """Append each message to the INBOX, as the provider's MTA would; their UIDs."""
        return [self.dovecot.append(*self.account, "INBOX", raw) for raw in raws]

    def poll(self) -> PollResult:
        return self.app.poll_mailbox(self.app.settings.mailboxes[0])

    def inbox(self) -> list[int]:
        return self.dovecot.uids(*self.account, "INBOX")

    def messages(self) -> list[Message]:
        with self.app.sessions() as session:
            return list(session.scalars(select(Message).order_by(Message.id)))

    def attachments(self) -> list[Attachment]:
        with self.app.sessions() as session:
            return list(session.scalars(select(Attachment).order_by(Attachment.id)))

    def cli(self, *args: str) -> Result:
        """``intake ARGS`` as an editor runs it, on this room's database."""
        from intake.cli import cli

        return CliRunner().invoke(
            cli, ["--config", str(self.config), *args],
            env={"NO_COLOR": "1", "INTAKE_USER": "editor"}, catch_exceptions=True,
        )  # fmt: skip

    def ok(self, *args: str) -> str:
        result = self.cli(*args)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def stored_bytes(self) -> int:
        """Bytes under the blob store: raw mail and attachments."""
        root = Path(self.app.settings.storage.path)
        return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


RoomFactory = Callable[..., MailRoom]


@pytest.fixture
def room_factory(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str]
) -> Iterator[RoomFactory]:
    """Build a mail room on ``db_url`` (``smtp``: an SMTP server for the outbox) with extra
    settings sections; closed after the test."""
    rooms: list[MailRoom] = []

    def make(db_url: str, smtp: Any | None = None, **sections: dict[str, Any]) -> MailRoom:
        replies = {"site_name": "示例新闻网", **sections.pop("replies", {})}
        settings = settings_for(
            tmp_path, db_url, dovecot, imap_account, smtp=smtp, mailbox={"idle": False},
            replies=replies, **sections,
        )  # fmt: skip
        config = tmp_path / "intake.toml"
        config.write_text(
            f"[database]\nurl = {json.dumps(db_url)}\n"
            f"[storage]\npath = {json.dumps(str(tmp_path / 'store'))}\n",
            encoding="utf-8",
        )
        room = MailRoom(make_app(settings), dovecot, imap_account, config)
        rooms.append(room)
        return room

    yield make
    for room in rooms:
        room.app.close()


@pytest.fixture
def room(room_factory: RoomFactory, db_url: str) -> MailRoom:
    """A mail room on each backend."""
    return room_factory(db_url)


@pytest.fixture
def pg_room(room_factory: RoomFactory, postgres: Postgres) -> MailRoom:
    """A mail room on a real PostgreSQL: the backend that refuses NUL and lone surrogates."""
    return room_factory(postgres.new_database())
