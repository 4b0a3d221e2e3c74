"""CLI commands for rights holders' claims: the claims queue, one claim, the staff actions on
claims (investigate, request-info, resolve, note, assign) and reclassify."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from intake.cli import Context, actor_name, cli, pass_ctx
from intake.cli.output import (
    change_json,
    echo_change,
    echo_text,
    emit_fields,
    emit_json,
    emit_table,
    iso,
    short,
)
from intake.core.clock import as_utc
from intake.store import claims as claim_store
from intake.workflow import claim as claimflow
from intake.workflow.claim import ClaimStatus, Outcome

# The use case (and the parser, templates and ingest it brings) loads for the commands that
# act; `intake --help` and the listings do without it.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from intake.replies.letters import Change
    from intake.rights.actions import Rights
    from intake.rights.reclassify import Reclassified, Reclassifier
    from intake.store.models import Claim, Event

F = TypeVar("F", bound=Callable[..., Any])
STATUSES = tuple(str(s) for s in ClaimStatus)
OUTCOMES = tuple(str(o) for o in Outcome)


def _rights(ctx: Context, *, replies: bool = True) -> Rights:
    from intake.replies.letters import Letters
    from intake.rights.actions import Rights

    app = ctx.app
    app.ready()
    # The Replier renders templates (jinja2): built only when a letter is wanted.
    return Rights(app.settings, app.sessions, app.letters if replies else Letters(None), app.clock)


def _reclassifier(ctx: Context, *, replies: bool) -> Reclassifier:
    from intake.replies.letters import Letters
    from intake.rights.reclassify import Reclassifier

    app = ctx.app
    app.ready()
    letters = app.letters if replies else Letters(None)
    from intake.ingest.parsing import parse

    return Reclassifier(app.settings, app.sessions, letters, app.clock, app.blobs, parse)


def _editor(text: str) -> str | None:
    # None when the editor quits without saving: the letter is sent as rendered.
    return click.edit(text, extension=".txt", require_save=True)


def _as_option(func: F) -> F:
    return click.option(
        "--as",
        "as_",
        metavar="NAME",
        help="Who is acting (default: $INTAKE_USER, else the OS user).",
    )(func)


def _json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


# --------------------------------------------------------------------------- JSON contracts


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
    """The fields of ``intake claim show --json`` (a contract): the summary's and more."""
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
                    "extract_error": a.extract_error,
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
                }
                for o in claim_store.outbox_for(session, claim.id)
            ],
        }
    )
    return data


def report(change: Change, as_json: bool) -> None:
    if as_json:
        emit_json(change_json(change))
        return
    echo_change(f"claim #{change.id}", change, "letter")


# --------------------------------------------------------------------------- the queue


