"""The database schema as SQLAlchemy Core tables: the one definition of every table, column
and index.

The ORM classes of :mod:`intake.store.models` map onto these tables for the writers; the staff
CLI's read-only commands (``list``, ``show``, ``stats``) query the tables directly, so they
start without importing the ORM (start-up time is what an editor feels at the terminal).
Alembic migrations beside this package create the same schema; a test compares them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back time-zone aware.

    SQLite has no time-zone type: SQLAlchemy writes the wall-clock digits and drops the offset,
    so 09:00+08:00 and 09:00Z would compare equal. Normalising to UTC on the way in, and
    attaching UTC on the way out, makes both backends store and compare the same instants.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # intake's own clock is aware; a bare date means UTC
            return value
        return (
            value.astimezone(UTC).replace(tzinfo=None)
            if dialect.name == "sqlite"
            else (value.astimezone(UTC))
        )

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: What neither backend stores in text: NUL (PostgreSQL refuses it in ``text``, and C code
#: reading SQLite stops at it) and lone surrogates (not UTF-8 at all: a broken charset, a raw
#: 8-bit header kept by ``surrogateescape``).
_REFUSED = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    """``value`` as every backend can hold it: NUL and lone surrogates become U+FFFD."""
    if value.isascii():
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    return _REFUSED.sub("\ufffd", value)


def _storable_json(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(k)): _storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable_json(v) for v in value]
    return value


class CleanText(TypeDecorator[str]):
    """Free text as sent by strangers, cleaned on the way in (:func:`storable`).

    Every text column has this type, so no caller can forget: a NUL in a Message-ID or a
    file name must not fail the insert, nor the quarantine row written after it.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return storable(value) if isinstance(value, str) else value


class CleanString(TypeDecorator[str]):
    """A bounded string, cleaned (:func:`storable`) and cut to its length on the way in:
    PostgreSQL refuses a longer value where SQLite would keep it."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return storable(value[: self.length]) if isinstance(value, str) else value


class CleanJSON(TypeDecorator[Any]):
    """JSON whose strings (keys and values) are cleaned as :class:`CleanText` cleans text."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return _storable_json(value)


metadata = MetaData(naming_convention=NAMING)


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


def _text(name: str, *, index: bool = False) -> Column[str]:
    """Free text, never NULL, empty by default."""
    return Column(name, CleanText(), nullable=False, default="", index=index)


def _string(
    name: str, length: int, *, default: str | None = "", index: bool = False
) -> Column[str]:
    return Column(name, CleanString(length), nullable=False, default=default, index=index)


def _time(name: str, *, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable, index=index)


def _count(name: str) -> Column[int]:
    return Column(name, Integer, nullable=False, default=0)


def _flag(name: str) -> Column[bool]:
    return Column(name, Boolean, nullable=False, default=False)


def _ref(
    name: str,
    target: str,
    *,
    nullable: bool = True,
    index: bool = True,
    ondelete: str | None = None,
    use_alter: bool = False,
) -> Column[int]:
    """A foreign key to ``target`` ("table.column"), indexed unless told otherwise."""
    key = ForeignKey(target, ondelete=ondelete, use_alter=use_alter)
    return Column(name, Integer, key, nullable=nullable, index=index)


#: Every incoming message, once per distinct content (see ``locations`` for where).
messages = Table(
    "messages",
    metadata,
    _id(),
    Column("sha256", CleanString(64), nullable=False, unique=True),
    Column("body_sha256", CleanString(64), nullable=False, index=True),
    Column("size", BigInteger, nullable=False),
    Column("raw_path", CleanString(255), nullable=False),  # relative to the blob store; "" if none
    _string("message_id", 998, index=True),
    _text("in_reply_to"),
    _text("references"),  # space separated
    _string("sender", 320, index=True),
    _string("sender_name", 500),
    _text("subject"),
    _time("date", nullable=True),
    _time("received_at"),  # the server's INTERNALDATE, else when we fetched it
    _time("ingested_at"),
    _string("kind", 20, default=None, index=True),
    _string("rule", 50),
    _text("reason"),
    Column("defects", CleanJSON(), nullable=False, default=list),
    _text("auth_results"),
    _text("body_text"),
    _ref("submission_id", "submissions.id", ondelete="SET NULL", use_alter=True),
    _ref("claim_id", "claims.id", ondelete="SET NULL", use_alter=True),
    _count("attempts"),  # reprocess count
)

