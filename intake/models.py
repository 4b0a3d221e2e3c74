"""SQLAlchemy 2 typed models: the queue, the audit log, the outbox, consent and claims.

Only :mod:`intake.store` queries these; the rest of intake sees frozen values or these rows
through store functions. Alembic migrations beside this module create the same schema.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UTCDateTime(),
    }


def table(model: type[Base]) -> Table:
    """The Core table behind a model: ingest's hot path inserts without the unit of work."""
    return cast(Table, model.__table__)


class Message(Base):
    """Every incoming message, once per distinct content (see :class:`Location` for where)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    body_sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    raw_path: Mapped[str] = mapped_column(
        String(255)
    )  # relative to the blob store root; "" if not fetched
    message_id: Mapped[str] = mapped_column(String(998), index=True, default="")
    in_reply_to: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[str] = mapped_column(Text, default="")  # space separated
    sender: Mapped[str] = mapped_column(String(320), index=True, default="")
    sender_name: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    date: Mapped[datetime | None]
    received_at: Mapped[datetime]  # the server's INTERNALDATE, else when we fetched it
    ingested_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20), index=True)
    rule: Mapped[str] = mapped_column(String(50), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    defects: Mapped[list[Any]] = mapped_column(default=list)
    auth_results: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL", use_alter=True), index=True
    )
    claim_id: Mapped[int | None] = mapped_column(
        ForeignKey("claims.id", ondelete="SET NULL", use_alter=True), index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)  # reprocess count

    locations: Mapped[list[Location]] = relationship(back_populates="message")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id"
    )


class Location(Base):
    """One (mailbox, folder, UIDVALIDITY, UID) at which a message was seen."""

    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("mailbox", "folder", "uidvalidity", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    mailbox: Mapped[str] = mapped_column(String(100))
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    seen_at: Mapped[datetime]
    moved_at: Mapped[datetime | None]  # moved to processed_folder (or flagged) on the server
    duplicate: Mapped[bool] = mapped_column(Boolean, default=False)

    message: Mapped[Message] = relationship(back_populates="locations")


class MailboxState(Base):
    """Per mailbox folder: the UIDVALIDITY we know and how polling went."""

    __tablename__ = "mailbox_state"

    mailbox: Mapped[str] = mapped_column(String(100), primary_key=True)
    folder: Mapped[str] = mapped_column(String(500), primary_key=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_poll_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_at: Mapped[datetime | None]
    idle_state: Mapped[str] = mapped_column(String(20), default="")
    backlog: Mapped[int] = mapped_column(default=0)


class Submission(Base):
    """A contribution: the unit staff review, decide and publish."""

    __tablename__ = "submissions"
    __table_args__ = (
        # `list --status S --overdue`, the overdue count; time to decision read from the index
        # alone (on SQLite, columns after the long texts cost a walk through overflow pages).
        Index("ix_submissions_status_due", "status", "decision_due", "received_at"),
        Index("ix_submissions_decided", "decided_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True, default="received")
    copyright_status: Mapped[str] = mapped_column(String(20), index=True, default="not_requested")
    sender: Mapped[str] = mapped_column(String(320), index=True)
    sender_name: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(index=True)
    decision_due: Mapped[datetime | None] = mapped_column(index=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    body_text: Mapped[str] = mapped_column(Text, default="")
    article_text: Mapped[str] = mapped_column(Text, default="")
    article_source: Mapped[str] = mapped_column(String(500), default="")  # "body" or file names
    char_count: Mapped[int] = mapped_column(default=0)
    word_count: Mapped[int] = mapped_column(default=0)
    content_hash: Mapped[str] = mapped_column(String(64), index=True, default="")
    attachments_hash: Mapped[str] = mapped_column(String(64), index=True, default="")
    assignee: Mapped[str] = mapped_column(String(100), index=True, default="")
    published_url: Mapped[str] = mapped_column(Text, default="")
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    similarity: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[str] = mapped_column(Text, default="")  # why staff should look; "" when not
    terms_version: Mapped[str] = mapped_column(String(100), default="")
    copyright_requested_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    message: Mapped[Message] = relationship(foreign_keys=[message_pk])
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="submission", order_by="Attachment.id"
    )
    events: Mapped[list[Event]] = relationship(back_populates="submission", order_by="Event.id")


class Attachment(Base):
    """A file that came with a message, stored content-addressed."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), index=True)
    filename: Mapped[str] = mapped_column(Text)  # as sent (decoded), shown to staff only
    safe_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    blob_path: Mapped[str] = mapped_column(String(255))
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(20), default="")  # document, image, archive, other
    text: Mapped[str] = mapped_column(Text, default="")
    text_chars: Mapped[int] = mapped_column(default=0)
    extract_error: Mapped[str] = mapped_column(Text, default="")
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)  # image size, EXIF, archive members

    message: Mapped[Message] = relationship(back_populates="attachments")
    submission: Mapped[Submission | None] = relationship(back_populates="attachments")


