"""OAuth2 for IMAP and SMTP: access tokens from a refresh token, and the admin's first login.

Standard library only (urllib). :class:`TokenSource` keeps one access token in memory,
refreshes it before it expires or when a server refused it, and writes a rotated refresh token
(Microsoft sends a new one with every refresh) back to ``oauth_refresh_token_file``
atomically. Tokens never appear in a log line or an error message.

:func:`device_login` is the device-code flow (RFC 8628): the provider shows a code the admin
types into a browser anywhere. :func:`browser_login` is the authorization-code flow with PKCE
and a loopback redirect (RFC 8252), for Google, whose device flow refuses Gmail's scope.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import logging
import os
import secrets
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intake.core.config import Credentials
from intake.core.credentials import resolve_secret
from intake.core.errors import ConfigError, OAuthError

log = logging.getLogger(__name__)

#: An access token is refreshed this many seconds before the provider says it expires.
REFRESH_MARGIN = 300.0
HTTP_TIMEOUT = 30.0
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: OAuth error codes that mean the grant itself is bad, not that the provider is down.
REFUSED_CODES = frozenset(
    {"invalid_grant", "invalid_client", "unauthorized_client", "access_denied", "expired_token"}
)

Post = Callable[[str, Mapping[str, str]], dict[str, Any]]


def post_form(url: str, form: Mapping[str, str]) -> dict[str, Any]:
    """POST ``form`` to a token endpoint and return its JSON answer (errors included)."""
    _check_url(url)
    body = urllib.parse.urlencode(form).encode("ascii")
    request = urllib.request.Request(
        url, data=body, headers={"Accept": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as exc:
        # 400/401 carry the OAuth error object; read it like a success.
        raw = exc.read()
        if exc.code >= 500 or not raw:
            raise OAuthError(f"token endpoint {_host(url)}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OAuthError(f"token endpoint {_host(url)}: {reason}") from None
    try:
        answer = json.loads(raw)
    except ValueError:
        raise OAuthError(f"token endpoint {_host(url)}: the answer is not JSON") from None
    if not isinstance(answer, dict):
        raise OAuthError(f"token endpoint {_host(url)}: unexpected answer")
    return answer


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        # Client secrets and refresh tokens travel in the body: never in clear text.
        raise ConfigError(f"oauth: {url} must be an https:// address")


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _failure(url: str, answer: Mapping[str, Any]) -> OAuthError:
    code = str(answer.get("error", "no access_token in the answer"))
    description = " ".join(str(answer.get("error_description", "")).split())[:300]
    text = f"{code}: {description}" if description else code
    return OAuthError(f"token endpoint {_host(url)}: {text}", refused=code in REFUSED_CODES)


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class Grant:
    """What a login or a refresh produced."""

    access_token: str
    expires_in: float
    refresh_token: str


class TokenSource:
    """Access tokens for one account's OAuth2 grant, cached in memory only; thread-safe."""

    def __init__(
        self,
        creds: Credentials,
        *,
        env: Mapping[str, str] | None = None,
        post: Post = post_form,
        monotonic: Callable[[], float] = time.monotonic,
        where: str = "",
    ) -> None:
        self.creds = creds
        self._env = os.environ if env is None else env
        self._post = post
        self._monotonic = monotonic
        self._where = where or creds.account
        self._lock = threading.Lock()
        self._access = ""
        self._expires = 0.0
        self._refresh_token = ""  # a rotated token that could not be written back

    def token(self) -> str:
        """A valid access token, refreshed when it expires within ``REFRESH_MARGIN``."""
        with self._lock:
            if not self._access or self._monotonic() >= self._expires - REFRESH_MARGIN:
                self._refresh()
            return self._access

    def invalidate(self) -> None:
        """Forget the access token (a server refused it): the next :meth:`token` refreshes."""
        with self._lock:
            self._access = ""

    def refresh_token(self) -> str:
        """The current refresh token (for a digest: a new one re-opens a closed gate)."""
        return self._refresh_token or resolve_secret(
            self.creds, "oauth_refresh_token", self._env, self._where
        )

    def _refresh(self) -> None:
        creds = self.creds
        refresh = self.refresh_token()
        if not refresh:
            raise ConfigError(
                f"{self._where}.oauth_refresh_token: no refresh token: run `intake auth login`"
            )
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": creds.oauth_client_id,
        }
        secret = resolve_secret(creds, "oauth_client_secret", self._env, self._where)
        if secret:
            form["client_secret"] = secret
        if creds.oauth_scope:
            form["scope"] = creds.oauth_scope
        started = self._monotonic()
        answer = self._post(creds.oauth_token_url, form)
        grant = _grant(creds.oauth_token_url, answer)
        self._access = grant.access_token
        self._expires = started + grant.expires_in
        if grant.refresh_token and grant.refresh_token != refresh:
            self._rotated(grant.refresh_token)

    def _rotated(self, token: str) -> None:
        path = self.creds.oauth_refresh_token_file
        if path:
            try:
                save_token(Path(path), token)
                self._refresh_token = ""
                log.info("oauth: saved the refresh token the provider rotated to %s", path)
                return
            except OSError as exc:
                log.warning(
                    "oauth: cannot save the rotated refresh token to %s: %s; it is kept in "
                    "memory until the service stops", path, exc.strerror or exc,
                )  # fmt: skip
        else:
            log.warning(
                "oauth: the provider rotated the refresh token of %s; set "
                "oauth_refresh_token_file so intake can keep it across restarts",
                self.creds.account,
            )
        self._refresh_token = token


