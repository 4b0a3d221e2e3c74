"""Every adapter declares the ports it implements (mypy then checks each method against the
port), the manual clock behaves, and no use case declares a port of its own again."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake.adapters import dkim
from intake.adapters.blobstore import LocalBlobStore
from intake.adapters.imap import ImapMailbox
from intake.adapters.memory.blobstore import MemoryBlobStore
from intake.adapters.memory.clock import ManualClock
from intake.adapters.memory.dns import StaticResolver
from intake.adapters.memory.mailbox import MemoryMailbox
from intake.adapters.memory.transport import MemoryTransport
from intake.adapters.smtp import SmtpSender
from intake.core import ports

PACKAGE = Path(__file__).resolve().parents[2] / "intake"


@pytest.mark.parametrize(
    ("adapter", "port"),
    [
        (ImapMailbox, ports.MailSource),
        (ImapMailbox, ports.SentMailbox),
        (MemoryMailbox, ports.MailSource),
        (MemoryMailbox, ports.SentMailbox),
        (SmtpSender, ports.Transport),
        (MemoryTransport, ports.Transport),
        (LocalBlobStore, ports.BlobStore),
        (MemoryBlobStore, ports.BlobStore),
        (StaticResolver, ports.Resolver),
        (type(dkim.dns_lookup()), ports.Resolver),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_each_adapter_declares_its_port(adapter: type, port: type) -> None:
    assert port in adapter.__mro__  # declared, not just shaped alike


def test_ports_are_declared_in_one_module() -> None:
    """A ``get(path) -> bytes``, ``send(raw, ...)`` or mailbox Protocol written beside a use case
    is a port declared twice: import it from intake.core.ports instead."""
    names = {"MailSource", "SentMailbox", "Transport", "BlobStore", "BlobReader", "Resolver"}
    methods = {"get", "put", "send", "fetch", "mark_processed", "append", "find_message_id"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "core" / "ports.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
            if "Protocol" not in bases:
                continue
            defined = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            if node.name in names or defined & methods:
                found.append(f"{path.relative_to(PACKAGE.parent)}: {node.name}")
    assert found == []


def test_manual_clock_stands_still_until_moved() -> None:
    start = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    clock = ManualClock(start)
    assert clock() == clock() == start
    assert clock.advance(hours=2) == start + timedelta(hours=2) == clock()
    clock.advance(timedelta(days=1))
    assert clock() == start + timedelta(days=1, hours=2)
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(seconds=-1)
    with pytest.raises(ValueError, match="aware"):
        ManualClock(datetime(2026, 1, 1))