class Version(Base):
    """One version of a submission's article (the first, then revised ones sent as replies)."""

    __tablename__ = "versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    number: Mapped[int]
    article_text: Mapped[str] = mapped_column(Text, default="")
    char_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]


class Event(Base):
    """The audit log: every status change, note, assignment, reply and decision."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    from_status: Mapped[str] = mapped_column(String(30), default="")
    to_status: Mapped[str] = mapped_column(String(30), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    submission: Mapped[Submission | None] = relationship(back_populates="events")


class Outbox(Base):
    """A reply waiting to be sent, sending, sent or failed. The bytes are fixed when queued."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    in_reply_to_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    template: Mapped[str] = mapped_column(String(50))
    to_addr: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(20), index=True, default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str] = mapped_column(String(200), default="")
    claimed_until: Mapped[datetime | None]
    terms_version: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    in_sent_folder: Mapped[bool] = mapped_column(Boolean, default=False)


class Suppression(Base):
    """An address that gets no automatic mail until ``until`` (a permanent bounce)."""

    __tablename__ = "suppressions"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    until: Mapped[datetime]


class Consent(Base):
    """A copyright decision with the evidence for it."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))  # grant, refuse, waive, revoke, unclear
    terms_version: Mapped[str] = mapped_column(String(100), default="")
    phrase: Mapped[str] = mapped_column(Text, default="")
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    message_id: Mapped[str] = mapped_column(String(998), default="")
    in_reply_to: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    raw_path: Mapped[str] = mapped_column(String(255), default="")
    sender: Mapped[str] = mapped_column(String(320), default="")
    auth_results: Mapped[str] = mapped_column(Text, default="")
    dkim: Mapped[str] = mapped_column(String(50), default="")  # pass, fail, none, error: ...
    actor: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class Fingerprint(Base):
    """MinHash band keys of a submission's article, for near-duplicate lookup."""

    __tablename__ = "fingerprints"
    __table_args__ = (Index("ix_fingerprints_band_key", "band", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    band: Mapped[int]
    key: Mapped[str] = mapped_column(String(40))


class Claim(Base):
    """A rights holder's copyright claim, tracked to removal, payment, licence or rejection."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(30), index=True, default="received")
    claimant: Mapped[str] = mapped_column(String(320), index=True)
    claimant_name: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime]
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    urls: Mapped[list[Any]] = mapped_column(default=list)
    work_title: Mapped[str] = mapped_column(Text, default="")
    demand: Mapped[str] = mapped_column(String(20), default="unknown")
    deadline: Mapped[datetime | None] = mapped_column(index=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    signals: Mapped[list[Any]] = mapped_column(default=list)
    assignee: Mapped[str] = mapped_column(String(100), default="")
    amount: Mapped[str] = mapped_column(String(50), default="")
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    body_text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]


class Lease(Base):
    """A named lease (one active poller per mailbox, one sender) held until it expires."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime]
