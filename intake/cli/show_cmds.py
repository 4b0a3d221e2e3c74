"""CLI commands for one submission: show (all of it) and attachment (one file of it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from intake import store
from intake.cli import Context, cli, pass_ctx
from intake.cli.output import (
    Block,
    Heading,
    Part,
    emit_json,
    grid,
    is_terminal,
    page_parts,
    page_text,
    short,
    shown,
)

# No ORM here (models, sessions): list, show and stats read Core tables through
from intake.cli.views import (
    local,
    pending_line,
    submission_detail,
)
from intake.core.errors import NotFound, UsageError
from intake.store import queue as queue_store

# --------------------------------------------------------------------------- show


@cli.command()
@click.argument("submission_id", type=int)
@click.option(
    "--raw",
    is_flag=True,
    help="The original message as received: exact bytes when piped, paged on a terminal.",
)
@click.option(
    "--reveal", is_flag=True, help="Show the author's phone, ID and account numbers in full."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@pass_ctx
def show(ctx: Context, submission_id: int, raw: bool, reveal: bool, as_json: bool) -> None:
    """One submission, all of it.

    Header, flags, author, cover note, article, attachments with photo facts and captions,
    the conversation with each message's own text, consent and history."""
    app = ctx.app
    app.ready()
    now = app.clock()
    with store.reading(app.engine) as conn:
        raw_path = queue_store.submission(conn, submission_id).raw_path if raw else ""
        data = {} if raw else submission_detail(conn, submission_id, now, reveal=reveal)
    if raw:
        # Written after the transaction: a slow reader (a pager) must not hold the database.
        if not raw_path:
            raise NotFound(f"submission {submission_id}: the original message was not stored")
        if is_terminal():
            # On a terminal the mail's bytes are shown, never obeyed: a header may hide escape
            # sequences. Piped (`> file.eml`, `| formail`) they are exact.
            payload = app.blobs.get(raw_path)
            page_text(shown(payload.decode("utf-8", "replace"), multiline=True))
            return
        sys.stdout.flush()
        for piece in app.blobs.chunks(raw_path):  # a piece at a time: never held whole twice
            sys.stdout.buffer.write(piece)
        sys.stdout.buffer.flush()
        return
    if as_json:
        emit_json(data)
        return
    page_parts(show_parts(data))


def show_parts(data: dict[str, Any], *, wide: bool = True) -> list[Part]:
    """What ``intake show`` prints (and ``intake triage`` draws) from the ``show --json`` data.

    ``wide`` False leaves out what a side pane has no room for (the consent evidence's
    message ids; the letters' full text beyond the staff's own).
    """
    sender = data["sender"]
    if data["sender_name"]:
        sender = f"{data['sender_name']} <{sender}>"
    due = local(data["decision_due"])
    if data["overdue"]:
        due += "  OVERDUE"
    fields: dict[str, object] = {
        "submission": f"#{data['id']}  {data['status']}",
        "copyright": data["copyright_status"]
        + (
            f" (asked {local(data['copyright_requested_at'])})"
            if data["copyright_requested_at"]
            else ""
        ),
        "from": sender,
        "subject": data["subject"],
        "received": local(data["received_at"]),
        "decide by": due,
        "assignee": data["assignee"] or "-",
        "length": f"{data['char_count']:,} 字 / {data['word_count']:,} words"
        + (f" (from {data['article_source']})" if data["article_source"] else ""),
    }
    if data["published_url"]:
        fields["published"] = data["published_url"]
    if data["duplicate_of"]:
        similarity = f" (similarity {data['similarity']:.2f})" if data["similarity"] else ""
        fields["duplicate of"] = f"#{data['duplicate_of']}{similarity}"
    pending = (data.get("consent") or {}).get("pending")
    if pending:
        fields["consent pending"] = pending_line(data["id"], pending)
    if data["flagged"]:
        fields["flagged"] = f"{data['flagged']}  (intake flag clear {data['id']})"
    width = max(len(k) for k in fields)
    parts: list[Part] = [f"{k.ljust(width)}  {v}" for k, v in fields.items()]
    author = author_lines(data.get("author") or {})
    if author:
        parts += ["", Heading("author"), *author]
    if data.get("cover_note"):
        parts += ["", Heading("cover note"), Block(data["cover_note"])]
    parts += ["", Heading("article"), Block(data["text"] or "(no article text)")]
    if data["attachments"]:
        parts += ["", Heading(f"attachments (intake attachment {data['id']} N)")]
        parts += attachment_parts(data["attachments"])
    mail = mail_rows(data["conversation"], data["outbox"])
    if mail:
        parts += ["", Heading("conversation")]
        if wide:
            parts.append(grid(["at", "", "who", "what", "subject"], mail))
        else:  # a side pane: who wrote each is in the headings below
            parts.append(
                grid(["at", "", "what", "subject"], ([r[0][5:], r[1], *r[3:]] for r in mail))
            )
        parts += said_parts(data["conversation"], data["outbox"], wide)
    for title, columns, rows in consent_sections(data, wide=wide):
        parts += ["", Heading(title), grid(columns, rows)]
    if data["claims"]:
        parts += ["", Heading("copyright claims naming this article")]
        parts.append(
            grid(
                ["claim", "status", "claimant", "received"],
                (
                    [f"#{c['id']}", c["status"], c["claimant"], local(c["received_at"])]
                    for c in data["claims"]
                ),
            )
        )
    parts += ["", Heading("history"), history_grid(data["history"])]
    return parts


