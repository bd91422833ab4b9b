"""Fixtures for the fault-injection tests: real PostgreSQL databases and real RabbitMQ (DESIGN section 4)."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from kombu import Connection, Queue
from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, func, select

from coop_platform.db import make_engine, make_session_factory
from coop_platform.migrations import upgrade
from coop_platform.tables import inbox_table
from coop_platform.unit_of_work import UnitOfWork
from coop_testkit import AMQP_URL, postgres_database

# A consumer's own effect table: one row per application of the effect. It has no unique key,
# so an effect applied twice shows up as two rows (only the inbox may prevent that).
_CONSUMER_METADATA = MetaData()
EFFECTS = Table(
    "effect_log", _CONSUMER_METADATA,
    Column("event_id", String(64), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)
INBOX = inbox_table(_CONSUMER_METADATA)


@pytest.fixture
def membership_db() -> Iterator[tuple[str, Engine]]:
    """A fresh membership database (PostgreSQL, migrated to head): its URL and an engine."""
    with postgres_database("coop_rel_membership") as url:
        upgrade("membership", url)
        engine = make_engine(url, pool_size=5)
        try:
            yield url, engine
        finally:
            engine.dispose()


@dataclass
class ConsumerDb:
    url: str
    engine: Engine

    def uow(self) -> UnitOfWork:
        return UnitOfWork(make_session_factory(self.engine), "reliability-consumer")

    def effects_by_event(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(EFFECTS.c.event_id, func.count()).group_by(EFFECTS.c.event_id)).all()
        return {event_id: count for event_id, count in rows}

    @staticmethod
    def record_effect(uow: Any, envelope: dict[str, Any]) -> None:
        """A real, non-idempotent effect: one more row in effect_log, in the inbox transaction."""
        uow.session.execute(EFFECTS.insert().values(event_id=str(envelope["id"]), applied_at=datetime.now(UTC)))

    def inbox_rows(self, consumer: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(INBOX).where(INBOX.c.consumer == consumer)).scalar_one()


@pytest.fixture
def consumer_db() -> Iterator[ConsumerDb]:
    """Another service's database: the platform inbox table plus an effect table."""
    with postgres_database("coop_rel_consumer") as url:
        engine = make_engine(url, pool_size=5)
        _CONSUMER_METADATA.create_all(engine)
        try:
            yield ConsumerDb(url, engine)
        finally:
            engine.dispose()


@dataclass
class Delivery:
    envelope: dict[str, Any]
    message_id: str | None
    correlation_id: str | None
    redelivered: bool


def collect(queue: Queue, *, until: Callable[[list[Delivery]], bool], timeout: float = 30.0,
            amqp_url: str = AMQP_URL) -> list[Delivery]:
    """Consume (and ack) messages from `queue` until `until(deliveries)` holds or the timeout ends."""
    got: list[Delivery] = []
    deadline = time.monotonic() + timeout
    with Connection(amqp_url) as conn:
        bound = queue(conn.default_channel)
        while time.monotonic() < deadline and not until(got):
            message = bound.get(no_ack=True)
            if message is None:
                time.sleep(0.02)
                continue
            got.append(Delivery(json.loads(message.body), message.properties.get("message_id"),
                                message.properties.get("correlation_id"),
                                bool(message.delivery_info.get("redelivered"))))
    return got


@pytest.fixture
def collect_deliveries() -> Callable[..., list[Delivery]]:
    """`collect(queue, until=..., timeout=...)`: test modules cannot import conftest (importlib mode)."""
    return collect


@pytest.fixture
def scratch_queues() -> Iterator[Callable[[str], str]]:
    """Names for throw-away queues; every queue named (and its .dlq) is deleted afterwards."""
    names: list[str] = []

    def make(prefix: str) -> str:
        names.append(f"{prefix}-{uuid.uuid4().hex[:10]}")
        return names[-1]

    yield make
    with Connection(AMQP_URL) as conn:
        for name in names:
            for queue in (name, f"{name}.dlq"):
                with contextlib.suppress(Exception), conn.channel() as chan:
                    chan.queue_delete(queue)
