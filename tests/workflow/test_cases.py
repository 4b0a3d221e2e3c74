"""intake.workflow.cases: the one way a case's status changes, and the rights table it keeps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from intake import store
from intake.core.errors import TransitionRefused
from intake.store.models import Claim, Event, Submission
from intake.workflow import cases
from intake.workflow.claim import ClaimStatus
from intake.workflow.submission import (
    RIGHTS_TRANSITIONS,
    CopyrightStatus,
    Role,
    Status,
    check_rights_move,
)
from tests.cli.test_cli_queue import add_submission

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
#: Assignments to a case's status outside ``cases.move`` (row creation says ``status=`` once).
DIRECT_WRITE = re.compile(r"\.(status|copyright_status)\s*=(?!=)|values\([^)]*\bstatus\s*=")


def test_no_status_is_written_outside_move() -> None:
    allowed = {"intake/workflow/cases.py"}
    offenders = []
    for path in sorted((ROOT / "intake").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed or "/migrations/" in rel:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if DIRECT_WRITE.search(line.split("#")[0]):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == []


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'cases.db'}")
    store.upgrade(engine)
    with store.session_factory(engine)() as session, session.begin():
        yield session
    engine.dispose()


def history(session: Session, submission_id: int) -> list[tuple[str, str, str, str]]:
    session.flush()
    rows = session.query(Event).filter(Event.submission_id == submission_id).order_by(Event.id)
    return [(e.action, e.from_status, e.to_status, e.actor) for e in rows]


def test_move_checks_stamps_and_records(session: Session) -> None:
    sid = add_submission(session, status="received")
    piece = session.get(Submission, sid)
    assert piece is not None
    moved = cases.move(
        session, piece, Status.ACCEPTED, actor="li", role=Role.STAFF, action="accept", now=NOW
    )
    assert (moved.before, moved.after, moved.moved) == ("received", "accepted", True)
    assert piece.status == "accepted" and piece.decided_at == NOW and piece.updated_at == NOW
    assert history(session, sid)[-1] == ("accept", "received", "accepted", "li")
    with pytest.raises(TransitionRefused, match="only staff may move accepted -> withdrawn|"):
        cases.move(
            session, piece, Status.DUPLICATE, actor="intake", role=Role.SYSTEM, action="x", now=NOW
        )
    assert piece.status == "accepted"


def test_leaving_duplicate_unlinks(session: Session) -> None:
    first = add_submission(session)
    sid = add_submission(session, status="duplicate")
    piece = session.get(Submission, sid)
    assert piece is not None
    piece.duplicate_of, piece.similarity = first, 1.0
    cases.move(session, piece, Status.RECEIVED, actor="li", role=Role.STAFF, action="nd", now=NOW)
    assert (piece.duplicate_of, piece.similarity) == (None, None)


def test_rights_move_by_its_own_table(session: Session) -> None:
    sid = add_submission(session)
    piece = session.get(Submission, sid)
    assert piece is not None
    with pytest.raises(TransitionRefused):  # a contributor cannot grant what nobody asked for
        cases.move(
            session, piece, CopyrightStatus.GRANTED, actor="intake", role=Role.CONTRIBUTOR,
            action="copyright", now=NOW,
        )  # fmt: skip
    cases.move(
        session, piece, CopyrightStatus.REQUESTED, actor="intake", role=Role.SYSTEM,
        action="copyright_request", now=NOW,
    )  # fmt: skip
    assert piece.copyright_requested_at == NOW and piece.status == "received"
    cases.move(
        session, piece, CopyrightStatus.GRANTED, actor="intake", role=Role.CONTRIBUTOR,
        action="copyright", now=NOW,
    )  # fmt: skip
    assert history(session, sid)[-1] == ("copyright", "requested", "granted", "intake")


@pytest.mark.parametrize("status", list(CopyrightStatus))
def test_staff_may_record_consent_from_any_status(status: CopyrightStatus) -> None:
    for decision in (CopyrightStatus.GRANTED, CopyrightStatus.REFUSED, CopyrightStatus.WAIVED):
        check_rights_move(1, status, decision, Role.STAFF)


def test_only_our_request_lets_a_contributor_decide() -> None:
    contributor = {
        (str(a), str(b))
        for (a, b), roles in RIGHTS_TRANSITIONS.items()
        if Role.CONTRIBUTOR in roles
    }
    assert contributor == {
        (asked, decided)
        for asked in ("requested", "reminded")
        for decided in ("granted", "refused")
    }


def test_only_intake_reminds_and_expires() -> None:
    for target in (CopyrightStatus.REMINDED, CopyrightStatus.EXPIRED):
        for (_, to), roles in RIGHTS_TRANSITIONS.items():
            if to is target:
                assert roles == {Role.SYSTEM}


def test_revoking_needs_a_grant_or_waiver() -> None:
    check_rights_move(1, "granted", "revoked")
    with pytest.raises(TransitionRefused, match="copyright is requested: cannot move to revoked"):
        check_rights_move(1, "requested", "revoked")


def test_claims_move_by_their_table(session: Session) -> None:
    letter = session.get(Submission, add_submission(session))
    assert letter is not None
    claim = Claim(
        status="received", claimant="law@firm.example", claimant_name="", subject="侵权",
        received_at=NOW, message_pk=letter.message_pk, urls=[], work_title="", demand="", score=4.0,
        signals=[], body_text="", updated_at=NOW,
    )  # fmt: skip
    session.add(claim)
    session.flush()
    moved = cases.touch(session, claim, "note", actor="li", now=NOW, note="看一下")
    assert (moved.before, moved.after) == ("received", "investigating")
    with pytest.raises(TransitionRefused):
        cases.move(
            session, claim, ClaimStatus.INVESTIGATING, actor="x", role=Role.CLAIMANT,
            action="reply_received", now=NOW,
        )  # fmt: skip
