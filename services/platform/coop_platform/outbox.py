"""Transactional outbox and its relay (DESIGN D3). About 430 lines: the writer, the relay and
its quarantine and retention share one table's states, kept in one place.

A command's rows and its events commit in one transaction; the relay publishes
pending rows with publisher confirms and persistent messages and marks a row
sent only after its confirm. A crash between publish and mark re-publishes the
row: consumers dedupe on the event id (see inbox.py).

No single row can stop the relay: a row the broker refuses when published alone,
while a row after it goes through, is quarantined (kept with its error, no longer
retried, counted) and the relay goes on; a broker outage quarantines nothing, rows
simply stay pending. An operator lists and releases quarantined rows with
`coop outbox quarantined|release`. Sent rows are purged after the retention.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, MetaData, and_, delete, func, insert, select, update
from sqlalchemy.orm import Session

from coop_platform import envelope as ce
from coop_platform.amqp import OutgoingMessage, is_connection_failure, usable_correlation_id
from coop_platform.db import multirow_values
from coop_platform.metrics import (
    OUTBOX_OLDEST_AGE,
    OUTBOX_PENDING,
    OUTBOX_PUBLISH_ERRORS,
    OUTBOX_PUBLISHED,
    OUTBOX_PURGED,
    OUTBOX_QUARANTINED,
    OUTBOX_QUARANTINED_ROWS,
    OUTBOX_UNROUTABLE,
)
from coop_platform.sqlkit import dialect_of, statement
from coop_platform.tables import outbox_table

log = logging.getLogger(__name__)
_OUTBOX = outbox_table(MetaData())
_INSERT_OUTBOX = insert(_OUTBOX)
#: Empty polls (about a quarter of a second at the short poll) before the relay slows down.
IDLE_POLLS_BEFORE_SLOWING = 25


def exchange_for(service: str) -> str:
    return f"{service}.events"


def add_many_to_outbox(session: Session, source: str, envelopes: list[dict[str, Any]]) -> None:
    """Insert events into the outbox of the session's transaction, in order."""
    if not envelopes:
        return
    now = datetime.now(UTC)
    exchange = exchange_for(source)
    rows = [(envelope["id"], exchange, ce.routing_key_of(envelope), ce.dumps(envelope), now, 0)
            for envelope in envelopes]
    conn = session.connection()
    if not dialect_of(conn).one_driver_statement:
        conn.execute(_INSERT_OUTBOX, [dict(zip(_OUTBOX_INSERT_COLUMNS, row, strict=True)) for row in rows])
        return
    # PostgreSQL: one multi-row VALUES text per chunk size, parameters passed straight to the
    # driver; half the client CPU of the Core executemany path, which every write in every
    # api process pays (an event body is a kilobyte or more of JSON to quote).
    for start in range(0, len(rows), _OUTBOX_CHUNK):
        chunk = rows[start : start + _OUTBOX_CHUNK]
        conn.exec_driver_sql(_outbox_insert_text(len(chunk)), tuple(value for row in chunk for value in row))


_OUTBOX_INSERT_COLUMNS = ("event_id", "exchange", "routing_key", "body", "created_at", "attempts")
#: Rows per PostgreSQL insert statement: a bulk import's events go in several statements.
_OUTBOX_CHUNK = 500


@statement
def _outbox_insert_text(rows: int) -> str:
    return (f"INSERT INTO outbox ({', '.join(_OUTBOX_INSERT_COLUMNS)}) VALUES "
            + multirow_values(rows, len(_OUTBOX_INSERT_COLUMNS)))


class Publisher(Protocol):
    """What the relay needs from a broker client (coop_platform.amqp.ConfirmingPublisher)."""

    def publish_many(self, messages: list[OutgoingMessage]) -> int:
        """Publish persistent messages and return once the broker confirmed them all; on
        failure raise an exception whose `confirmed` attribute (if any) counts the leading
        messages that were confirmed. Message ids the broker returned as unroutable are in an
        `unroutable` attribute afterwards (if the client reports them)."""


_PENDING = and_(_OUTBOX.c.published_at.is_(None), _OUTBOX.c.quarantined_at.is_(None))
_UNROUTABLE_ERROR = ("unroutable: no queue is bound for this routing key and the exchange has no "
                     "alternate exchange (run `coop broker setup`); release it once one is")


@dataclass
class _Outcome:
    """What one pass did with its rows."""

    sent: list[int] = field(default_factory=list)
    quarantined: list[tuple[Any, str]] = field(default_factory=list)  # (row, error)
    failed: list[tuple[Any, str]] = field(default_factory=list)  # still pending, error recorded
    failure: Exception | None = None  # raised after the marks: the caller backs off


