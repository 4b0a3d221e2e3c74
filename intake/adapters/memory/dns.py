"""DKIM key records from a table: the fake :class:`~intake.core.ports.Resolver` beside
:func:`intake.adapters.dkim.dns_lookup`, with names that time out on cue."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from intake.core.ports import Resolver


class StaticResolver(Resolver):
    """DKIM key records from a table: ``{"s1._domainkey.example.com": b"v=DKIM1; k=rsa; p=..."}``.

    A name in ``unreachable`` raises TimeoutError, as a lookup without network does; any other
    name not in the table has nothing published. ``lookups`` lists the names asked for.
    """

    def __init__(
        self, records: Mapping[str, bytes] | None = None, *, unreachable: Iterable[str] = ()
    ) -> None:
        self.records = {_dns_name(k): v for k, v in (records or {}).items()}
        self.unreachable = {_dns_name(n) for n in unreachable}
        self.lookups: list[bytes] = []

    def __call__(self, name: bytes, timeout: float = 0.0) -> bytes | None:
        self.lookups.append(name)
        key = _dns_name(name)
        if key in self.unreachable:
            raise TimeoutError(f"DNS lookup of {key} timed out")
        return self.records.get(key)


def _dns_name(name: str | bytes) -> str:
    text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
    return text.rstrip(".").lower()
