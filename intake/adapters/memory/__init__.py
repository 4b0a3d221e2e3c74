"""In-memory implementations of every port in :mod:`intake.core.ports`, one module a port, shipped
beside the real adapters (as httpx ships ``MockTransport``) so use cases are tested fast, without
servers: ``mailbox`` (IMAP), ``transport`` (SMTP), ``blobstore``, ``dns`` (DKIM keys), ``clock``.

Each behaves like the real thing where intake depends on it (``tests/adapters/`` runs one
contract suite against both) and fails on cue, deterministically: a mailbox whose next MOVE
raises, an SMTP server answering 451 to the next DATA, a blob store whose disk is full.
Thread-safe: the daemon and ``WriteAhead`` call ports from several threads. For tests only:
import-linter keeps intake itself off this package.
"""
