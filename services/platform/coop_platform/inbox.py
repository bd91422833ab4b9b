"""Idempotent consumers (DESIGN D3): the effect and the processed-event row commit together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, MetaData, delete
from sqlalchemy.orm import Session

from coop_platform.envelope import validate_envelope
from coop_platform.logs import reset_correlation_id, set_correlation_id
from coop_platform.metrics import INBOX_DUPLICATES
from coop_platform.sqlkit import dialect_of
from coop_platform.tables import inbox_table

_INBOX = inbox_table(MetaData())


def claim_event(session: Session, consumer: str, event_id: str) -> bool:
    """Record that `consumer` handles `event_id` in the current transaction.

    Returns False when it was already processed (a redelivery or a re-publish):
    the caller must then skip the effect. On PostgreSQL a concurrent duplicate
    waits on the unique key until the first transaction ends, so at most one
    effect ever commits.
    """
    result = session.execute(
        dialect_of(session).insert(_INBOX)
        .values(consumer=consumer, event_id=event_id, processed_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
    )
    claimed = result.rowcount == 1
    if not claimed:
        INBOX_DUPLICATES.labels(consumer=consumer).inc()
    return claimed


def process_once(
    uow_factory: Callable[[], Any],
    consumer: str,
    envelope: dict[str, Any],
    effect: Callable[[Any, dict[str, Any]], None],
) -> bool:
    """Apply `effect(uow, envelope)` at most once per (consumer, event id).

    The claim and the effect share one transaction: if the effect fails, the
    claim rolls back too and the redelivery tries again. Events the effect emits
    keep the incoming correlation id. Returns False for a skipped duplicate.
    """
    validate_envelope(envelope)
    token = set_correlation_id(envelope.get("correlationid"))
    try:
        with uow_factory() as uow:
            if not claim_event(uow.session, consumer, str(envelope["id"])):
                return False
            effect(uow, envelope)
            uow.commit()
        return True
    finally:
        reset_correlation_id(token)


def purge_inbox(engine: Engine, retention: timedelta, *, now: datetime | None = None) -> int:
    """Forget the processed-event ids older than `retention` (COOP_INBOX_RETENTION_DAYS); returns
    how many. Run by every worker's housekeeping with the outbox purge."""
    cutoff = (now or datetime.now(UTC)) - retention
    with engine.begin() as conn:
        return int(conn.execute(delete(_INBOX).where(_INBOX.c.processed_at < cutoff)).rowcount or 0)
