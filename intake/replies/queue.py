"""The outbox's queue: render a template into an outbox row inside the caller's transaction, so
a letter exists if and only if what it answers was recorded, under the loop and flood rules
(own and no-reply addresses, the suppression list, the per-recipient daily limit, what the
SMTP server can carry); and the rules a row meets again when it is about to be sent.

Every address is compared in its one normalised form (:mod:`intake.text.addresses`): a letter
goes to ``normalise(address)``, which is deliverable (lower case, the domain's A-label), and
limits and suppression match its ``rate_key``."""

from __future__ import annotations

import logging
import os
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from intake.core.clock import as_utc
from intake.core.config import Settings, message_id_domain, own_addresses
from intake.core.errors import PermanentDeliveryError
from intake.core.mail import Address, OutgoingMail, ParsedMail
from intake.replies.mime import build_message
from intake.replies.render import (
    CODE_PLACEHOLDER,
    TEMPLATES,
    Renderer,
    bounded_context,
    confirmation_code,
    make_message_id,
)
from intake.store import outbox as outbox_store
from intake.store import submissions as submission_store
from intake.store.models import Claim, Message, Submission
from intake.text.addresses import (
    AddressError,
    is_noreply_address,
    normalise,
    normalised_or_empty,
    normalised_or_lower,
    rate_key_or_lower,
)
from intake.workflow.submission import RIGHTS_LETTERS

log = logging.getLogger(__name__)


DAY = timedelta(hours=24)
#: Templates that carry the copyright terms: their rows record the terms version, and they
#: print the letter's confirmation code (``confirmation_code``).
RIGHTS_TEMPLATES = RIGHTS_LETTERS


@dataclass(frozen=True, slots=True)
class Queued:
    """The result of asking for a reply: the outbox row id, or why none was queued."""

    outbox_id: int | None
    skipped: str = ""  # "" when queued; else the rule that stopped it
    raw: bytes = b""  # the letter's bytes as stored in the outbox row


def reply_target(mail: ParsedMail) -> Address | None:
    """Where an automatic reply goes: Reply-To, else From (the address classify checked)."""
    if mail.reply_to:
        first = mail.reply_to[0]
        name = first.name or (mail.sender.name if mail.sender else "")
        return Address(name=name, addr=first.addr)
    return mail.sender


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


# =========================================================================== queueing


