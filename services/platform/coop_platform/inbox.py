"""Idempotent consumers (DESIGN D3): the effect and the processed-event row commit together,
one event at a time (`process_once`) or a batch in one transaction (`process_many`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any, NamedTuple

from sqlalchemy import Engine, MetaData, delete
from sqlalchemy.orm import Session

from coop_platform.batching import Coalescer
from coop_platform.envelope import validate_envelope
from coop_platform.logs import reset_correlation_id, set_correlation_id
from coop_platform.metrics import INBOX_DUPLICATES
from coop_platform.sqlkit import dialect_of
from coop_platform.tables import inbox_table

_INBOX = inbox_table(MetaData())


Effect = Callable[[Any, dict[str, Any]], None]


class InboxItem(NamedTuple):
    """One consumed event for `process_many`: the consumer that handles it, its envelope, and the
    effect to apply. An effect may also offer `many(uow, envelopes)`, the same effect for several
    envelopes at once (fewer statements); `process_many` uses it for a run of items that share it."""

    consumer: str
    envelope: dict[str, Any]
    effect: Effect


def claim_events(session: Session, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Record that each (consumer, event id) is handled in the current transaction, in one
    statement; returns the keys that were new. The others were processed already (a redelivery
    or a re-publish): their effect must be skipped. On PostgreSQL a concurrent duplicate waits on
    the unique key until the first transaction ends, so at most one effect ever commits; the keys
    are inserted in sorted order, so two batches never wait on each other in a cycle."""
    unique = sorted(set(keys))
    if not unique:
        return set()
    now = datetime.now(UTC)
    result = session.execute(
        dialect_of(session).insert(_INBOX)
        .values([{"consumer": c, "event_id": e, "processed_at": now} for c, e in unique])
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        .returning(_INBOX.c.consumer, _INBOX.c.event_id)
    )
    claimed = {(row.consumer, row.event_id) for row in result}
    for consumer, _ in set(unique) - claimed:
        INBOX_DUPLICATES.labels(consumer=consumer).inc()
    return claimed


def claim_event(session: Session, consumer: str, event_id: str) -> bool:
    """`claim_events` for one event: False when it was already processed."""
    return bool(claim_events(session, [(consumer, event_id)]))


def process_many(uow_factory: Callable[[], Any], items: Sequence[InboxItem]) -> list[bool]:
    """Apply each item's effect at most once per (consumer, event id), all in one transaction
    with their claims (one commit for the batch); returns, per item, whether it was applied (False
    for a skipped duplicate, including a second copy within the batch).

    Any failure rolls the whole batch back and raises: nothing of it is half-written, and the
    caller (the worker's `Coalescer`) runs each item alone to find whose failure it was. Each
    effect runs with its event's correlation id, so that the events it emits keep it; a `many`
    effect gets that of the run's first event."""
    for item in items:
        validate_envelope(item.envelope)
    keys = [(item.consumer, str(item.envelope["id"])) for item in items]
    applied: list[bool] = []
    with uow_factory() as uow:
        claimed = claim_events(uow.session, keys)
        todo: list[InboxItem] = []
        for item, key in zip(items, keys, strict=True):
            new = key in claimed
            claimed.discard(key)  # a second copy of the same event in this batch is a duplicate
            applied.append(new)
            if new:
                todo.append(item)
        for effect, run in groupby(todo, key=lambda item: item.effect):
            envelopes = [item.envelope for item in run]
            many = getattr(effect, "many", None)
            if many is not None and len(envelopes) > 1:
                with correlation_of(envelopes[0]):
                    many(uow, envelopes)
                continue
            for envelope in envelopes:
                with correlation_of(envelope):
                    effect(uow, envelope)
        uow.commit()
    return applied


def process_once(
    uow_factory: Callable[[], Any],
    consumer: str,
    envelope: dict[str, Any],
    effect: Effect,
) -> bool:
    """Apply `effect(uow, envelope)` at most once per (consumer, event id).

    The claim and the effect share one transaction: if the effect fails, the
    claim rolls back too and the redelivery tries again. Events the effect emits
    keep the incoming correlation id. Returns False for a skipped duplicate.
    """
    return process_many(uow_factory, [InboxItem(consumer, envelope, effect)])[0]


def inbox_coalescer(uow_factory: Callable[[], Any], max_batch: int = 64) -> Coalescer[InboxItem, bool]:
    """A worker's events handled in group commits: the handlers running at the same time (green
    threads, up to the worker's max_workers) submit their item, and one `process_many` transaction
    serves them all. A batch that fails is rerun item by item, so only the failing event's handler
    sees the error (and retries or dead-letters it as before)."""
    return Coalescer("inbox", lambda items: process_many(uow_factory, items), max_batch=max_batch)


@contextmanager
def correlation_of(envelope: dict[str, Any]) -> Iterator[None]:
    token = set_correlation_id(envelope.get("correlationid"))
    try:
        yield
    finally:
        reset_correlation_id(token)


def purge_inbox(engine: Engine, retention: timedelta, *, now: datetime | None = None) -> int:
    """Forget the processed-event ids older than `retention` (COOP_INBOX_RETENTION_DAYS); returns
    how many. Run by every worker's housekeeping with the outbox purge."""
    cutoff = (now or datetime.now(UTC)) - retention
    with engine.begin() as conn:
        return int(conn.execute(delete(_INBOX).where(_INBOX.c.processed_at < cutoff)).rowcount or 0)
