"""Organisational domains and DKIM alignment: whether a signature's ``d=`` speaks for the domain
of a From address, the only importer of publicsuffixlist.

Pure (the Public Suffix List is data shipped in the package, read once). The organisational
domain is the registrable one: the public suffix plus one label (``mail.qq.com`` is
``qq.com``, ``news.example.com.cn`` is ``example.com.cn``). Relaxed alignment (RFC 7489,
section 3.1.1) holds when the signing domain and the author's domain have the same
organisational domain; without the list, ``evil.com.cn`` would align with ``victim.com.cn``.
"""

from __future__ import annotations

import functools

from publicsuffixlist import PublicSuffixList

from intake.text.addresses import normalised_or_empty


def ascii_domain(domain: str) -> str:
    """``domain`` in its one comparable form (IDNA A-labels, lower case, no root dot), or ""
    when it is not a domain: :func:`intake.text.addresses.normalise` reads it."""
    found = normalised_or_empty(f"postmaster@{domain.strip()}")
    return found.rpartition("@")[2]


def organisational_domain(domain: str) -> str:
    """The registrable domain of ``domain``; "" when it is a public suffix itself (``com.cn``)
    or not a domain."""
    name = ascii_domain(domain)
    if not name or name.startswith("["):
        return ""
    return _list().privatesuffix(name) or ""


def aligned(signer: str, author: str) -> bool:
    """Whether a DKIM signature by ``signer`` (its ``d=``) aligns with the From domain
    ``author``: the same domain, or the same organisational domain (relaxed alignment)."""
    first, second = ascii_domain(signer), ascii_domain(author)
    if not first or not second:
        return False
    if first == second:
        return True
    organisation = organisational_domain(first)
    return bool(organisation) and organisation == organisational_domain(second)


@functools.lru_cache(maxsize=1)
def _list() -> PublicSuffixList:
    # Parsed once per process (about 40 ms); only replies that carry a DKIM pass ask.
    return PublicSuffixList()
