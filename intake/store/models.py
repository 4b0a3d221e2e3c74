"""SQLAlchemy 2 typed models: the ORM classes the writers use, mapped onto the Core tables of
:mod:`intake.store.schema` (the one definition of the schema).

Only :mod:`intake.store` queries these; the rest of intake sees frozen values or these rows
through store functions. The annotations type each column for mypy; a test checks that they
name exactly the table's columns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from intake.store import schema
from intake.store.schema import UTCDateTime

__all__ = ["Base", "UTCDateTime", "table"]  # and the model classes below


class Base(DeclarativeBase):
    metadata = schema.metadata


def table(model: type[Base]) -> Table:
    """The Core table behind a model: ingest's hot path inserts without the unit of work."""
    return cast(Table, model.__table__)


class Message(Base):
    """Every incoming message, once per distinct content (see :class:`Location` for where)."""

    __table__ = schema.messages

    id: Mapped[int]
    sha256: Mapped[str]
    body_sha256: Mapped[str]
    size: Mapped[int]
    raw_path: Mapped[str]  # relative to the blob store root; "" if not fetched
    message_id: Mapped[str]
    in_reply_to: Mapped[str]
    references: Mapped[str]  # space separated
    sender: Mapped[str]
    sender_name: Mapped[str]
    subject: Mapped[str]
    date: Mapped[datetime | None]
    received_at: Mapped[datetime]  # the server's INTERNALDATE, else when we fetched it
    ingested_at: Mapped[datetime]
    kind: Mapped[str]
    rule: Mapped[str]
    reason: Mapped[str]
    defects: Mapped[list[Any]]
    auth_results: Mapped[str]
    body_text: Mapped[str]
    submission_id: Mapped[int | None]
    claim_id: Mapped[int | None]
    attempts: Mapped[int]  # reprocess count

    locations: Mapped[list[Location]] = relationship(back_populates="message")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id"
    )


class Location(Base):
    """One (mailbox, folder, UIDVALIDITY, UID) at which a message was seen."""

    __table__ = schema.locations

    id: Mapped[int]
    message_pk: Mapped[int]
    mailbox: Mapped[str]
    folder: Mapped[str]
    uidvalidity: Mapped[int]
    uid: Mapped[int]
    seen_at: Mapped[datetime]
    moved_at: Mapped[datetime | None]  # moved to processed_folder (or flagged) on the server
    duplicate: Mapped[bool]

    message: Mapped[Message] = relationship(back_populates="locations")


class MailboxState(Base):
    """Per mailbox folder: the UIDVALIDITY we know and how polling went."""

    __table__ = schema.mailbox_state

    mailbox: Mapped[str]
    folder: Mapped[str]
    uidvalidity: Mapped[int | None]
    last_poll_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str]
    last_error_at: Mapped[datetime | None]
    idle_state: Mapped[str]
    backlog: Mapped[int]


class Login(Base):
    """Per account and service: the last refusal of its credentials, and the last success."""

    __table__ = schema.logins

    account: Mapped[str]
    service: Mapped[str]
    host: Mapped[str]
    failures: Mapped[int]
    last_error: Mapped[str]
    failed_at: Mapped[datetime | None]
    retry_at: Mapped[datetime | None]
    succeeded_at: Mapped[datetime | None]


class Submission(Base):
    """A contribution: the unit staff review, decide and publish."""

    __table__ = schema.submissions

    id: Mapped[int]
    status: Mapped[str]
    copyright_status: Mapped[str]
    sender: Mapped[str]
    sender_name: Mapped[str]
    subject: Mapped[str]
    title: Mapped[str]
    received_at: Mapped[datetime]
    decision_due: Mapped[datetime | None]
    message_pk: Mapped[int]
    body_text: Mapped[str]
    article_text: Mapped[str]
    article_source: Mapped[str]  # "body" or file names
    author: Mapped[dict[str, str]]  # the contributor's details (text.authors)
    char_count: Mapped[int]
    word_count: Mapped[int]
    content_hash: Mapped[str]
    attachments_hash: Mapped[str]
    assignee: Mapped[str]
    published_url: Mapped[str]
    duplicate_of: Mapped[int | None]
    similarity: Mapped[float | None]
    flagged: Mapped[str]  # why staff should look; "" when not
    terms_version: Mapped[str]
    copyright_requested_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    message: Mapped[Message] = relationship(foreign_keys=[schema.submissions.c.message_pk])
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="submission", order_by="Attachment.id"
    )
    events: Mapped[list[Event]] = relationship(back_populates="submission", order_by="Event.id")


class Attachment(Base):
    """A file that came with a message, stored content-addressed."""

    __table__ = schema.attachments

    id: Mapped[int]
    message_pk: Mapped[int]
    submission_id: Mapped[int | None]
    version_id: Mapped[int | None]
    filename: Mapped[str]  # as sent (decoded), shown to staff only
    safe_name: Mapped[str]
    content_type: Mapped[str]
    size: Mapped[int]
    sha256: Mapped[str]
    blob_path: Mapped[str]
    inline: Mapped[bool]
    kind: Mapped[str]  # document, image, archive, other
    text: Mapped[str]
    text_chars: Mapped[int]
    extract_error: Mapped[str]
    encrypted: Mapped[bool]
    meta: Mapped[dict[str, Any]]  # image size, EXIF, archive members

    message: Mapped[Message] = relationship(back_populates="attachments")
    submission: Mapped[Submission | None] = relationship(back_populates="attachments")


