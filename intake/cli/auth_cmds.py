"""CLI commands for OAuth2 mailboxes: auth login (the admin's first sign-in)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from intake.cli import Context, cli, pass_ctx
from intake.core import credentials
from intake.core.errors import ConfigError, IntakeError, OAuthError, UsageError


@cli.group()
def auth() -> None:
    """OAuth2 sign-in for Outlook / Microsoft 365 and Gmail mailboxes."""


@auth.command("login")
@click.argument("mailbox")
@click.option(
    "--flow",
    type=click.Choice(["auto", "device", "browser"]),
    default="auto",
    show_default=True,
    help="device: enter a code at the provider's page (Microsoft); browser: sign in and be "
    "sent back to 127.0.0.1 (Google). auto picks what the provider offers.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Port of the 127.0.0.1 redirect for --flow browser (default: any free port).",
)
@pass_ctx
def auth_login(ctx: Context, mailbox: str, flow: str, port: int) -> None:
    """Sign MAILBOX in with OAuth2 and keep its refresh token in oauth_refresh_token_file.

    Run it as the service user (e.g. `sudo -u intake intake auth login submissions`): the
    file is written with mode 0600 for the user who runs it (as root: for the owner of its
    directory). The sign-in happens in any browser, on any machine.
    """
    from intake.adapters import oauth

    app = ctx.app
    settings = app.settings
    box = settings.mailbox(mailbox)
    where = f"mailboxes[{settings.mailboxes.index(box)}]"
    if box.auth != "oauth2":
        raise UsageError(f'mailbox {box.name} logs in with a password (set auth = "oauth2")')
    if not box.oauth_refresh_token_file:
        raise ConfigError(
            f"{where}.oauth_refresh_token_file: say where to keep the refresh token, e.g. "
            f'"/var/lib/intake/oauth/{box.name}.token"'
        )
    credentials.resolve_secret(box, "oauth_client_secret", where=where)  # readable now
    if flow == "auto":
        flow = "device" if box.oauth_device_url else "browser"

    def announce(text: str) -> None:
        click.echo(text, err=True)

    if flow == "device":
        grant = oauth.device_login(box, announce=announce, where=where)
    else:
        pasted = sys.stdin.readline if sys.stdin.isatty() else None
        grant = oauth.browser_login(box, announce=announce, pasted=pasted, port=port, where=where)
    if not grant.refresh_token:
        raise OAuthError(
            "the provider gave no refresh token: does oauth_scope ask for offline access "
            "(offline_access at Microsoft)?"
        )
    path = Path(box.oauth_refresh_token_file)
    try:
        oauth.save_token(path, grant.refresh_token)
    except OSError as exc:
        raise ConfigError(
            f"{where}.oauth_refresh_token_file: cannot write {path}: {exc.strerror or exc}"
        ) from None
    click.echo(f"saved the refresh token of {box.username} to {path} (mode 0600)")
    try:
        with app.mailbox(box) as conn:
            conn.select(box.folder)
        click.echo(f"imap {box.name}: ok (signed in as {box.username} with OAuth2)")
    except IntakeError as exc:
        click.echo(f"imap {box.name}: FAILED: {exc}")
        sys.exit(1)
