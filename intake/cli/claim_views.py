"""What the claim commands show, as data and as parts: the JSON contracts of ``intake claims``
and ``intake claim show`` (docs/cli.md), and the parts ``claim show`` prints and ``intake
triage`` draws, made from the same pieces as a submission's (:mod:`intake.cli.show_cmds`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from intake.cli.output import Block, Heading, Part, grid, iso, short
from intake.cli.show_cmds import attachment_parts, history_grid, mail_rows, said_parts
from intake.cli.views import local
from intake.core.clock import as_utc
from intake.store import claims as claim_store
from intake.text import quotes
from intake.text.mailbody import plain_text
from intake.workflow import claim as claimflow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from intake.store.models import Claim, Event


def _iso(value: datetime | None) -> str | None:
    # SQLite hands back naive datetimes (always UTC here); say so, as PostgreSQL's do.
    return iso(as_utc(value)) if value is not None else None


def history(events: Sequence[Event]) -> list[dict[str, Any]]:
    return [
        {
            "at": _iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "from": e.from_status,
            "to": e.to_status,
            "note": e.note,
        }
        for e in events
    ]


def claim_summary(claim: Claim, events: Sequence[Event], now: datetime) -> dict[str, Any]:
    """The fields of ``intake claims --json`` (a contract)."""
    return {
        "id": claim.id,
        "status": claim.status,
        "claimant": claim.claimant,
        "claimant_name": claim.claimant_name,
        "subject": claim.subject,
        "received_at": _iso(claim.received_at),
        "urls": list(claim.urls),
        "work_title": claim.work_title,
        "demand": claim.demand,
        "deadline": _iso(claim.deadline),
        "overdue": claimflow.is_overdue(claim.status, claim.deadline, now),
        "assignee": claim.assignee,
        "amount": claim.amount,
        "history": history(events),
    }


def claim_detail(session: Session, claim: Claim, now: datetime) -> dict[str, Any]:
    """The fields of ``intake claim show --json`` (a contract): the summary's and more.

    Attachments are numbered as ``intake claim attachment ID N`` takes them; a later message
    carries what its sender wrote this time (``text``), a letter of ours its text."""
    data = claim_summary(claim, claim_store.events_for(session, claim.id), now)
    linked = (
        claim_store.get_submission(session, claim.submission_id)
        if claim.submission_id is not None
        else None
    )
    data.update(
        {
            "text": claim.body_text,
            "score": claim.score,
            "signals": list(claim.signals),
            "message_pk": claim.message_pk,
            "linked_submission": (
                {
                    "id": linked.id,
                    "status": linked.status,
                    "title": linked.title,
                    "published_url": linked.published_url,
                }
                if linked is not None
                else None
            ),
            "attachments": [
                {
                    "id": a.id,
                    "message_pk": a.message_pk,
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "sha256": a.sha256,
                    "kind": a.kind,
                    "text": a.text,
                    "text_chars": a.text_chars,
                    "extract_error": a.extract_error,
                    "encrypted": a.encrypted,
                    "meta": a.meta,
                }
                for a in claim_store.attachments_for(session, claim)
            ],
            "messages": [
                {
                    "id": m.id,
                    "message_id": m.message_id,
                    "received_at": _iso(m.received_at),
                    "sender": m.sender,
                    "subject": m.subject,
                    "kind": m.kind,
                    "original": m.id == claim.message_pk,
                    # What they wrote this time, without the quoted mail below it.
                    "text": "" if m.id == claim.message_pk else quotes.new_text(m.body_text),
                }
                for m in claim_store.messages_for(session, claim)
            ],
            "outbox": [
                {
                    "id": o.id,
                    "template": o.template,
                    "to": o.to_addr,
                    "subject": o.subject,
                    "message_id": o.message_id,
                    "state": o.state,
                    "automatic": o.automatic,
                    "created_at": _iso(o.created_at),
                    "sent_at": _iso(o.sent_at),
                    "last_error": o.last_error,
                    "text": plain_text(o.raw or b""),
                }
                for o in claim_store.outbox_for(session, claim.id, with_raw=True)
            ],
        }
    )
    return data


def claim_parts(data: dict[str, Any], *, wide: bool = True) -> list[Part]:
    """What ``intake claim show`` prints (and ``intake triage`` draws) from the ``claim show
    --json`` data: who and what, the claimant's letter, the evidence (attachments with their
    facts, then each document's text), the conversation with each message's own words, the
    history. ``wide`` False is a side pane's: no automatic letters' text, shorter lines."""
    claimant = data["claimant"]
    if data["claimant_name"]:
        claimant = f"{data['claimant_name']} <{claimant}>"
    linked = data["linked_submission"]
    fields: dict[str, object] = {
        "claim": f"#{data['id']}  {data['status']}",
        "from": claimant,
        "subject": data["subject"],
        "received": local(data["received_at"]),
        "deadline": local(data["deadline"]) + ("  OVERDUE" if data["overdue"] else ""),
        "work": data["work_title"] or "-",
        "demand": data["demand"],
        "assignee": data["assignee"] or "-",
        "score": f"{data['score']:g} ({', '.join(data['signals'])})",
        "submission": (
            f"#{linked['id']} {linked['status']} {linked['published_url'] or linked['title']}"
            if linked
            else "- (none of our articles matched)"
        ),
    }
    if not wide:  # the signals are for whoever tunes the rules, not for the desk's pane
        fields["score"] = f"{data['score']:g}"
    if data["amount"]:
        fields["amount"] = data["amount"]
    for i, url in enumerate(data["urls"]):
        fields[f"link {i + 1}" if len(data["urls"]) > 1 else "link"] = url
    width = max(len(k) for k in fields)
    parts: list[Part] = [f"{k.ljust(width)}  {v}" for k, v in fields.items()]
    parts += ["", Heading("letter"), Block((data["text"] or "(no text)").rstrip())]
    attachments = data["attachments"]
    if attachments:
        parts += ["", Heading(f"evidence (intake claim attachment {data['id']} N)")]
        parts += attachment_parts(attachments)
        for n, a in enumerate(attachments, start=1):
            if a["text"]:
                parts += ["", Heading(f"{n}  {a['filename']}"), Block(a["text"].rstrip())]
    conversation = [
        {**m, "sender_name": ""} for m in data["messages"]
    ]  # the rows mail_rows reads, as a submission's conversation has them
    rows = mail_rows(conversation, data["outbox"])
    if rows:
        parts += ["", Heading("conversation")]
        if wide:
            parts.append(grid(["at", "", "who", "what", "subject"], rows))
        else:
            parts.append(
                grid(["at", "", "what", "subject"], ([r[0][5:], r[1], *r[3:]] for r in rows))
            )
        parts += said_parts(conversation, data["outbox"], wide)
    parts += ["", Heading("history"), history_grid(data["history"])]
    return parts


def claim_line(data: dict[str, Any]) -> list[object]:
    """One claim in ``intake claims``: id, status, deadline, demand, assignee, claimant,
    work, links."""
    return [
        data["id"],
        data["status"],
        local(data["deadline"]) + (" !" if data["overdue"] else ""),
        data["demand"],
        data["assignee"] or "-",
        short(data["claimant_name"] or data["claimant"], 24),
        short(data["work_title"] or data["subject"], 30),
        len(data["urls"]),
    ]
