"""One normalisation of e-mail addresses, so that variants of one mailbox compare equal.

Pure. ``normalise`` is the form used wherever addresses are compared: rate limits, the
suppression list, our own and no-reply addresses, consent sender matching, duplicate grace.
Variants a hostile sender can write for one mailbox collapse to it: case (``Victim@X``),
full-width letters and ``＠`` (NFKC), full-width and ideographic dots in the domain (``。．｡``),
Unicode domains and their ``xn--`` form (IDNA), a trailing root dot, surrounding angle brackets
and whitespace, and a needlessly quoted local part (``"victim"@x``).

``rate_key`` folds further, for counting only: sub-addressing (``victim+1@x``, RFC 5233) and,
at Gmail, dots in the local part and ``googlemail.com``. Those variants reach one person's
mailbox at the providers that offer them, so a quota counted per ``rate_key`` cannot be
multiplied by writing them; two real mailboxes that happen to share a key only share a quota,
which errs on the side of sending less. It is never used as an address to write to.

The domain is converted with Python's ``idna`` codec (IDNA 2003 with nameprep): it needs no
dependency, and for the domains contributors use (ASCII, Chinese ``例子.中国``) it gives the
same A-labels as IDNA 2008. The local part keeps its non-ASCII characters (RFC 6531) and is
lower-cased, as every mail provider contributors use treats it.
"""

from __future__ import annotations

import re
import unicodedata

from intake.core.errors import IntakeError


class AddressError(IntakeError, ValueError):
    """Not an e-mail address; the message says what is wrong with it."""


# Dots that browsers and IDNA (UTS 46) read as label separators.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
# RFC 5322 atext, plus any non-ASCII character (RFC 6531), for a dot-atom local part.
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_LITERAL = re.compile(r"\[(?:[0-9.]+|ipv6:[0-9a-f:.]+)\]")
_GMAIL = frozenset({"gmail.com", "googlemail.com"})
_MAX_LOCAL = 64  # octets (RFC 5321)
_MAX_DOMAIN = 253
_MAX_ADDRESS = 254


def normalise(address: str) -> str:
    """``local@domain`` in its one comparable form (see the module docstring).

    Raises :class:`AddressError` for anything that is not a single address: empty, no ``@``,
    a display name, spaces or control characters, an invalid local part or domain.
    """
    text = unicodedata.normalize("NFKC", address).strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    if not text:
        raise AddressError("empty address")
    if "@" not in text:
        raise AddressError(f"no @ in {address!r}")
    local, _, domain = text.rpartition("@")
    result = f"{_local(local, address)}@{_domain(domain, address)}"
    if len(result.encode("utf-8")) > _MAX_ADDRESS:
        raise AddressError(f"address longer than {_MAX_ADDRESS} octets: {address!r}")
    return result


def normalised_or_empty(address: str) -> str:
    """:func:`normalise`, or ``""`` when ``address`` is not one (a comparison with garbage
    then matches nothing, and ``""`` matches no real address)."""
    try:
        return normalise(address)
    except AddressError:
        return ""


def same(first: str, second: str) -> bool:
    """Whether two addresses name one mailbox; never true when either is not an address."""
    a = normalised_or_empty(first)
    return bool(a) and a == normalised_or_empty(second)


def rate_key(address: str) -> str:
    """The key to count automatic mail per recipient by: :func:`normalise` with ``+tag``
    dropped and, at Gmail, dots and ``googlemail.com`` folded. Raises :class:`AddressError`."""
    local, _, domain = normalise(address).rpartition("@")
    if not local.startswith('"'):
        base = local.split("+", 1)[0]
        local = base or local
        if domain in _GMAIL:
            local = local.replace(".", "") or local
            domain = "gmail.com"
    return f"{local}@{domain}"


def normalised_or_lower(address: str) -> str:
    """:func:`normalise`, or ``address`` stripped and lower-cased when it is not an address:
    the form addresses are stored in, so a stored value that is not one still matches itself."""
    try:
        return normalise(address)
    except AddressError:
        return address.strip().lower()


def rate_key_or_lower(address: str) -> str:
    """:func:`rate_key`, or ``address`` stripped and lower-cased when it is not an address."""
    try:
        return rate_key(address)
    except AddressError:
        return address.strip().lower()