#: The labels of the ``author`` fields of ``show --json`` (masked unless revealed).
AUTHOR_LABELS = {
    "name": "name", "pen_name": "pen name", "phone": "phone", "address": "address",
    "postcode": "postcode", "organisation": "organisation", "id_number": "ID number",
    "bank": "bank", "account": "account",
}  # fmt: skip


def author_lines(author: dict[str, str]) -> list[Part]:
    """The contributor's details, one line each (as ``show --json`` gives them: masked)."""
    known = {AUTHOR_LABELS[k]: v for k, v in author.items() if v and k in AUTHOR_LABELS}
    if not known:
        return []
    width = max(len(k) for k in known)
    return [f"{k.ljust(width)}  {v}" for k, v in known.items()]


def attachment_parts(attachments: Sequence[dict[str, Any]]) -> list[Part]:
    """The files, numbered as ``intake attachment ID N`` takes them, with what is known of
    each (a document's text length, a photo's size, time and camera), then the captions the
    contributor wrote for the photos."""
    rows = [
        [str(n), a["filename"], _size(a["size"]), _facts(a)]
        for n, a in enumerate(attachments, start=1)
    ]
    parts: list[Part] = [grid(["n", "file", "size", "facts"], rows)]
    captions = [
        f"{n}  {a['filename']}: {a['meta']['caption']}"
        for n, a in enumerate(attachments, start=1)
        if isinstance(a.get("meta"), dict) and a["meta"].get("caption")
    ]
    if captions:
        parts += ["captions:", *(f"  {line}" for line in captions)]
    return parts


def _facts(attachment: dict[str, Any]) -> str:
    meta = attachment.get("meta") or {}
    if attachment["extract_error"]:
        return str(attachment["extract_error"])
    if attachment["kind"] == "image" or "width" in meta:
        facts = [str(meta.get("format", "image")).upper()]
        if meta.get("width") and meta.get("height"):
            facts.append(f"{meta['width']}×{meta['height']}")
        if meta.get("taken_at"):
            facts.append(f"taken {str(meta['taken_at'])[:16].replace('T', ' ')}")
        if meta.get("camera"):
            facts.append(str(meta["camera"]))
        return ", ".join(facts)
    if attachment["kind"] == "archive" and isinstance(meta.get("members"), list):
        return f"archive of {len(meta['members'])} files"
    chars = attachment["text_chars"]
    if chars:
        return f"{chars:,} chars" + (" (encrypted)" if attachment["encrypted"] else "")
    return "encrypted" if attachment["encrypted"] else attachment["content_type"]


