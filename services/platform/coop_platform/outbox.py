"""Transactional outbox and its relay (DESIGN D3).

A command's rows and its events commit in one transaction; the relay publishes
pending rows with publisher confirms and persistent messages and marks a row
sent only after its confirm. A crash between publish and mark re-publishes the
row: consumers dedupe on the event id (see inbox.py).
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, MetaData, delete, func, insert, select, update
from sqlalchemy.orm import Session

from coop_platform import envelope as ce
from coop_platform.db import is_sqlite, multirow_values
from coop_platform.metrics import (
    OUTBOX_OLDEST_AGE,
    OUTBOX_PENDING,
    OUTBOX_PUBLISH_ERRORS,
    OUTBOX_PUBLISHED,
)
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
    if conn.dialect.name != "postgresql":
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


@functools.lru_cache(maxsize=64)
def _outbox_insert_text(rows: int) -> str:
    return (f"INSERT INTO outbox ({', '.join(_OUTBOX_INSERT_COLUMNS)}) VALUES "
            + multirow_values(rows, len(_OUTBOX_INSERT_COLUMNS)))


class Publisher(Protocol):
    """What the relay needs from a broker client (coop_platform.amqp.ConfirmingPublisher)."""

    def publish_many(self, messages: list[tuple[str, str, str, str, str | None]]) -> int:
        """Publish (exchange, routing_key, body, message_id, correlation_id) persistent messages
        and return once the broker confirmed them all; on failure raise an exception whose
        `confirmed` attribute (if any) counts the leading messages that were confirmed."""


class OutboxRelay:
    """Moves committed outbox rows to the broker.

    `run_once` publishes up to one batch and returns how many rows it marked sent.
    `run_forever` loops with a short idle poll (low latency) and an exponential
    backoff while the broker is unreachable; nothing is dropped meanwhile, rows
    simply stay pending.
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
        self._skip_locked = not is_sqlite(engine)

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
            .where(_OUTBOX.c.published_at.is_(None))
            .order_by(_OUTBOX.c.seq)
            .limit(self.batch_size)
        )
        return query.with_for_update(skip_locked=True) if self._skip_locked else query

    def _publish_rows(self, rows: list[Any]) -> tuple[list[int], Exception | None]:
        """Publish a batch; returns the seqs the broker confirmed and the failure, if any."""
        try:
            self._get_publisher().publish_many(
                [(r.exchange, r.routing_key, r.body, r.event_id, _correlation_of(r.body)) for r in rows])
            return [r.seq for r in rows], None
        except Exception as exc:  # noqa: BLE001 - broker trouble: the rest stays pending
            done = [r.seq for r in rows[: getattr(exc, "confirmed", 0) or 0]]
            self._drop_publisher()
            OUTBOX_PUBLISH_ERRORS.inc()
            return done, exc

    def _mark(self, conn: Any, rows: list[Any], published: list[int], failure: Exception | None) -> None:
        if published:
            conn.execute(update(_OUTBOX).where(_OUTBOX.c.seq.in_(published))
                         .values(published_at=datetime.now(UTC)))
        if failure is not None and len(published) < len(rows):
            conn.execute(update(_OUTBOX).where(_OUTBOX.c.seq == rows[len(published)].seq)
                         .values(attempts=_OUTBOX.c.attempts + 1, last_error=str(failure)[:500]))

    def run_once(self) -> int:
        """Publish one batch; mark only confirmed rows. Raises after a broker failure."""
        self._get_publisher()  # connect before touching the database: never hold locks while dialling
        if self._skip_locked:
            # PostgreSQL: row locks keep concurrent relays (replicas) off the same rows.
            with self.engine.begin() as conn:
                rows = conn.execute(self._select_pending()).all()
                if not rows:
                    return 0
                published, failure = self._publish_rows(rows)
                self._mark(conn, rows, published, failure)
        else:
            # SQLite: a transaction is a database-wide write lock, so read, publish, then mark.
            with self.engine.begin() as conn:
                rows = conn.execute(self._select_pending()).all()
            if not rows:
                return 0
            published, failure = self._publish_rows(rows)
            with self.engine.begin() as conn:
                self._mark(conn, rows, published, failure)
        if published:
            OUTBOX_PUBLISHED.inc(len(published))
        if failure is not None:
            raise failure
        return len(published)

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
        """Update the pending-count and oldest-age gauges; returns them."""
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(_OUTBOX.c.created_at)).where(
                    _OUTBOX.c.published_at.is_(None)
                )
            ).one()
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            age = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
        OUTBOX_PENDING.set(count)
        OUTBOX_OLDEST_AGE.set(age)
        return count, age


def _correlation_of(body: str) -> str | None:
    # The envelope is our own JSON; avoid a full parse on the hot path.
    marker = '"correlationid":"'
    start = body.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return body[start : body.find('"', start)]


def pending_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(_OUTBOX).where(_OUTBOX.c.published_at.is_(None))
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