#: One (mailbox, folder, UIDVALIDITY, UID) at which a message was seen.
locations = Table(
    "locations",
    metadata,
    _id(),
    _ref("message_pk", "messages.id", nullable=False, ondelete="CASCADE"),
    _string("mailbox", 100, default=None),
    _string("folder", 500, default=None),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("uid", BigInteger, nullable=False),
    _time("seen_at"),
    _time("moved_at", nullable=True),  # moved to processed_folder (or flagged) on the server
    _flag("duplicate"),
    UniqueConstraint("mailbox", "folder", "uidvalidity", "uid"),
)

#: Per mailbox folder: the UIDVALIDITY we know and how polling went.
mailbox_state = Table(
    "mailbox_state",
    metadata,
    Column("mailbox", CleanString(100), primary_key=True),
    Column("folder", CleanString(500), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=True),
    _time("last_poll_at", nullable=True),
    _time("last_success_at", nullable=True),
    _text("last_error"),
    _time("last_error_at", nullable=True),
    _string("idle_state", 20),
    _count("backlog"),
)

#: Work started on a new message at its server location and not finished: counted (and
#: committed) before parsing starts, deleted once the message is recorded. ``failures`` are the
#: parses that ran out of time or crashed the worker: a message with two, or with one and a
#: later attempt that never finished (the daemon died during it), is quarantined from its
#: stored bytes without being parsed again.
parse_attempts = Table(
    "parse_attempts",
    metadata,
    Column("mailbox", String(100), primary_key=True),
    Column("folder", String(500), primary_key=True),
    Column("uidvalidity", BigInteger, primary_key=True, autoincrement=False),
    Column("uid", BigInteger, primary_key=True, autoincrement=False),
    _count("attempts"),
    _count("failures"),
    _text("last_error"),
    _time("updated_at"),
)

#: Per account and service (imap, smtp): the last time a server refused the credentials.
#: Written by the daemon, read by ``intake status`` and the metrics.
logins = Table(
    "logins",
    metadata,
    Column("account", CleanString(320), primary_key=True),
    Column("service", CleanString(10), primary_key=True),
    _string("host", 255),
    _count("failures"),
    _text("last_error"),
    _time("failed_at", nullable=True),
    _time("retry_at", nullable=True),
    _time("succeeded_at", nullable=True),
)

#: A contribution: the unit staff review, decide and publish.
submissions = Table(
    "submissions",
    metadata,
    _id(),
    _string("status", 20, default="received", index=True),
    _string("copyright_status", 20, default="not_requested", index=True),
    _string("sender", 320, default=None, index=True),
    _string("sender_name", 500),
    _text("subject"),
    _text("title"),
    _time("received_at", index=True),
    _time("decision_due", nullable=True, index=True),
    _ref("message_pk", "messages.id", nullable=False),
    _text("body_text"),
    _text("article_text"),
    _string("article_source", 500),  # "body" or file names
    # The contributor's details (text.authors.FIELDS), read from the cover note or the
    # document's end; shown masked, exported in full in the ledger for payment.
    Column("author", CleanJSON(), nullable=False, default=dict),
    _count("char_count"),
    _count("word_count"),
    _string("content_hash", 64, index=True),
    _string("attachments_hash", 64, index=True),
    _string("assignee", 100, index=True),
    _text("published_url"),
    _ref("duplicate_of", "submissions.id"),
    Column("similarity", Float, nullable=True),
    _text("flagged"),  # why staff should look; "" when not
    _string("terms_version", 100),
    _time("copyright_requested_at", nullable=True),
    _time("decided_at", nullable=True),
    _time("updated_at"),
    # `list --status S --overdue`, the overdue count; time to decision read from the index
    # alone (on SQLite, columns after the long texts cost a walk through overflow pages).
    Index("ix_submissions_status_due", "status", "decision_due", "received_at"),
    Index("ix_submissions_decided", "decided_at", "received_at"),
)