class Version(Base):
    """One version of a submission's article (the first, then revised ones sent as replies)."""

    __table__ = schema.versions

    id: Mapped[int]
    submission_id: Mapped[int]
    message_pk: Mapped[int]
    number: Mapped[int]
    article_text: Mapped[str]
    char_count: Mapped[int]
    created_at: Mapped[datetime]


class Event(Base):
    """The audit log: every status change, note, assignment, reply and decision."""

    __table__ = schema.events

    id: Mapped[int]
    submission_id: Mapped[int | None]
    claim_id: Mapped[int | None]
    at: Mapped[datetime]
    actor: Mapped[str]
    action: Mapped[str]
    from_status: Mapped[str]
    to_status: Mapped[str]
    note: Mapped[str]

    submission: Mapped[Submission | None] = relationship(back_populates="events")


class Outbox(Base):
    """A reply waiting to be sent, sending, sent, failed or held. The bytes are fixed when
    queued."""

    __table__ = schema.outbox

    id: Mapped[int]
    submission_id: Mapped[int | None]
    claim_id: Mapped[int | None]
    in_reply_to_pk: Mapped[int | None]
    template: Mapped[str]
    to_addr: Mapped[str]
    to_key: Mapped[str]
    subject: Mapped[str]
    message_id: Mapped[str]
    raw: Mapped[bytes]
    state: Mapped[str]
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str]
    claimed_by: Mapped[str]
    claimed_until: Mapped[datetime | None]
    terms_version: Mapped[str]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    automatic: Mapped[bool]
    in_sent_folder: Mapped[bool]
    handed_at: Mapped[datetime | None]


class Suppression(Base):
    """An address that gets no mail until ``until`` (a permanent bounce, a staff decision)."""

    __table__ = schema.suppressions

    address: Mapped[str]
    key: Mapped[str]
    reason: Mapped[str]
    created_at: Mapped[datetime]
    until: Mapped[datetime]


class SmtpServer(Base):
    """The extensions an SMTP server offered at its last EHLO."""

    __table__ = schema.smtp_servers

    host: Mapped[str]
    port: Mapped[int]
    extensions: Mapped[str]
    seen_at: Mapped[datetime]


class Consent(Base):
    """A copyright decision with the evidence for it."""

    __table__ = schema.consents

    id: Mapped[int]
    submission_id: Mapped[int]
    decision: Mapped[str]  # grant, refuse, waive, revoke, unclear
    terms_version: Mapped[str]
    phrase: Mapped[str]
    message_pk: Mapped[int | None]
    message_id: Mapped[str]
    in_reply_to: Mapped[str]
    sha256: Mapped[str]
    raw_path: Mapped[str]
    sender: Mapped[str]
    auth_results: Mapped[str]
    dkim: Mapped[str]  # pass, fail, none, error: ...
    actor: Mapped[str]
    note: Mapped[str]
    at: Mapped[datetime]
    authenticity: Mapped[str]  # dkim_aligned, request_bound, token_only; "" for staff
    answers_outbox_id: Mapped[int | None]
    clause: Mapped[str]
    state: Mapped[str]  # applied, pending, confirmed, rejected, superseded, not_applied
    reviewed_by: Mapped[str]
    reviewed_at: Mapped[datetime | None]


class ContributorAddress(Base):
    """An address staff said also speaks for a submission's contributor."""

    __table__ = schema.contributor_addresses

    id: Mapped[int]
    submission_id: Mapped[int]
    address: Mapped[str]
    added_by: Mapped[str]
    note: Mapped[str]
    added_at: Mapped[datetime]


class Fingerprint(Base):
    """MinHash band keys of a submission's article, for near-duplicate lookup."""

    __table__ = schema.fingerprints

    id: Mapped[int]
    submission_id: Mapped[int]
    band: Mapped[int]
    key: Mapped[str]


class Claim(Base):
    """A rights holder's copyright claim, tracked to removal, payment, licence or rejection."""

    __table__ = schema.claims

    id: Mapped[int]
    status: Mapped[str]
    claimant: Mapped[str]
    claimant_name: Mapped[str]
    subject: Mapped[str]
    received_at: Mapped[datetime]
    message_pk: Mapped[int]
    urls: Mapped[list[Any]]
    work_title: Mapped[str]
    demand: Mapped[str]
    deadline: Mapped[datetime | None]
    score: Mapped[float]
    signals: Mapped[list[Any]]
    assignee: Mapped[str]
    amount: Mapped[str]
    submission_id: Mapped[int | None]
    body_text: Mapped[str]
    updated_at: Mapped[datetime]


class Lease(Base):
    """A named lease (one active poller per mailbox, one sender) held until it expires."""

    __table__ = schema.leases

    name: Mapped[str]
    holder: Mapped[str]
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime]


class DeskNotice(Base):
    """A submission or claim the desk was told about (at most once each)."""

    __table__ = schema.desk_notices

    id: Mapped[int]
    submission_id: Mapped[int | None]
    claim_id: Mapped[int | None]
    digest: Mapped[str]  # the digest's period, "" for a message of its own
    note: Mapped[str]
    at: Mapped[datetime]


class DeskDigest(Base):
    """A digest sent to the desk: one per period."""

    __table__ = schema.desk_digests

    period: Mapped[str]
    items: Mapped[int]
    note: Mapped[str]
    at: Mapped[datetime]
