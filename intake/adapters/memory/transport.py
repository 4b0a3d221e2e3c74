"""An SMTP server and the session to it, in memory: the fake :class:`~intake.core.ports.Transport`
beside :class:`intake.adapters.smtp.SmtpSender`, failing on cue (a 451 to the next DATA, a dropped
connection)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Self

from intake.core.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from intake.core.ports import Transport


@dataclass(frozen=True, slots=True)
class Delivered:
    """One message the transport accepted: the envelope and the exact bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    connection: int  # messages sent over one connection share this number


Stage = Literal["RCPT", "DATA"]


@dataclass
class _Failure:
    stage: Stage
    reply: str | None  # None: the connection drops instead of answering
    times: int


class MemoryTransport(Transport):
    """An SMTP server and the session to it, in memory: records what was sent, fails on cue.

    Use it as the outbox's transport factory (``transport=lambda: memory``): entering opens a
    connection, failing when ``down``. Failures follow the SMTP adapter's rules: a 4xx answer
    or a dropped connection is temporary, a 5xx permanent (530 is temporary: configuration).
    After a drop the next send reconnects once, as ``SmtpSender`` does.
    """

    def __init__(self, *, smtputf8: bool = False) -> None:
        self.down = False
        #: Whether this server offers SMTPUTF8 (mail to and from non-ASCII local parts).
        self.smtputf8 = smtputf8
        self._lock = threading.Lock()
        self._messages: list[Delivered] = []
        self._failures: list[_Failure] = []
        self._connections = itertools.count(1)
        self._connection: int | None = None

    def __enter__(self) -> Self:
        self._connection = self._connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._connection = None

    # ------------------------------------------------------------------ Transport

    @property
    def extensions(self) -> frozenset[str]:
        if self._connection is None:
            return frozenset()
        offered = {"8bitmime", "pipelining", "size"}
        return frozenset(offered | {"smtputf8"} if self.smtputf8 else offered)

    def send(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str]) -> None:
        if not rcpt_to:
            raise PermanentDeliveryError("SMTP: no recipients")
        for addr in (mail_from, *rcpt_to):
            if any(c in addr for c in "\r\n<>"):
                raise PermanentDeliveryError(f"SMTP: cannot use envelope address {addr!r}")
        if self._connection is None:
            self._connection = self._connect()
        needs = [addr for addr in (mail_from, *rcpt_to) if not addr.isascii()]
        if needs and not self.smtputf8:
            raise PermanentDeliveryError(
                f"SMTP at memory: the server does not offer SMTPUTF8, which {needs[0]} needs"
            )
        for stage in ("RCPT", "DATA"):
            failure = self._take(stage)
            if failure is None:
                continue
            if failure.reply is None:
                self._connection = None
                raise TemporaryDeliveryError("SMTP send at memory: connection closed by the server")
            raise _answer(failure.reply, "RCPT TO" if stage == "RCPT" else "DATA")
        delivered = Delivered(mail_from, tuple(rcpt_to), bytes(raw), self._connection)
        with self._lock:
            self._messages.append(delivered)

    # ------------------------------------------------------------------ test controls

    @property
    def messages(self) -> list[Delivered]:
        with self._lock:
            return list(self._messages)

    def fail_next(self, reply: str, times: int = 1, stage: Stage = "DATA") -> None:
        """Answer the next ``times`` RCPT or DATA commands with ``reply`` ("451 4.3.0 later")."""
        with self._lock:
            self._failures.append(_Failure(stage, reply, times))

    def drop_next(self, times: int = 1) -> None:
        """Drop the connection instead of answering the next ``times`` DATA commands."""
        with self._lock:
            self._failures.append(_Failure("DATA", None, times))

    def _connect(self) -> int:
        if self.down:
            raise TemporaryDeliveryError("SMTP connect at memory: connection refused")
        with self._lock:
            return next(self._connections)

    def _take(self, stage: str) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.stage == stage:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                    return failure
        return None


def _answer(reply: str, stage: str) -> DeliveryError:
    code = int(reply[:3])
    message = f"SMTP {stage} at memory: {reply}"
    if 500 <= code < 600 and code != 530:
        return PermanentDeliveryError(message, code=code)
    return TemporaryDeliveryError(message, code=code)