#: A file that came with a message, stored content-addressed.
attachments = Table(
    "attachments",
    metadata,
    _id(),
    _ref("message_pk", "messages.id", nullable=False, ondelete="CASCADE"),
    _ref("submission_id", "submissions.id"),
    _ref("version_id", "versions.id"),
    Column("filename", CleanText(), nullable=False),  # as sent (decoded), shown to staff only
    _string("safe_name", 255, default=None),
    _string("content_type", 255, default=None),
    Column("size", BigInteger, nullable=False),
    _string("sha256", 64, default=None, index=True),
    _string("blob_path", 255, default=None),
    _flag("inline"),
    _string("kind", 20),  # document, image, archive, other
    _text("text"),
    _count("text_chars"),
    _text("extract_error"),
    _flag("encrypted"),
    Column("meta", CleanJSON(), nullable=False, default=dict),  # image size, EXIF, archive members
)

#: One version of a submission's article (the first, then revised ones sent as replies).
versions = Table(
    "versions",
    metadata,
    _id(),
    _ref("submission_id", "submissions.id", nullable=False),
    _ref("message_pk", "messages.id", nullable=False, index=False),
    Column("number", Integer, nullable=False),
    _text("article_text"),
    _count("char_count"),
    _time("created_at"),
)

#: The audit log: every status change, note, assignment, reply and decision.
events = Table(
    "events",
    metadata,
    _id(),
    _ref("submission_id", "submissions.id"),
    _ref("claim_id", "claims.id"),
    _time("at"),
    _string("actor", 100, default=None),
    _string("action", 50, default=None),
    _string("from_status", 30),
    _string("to_status", 30),
    _text("note"),
)

#: A reply waiting to be sent, sending, sent, failed or held. The bytes are fixed when queued.
outbox = Table(
    "outbox",
    metadata,
    _id(),
    _ref("submission_id", "submissions.id"),
    _ref("claim_id", "claims.id"),
    _ref("in_reply_to_pk", "messages.id", index=False),
    _string("template", 50, default=None),
    _string("to_addr", 320, default=None, index=True),  # as written to SMTP: deliverable
    # ``intake.text.addresses.rate_key`` of to_addr: what limits, suppression and holds match.
    _string("to_key", 320, index=True),
    Column("subject", CleanText(), nullable=False),
    Column("message_id", CleanString(998), nullable=False, unique=True),
    Column("raw", LargeBinary, nullable=False),
    _string("state", 20, default="pending", index=True),
    _count("attempts"),
    _time("next_attempt_at", index=True),
    _text("last_error"),
    _string("claimed_by", 200),
    _time("claimed_until", nullable=True),
    _string("terms_version", 100),
    _time("created_at"),
    _time("sent_at", nullable=True),
    Column("automatic", Boolean, nullable=False, default=True),
    _flag("in_sent_folder"),
    # Committed just before SMTP DATA; cleared when the server refuses it, kept once it is
    # sent. A row left ``sending`` with it set may have gone out, and only the Sent folder may
    # say otherwise. The hourly cap and the send-time recipient limit count by it.
    _time("handed_at", nullable=True, index=True),
)

#: An address that gets no mail until ``until`` (a permanent bounce, a staff decision).
suppressions = Table(
    "suppressions",
    metadata,
    Column("address", CleanString(320), primary_key=True),  # normalised (text.addresses.normalise)
    _string("key", 320, index=True),  # its rate_key: every variant of the mailbox matches it
    _text("reason"),
    _time("created_at"),
    _time("until"),
)

#: What an SMTP server offered at its last EHLO (the outbox sender records it per session):
#: whether mail to a non-ASCII address (SMTPUTF8) can be queued at all.
smtp_servers = Table(
    "smtp_servers",
    metadata,
    Column("host", CleanString(255), primary_key=True),
    Column("port", Integer, primary_key=True, autoincrement=False),
    _text("extensions"),  # EHLO keywords, lower case, space separated
    _time("seen_at"),
)

#: A copyright decision with the evidence for it.
consents = Table(
    "consents",
    metadata,
    _id(),
    _ref("submission_id", "submissions.id", nullable=False),
    _string("decision", 20, default=None),  # grant, refuse, waive, revoke, unclear
    _string("terms_version", 100),
    _text("phrase"),
    _ref("message_pk", "messages.id", index=False),
    _string("message_id", 998),
    _text("in_reply_to"),
    _string("sha256", 64),
    _string("raw_path", 255),
    _string("sender", 320),
    _text("auth_results"),
    _string("dkim", 50),  # pass, fail, none, error: ...
    _string("actor", 100),
    _text("note"),
    _time("at"),
    # How the answer was bound to our request (intake.conversations.binding): dkim_aligned,
    # request_bound or token_only; "" for staff decisions and rows older than binding.
    _string("authenticity", 20),
    # The letter of ours the reply answered (by its Message-ID or its confirmation code).
    _ref("answers_outbox_id", "outbox.id"),
    _text("clause"),  # the sentence that decided, as the contributor wrote it
    # applied, pending (an editor confirms or rejects), confirmed, rejected, superseded, or
    # not_applied (kept as evidence: unclear, or the rights were settled already).
    _string("state", 20),
    _string("reviewed_by", 100),  # the editor who confirmed or rejected a pending decision
    _time("reviewed_at", nullable=True),
    # One reading per message, whatever runs it again (a second daemon, a reprocess).
    Index("uq_consents_message_pk", "message_pk", unique=True),
)