def _local(local: str, original: str) -> str:
    if local.startswith('"') and local.endswith('"') and len(local) >= 2:
        inner = re.sub(r"\\(.)", r"\1", local[1:-1])
        _check_characters(inner, original, quoted=True)
        if _is_dot_atom(inner):
            local = inner  # "victim"@x is victim@x
        else:
            escaped = inner.replace("\\", "\\\\").replace('"', '\\"')
            local = f'"{escaped}"'
    else:
        _check_characters(local, original, quoted=False)
        if not _is_dot_atom(local):
            raise AddressError(f"invalid local part {local!r} in {original!r}")
    local = local.lower()
    if len(local.encode("utf-8")) > _MAX_LOCAL:
        raise AddressError(f"local part longer than {_MAX_LOCAL} octets in {original!r}")
    return local


def _check_characters(text: str, original: str, *, quoted: bool) -> None:
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn") or (char.isspace() and not quoted):
            raise AddressError(f"{unicodedata.name(char, repr(char))} in {original!r}")
        if quoted and category in ("Cc", "Zl", "Zp"):
            raise AddressError(f"control character in {original!r}")


def _is_dot_atom(text: str) -> bool:
    return bool(text) and all(_ATEXT.fullmatch(atom) for atom in text.split("."))


def _domain(domain: str, original: str) -> str:
    domain = domain.translate(_DOTS).strip().lower()
    if domain.endswith("."):
        domain = domain[:-1]  # the root: "example.com." is "example.com"
    if not domain:
        raise AddressError(f"no domain in {original!r}")
    if domain.startswith("["):
        if not _LITERAL.fullmatch(domain):
            raise AddressError(f"invalid address literal {domain!r} in {original!r}")
        return domain
    labels = domain.split(".")
    ascii_labels: list[str] = []
    for label in labels:
        if not label:
            raise AddressError(f"empty label in domain {domain!r} of {original!r}")
        ascii_labels.append(_label(label, original))
    result = ".".join(ascii_labels)
    if len(result) > _MAX_DOMAIN:
        raise AddressError(f"domain longer than {_MAX_DOMAIN} characters in {original!r}")
    return result


def _label(label: str, original: str) -> str:
    """One domain label as its lower-case ASCII (A-label) form."""
    if label.isascii():
        if label.startswith("xn--"):
            # Decode and encode again: a bad or non-canonical A-label is not a domain.
            try:
                label = label.encode("ascii").decode("idna")
            except UnicodeError as exc:
                raise AddressError(f"invalid IDN label {label!r} in {original!r}") from exc
        else:
            if not _LABEL.fullmatch(label):
                raise AddressError(f"invalid domain label {label!r} in {original!r}")
            return label
    try:
        encoded = label.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise AddressError(f"invalid domain label {label!r} in {original!r}") from exc
    if not _LABEL.fullmatch(encoded):
        raise AddressError(f"invalid domain label {label!r} in {original!r}")
    return encoded


# --------------------------------------------------------------------------- robots

#: Local parts of robots that must never be answered (daemons, no-reply, bounce handlers,
#: list robots, notification senders), whatever their sub-address or decoration.
_NOREPLY_LOCAL = re.compile(
    r"^(?:mailer[-_.]?daemon|mail[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply"
    r"|bounces?|mailer|notifications?|listserv|majordomo|nobody|auto[-_.]?reply"
    r"|auto[-_.]?responder)(?:[-_.+].*)?$"
    r"|(?:^|[-_.+])no[-_.]?reply(?:$|[-_.+])|(?:^|[-_.+])do[-_.]?not[-_.]?reply(?:$|[-_.+])"
    r"|^owner-|-(?:request|owner|bounces?)(?:\+.*)?$",
)


def is_noreply_address(addr: str) -> bool:
    """Whether ``addr`` belongs to a robot that must never be answered (daemons, no-reply,
    bounce, list-robot and notification senders)."""
    return bool(_NOREPLY_LOCAL.search(local_part(addr)))


def local_part(addr: str) -> str:
    """The part before the last @, normalised where it is an address ("ＭＡＩＬＥＲ-ＤＡＥＭＯＮ@…"
    is the daemon too); the whole string, lower-cased, when there is no @ (``<MAILER-DAEMON>``)."""
    addr = normalised_or_empty(addr) or addr.strip().strip("<>").lower()
    return addr.rpartition("@")[0] if "@" in addr else addr
