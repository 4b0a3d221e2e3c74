"""Tell the desk about new mail (``[desk] notify``): a message for each new submission and
claim, queued in the transaction that recorded it, or a digest per hour or per day.

Notices go through the outbox like every letter. Each submission and claim is announced at
most once (``desk_notices`` is unique on it) and each digest period at most once
(``desk_digests``), so a crash, a restart or a second daemon never tells the desk twice: the
loser of a race fails on the unique key and rolls back its outbox rows with it. Only
submissions and claims are announced, so ignored mail (bounces, auto-replies, lists, spam)
never is.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from intake.core.config import DeskConfig, Settings
from intake.core.events import Ingested
from intake.core.mail import Address
from intake.replies.letters import Letter, Letters
from intake.store import desk as desk_store
from intake.store.desk import NewItem
from intake.store.models import Claim, Submission
from intake.workflow.cases import SYSTEM_ACTOR, record

log = logging.getLogger(__name__)

#: A digest lists at most this many pieces; the rest are counted ("and 12 more").
DIGEST_LIMIT = 60


def open_command(item: NewItem) -> str:
    """The command that opens ``item``."""
    return f"intake show {item.id}" if item.kind == "submission" else f"intake claim show {item.id}"


def item_context(item: NewItem, zone: zoneinfo.ZoneInfo) -> dict[str, object]:
    """What the desk templates show of one piece."""
    return {
        "kind": item.kind,
        "id": item.id,
        "subject": " ".join(item.subject.split())[:200],
        "sender": item.sender,
        "sender_name": " ".join(item.sender_name.split())[:100],
        "received_at": item.received_at.astimezone(zone),
        "chars": item.chars,
        "attachments": item.attachments,
        "status": item.status,
        "duplicate_of": item.duplicate_of,
        "command": open_command(item),
    }


def period_of(desk: DeskConfig, now: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """The digest period ``now`` falls in, named by its start in ``zone``: the hour, or the
    day starting at ``digest_time``. A digest of the period goes out once it has begun."""
    local = now.astimezone(zone)
    if desk.notify_mode == "hourly":
        start = local.replace(minute=0, second=0, microsecond=0)
    else:
        hour, _, minute = desk.digest_time.partition(":")
        start = local.replace(hour=int(hour), minute=int(minute), second=0, microsecond=0)
        if start > local:
            start -= timedelta(days=1)
    return f"{desk.notify_mode} {start.isoformat(timespec='minutes')}"


@dataclass(frozen=True, slots=True)
class DigestRun:
    """What one look at the digest did: the period, how many pieces, the outbox rows."""

    period: str = ""
    items: int = 0
    outbox_ids: tuple[int, ...] = ()
    skipped: str = ""  # why nothing was sent


class Desk:
    """The notices to the desk: the ingest hook (``each``) and the digest job."""

    def __init__(self, settings: Settings, letters: Letters, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.desk = settings.desk
        self.letters = letters
        self.clock = clock
        self.zone = zoneinfo.ZoneInfo(settings.replies.timezone)

    @property
    def recipients(self) -> list[Address]:
        found = []
        for value in self.desk.notify:
            name, addr = parseaddr(value)
            found.append(Address(name=name, addr=addr))
        return found

    # ------------------------------------------------------------------ each

    def ingest_hook(self, session: Session, item: Ingested) -> None:
        """``notify_mode = "each"``: one message per new submission or claim, to every address
        in ``notify``, in the transaction that recorded it."""
        if not self.desk.notify or self.desk.notify_mode != "each":
            return
        for new in desk_store.made_from(session, item.message_pk):
            self.announce(session, new, now=item.now)

    def announce(self, session: Session, item: NewItem, *, now: datetime) -> list[int]:
        """Queue the ``desk_new`` message about ``item`` and record that the desk knows."""
        queued: list[int] = []
        why: list[str] = []
        shown = item_context(item, self.zone)
        context = {**shown, "item": shown}
        for to in self.recipients:
            sent = self.letters.send(
                session, None, Letter("desk_new", to, context), actor=SYSTEM_ACTOR, now=now
            )
            if sent.outbox_id is not None:
                queued.append(sent.outbox_id)
            else:
                why.append(f"{to.addr}: {sent.skipped}")
        note = _note(queued, why)
        desk_store.add_notice(session, item, digest="", note=note, now=now)
        self._history(session, item, note, now)
        return queued

    # ------------------------------------------------------------------ digests

    def digest(self, sessions: sessionmaker[Session]) -> DigestRun:
        """Send the digest of the current period if it is not sent yet (the daemon's job).

        A period with nothing new is recorded too, so what arrives later waits for the next
        period instead of going out at once. Losing a race to another daemon rolls back.
        """
        if not self.desk.notify or self.desk.notify_mode == "each":
            return DigestRun(skipped="no digest configured")
        now = self.clock()
        period = period_of(self.desk, now, self.zone)
        try:
            with sessions() as session, session.begin():
                if desk_store.digest_sent(session, period):
                    return DigestRun(period, skipped="sent already")
                items = desk_store.unannounced(session)
                queued: list[int] = []
                why: list[str] = []
                if items:
                    queued, why = self._send_digest(session, period, items, now)
                note = _note(queued, why) if items else ""
                for item in items:
                    desk_store.add_notice(session, item, digest=period, note=note, now=now)
                desk_store.add_digest(session, period, items=len(items), note=note, now=now)
        except IntegrityError:
            # Another daemon recorded this period (or these pieces) first: its digest stands.
            log.info("desk digest %s: sent by another process", period)
            return DigestRun(period, skipped="sent by another process")
        if items:
            log.info("desk digest %s: %d new, %s", period, len(items), note)
        return DigestRun(period, len(items), tuple(queued), "" if queued else "; ".join(why))

    def _send_digest(
        self, session: Session, period: str, items: Sequence[NewItem], now: datetime
    ) -> tuple[list[int], list[str]]:
        listed = [item_context(item, self.zone) for item in items[:DIGEST_LIMIT]]
        context: dict[str, object] = {
            "items": listed,
            "submissions": sum(1 for i in items if i.kind == "submission"),
            "claims": sum(1 for i in items if i.kind == "claim"),
            "more": max(0, len(items) - DIGEST_LIMIT),
            "mode": self.desk.notify_mode,
            "period_start": _period_start(period),
        }
        queued: list[int] = []
        why: list[str] = []
        for to in self.recipients:
            sent = self.letters.send(
                session, None, Letter("desk_digest", to, context), actor=SYSTEM_ACTOR, now=now
            )
            if sent.outbox_id is not None:
                queued.append(sent.outbox_id)
            else:
                why.append(f"{to.addr}: {sent.skipped}")
        return queued, why

    @staticmethod
    def _history(session: Session, item: NewItem, note: str, now: datetime) -> None:
        case: Submission | Claim | None = (
            session.get(Submission, item.id)
            if item.kind == "submission"
            else session.get(Claim, item.id)
        )
        if case is not None:
            record(session, case, "desk", actor=SYSTEM_ACTOR, now=now, note=f"desk told: {note}")


def _period_start(period: str) -> datetime:
    return datetime.fromisoformat(period.partition(" ")[2])


def _note(queued: Sequence[int], why: Sequence[str]) -> str:
    parts = []
    if queued:
        parts.append("outbox " + ", ".join(f"#{n}" for n in queued))
    if why:
        parts.append("not sent: " + "; ".join(why))
    return "; ".join(parts) or "nobody to tell"