#: Addresses staff said also speak for a submission's contributor (a second mailbox): replies
#: from them count as the contributor's (``intake contributor add-address``).
contributor_addresses = Table(
    "contributor_addresses",
    metadata,
    _id(),
    _ref("submission_id", "submissions.id", nullable=False, index=False),
    _string("address", 320, default=None),  # normalised (intake.text.addresses)
    _string("added_by", 100),
    _text("note"),
    _time("added_at"),
    UniqueConstraint("submission_id", "address"),
)

#: MinHash band keys of a submission's article, for near-duplicate lookup.
fingerprints = Table(
    "fingerprints",
    metadata,
    _id(),
    _ref("submission_id", "submissions.id", nullable=False, ondelete="CASCADE"),
    Column("band", Integer, nullable=False),
    _string("key", 40, default=None),
    Index("ix_fingerprints_band_key", "band", "key"),
)

#: A rights holder's copyright claim, tracked to removal, payment, licence or rejection.
claims = Table(
    "claims",
    metadata,
    _id(),
    _string("status", 30, default="received", index=True),
    _string("claimant", 320, default=None, index=True),
    _string("claimant_name", 500),
    _text("subject"),
    _time("received_at"),
    _ref("message_pk", "messages.id", nullable=False, index=False),
    Column("urls", CleanJSON(), nullable=False, default=list),
    _text("work_title"),
    _string("demand", 20, default="unknown"),
    _time("deadline", nullable=True, index=True),
    Column("score", Float, nullable=False, default=0.0),
    Column("signals", CleanJSON(), nullable=False, default=list),
    _string("assignee", 100),
    _string("amount", 50),
    _ref("submission_id", "submissions.id"),
    _text("body_text"),
    _time("updated_at"),
)

#: A named lease (one active poller per mailbox, one sender) held until it expires.
leases = Table(
    "leases",
    metadata,
    Column("name", CleanString(200), primary_key=True),
    _string("holder", 200, default=None),
    _time("expires_at"),
    _time("acquired_at"),
)

#: Each submission and claim the desk was told about (``[desk] notify``): at most once each.
desk_notices = Table(
    "desk_notices",
    metadata,
    _id(),
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=True, unique=True),
    Column("claim_id", Integer, ForeignKey("claims.id"), nullable=True, unique=True),
    _string("digest", 40),  # the digest's period; "" for a message of its own (notify_mode each)
    _text("note"),  # the outbox rows queued, or why none was; "" for rows older than the desk
    _time("at"),
)

#: Each digest the desk was sent (notify_mode hourly or daily): one per period, ever.
desk_digests = Table(
    "desk_digests",
    metadata,
    Column("period", CleanString(40), primary_key=True),
    _count("items"),
    _text("note"),
    _time("at"),
)

#: A raw message or attachment kept in the database (``[storage] backend = "database"``), under
#: the path the file-system store would give it (``<kind>/<aa>/<bb>/<sha256>``), so rows name a
#: blob the same way in both stores. Written in the transaction of the rows that name it.
blobs = Table(
    "blobs",
    metadata,
    Column("path", String(255), primary_key=True),
    _string("kind", 10, default=None),  # raw, att
    _string("sha256", 64, default=None),
    Column("size", BigInteger, nullable=False),
    _count("chunks"),
    _time("stored_at"),
)

#: A blob's bytes in pieces of at most ``intake.store.blobs.CHUNK_BYTES``, in order, so a large
#: message is written and read a piece at a time.
blob_chunks = Table(
    "blob_chunks",
    metadata,
    Column(
        "path",
        String(255),
        ForeignKey("blobs.path", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)