@cli.command("claims")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only this status (repeat for several).",
)
@click.option(
    "--overdue", is_flag=True, help="Only claims still waiting for our answer past their deadline."
)
@click.option(
    "--submission",
    "submission_id",
    type=int,
    metavar="N",
    help="Only claims linked to submission N.",
)
@click.option("--assignee", metavar="NAME", help='Only assigned to NAME ("-": unassigned).')
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@_json_option
@pass_ctx
def claims_(
    ctx: Context,
    statuses: tuple[str, ...],
    overdue: bool,
    submission_id: int | None,
    assignee: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """Rights holders' copyright claims: open ones first, the nearest deadline first."""
    app = ctx.app
    app.ready()
    now = app.clock()
    with app.sessions() as session, session.begin():
        rows = claim_store.list_claims(
            session,
            statuses=statuses,
            overdue_at=now if overdue else None,
            submission_id=submission_id,
            assignee=("" if assignee == "-" else assignee) if assignee is not None else None,
            limit=limit,
            offset=offset,
        )
        events = claim_store.events_for_many(session, [c.id for c in rows])
        data = [claim_summary(c, events[c.id], now) for c in rows]
    if as_json:
        emit_json(data)
        return
    emit_table(
        ["id", "status", "deadline", "demand", "assignee", "claimant", "work", "links"],
        (
            [
                d["id"],
                d["status"],
                _local(d["deadline"]) + (" !" if d["overdue"] else ""),
                d["demand"],
                d["assignee"] or "-",
                short(d["claimant_name"] or d["claimant"], 24),
                short(d["work_title"] or d["subject"], 30),
                len(d["urls"]),
            ]
            for d in data
        ),
    )
    if len(data) == limit:
        click.echo(f"(first {limit} from {offset}; --offset {offset + limit} for more)", err=True)


def _local(value: str | None) -> str:
    if value is None:
        return "-"
    return as_utc(datetime.fromisoformat(value)).astimezone().strftime("%Y-%m-%d %H:%M")


@cli.group("claim")
def claim_group() -> None:
    """One rights holder's claim: show it, investigate, ask for evidence, resolve, note, assign.

    Statuses: received -> investigating -> resolved_removed | resolved_paid |
    resolved_licensed | rejected, with needs_info while waiting for the claimant's evidence.
    The claimant's answer puts a needs_info (or rejected) claim back into investigating.
    """


@claim_group.command("show")
@click.argument("claim_id", type=int)
@_json_option
@pass_ctx
def show(ctx: Context, claim_id: int, as_json: bool) -> None:
    """A claim: who, what, the site's pages it names, its letter, attachments and history."""
    app = ctx.app
    app.ready()
    now = app.clock()
    with app.sessions() as session, session.begin():
        data = claim_detail(session, claim_store.get_claim(session, claim_id), now)
    if as_json:
        emit_json(data)
        return
    claimant = data["claimant"]
    if data["claimant_name"]:
        claimant = f"{data['claimant_name']} <{claimant}>"
    linked = data["linked_submission"]
    fields: dict[str, object] = {
        "claim": f"#{data['id']}  {data['status']}",
        "from": claimant,
        "subject": data["subject"],
        "received": _local(data["received_at"]),
        "deadline": _local(data["deadline"]) + ("  OVERDUE" if data["overdue"] else ""),
        "work": data["work_title"] or "-",
        "demand": data["demand"],
        "assignee": data["assignee"] or "-",
        "score": f"{data['score']:g} ({', '.join(data['signals'])})",
        "submission": (
            f"#{linked['id']} {linked['status']} {linked['published_url'] or linked['title']}"
            if linked
            else "-"
        ),
    }
    if data["amount"]:
        fields["amount"] = data["amount"]
    for i, url in enumerate(data["urls"]):
        fields[f"link {i + 1}" if len(data["urls"]) > 1 else "link"] = url
    emit_fields(fields)
    echo_text(f"\n--- letter\n{(data['text'] or '(no text)').rstrip()}")
    for a in data["attachments"]:
        head = f"--- attachment {a['filename']} ({a['content_type']}, {a['size']:,} B)"
        click.echo("\n" + short(head, 1000))
        echo_text((a["text"] or a["extract_error"] or "(no text)").rstrip())
    if data["outbox"]:
        click.echo("\n--- letters")
        emit_table(
            ["id", "template", "state", "to", "subject"],
            ([o["id"], o["template"], o["state"], o["to"], short(o["subject"], 40)]
             for o in data["outbox"]),
        )  # fmt: skip
    click.echo("\n--- history")
    emit_table(
        ["at", "actor", "action", "status", "note"],
        (
            [_local(h["at"]), h["actor"], h["action"],
             f"{h['from']} -> {h['to']}" if h["from"] or h["to"] else "", short(h["note"], 70)]
            for h in data["history"]
        ),
    )  # fmt: skip


# --------------------------------------------------------------------------- staff actions


def _letter_options(func: F) -> F:
    for option in (
        click.option("-m", "--message", metavar="TEXT", default="",
                     help="Staff words for the letter (and the history)."),
        click.option("--edit", is_flag=True, help="Edit the letter in $EDITOR before sending."),
        click.option("--no-notify", is_flag=True, help="Do not write to the claimant."),
        click.option("--dry-run", is_flag=True, help="Print the letter; change nothing."),
        _as_option,
        _json_option,
    ):  # fmt: skip
        func = option(func)
    return func


@claim_group.command("investigate")
@click.argument("claim_id", type=int)
@click.option("-m", "--message", metavar="TEXT", default="", help="A note for the history.")
@click.option("--no-notify", is_flag=True, help="Accepted for symmetry: investigating sends none.")
@click.option("--dry-run", is_flag=True, help="Check the move; change nothing.")
@_as_option
@_json_option
@pass_ctx
def investigate(
    ctx: Context,
    claim_id: int,
    message: str,
    no_notify: bool,
    dry_run: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Start looking into a claim, or reopen a resolved one. Sends no letter."""
    change = _rights(ctx, replies=False).investigate(
        claim_id, actor=actor_name(as_), message=message, dry_run=dry_run
    )
    report(change, as_json)


@claim_group.command("request-info")
@click.argument("claim_id", type=int)
@_letter_options
@pass_ctx
def request_info(
    ctx: Context,
    claim_id: int,
    message: str,
    edit: bool,
    no_notify: bool,
    dry_run: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Ask the claimant for evidence (claim_needs_info; --message replaces the standard list)."""
    change = _rights(ctx, replies=not no_notify).request_info(
        claim_id,
        actor=actor_name(as_),
        message=message,
        notify=not no_notify,
        dry_run=dry_run,
        edit=_editor if edit else None,
    )
    report(change, as_json)


@claim_group.command("resolve")
@click.argument("claim_id", type=int)
@click.argument("outcome", type=click.Choice(OUTCOMES))
@click.option("--amount", metavar="X", default="", help="What was paid (required for paid).")
@_letter_options
@pass_ctx
def resolve(
    ctx: Context,
    claim_id: int,
    outcome: str,
    amount: str,
    message: str,
    edit: bool,
    no_notify: bool,
    dry_run: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Close a claim: removed, paid (--amount), licensed or rejected (--message: the reason).

    Sends the claimant claim_removed, claim_paid, claim_licensed or claim_rejected unless
    --no-notify.
    """
    change = _rights(ctx, replies=not no_notify).resolve(
        claim_id,
        Outcome(outcome),
        actor=actor_name(as_),
        amount=amount,
        message=message,
        notify=not no_notify,
        dry_run=dry_run,
        edit=_editor if edit else None,
    )
    report(change, as_json)


@claim_group.command("note")
@click.argument("claim_id", type=int)
@click.argument("text")
@_as_option
@_json_option
@pass_ctx
def note(ctx: Context, claim_id: int, text: str, as_: str | None, as_json: bool) -> None:
    """Add a note to a claim's history. A received claim goes into investigating."""
    change = _rights(ctx, replies=False).note(claim_id, text, actor=actor_name(as_))
    report(change, as_json)


@claim_group.command("assign")
@click.argument("claim_id", type=int)
@click.argument("name")
@_as_option
@_json_option
@pass_ctx
def assign(ctx: Context, claim_id: int, name: str, as_: str | None, as_json: bool) -> None:
    """Assign a claim to NAME ("-" unassigns). A received claim goes into investigating."""
    change = _rights(ctx, replies=False).assign(
        claim_id, "" if name == "-" else name, actor=actor_name(as_)
    )
    report(change, as_json)


# --------------------------------------------------------------------------- reclassify


@cli.command("reclassify")
@click.argument("ident", metavar="ID", type=int)
@click.argument("kind", type=click.Choice(["claim", "submission"]))
@click.option(
    "--message",
    "by",
    flag_value="message",
    help="ID is a message id (as in `intake messages`): spam, list or auto-reply mail too.",
)
@click.option(
    "--submission",
    "by",
    flag_value="submission",
    help="ID is a submission id (the default for `ID claim`).",
)
@click.option(
    "--claim", "by", flag_value="claim", help="ID is a claim id (the default for `ID submission`)."
)
@click.option("-m", "--note", "note", metavar="TEXT", default="", help="Why, for the history.")
@click.option(
    "--notify",
    is_flag=True,
    help="Send the new claim's or submission's acknowledgement (default: none).",
)
@_as_option
@_json_option
@pass_ctx
def reclassify(
    ctx: Context,
    ident: int,
    kind: str,
    by: str | None,
    note: str,
    notify: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Make a submission a claim, a claim a submission, or any message either.

    \b
      intake reclassify 7 claim                submission #7 (as in `intake list`) is a claim
      intake reclassify 3 submission           claim #3 (as in `intake claims`) is a submission
      intake reclassify 42 claim --message     message 42 (as in `intake messages`) is a claim

    ID is the id the listing of what it is now shows: a submission's for `claim`, a
    claim's for `submission`; --message takes a message id, for mail that is neither (spam,
    lists, auto-replies). A submission that becomes a claim is kept (withdrawn if it was
    still open); a claim that becomes a submission is rejected. Both get an event saying so.
    Nothing is sent unless --notify.
    """
    default = "submission" if kind == "claim" else "claim"
    done = _reclassifier(ctx, replies=notify).reclassify(
        ident,
        "claim" if kind == "claim" else "submission",
        by="message"
        if by == "message"
        else "submission"
        if (by or default) == "submission"
        else "claim",
        actor=actor_name(as_),
        message=note,
        notify=notify,
    )
    _reclassified(done, as_json)


def _reclassified(done: Reclassified, as_json: bool) -> None:
    if as_json:
        emit_json(
            {
                "message_id": done.message_pk,
                "kind": done.kind,
                "claim_id": done.claim_id,
                "submission_id": done.submission_id,
                "closed": done.closed,
                "outbox_id": done.outbox_id,
                "skipped": done.skipped,
            }
        )
        return
    made = f"claim #{done.claim_id}" if done.claim_id else f"submission #{done.submission_id}"
    line = f"message {done.message_pk} is now {done.kind}: {made}"
    if done.closed:
        line += f"; {done.closed}"
    if done.outbox_id is not None:
        line += f"; acknowledgement queued (outbox #{done.outbox_id})"
    elif done.skipped:
        line += f"; no acknowledgement: {done.skipped}"
    echo_text(line, multiline=False)
