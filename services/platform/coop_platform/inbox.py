"""Idempotent consumers (DESIGN D3): the effect and the processed-event row commit together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from coop_platform.envelope import validate_envelope
from coop_platform.logs import reset_correlation_id, set_correlation_id
from coop_platform.metrics import INBOX_DUPLICATES
from coop_platform.tables import inbox_table

_INBOX = inbox_table(MetaData())


def claim_event(session: Session, consumer: str, event_id: str) -> bool:
    """Record that `consumer` handles `event_id` in the current transaction.

    Returns False when it was already processed (a redelivery or a re-publish):
    the caller must then skip the effect. On PostgreSQL a concurrent duplicate
    waits on the unique key until the first transaction ends, so at most one
    effect ever commits.
    """
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(
        insert_fn(_INBOX)
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