def consent_sections(
    data: dict[str, Any], *, wide: bool = True
) -> list[tuple[str, list[str], list[list[object]]]]:
    """The versions and consent sections of ``intake show`` as (title, columns, rows), from the
    ``show --json`` data."""
    sections: list[tuple[str, list[str], list[list[object]]]] = []
    if len(data.get("versions", [])) > 1:
        rows: list[list[object]] = [
            [v["number"], _minute(v["created_at"]), v["message_pk"], v["char_count"]]
            for v in data["versions"]
        ]
        sections.append(("versions", ["version", "at", "message", "chars"], rows))
    evidence = data.get("consent", {}).get("evidence", [])
    if evidence:
        if wide:
            rows = [
                [_minute(e["at"]), e["decision"], e.get("state") or "-", e["actor"], e["phrase"],
                 e.get("authenticity") or "-", e["dkim"] or "-", e["terms_version"],
                 short(e["message_id"] or e["note"], 40)]
                for e in evidence
            ]  # fmt: skip
            columns = [
                "at", "decision", "state", "by", "phrase", "bound", "dkim", "terms",
                "message / note",
            ]  # fmt: skip
        else:
            rows = [
                [_minute(e["at"]), e["decision"], e.get("state") or "-", e["actor"], e["phrase"]]
                for e in evidence
            ]
            columns = ["at", "decision", "state", "by", "phrase"]
        sections.append(("consent", columns, rows))
    return sections


def _minute(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def history_grid(history: Sequence[dict[str, Any]]) -> Part:
    """A case's history (``history`` of ``show --json`` or ``claim show --json``) as a table."""
    return grid(
        ["at", "actor", "action", "status", "note"],
        (
            [
                local(h["at"]),
                h["actor"],
                h["action"],
                f"{h['from']} -> {h['to']}".strip() if h["from"] or h["to"] else "",
                h["note"],
            ]
            for h in history
        ),
    )


def mail_rows(
    conversation: Sequence[dict[str, Any]], outbox: Sequence[dict[str, Any]]
) -> list[list[str]]:
    """Their messages and our letters, in the order they happened: at, in/out, who, what,
    subject."""
    rows: list[tuple[str, list[str]]] = []
    for m in conversation:
        what = m["kind"] + (" (original)" if m["original"] else "")
        rows.append((m["received_at"] or "", ["in", m["sender"], what, m["subject"]]))
    for o in outbox:
        what = f"{o['template']} [{o['state']}{'' if o['automatic'] else ', staff'}]"
        at = o["sent_at"] or o["created_at"] or ""
        rows.append((at, ["out", o["to"], what, o["subject"]]))
    rows.sort(key=lambda row: row[0])
    return [[local(at or None), *rest[:3], short(rest[3], 50)] for at, rest in rows]


def said_parts(
    conversation: Sequence[dict[str, Any]], outbox: Sequence[dict[str, Any]], wide: bool
) -> list[Part]:
    """Each later message's own words and the desk's own letters, oldest first: what a reply
    said is read here, not in a history note. Automatic letters (acknowledgments, requests)
    are in the table above; their text only in the wide view."""
    said: list[tuple[str, list[Part]]] = []
    for m in conversation:
        if m["original"]:
            continue
        title = f"{local(m['received_at'])}  {m['kind']} from {m['sender']}"
        said.append((m["received_at"] or "", [Heading(title), Block(m["text"] or "(no new text)")]))
    for o in outbox:
        if o["automatic"] and not wide:
            continue
        at = o["sent_at"] or o["created_at"] or ""
        title = f"{local(at or None)}  {o['template']} to {o['to']} [{o['state']}]"
        said.append((at, [Heading(title), Block(o.get("text") or "(no text)")]))
    said.sort(key=lambda item: item[0])
    parts: list[Part] = []
    for _at, block in said:
        parts += ["", *block]
    return parts


def _size(size: int) -> str:
    if size < 1024:
        return f"{size:,} B"
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} KB"
    return f"{size / 1024 / 1024:,.1f} MB"


# --------------------------------------------------------------------------- attachment


_F = TypeVar("_F", bound=Callable[..., Any])


