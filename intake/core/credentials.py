"""An account's secrets: the shape of its login checked when the settings load, every secret and
file a mail server needs checked before a command logs in, and the secret itself read only on
request (from the file, an environment variable or a file of its own), as is the HMAC key of our
Message-IDs."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from intake.core.config import Credentials, Secret, Settings
from intake.core.errors import ConfigError


def _sources(obj: Credentials, key: str) -> list[str]:
    """Which of KEY, KEY_env, KEY_file the table sets."""
    given = []
    if getattr(obj, key) is not None:
        given.append(key)
    for suffix in ("_env", "_file"):
        if getattr(obj, key + suffix):
            given.append(key + suffix)
    return given


def check_login(obj: Credentials, where: str, required: bool) -> None:
    """The shape of a login: sources that exclude each other, what OAuth2 needs."""
    for key in ("password", "oauth_client_secret", "oauth_refresh_token"):
        if len(_sources(obj, key)) > 1:
            raise ConfigError(f"{where}.{key}: give only one of {key}, {key}_env, {key}_file")
    if obj.auth == "password":
        if required and not _sources(obj, "password"):
            raise ConfigError(
                f"{where}.password: no password source: set password, password_env or password_file"
            )
        return
    if _sources(obj, "password"):
        raise ConfigError(f'{where}.password: not used with auth = "oauth2"; remove it')
    if not obj.username:
        raise ConfigError(f"{where}.username: OAuth2 needs the account's address")
    if not obj.oauth_client_id:
        raise ConfigError(
            f'{where}.oauth_client_id: auth = "oauth2" needs the client id of your app '
            "registration (Microsoft Entra or Google Cloud)"
        )
    if not obj.oauth_token_url:
        raise ConfigError(f"{where}.oauth_token_url: missing (or set provider)")


def check_credentials(settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """Make sure every secret and file the mail servers need can be read now.

    Called by the commands that log in to a mail server (``check``, ``poll``, ``send``,
    ``run``, ``auth``) before they start, so ``intake run`` stops at once with the key at
    fault; other commands never read these.
    """
    env = os.environ if env is None else env
    logins: list[tuple[str, Credentials, bool, str]] = [
        (f"mailboxes[{i}]", box, True, box.ca_file) for i, box in enumerate(settings.mailboxes)
    ]
    if settings.smtp is not None:
        smtp = settings.smtp
        logins.append(("smtp", smtp, bool(smtp.username), smtp.ca_file))
    for where, obj, required, ca_file in logins:
        if required:
            if obj.auth == "password":
                resolve_secret(obj, "password", env, where)
            else:
                resolve_secret(obj, "oauth_client_secret", env, where)
                if not resolve_secret(obj, "oauth_refresh_token", env, where):
                    name = getattr(obj, "name", "")
                    raise ConfigError(
                        f"{where}.oauth_refresh_token: no refresh token yet: run "
                        f"`intake auth login {name or 'MAILBOX'}` (it writes "
                        "oauth_refresh_token_file)"
                    )
        _check_file(ca_file, f"{where}.ca_file")


def _check_file(path: str, where: str) -> None:
    if not path:
        return
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None


def resolve_secret(
    obj: Credentials, key: str, env: Mapping[str, str] | None = None, where: str = ""
) -> str:
    """The value of secret ``key`` from KEY, KEY_env or KEY_file ("" when none is set)."""
    env = os.environ if env is None else env
    where = where or getattr(obj, "name", "") or "smtp"
    value: Secret | None = getattr(obj, key)
    if value is not None:
        return value.reveal()
    variable: str = getattr(obj, f"{key}_env")
    if variable:
        if variable not in env:
            raise ConfigError(f"{where}.{key}_env: environment variable {variable} is not set")
        return env[variable]
    path: str = getattr(obj, f"{key}_file")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}.{key}_file: cannot read {path}: {exc.strerror}") from None
    return ""


def resolve_password(obj: Credentials, env: Mapping[str, str] | None = None) -> str:
    """The password from whichever source is configured ("" when there is none)."""
    return resolve_secret(obj, "password", env)


def reply_secret(settings: Settings, env: Mapping[str, str] | None = None) -> bytes:
    """The HMAC key for our Message-IDs: configured, or a file in the store made on first use."""
    env = os.environ if env is None else env
    replies = settings.replies
    if replies.secret is not None:
        return replies.secret.reveal().encode("utf-8")
    if replies.secret_env:
        return env.get(replies.secret_env, "").encode("utf-8")
    path = Path(replies.secret_file or Path(settings.storage.path) / "reply-secret")
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"replies.secret_file: cannot read {path}: {exc.strerror}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # 0640: staff in the service's group queue letters, which carry signed Message-IDs.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"replies.secret_file: cannot create {path}: {exc.strerror}") from None
    secret = secrets.token_hex(32).encode("ascii")
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
        fh.flush()
        os.fsync(fh.fileno())
    return secret
