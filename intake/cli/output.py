"""Output helpers for the staff CLI: stable JSON, rich tables that align Chinese text, and
plain text when piped. Every contributor string goes through :func:`intake.text.display.visible`
on its way out, and JSON is written with every control escaped."""

from __future__ import annotations

import json
import logging
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import click

from intake.text.display import json_safe, visible

if TYPE_CHECKING:  # rich is imported when a table is drawn: --json output never needs it
    from rich.console import Console


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    # rich honours NO_COLOR and turns colour off when not writing to a terminal.
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def emit_json(data: Any) -> None:
    # Exact JSON; DEL, C1 and bidi characters escaped too (json.dumps escapes only C0).
    click.echo(json_safe(json.dumps(data, ensure_ascii=False, indent=2, default=_default)))


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit_table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], *, title: str | None = None
) -> None:
    """A table: drawn with rich on a terminal; piped, plain aligned text, never wrapped or
    cut, so ``grep`` and ``awk`` see whole lines."""
    cells = [[_cell(v) for v in row] for row in rows]
    if not cells:
        click.echo("(none)")
        return
    if not is_terminal():
        click.echo((f"{title}\n" if title else "") + plain_table(columns, cells))
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out = console()
    table = Table(*columns, title=title, box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for row in cells:
        # Text, not str: a contributor's subject like "[/b]" is not rich markup.
        table.add_row(*(Text(cell) for cell in row))
    out.print(table, overflow="ellipsis", crop=True)


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned with spaces, counting a Chinese character as two cells."""
    lines = [list(columns), *rows]
    widths = [max(display_width(line[i]) for line in lines) for i in range(len(columns))]
    return "\n".join(
        "  ".join(
            cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    )


def display_width(text: str) -> int:
    """Terminal cells ``text`` takes: two for wide (CJK) characters, none for combining ones."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return width


def emit_fields(pairs: Mapping[str, object]) -> None:
    width = max((len(k) for k in pairs), default=0)
    for key, value in pairs.items():
        click.echo(f"{key.ljust(width)}  {_cell(value)}")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return visible(value)


def echo_text(text: object, *, multiline: bool = True, err: bool = False) -> None:
    """Print contributor text (a letter, an article, a file name) with controls shown."""
    click.echo(visible(text, multiline=multiline), err=err)


class SafeFormatter(logging.Formatter):
    """Log lines for the terminal: a message that quotes contributor text shows its controls."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record), multiline=True)


def short(text: str, width: int = 40) -> str:
    text = " ".join(visible(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def is_terminal() -> bool:
    return sys.stdout.isatty()


class _Reply(Protocol):
    @property
    def template(self) -> str: ...
    @property
    def to(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def text(self) -> str: ...


class ActionResult(Protocol):
    """What a staff action on a submission or a claim reports (editorial.Change, ClaimChange)."""

    @property
    def from_status(self) -> str: ...
    @property
    def to_status(self) -> str: ...
    @property
    def moved(self) -> bool: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def reply(self) -> _Reply | None: ...
    @property
    def outbox_id(self) -> int | None: ...
    @property
    def skipped(self) -> str: ...


def echo_change(label: str, change: ActionResult, letter: str) -> None:
    """One line for a staff action, or for a dry run the reply it would send."""
    head = f"{label} "
    head += f"{change.from_status} -> {change.to_status}" if change.moved else change.from_status
    if change.dry_run:
        click.echo(f"dry run, nothing changed: {head}")
        if change.reply is not None:
            reply = change.reply
            click.echo(f"\nTo: {visible(reply.to)}\nSubject: {visible(reply.subject)}\n")
            echo_text(reply.text.rstrip("\n"))
        return
    if change.outbox_id is not None and change.reply is not None:
        head += f"; {letter} {change.reply.template} queued (outbox #{change.outbox_id})"
    elif change.skipped:
        head += f"; no {letter}: {change.skipped}"
    click.echo(visible(head))
