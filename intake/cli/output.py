"""Output for the staff CLI, in one place: stable JSON (every control escaped), rich tables that
align Chinese text, plain text when piped, the pager, and the parts (text, headings, tables)
that ``show`` and ``intake triage`` draw. Every contributor string reaches the terminal through
:func:`shown`, which is :func:`intake.text.display.visible`."""

from __future__ import annotations

import io
import json
import logging
import shutil
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
    return shown(str(value))


def echo_text(text: object, *, multiline: bool = True, err: bool = False) -> None:
    """Print contributor text (a letter, an article, a file name) with controls shown."""
    click.echo(shown(text, multiline=multiline), err=err)


class SafeFormatter(logging.Formatter):
    """Log lines for the terminal: a message that quotes contributor text shows its controls."""

    def format(self, record: logging.LogRecord) -> str:
        return shown(super().format(record), multiline=True)


def short(text: str, width: int = 40) -> str:
    text = " ".join(visible(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def fit(text: str, cells: int) -> str:
    """``text`` on one line in at most ``cells`` terminal cells (a Chinese character takes
    two), cut with "…" when longer."""
    text = " ".join(text.split())
    if display_width(text) <= cells:
        return text
    out, used = [], 0
    for char in text:
        width = display_width(char)
        if used + width > cells - 1:
            break
        out.append(char)
        used += width
    return "".join(out) + "…"


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
    """What a staff action on a submission or a claim reports (``replies.letters.Change``)."""

    @property
    def id(self) -> int: ...
    @property
    def action(self) -> str: ...
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


def change_json(change: ActionResult) -> dict[str, Any]:
    """The fields of a staff action's ``--json`` output, on a submission or a claim (a
    contract: see docs/cli.md)."""
    reply = change.reply
    return {
        "id": change.id,
        "action": change.action,
        "from": change.from_status,
        "to": change.to_status,
        "dry_run": change.dry_run,
        "outbox_id": change.outbox_id,
        "skipped": change.skipped,
        "reply": (
            {
                "template": reply.template,
                "to": reply.to,
                "subject": reply.subject,
                "text": reply.text,
            }
            if reply is not None
            else None
        ),
    }


def echo_change(label: str, change: ActionResult, letter: str) -> None:
    """One line for a staff action, or for a dry run the reply it would send."""
    head = f"{label} "
    head += f"{change.from_status} -> {change.to_status}" if change.moved else change.from_status
    if change.dry_run:
        click.echo(f"dry run, nothing changed: {head}")
        if change.reply is not None:
            click.echo(f"\nTo: {shown(change.reply.to)}\nSubject: {shown(change.reply.subject)}\n")
            click.echo(shown(change.reply.text.rstrip("\n"), multiline=True))
        return
    if change.outbox_id is not None and change.reply is not None:
        head += f"; {letter} {change.reply.template} queued (outbox #{change.outbox_id})"
    elif change.skipped:
        head += f"; no {letter}: {change.skipped}"
    click.echo(shown(head))


# --------------------------------------------------------------------------- contributor text


def shown(text: object, *, multiline: bool = False) -> str:
    """``text`` as it may reach a terminal: the one function every contributor string (a
    subject, a name, a body, a file name) passes through before ``list``, ``show``, the pager,
    an error line or ``intake triage`` draws it (:func:`intake.text.display.visible`).

    Controls, escape sequences and bidi characters are written visibly (``\\x1b``), never
    emitted. One line unless ``multiline`` (an article, a letter).
    """
    return visible(text, multiline=multiline)


# --------------------------------------------------------------------------- parts


@dataclass(frozen=True, slots=True)
class Grid:
    """A table to draw: with rich on a terminal, as aligned plain text when piped."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Heading:
    title: str


@dataclass(frozen=True, slots=True)
class Block:
    """Several lines of contributor text (an article, a cover note, a letter)."""

    text: str


#: What a command prints, in order: lines (one-line text), blocks, headings and tables.
Part = str | Block | Heading | Grid


def grid(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Grid:
    """A table whose cells are made safe and one line each."""
    return Grid(
        tuple(columns), tuple(tuple(shown(v) if v is not None else "-" for v in r) for r in rows)
    )


def emit_parts(*parts: Part) -> None:
    """Print parts: rich on a terminal, plain text (never wrapped or cut) when piped."""
    if not is_terminal():
        # Piped: plain text, and no rich to import (start-up time).
        click.echo("\n".join(plain_part(part) for part in parts))
        return
    out = _part_console()
    for part in parts:
        out.print(rich_part(part), overflow="ellipsis", crop=True)


def page_parts(parts: Sequence[Part]) -> None:
    """Print, through the pager when on a terminal and taller than it."""
    if not is_terminal():
        emit_parts(*parts)
        return
    page_text(render_parts(parts, shutil.get_terminal_size().columns))


def page_text(text: str) -> None:
    """``text`` (already made safe, perhaps styled), paged when taller than the terminal."""
    if is_terminal() and text.count("\n") > shutil.get_terminal_size().lines - 2:
        click.echo_via_pager(text)
    else:
        click.echo(text, nl=not text.endswith("\n"))


def render_parts(parts: Sequence[Part], width: int) -> str:
    """Parts drawn as a terminal ``width`` columns wide would show them (styles included)."""
    buffer = io.StringIO()
    capture = _part_console(buffer, width)
    for part in parts:
        capture.print(rich_part(part))
    return buffer.getvalue()


def heading_text(title: str) -> str:
    return f"── {title} " + "─" * max(4, 60 - display_width(title))


def plain_part(part: Part) -> str:
    if isinstance(part, str):
        return shown(part)
    if isinstance(part, Block):
        return shown(part.text, multiline=True)
    if isinstance(part, Heading):
        return heading_text(part.title)
    if not part.rows:
        return "(none)"
    return plain_table(part.columns, part.rows)


#: Columns that give up width when a table is wider than the terminal.
SHRINKABLE = frozenset(
    {"from", "subject", "note", "who", "what", "file", "type", "text", "facts", "caption", ""}
)


def rich_part(part: Part) -> Any:
    """A part as a rich renderable (``show`` on a terminal, the pager, ``intake triage``)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # Text, not str: subjects and names are the contributors', never rich markup.
    if isinstance(part, str):
        return Text(shown(part))
    if isinstance(part, Block):
        return Text(shown(part.text, multiline=True))
    if isinstance(part, Heading):
        # Cut at the edge, not wrapped: its rule is decoration.
        return Text(heading_text(part.title), style="bold", no_wrap=True, overflow="crop")
    if not part.rows:
        return Text("(none)")
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, collapse_padding=True)
    rows = [part.columns, *part.rows]
    for i, column in enumerate(part.columns):
        # One line per row: on a narrow terminal the free-text columns are shortened (…);
        # ids, statuses and dates keep their width.
        fixed = column not in SHRINKABLE
        width = max(display_width(row[i]) for row in rows) if fixed else None
        table.add_column(column, no_wrap=True, overflow="ellipsis", min_width=width)
    for row in part.rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def rich_text(text: object, *, style: str = "", multiline: bool = False) -> Any:
    """Contributor or our own text as a rich ``Text`` (never markup), made safe by
    :func:`shown`: for screens that draw their own widgets (``intake triage``)."""
    from rich.text import Text

    return Text(shown(text, multiline=multiline), style=style)


def rich_group(renderables: Iterable[Any]) -> Any:
    """Renderables drawn one below the other."""
    from rich.console import Group

    return Group(*renderables)


def _part_console(file: io.StringIO | None = None, width: int | None = None) -> Any:
    from rich.console import Console

    # rich honours NO_COLOR. Rendering for the pager: as the terminal would show it.
    if file is None:
        return Console(highlight=False, soft_wrap=False)
    return Console(file=file, highlight=False, soft_wrap=False, force_terminal=True, width=width)
