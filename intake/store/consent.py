"""Queries and writes for copyright consent: decisions with their evidence, pending decisions,
the letters a reply may answer, the addresses staff add for a contributor, and the requests that
are due for a reminder or have expired."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from intake.store.models import Consent, ContributorAddress, Outbox, Submission
from intake.workflow.submission import RIGHTS_LETTERS

#: ``consents.state`` of a decision waiting for an editor.
PENDING = "pending"


@dataclass(frozen=True, slots=True)
class SentLetter:
    """One of our letters as a reply may name it: by its Message-ID or its confirmation code."""

    id: int
    submission_id: int | None
    template: str
    message_id: str
    terms_version: str
    created_at: datetime
    to_addr: str = ""  # the address it was sent to


def add_consent(
    session: Session,
    *,
    submission_id: int,
    decision: str,
    at: datetime,
    terms_version: str = "",
    phrase: str = "",
    message_pk: int | None = None,
    message_id: str = "",
    in_reply_to: str = "",
    sha256: str = "",
    raw_path: str = "",
    sender: str = "",
    auth_results: str = "",
    dkim: str = "",
    actor: str = "",
    note: str = "",
    authenticity: str = "",
    answers_outbox_id: int | None = None,
    clause: str = "",
    state: str = "applied",
) -> Consent:
    row = Consent(
        submission_id=submission_id,
        decision=decision,
        terms_version=terms_version[:100],
        phrase=phrase,
        message_pk=message_pk,
        message_id=message_id[:998],
        in_reply_to=in_reply_to,
        sha256=sha256,
        raw_path=raw_path[:255],
        sender=sender[:320],
        auth_results=auth_results,
        dkim=dkim[:50],
        actor=actor[:100],
        note=note,
        at=at,
        authenticity=authenticity[:20],
        answers_outbox_id=answers_outbox_id,
        clause=clause,
        state=state[:20],
        reviewed_by="",
    )
    session.add(row)
    session.flush()
    return row


def for_message(session: Session, message_pk: int) -> Consent | None:
    """The reading recorded for a message already, if any (one per message, ever)."""
    return session.scalars(select(Consent).where(Consent.message_pk == message_pk)).first()


def pending(session: Session, submission_id: int) -> list[Consent]:
    """The decisions of a submission waiting for an editor, newest first (one, normally)."""
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.submission_id == submission_id, Consent.state == PENDING)
            .order_by(Consent.id.desc())
        )
    )


def letters_named(session: Session, message_ids: Sequence[str]) -> dict[str, SentLetter]:
    """Our letters whose Message-ID is one of ``message_ids``, by Message-ID."""
    wanted = [m for m in dict.fromkeys(message_ids) if m]
    if not wanted:
        return {}
    rows = session.execute(
        select(
            Outbox.id, Outbox.submission_id, Outbox.template, Outbox.message_id,
            Outbox.terms_version, Outbox.created_at, Outbox.to_addr,
        ).where(Outbox.message_id.in_(wanted))
    )  # fmt: skip
    return {row.message_id: SentLetter(*row) for row in rows}


def rights_letters(session: Session, submission_id: int) -> list[SentLetter]:
    """The copyright requests and reminders sent for a submission, oldest first."""
    rows = session.execute(
        select(
            Outbox.id, Outbox.submission_id, Outbox.template, Outbox.message_id,
            Outbox.terms_version, Outbox.created_at, Outbox.to_addr,
        )
        .where(Outbox.submission_id == submission_id, Outbox.template.in_(sorted(RIGHTS_LETTERS)))
        .order_by(Outbox.id)
    )  # fmt: skip
    return [SentLetter(*row) for row in rows]


def last_request(session: Session, submission_id: int) -> Outbox | None:
    """The newest copyright request queued for a submission (its terms version, its time)."""
    return session.scalars(
        select(Outbox)
        .where(Outbox.submission_id == submission_id, Outbox.template == "copyright_request")
        .order_by(Outbox.id.desc())
        .limit(1)
    ).first()


def requested_before(
    session: Session, statuses: Sequence[str], before: datetime, *, limit: int = 500
) -> list[Submission]:
    """Submissions whose copyright status is one of ``statuses`` and whose request was sent
    before ``before``, oldest request first; locked (skipping rows another worker holds) on
    PostgreSQL, so that two maintenance runs never remind twice."""
    return list(
        session.scalars(
            select(Submission)
            .where(
                Submission.copyright_status.in_(list(statuses)),
                Submission.copyright_requested_at.is_not(None),
                Submission.copyright_requested_at <= before,
                # The contributor answered, and an editor has yet to confirm it: no reminder
                # and no expiry meanwhile.
                ~exists().where(Consent.submission_id == Submission.id, Consent.state == PENDING),
            )
            .order_by(Submission.copyright_requested_at, Submission.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


# --------------------------------------------------------------------------- addresses


def addresses_for(session: Session, submission_id: int) -> list[ContributorAddress]:
    """The addresses staff added for a submission's contributor, oldest first."""
    return list(
        session.scalars(
            select(ContributorAddress)
            .where(ContributorAddress.submission_id == submission_id)
            .order_by(ContributorAddress.id)
        )
    )


def add_address(
    session: Session, submission_id: int, address: str, *, actor: str, note: str, at: datetime
) -> ContributorAddress:
    """Record ``address`` (normalised by the caller) as the contributor's for a submission."""
    row = ContributorAddress(
        submission_id=submission_id,
        address=address[:320],
        added_by=actor[:100],
        note=note,
        added_at=at,
    )
    session.add(row)
    session.flush()
    return row


def remove_address(session: Session, submission_id: int, address: str) -> int:
    """Forget an added address; how many rows went (0 or 1)."""
    result = session.execute(
        delete(ContributorAddress).where(
            ContributorAddress.submission_id == submission_id,
            ContributorAddress.address == address,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
