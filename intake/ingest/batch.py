"""One write transaction for a FETCH batch, with a savepoint per message.

The poll records a whole batch in one transaction and commits it once, before anything is
moved on the server: a commit per message cost more than the rest of recording. Each message
is written inside its own savepoint, so a message that fails rolls back alone and is then
quarantined in the same transaction. Slow work (reading documents in the extraction worker,
a DKIM key from DNS) never happens inside it: the recorder commits what the batch holds so
far first (:meth:`Batch.commit`), and the next message begins a new transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker


class Batch:
    """A transaction opened on first use and committed by its owner."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._session: Session | None = None
        #: Transactions committed (tests: how a batch was cut).
        self.commits = 0

    @property
    def session(self) -> Session:
        """The open transaction's session (one is begun if none is open)."""
        if self._session is None:
            session = self.sessions()
            session.begin()
            self._session = session
        return self._session

    @contextmanager
    def savepoint(self) -> Iterator[Session]:
        """One message's writes: released when it succeeds, rolled back alone when it raises."""
        session = self.session
        with session.begin_nested():
            yield session

    def commit(self) -> None:
        """Commit what the batch holds (nothing to do when no transaction is open)."""
        session, self._session = self._session, None
        if session is None:
            return
        try:
            session.commit()
            self.commits += 1
        finally:
            session.close()

    def rollback(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.rollback()
            finally:
                session.close()

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()


__all__ = ["Batch"]