def _grant(url: str, answer: Mapping[str, Any]) -> Grant:
    access = answer.get("access_token")
    if not isinstance(access, str) or not access:
        raise _failure(url, answer)
    try:
        expires = float(answer.get("expires_in", 3600))
    except (TypeError, ValueError):
        expires = 3600.0
    refresh = answer.get("refresh_token")
    return Grant(access, expires, refresh if isinstance(refresh, str) else "")


def save_token(path: Path, token: str) -> None:
    """Write ``token`` to ``path`` atomically, mode 0600, owned like its directory when root."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        if os.geteuid() == 0:
            # An admin running `intake auth login` as root: the service user must read it.
            owner = path.parent.stat()
            os.chown(tmp, owner.st_uid, owner.st_gid)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def xoauth2(user: str, token: str) -> str:
    """The XOAUTH2 SASL message (Google's and Microsoft's mechanism)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def oauthbearer(user: str, token: str, host: str, port: int) -> str:
    """The OAUTHBEARER SASL message (RFC 7628)."""
    authzid = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={authzid},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"


# --------------------------------------------------------------------------- first login


def device_login(
    creds: Credentials,
    *,
    announce: Callable[[str], None],
    env: Mapping[str, str] | None = None,
    post: Post = post_form,
    sleep: Callable[[float], None] = time.sleep,
    where: str = "",
) -> Grant:
    """The device-code flow: ``announce`` the URL and code, then wait for the admin."""
    if not creds.oauth_device_url:
        raise ConfigError(f"{where}.oauth_device_url: this provider has no device-code flow")
    form = {"client_id": creds.oauth_client_id}
    if creds.oauth_scope:
        form["scope"] = creds.oauth_scope
    answer = post(creds.oauth_device_url, form)
    device_code = answer.get("device_code")
    if not isinstance(device_code, str):
        raise _failure(creds.oauth_device_url, answer)
    url = (
        answer.get("verification_uri_complete")
        or answer.get("verification_uri")
        or answer.get("verification_url", "")
    )
    announce(
        f"Open {url} in a browser, sign in as {creds.username} and enter the code "
        f"{answer.get('user_code', '')}"
    )
    interval = float(answer.get("interval", 5))
    waited, limit = 0.0, float(answer.get("expires_in", 900))
    poll = {"grant_type": DEVICE_GRANT, "device_code": device_code, **form}
    secret = resolve_secret(creds, "oauth_client_secret", env, where)
    if secret:
        poll["client_secret"] = secret
    while waited < limit:
        sleep(interval)
        waited += interval
        reply = post(creds.oauth_token_url, poll)
        if reply.get("access_token"):
            return _grant(creds.oauth_token_url, reply)
        error = reply.get("error")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += 5  # RFC 8628 §3.5
            continue
        raise _failure(creds.oauth_token_url, reply)
    raise OAuthError("the code was not entered in time; run `intake auth login` again")


def browser_login(
    creds: Credentials,
    *,
    announce: Callable[[str], None],
    pasted: Callable[[], str] | None = None,
    env: Mapping[str, str] | None = None,
    post: Post = post_form,
    port: int = 0,
    timeout: float = 600.0,
    where: str = "",
) -> Grant:
    """The authorization-code flow with PKCE and a redirect to http://127.0.0.1:PORT/.

    The browser may run elsewhere: forward the port (``ssh -L PORT:127.0.0.1:PORT``), or let
    the redirect fail and paste the address it ended at (``pasted`` reads that line).
    """
    if not creds.oauth_authorize_url:
        raise ConfigError(f"{where}.oauth_authorize_url: missing (or set provider)")
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    catcher = _RedirectCatcher(port)
    redirect_uri = f"http://127.0.0.1:{catcher.port}/"
    query = {
        "client_id": creds.oauth_client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": creds.oauth_scope,
        "state": state,
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
        "access_type": "offline",  # Google: give a refresh token
        "prompt": "consent",
        "login_hint": creds.username,
    }
    url = f"{creds.oauth_authorize_url}?{urllib.parse.urlencode(query)}"
    announce(
        f"Open this address in a browser and sign in as {creds.username}:\n\n  {url}\n\n"
        f"The browser is then sent to {redirect_uri}. If that is not this machine, paste the "
        "address it shows here (or forward the port with ssh -L)."
    )
    try:
        if pasted is not None:
            threading.Thread(
                target=lambda: catcher.offer(pasted()), name="oauth-paste", daemon=True
            ).start()
        landed = catcher.wait(timeout)
    finally:
        catcher.close()
    if landed is None:
        raise OAuthError("no answer from the browser in time; run `intake auth login` again")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(landed.strip()).query)
    if params.get("state", [""])[0] != state:
        raise OAuthError("the address does not belong to this login (state differs)")
    if "error" in params:
        raise OAuthError(f"the provider said: {params['error'][0]}", refused=True)
    code = params.get("code", [""])[0]
    if not code:
        raise OAuthError("the address carries no authorization code")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": creds.oauth_client_id,
        "code_verifier": verifier,
    }
    secret = resolve_secret(creds, "oauth_client_secret", env, where)
    if secret:
        form["client_secret"] = secret
    return _grant(creds.oauth_token_url, post(creds.oauth_token_url, form))


class _RedirectCatcher:
    """A one-shot HTTP server on 127.0.0.1 that takes the browser's redirect."""

    def __init__(self, port: int) -> None:
        self._landed: str | None = None
        self._event = threading.Event()
        catcher = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                catcher.offer(self.path)
                body = b"intake: signed in; you can close this page."
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # the query holds the code: never log it

        self._server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="oauth-redirect", daemon=True
        )
        self._thread.start()

    def offer(self, address: str) -> None:
        if address and ("code=" in address or "error=" in address):
            if self._landed is None:
                self._landed = address
                self._event.set()

    def wait(self, timeout: float) -> str | None:
        self._event.wait(timeout)
        return self._landed

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