class OutboxRelay:
    """Moves committed outbox rows to the broker.

    `run_once` publishes up to one batch and returns how many rows it marked sent.
    `run_forever` loops with a short idle poll (low latency) and an exponential
    backoff while the broker is unreachable; nothing is dropped meanwhile, rows
    simply stay pending.

    When a batch fails for another reason than the connection (the broker refused a
    message, closed the channel over one, or one could not even be encoded), the rest of
    the batch is published one row at a time: a row that fails alone is a suspect, and
    suspects are quarantined as soon as a row after them goes through. A fault every row
    shares (a permission taken away, say) thus quarantines nothing: the rows stay pending
    and the relay backs off, as during an outage.
    """

    def __init__(
        self,
        engine: Engine,
        publisher_factory: Callable[[], Publisher],
        *,
        batch_size: int = 200,
        poll_seconds: float = 0.01,
        max_backoff_seconds: float = 5.0,
        max_idle_poll_seconds: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.engine = engine
        self.publisher_factory = publisher_factory
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.max_idle_poll_seconds = max_idle_poll_seconds
        self.sleep = sleep
        self._publisher: Publisher | None = None
        self._stopping = False
        self._dialect = dialect_of(engine)

    def stop(self) -> None:
        self._stopping = True

    def _get_publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = self.publisher_factory()
        return self._publisher

    def _drop_publisher(self) -> None:
        publisher, self._publisher = self._publisher, None
        close = getattr(publisher, "close", None)
        if close:
            try:
                close()
            except Exception:  # noqa: BLE001 - the connection is already broken
                log.debug("closing a broken publisher failed", exc_info=True)

    def _select_pending(self):
        query = (
            select(_OUTBOX.c.seq, _OUTBOX.c.event_id, _OUTBOX.c.exchange,
                   _OUTBOX.c.routing_key, _OUTBOX.c.body)
            .where(_PENDING)
            .order_by(_OUTBOX.c.seq)
            .limit(self.batch_size)
        )
        # several relays (worker replicas) never publish the same rows
        return self._dialect.for_update(query, skip_locked=True)

    @staticmethod
    def _message(row: Any) -> OutgoingMessage:
        correlation_id = _correlation_of(row.body)
        usable = usable_correlation_id(correlation_id)
        if usable is None and correlation_id is not None:
            # AMQP cannot carry it (over 255 bytes): the envelope keeps it, the property does not
            log.warning("event %s: correlation id of %d characters left out of the AMQP properties",
                        row.event_id, len(correlation_id))
        return OutgoingMessage(row.exchange, row.routing_key, row.body, row.event_id, usable)

    def _failed(self, exc: Exception) -> None:
        self._drop_publisher()
        OUTBOX_PUBLISH_ERRORS.inc()

    def _publish_rows(self, rows: list[Any]) -> _Outcome:
        """Publish a batch; a failure that is not the connection's is isolated row by row."""
        outcome = _Outcome()
        try:
            publisher = self._get_publisher()
            publisher.publish_many([self._message(r) for r in rows])
            self._sort_confirmed(rows, publisher, outcome)
            return outcome
        except Exception as exc:  # noqa: BLE001 - broker trouble or a row's fault: sorted below
            confirmed = getattr(exc, "confirmed", 0) or 0
            if self._publisher is not None:
                self._sort_confirmed(rows[:confirmed], self._publisher, outcome)
            self._failed(exc)
            if is_connection_failure(exc):
                outcome.failed += [(row, _error_text(exc)) for row in rows[confirmed:confirmed + 1]]
                outcome.failure = exc
                return outcome
            log.warning("outbox batch refused (%s); publishing its rows one by one", _error_text(exc))
            self._isolate(rows[confirmed:], outcome)
            return outcome

    def _isolate(self, rows: list[Any], outcome: _Outcome) -> None:
        suspects: list[tuple[Any, str]] = []
        for row in rows:
            try:
                publisher = self._get_publisher()
            except Exception as exc:  # noqa: BLE001 - cannot even connect: everything stays pending
                self._failed(exc)
                outcome.failure = exc
                break
            try:
                publisher.publish_many([self._message(row)])
            except Exception as exc:  # noqa: BLE001
                self._failed(exc)
                if is_connection_failure(exc):
                    outcome.failed.append((row, _error_text(exc)))
                    outcome.failure = exc
                    break
                suspects.append((row, _error_text(exc)))
                continue
            # a row after the suspects went through: their failures were their own
            outcome.quarantined += suspects
            suspects = []
            self._sort_confirmed([row], publisher, outcome)
        if suspects:  # nothing after them went through (yet): they stay pending, with their error
            outcome.failed += suspects
            if outcome.failure is None:
                outcome.failure = RowsRefused(f"{len(suspects)} outbox row(s) refused by the broker: "
                                              f"{suspects[0][1]}")

    @staticmethod
    def _sort_confirmed(rows: list[Any], publisher: Any, outcome: _Outcome) -> None:
        unroutable = set(getattr(publisher, "unroutable", None) or ())
        for row in rows:
            if row.event_id in unroutable:
                outcome.quarantined.append((row, _UNROUTABLE_ERROR))
                OUTBOX_UNROUTABLE.labels(exchange=row.exchange).inc()
            else:
                outcome.sent.append(row.seq)

    def _mark(self, conn: Any, outcome: _Outcome) -> None:
        now = datetime.now(UTC)
        if outcome.sent:
            conn.execute(update(_OUTBOX).where(_OUTBOX.c.seq.in_(outcome.sent)).values(published_at=now))
        for row, error in outcome.quarantined:
            conn.execute(update(_OUTBOX).where(_OUTBOX.c.seq == row.seq).values(
                quarantined_at=now, attempts=_OUTBOX.c.attempts + 1, last_error=error[:500]))
            log.error("outbox row %s (event %s, %s %s) quarantined: %s",
                      row.seq, row.event_id, row.exchange, row.routing_key, error)
        for row, error in outcome.failed:
            conn.execute(update(_OUTBOX).where(_OUTBOX.c.seq == row.seq).values(
                attempts=_OUTBOX.c.attempts + 1, last_error=error[:500]))

    def run_once(self) -> int:
        """Publish one batch; mark confirmed rows sent and quarantine the ones refused alone.
        Raises after a broker failure, or when refused rows stay pending."""
        self._get_publisher()  # connect before touching the database: never hold locks while dialling
        if self._dialect.has_row_locks:
            # PostgreSQL: row locks keep concurrent relays (replicas) off the same rows.
            with self.engine.begin() as conn:
                rows = conn.execute(self._select_pending()).all()
                if not rows:
                    return 0
                outcome = self._publish_rows(rows)
                self._mark(conn, outcome)
        else:
            # SQLite: a transaction is a database-wide write lock, so read, publish, then mark.
            with self.engine.begin() as conn:
                rows = conn.execute(self._select_pending()).all()
            if not rows:
                return 0
            outcome = self._publish_rows(rows)
            with self.engine.begin() as conn:
                self._mark(conn, outcome)
        if outcome.sent:
            OUTBOX_PUBLISHED.inc(len(outcome.sent))
        if outcome.quarantined:
            OUTBOX_QUARANTINED.inc(len(outcome.quarantined))
        if outcome.failure is not None:
            raise outcome.failure
        return len(outcome.sent)

    def idle_delay(self, idle_polls: int) -> float:
        """Wait before the next poll after `idle_polls` empty polls in a row: the short poll
        while events flow, stretching to `max_idle_poll_seconds` on an idle service so that an
        idle worker does not query its database a hundred times a second."""
        if idle_polls <= IDLE_POLLS_BEFORE_SLOWING:
            return self.poll_seconds
        grown = self.poll_seconds * (2 ** min(idle_polls - IDLE_POLLS_BEFORE_SLOWING, 10))
        return min(grown, max(self.poll_seconds, self.max_idle_poll_seconds))

    def run_forever(self) -> None:
        backoff = self.poll_seconds
        idle_polls = 0
        while not self._stopping:
            try:
                count = self.run_once()
                backoff = self.poll_seconds
                idle_polls = idle_polls + 1 if count == 0 else 0
                if count < self.batch_size:
                    self.sleep(self.idle_delay(idle_polls))
            except Exception:  # noqa: BLE001 - log, back off, retry; rows stay pending
                log.warning("outbox relay failed; retrying in %.2fs", backoff, exc_info=True)
                self.sleep(backoff)
                backoff = min(max(backoff * 2, 0.1), self.max_backoff_seconds)
        self._drop_publisher()

    def refresh_metrics(self) -> tuple[int, float]:
        """Update the pending-count, oldest-age and quarantined-rows gauges; returns the first two."""
        with self.engine.connect() as conn:
            count, oldest = conn.execute(select(func.count(), func.min(_OUTBOX.c.created_at)).where(_PENDING)).one()
            quarantined = conn.execute(select(func.count()).select_from(_OUTBOX)
                                       .where(_OUTBOX.c.quarantined_at.is_not(None))).scalar_one()
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            age = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
        OUTBOX_PENDING.set(count)
        OUTBOX_OLDEST_AGE.set(age)
        OUTBOX_QUARANTINED_ROWS.set(quarantined)
        return count, age


class RowsRefused(Exception):
    """Outbox rows the broker refused, with no later row gone through yet to tell whether the
    fault is theirs: they stay pending and the relay backs off."""


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _correlation_of(body: str) -> str | None:
    # The envelope is our own JSON; avoid a full parse on the hot path.
    marker = '"correlationid":"'
    start = body.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return body[start : body.find('"', start)]


@dataclass(frozen=True)
class QuarantinedRow:
    seq: int
    event_id: str
    exchange: str
    routing_key: str
    created_at: datetime
    quarantined_at: datetime
    attempts: int
    last_error: str | None


def quarantined_rows(engine: Engine, limit: int = 100) -> list[QuarantinedRow]:
    """Quarantined rows, oldest first (what `coop outbox quarantined` shows)."""
    query = (select(_OUTBOX.c.seq, _OUTBOX.c.event_id, _OUTBOX.c.exchange, _OUTBOX.c.routing_key,
                    _OUTBOX.c.created_at, _OUTBOX.c.quarantined_at, _OUTBOX.c.attempts, _OUTBOX.c.last_error)
             .where(_OUTBOX.c.quarantined_at.is_not(None)).order_by(_OUTBOX.c.seq).limit(limit))
    with engine.connect() as conn:
        return [QuarantinedRow(*row) for row in conn.execute(query)]


def release_quarantined(engine: Engine, seqs: list[int] | None = None) -> int:
    """Put quarantined rows (these `seqs`, or all when None) back in line for the relay; they
    keep their last error until they are sent. Returns how many were released."""
    query = update(_OUTBOX).where(_OUTBOX.c.quarantined_at.is_not(None)).values(quarantined_at=None)
    if seqs is not None:
        query = query.where(_OUTBOX.c.seq.in_(seqs))
    with engine.begin() as conn:
        return conn.execute(query).rowcount


def purge_outbox(engine: Engine, retention: timedelta, *, now: datetime | None = None,
                 chunk: int = 5000) -> int:
    """Delete the rows whose retention is over: sent rows written more than `retention` ago,
    quarantined rows set aside more than `retention` ago. Pending rows (not delivered yet)
    stay. Deletes in chunks, so that no transaction holds many row locks. Returns the count."""
    cutoff = (now or datetime.now(UTC)) - retention
    done = 0
    for condition in (and_(_OUTBOX.c.published_at.is_not(None), _OUTBOX.c.created_at < cutoff),
                      and_(_OUTBOX.c.quarantined_at.is_not(None), _OUTBOX.c.quarantined_at < cutoff)):
        while True:
            doomed = select(_OUTBOX.c.seq).where(condition).limit(chunk).scalar_subquery()
            with engine.begin() as conn:
                deleted = conn.execute(delete(_OUTBOX).where(_OUTBOX.c.seq.in_(doomed))).rowcount
            done += deleted
            if deleted < chunk:
                break
    if done:
        OUTBOX_PURGED.inc(done)
    return done


class OutboxWriter:
    """What a unit of work hands its events to: rows of the outbox table in the unit's own
    transaction (DESIGN D3). Given to the unit, so the unit of work imports no outbox code."""

    def __init__(self, source: str) -> None:
        self.source = source

    def add(self, session: Session, envelopes: list[dict[str, Any]]) -> None:
        add_many_to_outbox(session, self.source, envelopes)

    def forget(self, session: Session, subject: str) -> int:
        return delete_published_about(session, subject)


def pending_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(_OUTBOX).where(_PENDING)
        ).scalar_one()


def delete_published_about(session: Session, subject: str) -> int:
    """Delete the outbox rows about `subject` (the envelopes' subject: a member id) that the broker
    has already confirmed, in the session's transaction; returns how many. An erased member's
    name must not outlive the erasure here; rows still pending go out first (their consumers
    then receive the erasure after them)."""
    marker = '"subject":' + json.dumps(subject)  # as ce.dumps prints every envelope
    pattern = "%" + marker.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    result = session.execute(delete(_OUTBOX).where(_OUTBOX.c.published_at.is_not(None),
                                                   _OUTBOX.c.body.like(pattern, escape="\\")))
    return int(result.rowcount or 0)
