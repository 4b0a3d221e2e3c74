"""A small OAuth2 provider on 127.0.0.1 for the tests: token endpoint (refresh with rotation,
device code, authorization code with PKCE), device and authorization endpoints, and the
RFC 7662 introspection endpoint Dovecot's oauth2 passdb asks about each XOAUTH2 token."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Self

HOST = "127.0.0.1"


@dataclass
class _Refresh:
    user: str
    client_id: str
    scope: str


@dataclass
class _Device:
    client_id: str
    scope: str
    user_code: str
    user: str = ""  # set when approved
    denied: bool = False


@dataclass
class _Code:
    user: str
    client_id: str
    redirect_uri: str
    challenge: str


@dataclass
class OAuthProvider:
    """``with OAuthProvider() as provider:``; ``provider.url`` is its base address."""

    expires_in: int = 3600
    rotate: bool = True  # a new refresh token with every refresh, the old one revoked
    device_interval: float = 0.01  # seconds between a device's polls (RFC 8628 says 5)
    client_secret: str = ""  # required of clients when set
    access: dict[str, str] = field(default_factory=dict)  # access token -> user
    refreshes: list[str] = field(default_factory=list)  # user of each refresh
    introspections: list[str] = field(default_factory=list)  # the tokens Dovecot asked about
    forms: list[dict[str, str]] = field(default_factory=list)  # every token request's form

    def __post_init__(self) -> None:
        self._refresh: dict[str, _Refresh] = {}
        self._devices: dict[str, _Device] = {}
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle

    def __enter__(self) -> Self:
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = {
                    k: v[0]
                    for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()
                }
                status, body = provider._post(self.path, form)
                self._answer(status, body)

            def do_GET(self) -> None:  # noqa: N802
                parts = urllib.parse.urlsplit(self.path)
                query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
                location = provider._authorize(query)
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def introspection_url(self) -> str:
        return f"{self.url}/introspect"

    # -- what a test does as the admin or the provider

    def grant(self, user: str, client_id: str = "intake-test", scope: str = "mail") -> str:
        """A refresh token for ``user``, as a finished sign-in would give."""
        token = "rt-" + secrets.token_urlsafe(12)
        with self._lock:
            self._refresh[token] = _Refresh(user, client_id, scope)
        return token

    def revoke(self, token: str) -> None:
        """Revoke a refresh or access token (the user changed the password...)."""
        with self._lock:
            self._refresh.pop(token, None)
            self.access.pop(token, None)

    def revoke_access(self) -> None:
        """Every access token stops working (refresh tokens still do)."""
        with self._lock:
            self.access.clear()

    def approve(self, user_code: str, user: str) -> None:
        """The admin typed ``user_code`` at the verification page and signed in as ``user``."""
        with self._lock:
            for device in self._devices.values():
                if device.user_code == user_code:
                    device.user = user

    def pending_user_codes(self) -> list[str]:
        """Codes of device logins waiting for the admin."""
        with self._lock:
            return [d.user_code for d in self._devices.values() if not d.user]

    def valid_refresh_tokens(self, user: str) -> list[str]:
        with self._lock:
            return [t for t, r in self._refresh.items() if r.user == user]

    # -- endpoints

    def _post(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if path == "/introspect":
            token = form.get("token", "")
            with self._lock:
                self.introspections.append(token)
                user = self.access.get(token)
            return 200, ({"active": True, "email": user} if user else {"active": False})
        if path == "/devicecode":
            code = secrets.token_urlsafe(8)
            user_code = secrets.token_hex(3).upper()
            with self._lock:
                self._devices[code] = _Device(form.get("client_id", ""), form.get("scope", ""),
                                              user_code)  # fmt: skip
            return 200, {
                "device_code": code,
                "user_code": user_code,
                "verification_uri": f"{self.url}/device",
                "expires_in": 900,
                "interval": self.device_interval,
            }
        if path == "/token":
            with self._lock:
                self.forms.append(dict(form))
            if self.client_secret and form.get("client_secret") != self.client_secret:
                return 401, {"error": "invalid_client", "error_description": "bad secret"}
            return self._token(form)
        return 404, {"error": "not_found"}

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type")
        with self._lock:
            if grant == "refresh_token":
                old = form.get("refresh_token", "")
                found = self._refresh.get(old)
                if found is None or found.client_id != form.get("client_id"):
                    return 400, {
                        "error": "invalid_grant",
                        "error_description": "AADSTS70000: The refresh token has been revoked.",
                    }
                self.refreshes.append(found.user)
                return 200, self._issue(found.user, found.client_id, found.scope, old)
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                device = self._devices.get(form.get("device_code", ""))
                if device is None:
                    return 400, {"error": "expired_token"}
                if not device.user:
                    return 400, {"error": "authorization_pending"}
                del self._devices[form["device_code"]]
                return 200, self._issue(device.user, device.client_id, device.scope, "")
            if grant == "authorization_code":
                code = self._codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                if (
                    code is None
                    or code.redirect_uri != form.get("redirect_uri")
                    or digest.decode().rstrip("=") != code.challenge
                ):
                    return 400, {"error": "invalid_grant"}
                return 200, self._issue(code.user, code.client_id, "mail", "")
        return 400, {"error": "unsupported_grant_type"}

    def _issue(self, user: str, client_id: str, scope: str, old: str) -> dict[str, Any]:
        access = "at-" + secrets.token_urlsafe(16)
        self.access[access] = user
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        if self.rotate or not old:
            refresh = "rt-" + secrets.token_urlsafe(12)
            self._refresh[refresh] = _Refresh(user, client_id, scope)
            self._refresh.pop(old, None)
            answer["refresh_token"] = refresh
        return answer

    def _authorize(self, query: dict[str, str]) -> str:
        """The browser's visit: signed in as the login_hint, redirected back with a code."""
        code = secrets.token_urlsafe(10)
        with self._lock:
            self._codes[code] = _Code(
                query.get("login_hint", ""),
                query.get("client_id", ""),
                query.get("redirect_uri", ""),
                query.get("code_challenge", ""),
            )
        back = {"code": code, "state": query.get("state", "")}
        return f"{query.get('redirect_uri', '')}?{urllib.parse.urlencode(back)}"
