"""DKIM verification through the Resolver port, against every resolver in ``RESOLVERS`` holding a
test key: pass, fail, a missing key and a resolver that cannot be reached each give their own
result (DNS on the internet is not used by the tests)."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import dkim as dkimpy
import pytest

from intake.adapters import dkim
from intake.adapters.memory.dns import StaticResolver
from intake.core.ports import Resolver
from tests.helpers import submission

SELECTOR, DOMAIN = b"s2026", b"qq.example"
NAME = "s2026._domainkey.qq.example"


@dataclass(frozen=True)
class Key:
    private: bytes
    record: bytes  # the TXT record publishing the public half


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Key:
    path = tmp_path_factory.mktemp("dkim") / "key.pem"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(path), "2048"], check=True, capture_output=True
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    return Key(path.read_bytes(), b"v=DKIM1; k=rsa; p=" + base64.b64encode(public))


#: name -> a resolver serving ``records`` and failing for the names in ``unreachable``.
RESOLVERS: dict[str, Callable[[Mapping[str, bytes], tuple[str, ...]], Resolver]] = {
    "static": lambda records, unreachable: StaticResolver(records, unreachable=unreachable),
}


@pytest.fixture(params=sorted(RESOLVERS))
def resolver_for(
    request: pytest.FixtureRequest,
) -> Callable[..., Resolver]:
    make = RESOLVERS[request.param]

    def build(records: Mapping[str, bytes], unreachable: tuple[str, ...] = ()) -> Resolver:
        return make(records, unreachable)

    return build


def signed(key: Key, raw: bytes) -> bytes:
    headers = [b"from", b"to", b"subject", b"date", b"message-id"]
    return dkimpy.sign(raw, SELECTOR, DOMAIN, key.private, include_headers=headers) + raw


def test_a_good_signature_passes(key: Key, resolver_for: Callable[..., Resolver]) -> None:
    result = dkim.verify(signed(key, submission()), resolver_for({NAME: key.record}))
    assert (result.status, result.domain, str(result)) == ("pass", "qq.example", "pass")


def test_a_changed_message_fails(key: Key, resolver_for: Callable[..., Resolver]) -> None:
    raw = signed(key, submission(subject="Re: 同意授权"))
    resolver = resolver_for({NAME: key.record})
    assert dkim.verify(raw + b"P.S. changed my mind\r\n", resolver).status == "fail"
    forged_subject = raw.replace(b"Subject: Re: ", b"Subject: Fw: ")
    assert forged_subject != raw
    assert dkim.verify(forged_subject, resolver).status == "fail"


def test_a_signature_of_part_of_the_body_is_no_pass(
    key: Key, resolver_for: Callable[..., Resolver]
) -> None:
    # l= signs the first bytes: anything appended still verifies, so it proves nothing.
    headers = [b"from", b"to", b"subject", b"date", b"message-id"]
    raw = submission(body="你好")
    signature = dkimpy.sign(raw, SELECTOR, DOMAIN, key.private, include_headers=headers,
                            length=True)  # fmt: skip
    resolver = resolver_for({NAME: key.record})
    whole = dkim.verify(signature + raw, resolver)
    assert (whole.status, whole.passed) == ("pass", ("qq.example",))  # l= is the whole body
    appended = dkim.verify(signature + raw + b"\r\n\r\nI agree K7QM-3RTD\r\n", resolver)
    assert (appended.status, appended.passed) == ("partial", ())
    assert str(appended).startswith("partial: l= signs ") and len(str(appended)) <= 50


def test_a_missing_key_is_an_error_not_a_fail(
    key: Key, resolver_for: Callable[..., Resolver]
) -> None:
    result = dkim.verify(signed(key, submission()), resolver_for({}))
    assert str(result) == f"error: no key at {NAME}"


def test_an_unreachable_resolver_is_an_error(
    key: Key, resolver_for: Callable[..., Resolver]
) -> None:
    result = dkim.verify(signed(key, submission()), resolver_for({}, (NAME,)))
    assert result.status == "error" and str(result).startswith("error: dns: ")
    assert len(str(result)) <= 50  # fits consents.dkim


def test_unsigned_mail_asks_nothing(resolver_for: Callable[..., Resolver]) -> None:
    resolver = resolver_for({})
    assert str(dkim.verify(submission(), resolver)) == "none"


def test_the_static_resolver_records_what_was_asked(key: Key) -> None:
    resolver = StaticResolver({NAME + ".": key.record})
    assert dkim.verify(signed(key, submission()), resolver).status == "pass"
    assert resolver.lookups == [b"s2026._domainkey.qq.example."]
    assert resolver(b"S2026._DOMAINKEY.QQ.EXAMPLE") == key.record  # DNS names ignore case


def test_the_real_resolver_is_a_resolver() -> None:
    # mypy checks the annotation; this checks it is callable as dkimpy calls it.
    resolver: Resolver = dkim.dns_lookup(0.5)
    assert callable(resolver)


def test_every_signature_is_checked_and_the_passing_domains_named(
    key: Key, resolver_for: Callable[..., Resolver]
) -> None:
    # A mail service signs on top of the author's domain with a key nobody publishes here.
    headers = [b"from", b"to", b"subject"]
    inner = signed(key, submission())
    outer = dkimpy.sign(inner, b"esp", b"esp.example", key.private, include_headers=headers)
    result = dkim.verify(outer + inner, resolver_for({NAME: key.record}))
    assert (result.status, result.domain, result.passed) == ("pass", "qq.example", ("qq.example",))
    # Both verify: both named, top down.
    both = resolver_for({NAME: key.record, "esp._domainkey.esp.example": key.record})
    assert dkim.verify(outer + inner, both).passed == ("esp.example", "qq.example")
    # None verifies: the topmost's outcome, nothing passed.
    none = dkim.verify(outer + inner, resolver_for({}))
    assert none.status == "error" and none.passed == ()
