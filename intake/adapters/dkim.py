"""Verify the DKIM signature of a stored message, for consent evidence; the only importer of dkimpy.

Every signature is checked (the first few, top down), because the one that matters for consent
is the one whose ``d=`` aligns with the From domain, and a mail service may sign on top of it
(intake.text.domains decides alignment). The result is ``pass`` when some signature verifies,
and names the domains of those that did; otherwise it is the topmost signature's outcome.

A signature whose ``l=`` tag signs only the start of the body verifies whatever is appended
after it, so it proves nothing about the answer written there: it is ``partial``, never a pass.

The public key comes from DNS, so the lookup is the :class:`~intake.core.ports.Resolver` port:
production passes dkimpy's resolver with a short timeout (:func:`dns_lookup`), tests a
``StaticResolver`` holding the test key. A lookup that fails (no DNS, a
timeout, no key published) is ``error: <reason>``, never ``fail``: "fail" means the key was found
and the signature does not match it. The result string fits ``consents.dkim`` (50 characters).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import dkim

from intake.core.ports import Resolver

DEFAULT_TIMEOUT = 3.0
_SIGNATURE = re.compile(rb"^dkim-signature\s*:", re.IGNORECASE | re.MULTILINE)
_MAX = 50
#: Signatures checked per message: each costs a DNS lookup, and mail is signed once or twice.
MAX_SIGNATURES = 4

# dkimpy logs every failed lookup at ERROR; the outcome is recorded on the consent instead.
_quiet = logging.Logger("intake.adapters.dkim.dkimpy")
_quiet.addHandler(logging.NullHandler())


@dataclass(frozen=True, slots=True)
class DkimResult:
    """The outcome: none, pass (some signature verifies; ``domain`` is the first of them),
    else the topmost signature's fail, error or partial (verifies, but signs only the start
    of the body). ``passed``: the ``d=`` of every signature
    that verified, lower case, top down."""

    status: str
    domain: str = ""
    reason: str = ""
    passed: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.status in ("error", "partial"):
            return f"{self.status}: {self.reason}"[:_MAX]
        return self.status


def dns_lookup(timeout: float = DEFAULT_TIMEOUT) -> Resolver:
    """dkimpy's own resolver (dnspython), with ``timeout`` seconds for the whole lookup."""
    return _DnsResolver(timeout)


class _DnsResolver(Resolver):
    """The DNS as dkimpy reaches it; ``timeout`` when the caller gives none."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def __call__(self, name: bytes, timeout: float | None = None) -> bytes | None:
        seconds = self.timeout if timeout is None else timeout
        result: Any = dkim.dnsplug.get_txt(name, timeout=seconds)
        return result if isinstance(result, bytes) or result is None else None


def verify(
    raw: bytes, lookup: Resolver | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> DkimResult:
    """Check the DKIM signatures of ``raw`` (the message exactly as received)."""
    header_end = raw.find(b"\r\n\r\n")
    if header_end < 0:
        header_end = raw.find(b"\n\n")
    head = raw if header_end < 0 else raw[:header_end]
    count = len(_SIGNATURE.findall(head))
    if not count:
        return DkimResult("none")
    resolver = lookup or dns_lookup(timeout)
    results = [_verify_one(raw, i, resolver, timeout) for i in range(min(count, MAX_SIGNATURES))]
    passed = tuple(r.domain.lower() for r in results if r.status == "pass")
    first = next((r for r in results if r.status == "pass"), results[0])
    return DkimResult(first.status, first.domain, first.reason, passed)


def _verify_one(raw: bytes, index: int, resolver: Resolver, timeout: float) -> DkimResult:
    """The outcome of the ``index``-th signature from the top."""
    tracked = _Tracked(resolver)
    checker = dkim.DKIM(raw, logger=_quiet, timeout=timeout)
    try:
        ok = bool(checker.verify(idx=index, dnsfunc=tracked))
    except dkim.ValidationError as exc:
        return DkimResult("fail", _domain(checker), _reason(exc))
    except dkim.DKIMException as exc:
        return DkimResult("error", _domain(checker), _reason(exc))
    except Exception as exc:  # noqa: BLE001 - a malformed message must not stop ingest
        return DkimResult("error", _domain(checker), f"{type(exc).__name__}: {exc}")
    if ok:
        unsigned = _unsigned_body(checker)
        if unsigned:
            return DkimResult("partial", _domain(checker), unsigned)
        return DkimResult("pass", _domain(checker))
    if tracked.problem:
        return DkimResult("error", _domain(checker), tracked.problem)
    return DkimResult("fail", _domain(checker), "signature does not verify")


class _Tracked:
    """Wraps a lookup to remember why it failed: dkimpy turns that into a plain False."""

    def __init__(self, lookup: Resolver) -> None:
        self.lookup = lookup
        self.problem = ""

    def __call__(self, name: bytes, timeout: float = DEFAULT_TIMEOUT) -> bytes | None:
        try:
            found = self.lookup(name, timeout=timeout)
        except dkim.DnsTimeoutError as exc:
            self.problem = f"dns: {exc}"
            raise
        except Exception as exc:  # noqa: BLE001 - any resolver failure is an "error" result
            self.problem = f"dns: {type(exc).__name__}"
            raise dkim.DnsTimeoutError(str(exc)) from None
        if not found:
            self.problem = f"no key at {name.decode('ascii', 'replace').rstrip('.')}"
        return found


def _unsigned_body(checker: Any) -> str:
    """Why the body is not all signed ("" when it is): an ``l=`` shorter than the body."""
    fields = getattr(checker, "signature_fields", None) or {}
    length = fields.get(b"l")
    if length is None:
        return ""
    try:
        policy = dkim.CanonicalizationPolicy.from_c_value(fields.get(b"c", b"simple/simple"))
        body = len(policy.canonicalize_body(checker.body))
        signed = int(length)
    except (ValueError, TypeError, dkim.DKIMException):
        return "l= unreadable"
    return f"l= signs {signed} of {body} body bytes" if signed < body else ""


def _domain(checker: Any) -> str:
    domain = getattr(checker, "domain", None)
    return domain.decode("ascii", "replace") if isinstance(domain, bytes) else ""


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
