"""The unit of work: one transaction in which the rows a use case writes and the events it
publishes commit together (DESIGN D3; cosmicpython chapter 6).

A service subclasses it to attach its repositories in `_open`, and hands it the translator of
its domain events into protobuf messages: the service layer calls `uow.publish(event)` and never
sees protobuf.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from coop_domain.events import EventTranslator
from coop_platform.db import Database
from coop_platform.envelope import make_envelope
from coop_platform.outbox import OutboxWriter


class UnitOfWork:
    def __init__(self, database: Database | sessionmaker[Session], source: str, *,
                 translate: EventTranslator | None = None, outbox: OutboxWriter | None = None) -> None:
        self.database = Database.of(database)
        self.source = source
        self._translate = translate
        self._outbox = outbox or OutboxWriter(source)
        self.session: Session
        self._depth = 0

    @property
    def joined(self) -> bool:
        """True inside a unit entered again while open: its commit is the outer one's."""
        return self._depth > 1

    def __enter__(self) -> UnitOfWork:
        """Open the transaction. Entering a unit that is already open joins it: the inner block
        (a use case run by `coop_platform.idempotency.answer_once`, which stores the call's answer
        with its work) shares the outer transaction, and only the outermost commit commits."""
        self._depth += 1
        if self._depth > 1:
            return self
        self.session = self.database.sessions()
        self._pending_events: list[dict[str, Any]] = []
        self._open()
        return self

    def _open(self) -> None:
        """Hook for subclasses: build repositories on self.session."""

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth > 0:  # a joined block: the outer unit commits or rolls back
            return
        # close() detaches every object without expiring it (objects read in this unit stay
        # readable) and ends the transaction, so anything not committed is rolled back; an ORM
        # rollback() first would also restore the session's snapshot, work thrown away here.
        self.session.close()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for a query side (CQRS): autocommit, from the read pool, and no Session,
        so a lookup by key pays for neither the ORM nor a transaction. Use it instead of
        entering the unit (`with uow.reading() as conn:`); it writes nothing."""
        with self.database.reading() as conn:
            yield conn

    def read_only(self) -> UnitOfWork:
        """Run this unit's queries outside a transaction: a read needs no BEGIN/ROLLBACK round
        trips (nor, on SQLite, the write lock). Call it before the first query."""
        self.database.read_only(self.session)
        return self

    def commit(self) -> None:
        """Write the buffered events into the outbox (one statement) and commit with the rows.
        In a joined unit, the events and rows wait for the outer unit's commit."""
        if self.joined:
            return
        if self._pending_events:
            self._outbox.add(self.session, self._pending_events)
            self._pending_events = []
        self.session.commit()

    def rollback(self) -> None:
        self._pending_events = []
        self.session.rollback()

    def forget_published_events(self, subject: str) -> int:
        """Delete this service's already-published events about `subject` (an erased member):
        see coop_platform.outbox.delete_published_about."""
        return self._outbox.forget(self.session, subject)

    def publish(self, event: Any, *, correlation_id: str | None = None) -> str:
        """Queue a domain event; it reaches the outbox in this unit's commit. The service's
        translator names it and turns it into its protobuf message. correlation_id: the
        request's, when this thread serves another caller's request (a group-commit batch)."""
        if self._translate is None:
            raise TypeError(f"{type(self).__name__} was given no event translator")
        name, message, subject = self._translate(event)
        return self.emit(name, message, subject=subject, correlation_id=correlation_id)

    def emit(self, name: str, message: Any, *, subject: str | None = None,
             correlation_id: str | None = None) -> str:
        """Queue an event already in its wire form (a protobuf message). Adapters and platform
        code only: a service layer calls `publish` with a domain event."""
        envelope = make_envelope(self.source, name, message, subject=subject, correlation_id=correlation_id)
        self._pending_events.append(envelope)
        return envelope["id"]
