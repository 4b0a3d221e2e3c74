"""The staff command line: ``intake [--config PATH] COMMAND``.

Expected errors print one line on stderr and exit 1 (operational) or 2 (usage or
configuration); no traceback. Every listing takes ``--json``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import sys
from collections.abc import Iterable, Sequence

import click

from intake.app import App
from intake.core import configfile
from intake.core.errors import ConfigError, IntakeError
from intake.text.display import visible


class Context:
    """Lazily loads settings, so ``--help`` works without a configuration file."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._app: App | None = None

    @property
    def app(self) -> App:
        if self._app is None:
            # A refused login is the command's own one-line error; `run` logs it instead.
            self._app = App(configfile.load(self.config_path), log_refusals=False)
        return self._app

    def close(self) -> None:
        """Release database connections when the command ends (PostgreSQL sees a clean exit)."""
        if self._app is not None:
            self._app.close()


pass_ctx = click.make_pass_decorator(Context)


class IntakeGroup(click.Group):
    """The top-level group: turns intake's errors into one line on stderr and an exit code.

    Done here rather than in ``main`` so every caller (the console script, ``python -m
    intake``, Click's test runner) gets the same behaviour.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        _import(COMMAND_MODULES)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _import(m for m, names in COMMAND_MODULES.items() if cmd_name in names)
        command = super().get_command(ctx, cmd_name)
        if command is None:
            _import(COMMAND_MODULES)
            command = super().get_command(ctx, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """``intake --help`` lists the commands by who uses them (:data:`COMMAND_ROLES`)."""
        commands: dict[str, click.Command] = {}
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                commands[name] = command
        width = formatter.width - 6 - max((len(n) for n in commands), default=0)
        placed: set[str] = set()
        for role, names in COMMAND_ROLES.items():
            rows = [(n, commands[n].get_short_help_str(width)) for n in names if n in commands]
            placed.update(n for n, _ in rows)
            if rows:
                with formatter.section(role):
                    formatter.write_dl(rows)
        rest = [(n, c.get_short_help_str(width)) for n, c in commands.items() if n not in placed]
        if rest:
            with formatter.section("Other commands"):
                formatter.write_dl(rest)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"intake: {visible(exc)}", err=True)
            ctx.exit(2)
        except IntakeError as exc:
            # Errors may quote contributor text (a subject, a file name): one safe line.
            click.echo(f"intake: {visible(exc)}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("intake: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            # The reader went away (`intake list | head`): what it wanted was written. Point
            # stdout at /dev/null so the interpreter's final flush does not complain either.
            _quiet_stdout()
            ctx.exit(0)
        except Exception as exc:  # noqa: BLE001 - staff get one line; details with -vv
            logging.getLogger("intake").debug("unexpected error", exc_info=True)
            click.echo(f"intake: internal error: {type(exc).__name__}: {visible(exc)}", err=True)
            ctx.exit(1)


def _quiet_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _import(modules: Iterable[str]) -> None:
    for module in modules:
        importlib.import_module(module)


@click.group(
    cls=IntakeGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    envvar="INTAKE_CONFIG",
    help="Configuration file (default: $INTAKE_CONFIG, then /etc/intake/intake.toml).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="intake")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """intake: the submissions mailbox as a tracked queue.

    Start with `intake db upgrade`, then `intake check`, `intake poll` and `intake list`.
    """
    startup_over()
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    from intake.cli.output import SafeFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    ctx.obj = Context(config_path)
    ctx.call_on_close(ctx.obj.close)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI (the console entry point is :func:`intake.__main__.main`)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="intake")


def startup_over() -> None:
    """Turn the garbage collector back on if the entry point paused it for start-up.

    What start-up loaded (modules, classes, the command's own module) stays for the whole
    process: it is frozen, so no collection, the one at exit included, scans it again. A
    caller that never paused the collector (tests, Click's runner) is left as it was.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def actor_name(explicit: str | None) -> str:
    """Who is acting: --as NAME, else $INTAKE_USER, else the OS user."""
    if explicit:
        return explicit
    if os.environ.get("INTAKE_USER"):
        return os.environ["INTAKE_USER"]
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return os.environ.get("USER", "staff")


# The command modules, one line each, with the commands each registers on ``cli``. Only the
# module of the command being run is imported: start-up time is what an editor feels at the
# terminal. A command missing from its line still works (every module is imported to find it);
# a group that several modules add to (``db``) is named on each of their lines.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "intake.cli.auth_cmds": ("auth",),
    "intake.cli.claim_cmds": ("claim", "claims", "reclassify"),
    "intake.cli.consent_cmds": ("consent", "contributor", "not-duplicate", "remind", "versions"),
    "intake.cli.export_cmds": ("export",),
    "intake.cli.ingest_cmds": ("db", "check", "poll", "messages", "quarantine", "reprocess"),
    "intake.cli.outbox_cmds": ("outbox", "send", "suppress", "suppressions", "unsuppress"),
    "intake.cli.queue_cmds": ("list", "stats"),
    "intake.cli.show_cmds": ("show", "attachment"),
    "intake.cli.service_cmds": ("run", "status", "db"),  # db copy
    "intake.cli.storage_cmds": ("storage",),
    "intake.cli.workflow_cmds": (
        "accept",
        "decline",
        "request-info",
        "publish",
        "withdraw",
        "reopen",
        "request-copyright",
        "assign",
        "note",
        "reply",
        "flag",
    ),
    "intake.cli.triage_cmds": ("triage",),
}

#: ``intake --help`` groups the commands by role, in this order (a command missing here is
#: listed last, under "Other commands").
COMMAND_ROLES: dict[str, tuple[str, ...]] = {
    "The desk (editors)": (
        "triage", "list", "show", "attachment", "reply", "note", "assign", "accept",
        "decline", "request-info", "publish", "withdraw", "reopen", "flag", "not-duplicate",
        "versions", "stats", "export",
    ),
    "Rights (copyright and claims)": (
        "request-copyright", "consent", "contributor", "remind", "claims", "claim",
        "reclassify",
    ),
    "Mailboxes and replies": (
        "poll", "messages", "quarantine", "reprocess", "outbox", "send", "suppress",
        "suppressions", "unsuppress",
    ),
    "Administration": ("check", "auth", "db", "storage", "run", "status"),
}  # fmt: skip