class Replier:
    """Renders templates into outbox rows inside the caller's transaction."""

    def __init__(
        self,
        settings: Settings,
        reply_secret: bytes,
        clock: Callable[[], datetime],
        *,
        nonce: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._secret = reply_secret
        self._nonce = nonce
        self._domain = message_id_domain(settings)
        self._own = frozenset(normalised_or_empty(a) for a in own_addresses(settings)) - {""}
        self._own_keys = frozenset(rate_key_or_lower(a) for a in self._own)
        replies = settings.replies
        self.renderer = Renderer(
            replies.templates, replies.language, timezone=zoneinfo.ZoneInfo(replies.timezone)
        )

    # ------------------------------------------------------------------ the contract

    def queue(
        self,
        session: Session,
        *,
        template: str,
        to: Address,
        context: Mapping[str, object],
        submission_id: int | None = None,
        claim_id: int | None = None,
        in_reply_to_pk: int | None = None,
        automatic: bool = True,
    ) -> Queued:
        """Render ``template`` and add an outbox row, unless a rule forbids it.

        ``automatic`` replies obey every loop/flood rule (no-reply and own addresses,
        suppression list, per-recipient daily limit, and when sent the hourly cap);
        staff-triggered ones (automatic=False) skip the two limits. The letter goes to the
        normalised address, and what the sender wrote is bounded in it
        (:func:`~intake.replies.render.bounded_context`). Threading headers point at the
        message ``in_reply_to_pk``
        (default: the submission's or claim's original message). Common template variables
        (site_name, contact, name, number, title, byline, and the terms for copyright
        templates) are filled in when ``context`` does not give them. Queuing a
        ``copyright_request`` marks the submission's rights as requested under the current
        terms version (the caller moves its rights to requested).
        """
        now = as_utc(self.clock())
        refusal = self.refusal(session, to.addr, now=now, automatic=automatic)
        if refusal:
            log.info("no %s to %s: %s", template, to.addr, refusal)
            return Queued(None, refusal)
        to = Address(name=to.name, addr=normalise(to.addr))  # refusal checked it normalises
        try:
            mail, parent_pk, ctx = self._build(
                session,
                template=template,
                to=to,
                context=context,
                submission_id=submission_id,
                claim_id=claim_id,
                in_reply_to_pk=in_reply_to_pk,
                automatic=automatic,
                now=now,
            )
        except PermanentDeliveryError as exc:
            # An address no header can carry (a quoted local part with spaces, say): nothing
            # could ever deliver it, so it is not queued, and the history says why.
            log.info("no %s to %s: %s", template, to.addr, exc)
            return Queued(None, str(exc))
        version = str(ctx.get("terms_version", "")) if template in RIGHTS_TEMPLATES else ""
        outbox_id = outbox_store.add(
            session,
            mail,
            now=now,
            submission_id=submission_id,
            claim_id=claim_id,
            in_reply_to_pk=parent_pk,
            automatic=automatic,
            terms_version=version,
        )
        if template == "copyright_request" and submission_id is not None:
            submission = submission_store.get_submission(session, submission_id)
            outbox_store.note_copyright_request(session, submission, terms_version=version, now=now)
        log.info("queued %s to %s as outbox #%d", template, mail.to.addr, outbox_id)
        return Queued(outbox_id, raw=mail.raw)

    def render_preview(
        self,
        session: Session,
        *,
        template: str,
        to: Address,
        context: Mapping[str, object],
        submission_id: int | None = None,
        claim_id: int | None = None,
    ) -> bytes:
        """The bytes ``queue`` would store, without storing anything (``--dry-run``)."""
        to = Address(name=to.name, addr=normalised_or_lower(to.addr))
        mail, _parent, _ctx = self._build(
            session,
            template=template,
            to=to,
            context=context,
            submission_id=submission_id,
            claim_id=claim_id,
            in_reply_to_pk=None,
            automatic=False,
            now=as_utc(self.clock()),
            preview=True,
        )
        return mail.raw

    def code_for(self, session: Session, outbox_id: int) -> str:
        """The confirmation code a queued letter prints (made from its Message-ID)."""
        return confirmation_code(self._secret, outbox_store.get(session, outbox_id).message_id)

    def refusal(self, session: Session, addr: str, *, now: datetime, automatic: bool) -> str:
        """Why no reply may go to ``addr`` now ("" when one may)."""
        try:
            normal = normalise(addr)
        except AddressError:
            return f"no usable address {addr.strip()!r}"
        if normal in self._own or rate_key_or_lower(normal) in self._own_keys:
            return f"{addr.strip()} is our own address"
        if is_noreply_address(normal):
            return f"{addr.strip()} is a no-reply address"
        suppressed = outbox_store.active_suppression(session, normal, now)
        if suppressed is not None:
            return suppression_note(normal, suppressed.until, suppressed.reason)
        if automatic:
            limit = self.settings.replies.max_auto_replies_per_day
            sent = outbox_store.automatic_replies_since(session, normal, now - DAY)
            if sent >= limit:
                return f"daily limit: {sent} automatic replies to {normal} in 24 h (limit {limit})"
        if not normal.rpartition("@")[0].isascii():
            return self._needs_smtputf8(session, normal)
        return ""

    def _needs_smtputf8(self, session: Session, normal: str) -> str:
        """Mail to a non-ASCII local part travels only over SMTPUTF8: refused when the server
        is known not to offer it (known from the last session the outbox sender recorded; if
        none was, the letter is queued and the sender finds out, failing it with a note)."""
        smtp = self.settings.smtp
        if smtp is None:
            return ""
        offered = outbox_store.offered_extensions(session, smtp.host, smtp.port)
        if offered is None or "smtputf8" in offered:
            return ""
        return (
            f"{normal} needs SMTPUTF8 (its local part is not ASCII), which the SMTP server "
            f"{smtp.host}:{smtp.port} does not offer"
        )

    # ------------------------------------------------------------------ ingest rules

    def _build(
        self,
        session: Session,
        *,
        template: str,
        to: Address,
        context: Mapping[str, object],
        submission_id: int | None,
        claim_id: int | None,
        in_reply_to_pk: int | None,
        automatic: bool,
        now: datetime,
        preview: bool = False,
    ) -> tuple[OutgoingMail, int | None, dict[str, object]]:
        submission = (
            submission_store.get_submission(session, submission_id) if submission_id else None
        )
        claim = session.get(Claim, claim_id) if claim_id else None
        parent_pk = in_reply_to_pk
        if parent_pk is None:
            owner = claim if TEMPLATES.get(template) == "claim" and claim else submission or claim
            parent_pk = owner.message_pk if owner is not None else None
        parent = session.get(Message, parent_pk) if parent_pk is not None else None
        ctx = bounded_context({**self._defaults(template, to, submission, claim, now), **context})
        message_id = make_message_id(self._secret, self._domain, now=now, nonce=self._nonce(8))
        if template in RIGHTS_TEMPLATES:
            # Made from this letter's Message-ID: a preview's would name no letter we sent.
            code = CODE_PLACEHOLDER if preview else confirmation_code(self._secret, message_id)
            ctx.setdefault("confirmation_code", code)
        rendered = self.renderer.render(template, ctx)
        mail = build_message(
            rendered=rendered,
            from_address=self._from_address(),
            to=to,
            message_id=message_id,
            in_reply_to=parent.message_id if parent is not None else "",
            references=parent.references.split() if parent is not None else (),
            loop_value=self._domain,
            date=now,
            automatic=automatic,
            template=template,
        )
        return mail, parent.id if parent is not None else None, ctx

    def _defaults(
        self,
        template: str,
        to: Address,
        submission: Submission | None,
        claim: Claim | None,
        now: datetime,
    ) -> dict[str, object]:
        replies = self.settings.replies
        ctx: dict[str, object] = {
            "site_name": replies.site_name or self.settings.site.name,
            "contact": replies.contact,
            "name": to.name,
            # How many attachments and URLs the letter does not list (see bounded_context).
            "attachments_more": 0,
            "urls_more": 0,
        }
        if TEMPLATES.get(template) == "claim":
            ctx["number"] = claim.id if claim is not None else None
        else:
            ctx["number"] = submission.id if submission is not None else None
        if submission is not None:
            ctx["title"] = submission.title or submission.subject
            ctx["byline"] = submission.sender_name or submission.sender
            ctx["requested_at"] = _aware(submission.copyright_requested_at) or now
        if template.startswith("copyright_"):
            rights = self.settings.copyright
            ctx.update(
                platforms=list(rights.platforms),
                exclusive=rights.exclusive,
                term=rights.term,
                editing_allowed=rights.editing_allowed,
                fee_policy=rights.fee_policy,
                terms=rights.terms,
                terms_version=self.settings.copyright.version,
                respond_by=now + timedelta(days=rights.expiry_days),
            )
        return ctx

    def _from_address(self) -> str:
        # Without [smtp] staff replies still queue (they wait for SMTP to be configured), so
        # they need a From: an address of ours from the settings, else an .invalid placeholder.
        if self.settings.smtp is not None:
            return self.settings.smtp.from_address
        ours = [*self.settings.replies.own_addresses]
        ours += [box.username for box in self.settings.mailboxes if "@" in box.username]
        return ours[0] if ours else f"intake@{self._domain}"


# =========================================================================== sending


def suppression_note(addr: str, until: datetime, reason: str) -> str:
    why = f": {reason}" if reason else ""
    return f"{addr} is suppressed until {as_utc(until).date().isoformat()}{why}"


def send_refusal(
    session: Session, settings: Settings, row: outbox_store.Claimed, *, now: datetime
) -> str:
    """Why a claimed row must not be sent now, checked again just before SMTP ("" when it may
    go): its address was suppressed after it was queued (by staff or a permanent bounce), or
    an automatic row would pass the recipient's daily limit counting what was really sent."""
    suppressed = outbox_store.active_suppression(session, row.to_addr, now)
    if suppressed is not None:
        return suppression_note(row.to_addr, suppressed.until, suppressed.reason)
    if row.automatic:
        limit = settings.replies.max_auto_replies_per_day
        sent = outbox_store.automatic_handed_since(session, row.to_key, now - DAY, besides=row.id)
        if sent >= limit:
            return (
                f"daily limit: {sent} automatic replies to {row.to_addr} sent in 24 h "
                f"(limit {limit})"
            )
    return ""