def attachment_options(command: _F) -> _F:
    """N, --save, --open and --force: what ``intake attachment`` and ``intake claim
    attachment`` both take."""
    for option in reversed(
        (
            click.argument("number", type=click.IntRange(min=1), metavar="N"),
            click.option(
                "--save",
                type=click.Path(path_type=Path),
                metavar="PATH",
                help="Write the file here (a folder: under its own safe name).",
            ),
            click.option(
                "--open", "open_", is_flag=True, help="Open it with the desktop's viewer."
            ),
            click.option("--force", is_flag=True, help="Replace a file already at PATH."),
        )
    ):
        command = option(command)
    return command


@cli.command()
@click.argument("submission_id", type=int)
@attachment_options
@pass_ctx
def attachment(
    ctx: Context, submission_id: int, number: int, save: Path | None, open_: bool, force: bool
) -> None:
    """Save, open or pipe file N of a submission.

    N as `intake show` numbers the attachments.

    \b
      intake attachment 12 2 --save ~/photos/     under its safe name
      intake attachment 12 2 --open               xdg-open (or $INTAKE_OPENER)
      intake attachment 12 1 > article.docx
    """
    if save is not None and open_:
        raise UsageError("give --save or --open, not both")
    app = ctx.app
    app.ready()
    with store.reading(app.engine) as conn:
        row = queue_store.attachment_file(conn, submission_id, number)
    if not row.blob_path:
        raise NotFound(f"submission {submission_id}: attachment {number} was not stored")
    deliver_attachment(
        f"#{submission_id} attachment {number}",
        app.blobs.get(row.blob_path),
        safe_name=row.safe_name,
        filename=row.filename,
        size=row.size,
        save=save,
        open_=open_,
        force=force,
    )


def deliver_attachment(
    label: str,
    payload: bytes,
    *,
    safe_name: str,
    filename: str,
    size: int,
    save: Path | None,
    open_: bool,
    force: bool,
) -> None:
    """What ``intake attachment`` and ``intake claim attachment`` do with the file: save it,
    open it, or write its bytes to a pipe (never to a terminal)."""
    if save is not None:
        target = save_attachment(payload, safe_name, save, force=force)
        click.echo(f"{label} saved to {shown(str(target))}")
        return
    if open_:
        target = open_attachment(payload, safe_name)
        click.echo(f"{label} opened ({shown(str(target))})")
        return
    if is_terminal():
        raise UsageError(
            f"{label} is {shown(filename)} ({_size(size)}): "
            "use --save PATH or --open, or redirect the output to a file"
        )
    sys.stdout.flush()
    sys.stdout.buffer.write(payload)
    sys.stdout.buffer.flush()


def save_attachment(payload: bytes, safe_name: str, where: Path, *, force: bool = False) -> Path:
    """Write an attachment to ``where`` (a folder: under its safe name); never over a file
    unless ``force``. The name is the one intake made safe, not the sender's."""
    where = where.expanduser()
    target = where / safe_name if where.is_dir() or str(where).endswith(os.sep) else where
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb" if force else "xb") as fh:
            fh.write(payload)
    except FileExistsError:
        raise UsageError(f"{target} exists: choose another PATH or add --force") from None
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def open_attachment(payload: bytes, safe_name: str) -> Path:
    """Hand the file to the desktop's viewer (``$INTAKE_OPENER``, else xdg-open, else open):
    written first to a private folder of its own, under its safe name."""
    folder = Path(tempfile.mkdtemp(prefix="intake-"))  # mode 0700: the file stays private
    target = folder / safe_name
    target.write_bytes(payload)
    opener = os.environ.get("INTAKE_OPENER") or shutil.which("xdg-open") or shutil.which("open")
    if not opener:
        raise UsageError(f"no viewer to open it with (install xdg-open); it is at {target}")
    # Through a shell that starts the viewer in the background and returns at once: the viewer
    # outlives the command, is nobody's child, and must not scribble on the terminal (or on
    # intake triage's screen). $0 is split on purpose: INTAKE_OPENER may carry arguments.
    launcher = '$0 "$1" </dev/null >/dev/null 2>&1 &'
    try:
        subprocess.run(["/bin/sh", "-c", launcher, opener, str(target)], check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError(f"cannot run {opener}: {exc}; the file is {target}") from None
    return target


# --------------------------------------------------------------------------- stats
