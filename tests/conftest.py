"""Shared fixtures: real Dovecot and PostgreSQL servers (started lazily, once per session),
fresh IMAP accounts and databases, and CPython's email test messages."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from intake.app import App
from intake.core.config import Settings
from tests.helpers import make_app
from tests.oauthserver import OAuthProvider
from tests.servers import Dovecot, Postgres, ServerUnavailable, find_cpython_email_data
from tests.smtpserver import smtp_server  # noqa: F401 - the fixture, for every test module


def unavailable(reason: str) -> NoReturn:
    """Skip on a developer's machine; fail in CI, where a skipped server would hide a gap."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def oauth_provider() -> Iterator[OAuthProvider]:
    """A local OAuth2 provider: token, device and introspection endpoints."""
    with OAuthProvider() as provider:
        yield provider


@pytest.fixture(scope="session")
def dovecot(oauth_provider: OAuthProvider) -> Iterator[Dovecot]:
    """Dovecot as a full-featured provider plays it: ID (logged), IDLE, MOVE, UIDPLUS,
    SPECIAL-USE, and XOAUTH2 tokens checked with ``oauth_provider``."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(
                Dovecot(
                    oauth_introspection_url=oauth_provider.introspection_url,
                    oauth_mechanisms="xoauth2",
                )
            )
        except ServerUnavailable as exc:
            unavailable(f"Dovecot: {exc}")
        yield server


#: What the restricted Dovecot advertises after login: IMAP4rev1 alone, the way a minimal
#: provider (or one that drops the connection on anything else) must be treated.
RESTRICTED_CAPABILITY = "IMAP4rev1"


@pytest.fixture(scope="session")
def dovecot_restricted(oauth_provider: OAuthProvider) -> Iterator[Dovecot]:
    """A second Dovecot that advertises no IDLE, MOVE, UIDPLUS, SPECIAL-USE, ID or NAMESPACE,
    and OAuth2 only as OAUTHBEARER."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(
                Dovecot(
                    capability=RESTRICTED_CAPABILITY,
                    oauth_introspection_url=oauth_provider.introspection_url,
                    oauth_mechanisms="oauthbearer",
                )
            )
        except ServerUnavailable as exc:
            unavailable(f"Dovecot: {exc}")
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(Postgres())
        except ServerUnavailable as exc:
            unavailable(f"PostgreSQL: {exc}")
        yield server


@pytest.fixture
def imap_account(dovecot: Dovecot) -> tuple[str, str]:
    """A new (user, password) with an empty mailbox on the session's Dovecot."""
    return dovecot.add_user()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a new SQLite file in the test's tmp_path."""
    return f"sqlite:///{tmp_path / 'intake.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """The URL of an empty database, once per backend."""
    if request.param == "sqlite":
        return sqlite_url
    # Looked up here rather than as an argument, so SQLite-only runs never start PostgreSQL.
    server: Postgres = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def app_factory() -> Iterator[Callable[..., App]]:
    """Build Apps on a migrated database; their connections are closed after the test."""
    apps: list[App] = []

    def make(settings: Settings, **kwargs: Any) -> App:
        app = make_app(settings, **kwargs)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture(scope="session")
def cpython_email_data() -> Path:
    """CPython's test_email/data directory (msg_01.txt ...), read in place, never copied."""
    found = find_cpython_email_data()
    if found is None:
        unavailable(
            "CPython's email test data is not installed (Debian: apt-get install "
            "libpython3.11-testsuite)"
        )
    return found
