"""The one exception tree of intake.

Every error intake raises on purpose derives from :class:`IntakeError`::

    IntakeError
    ├── ConfigError              bad or unreadable configuration (CLI exit 2)
    ├── UsageError               a staff command that cannot be done as asked (exit 1)
    │   ├── NotFound             no such submission, message, claim or outbox row
    │   └── TransitionRefused    a status move the workflow table does not allow
    ├── StorageError             the blob store or database could not do its job
    ├── ParseError               a message could not be turned into a ParsedMail
    ├── ExtractionError          a document attachment yielded no text (recorded, never fatal)
    ├── MailboxError             IMAP trouble
    │   ├── MailboxUnavailable   cannot connect / log in / select (retry later)
    │   │   └── MailboxLoginRefused  the server refused the credentials (also a LoginRefused)
    │   └── MailboxProtocolError the server answered something we cannot use
    ├── DeliveryError            SMTP trouble
    │   ├── TemporaryDeliveryError   4xx, timeouts, dropped connections: retry with backoff
    │   │   └── SmtpLoginRefused     the server refused the credentials (also a LoginRefused)
    │   └── PermanentDeliveryError   5xx: do not retry, mark the reply failed
    ├── OAuthError               a token endpoint gave no access token (refused or down)
    └── LoginRefused             an account's credentials were refused: a configuration problem;
                                 every login of the account waits ``retry_in`` seconds

Adapters translate their library's exceptions into these at their boundary, so the use
cases and the CLI never see an ``imaplib``, ``smtplib`` or SQLAlchemy exception type.
Messages never contain secrets.
"""

from __future__ import annotations


class IntakeError(Exception):
    """Base class for every error intake raises on purpose."""


class ConfigError(IntakeError):
    """The configuration is missing, unreadable or invalid; the message names the key."""


class UsageError(IntakeError):
    """A staff command cannot be carried out as asked."""


class NotFound(UsageError):
    """No row with the given id."""


class TransitionRefused(UsageError):
    """A workflow move that the transition table does not allow."""


class StorageError(IntakeError):
    """The blob store or the database failed."""


class ParseError(IntakeError):
    """A raw message could not be parsed."""


class ExtractionError(IntakeError):
    """Text could not be extracted from a document; the reason is recorded."""


class MailboxError(IntakeError):
    """An IMAP operation failed."""


class MailboxUnavailable(MailboxError):
    """The IMAP server cannot be reached, logged in to, or the folder selected."""


class MailboxProtocolError(MailboxError):
    """The IMAP server answered in a way we cannot use."""


class DeliveryError(IntakeError):
    """Sending a message over SMTP failed."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporaryDeliveryError(DeliveryError):
    """A 4xx answer, a timeout or a dropped connection: try again later."""


class PermanentDeliveryError(DeliveryError):
    """A 5xx answer: the message will never be accepted as it is."""


class LoginRefused(IntakeError):
    """A mail server refused an account's credentials (or we are waiting after it did).

    A configuration problem, not an outage: every login of the account (poll, IDLE, Sent
    folder, SMTP) waits ``retry_in`` seconds. ``fresh`` is True for the refusal itself and
    False for a login that was not even tried because the account is waiting.
    """

    account: str = ""
    service: str = ""  # "imap" or "smtp"
    server_text: str = ""  # the server's own words
    retry_in: float = 0.0
    fresh: bool = True


class MailboxLoginRefused(LoginRefused, MailboxUnavailable):
    """IMAP LOGIN or AUTHENTICATE was refused."""


class SmtpLoginRefused(LoginRefused, TemporaryDeliveryError):
    """SMTP AUTH was refused."""


class OAuthError(IntakeError):
    """An OAuth2 token endpoint could not give us an access token.

    ``refused`` is True when the provider rejected the grant itself (``invalid_grant``,
    ``invalid_client``: a revoked refresh token, a wrong client secret): a configuration
    problem, handled like refused credentials. False for an outage: retry later.
    """

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused
