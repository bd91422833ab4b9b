"""No single outbox row can stop the relay (hardening point 4), sent rows are purged after the
retention (point 7). Real SQLite and PostgreSQL databases, the real broker."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kombu import Connection, Queue
from prometheus_client import REGISTRY
from sqlalchemy import text

from coop_platform.amqp import ConfirmingPublisher, event_exchange
from coop_platform.db import make_session_factory
from coop_platform.logs import reset_correlation_id, set_correlation_id
from coop_platform.outbox import (
    OutboxRelay,
    RowsRefused,
    pending_count,
    purge_outbox,
    quarantined_rows,
    release_quarantined,
)
from coop_platform.unit_of_work import UnitOfWork
from coop_testkit import AMQP_URL, bound_queue, drain, scratch_vhost

pytestmark = [pytest.mark.rabbitmq]


def _emit(engine, *events: tuple[str, dict]) -> list[str]:
    """Commit events (name, data) in one unit of work; returns their ids in order."""
    with UnitOfWork(make_session_factory(engine), "membership") as uow:
        ids = [uow.emit(name, data) for name, data in events]
        uow.commit()
    return ids


def _metric(name: str, labels: dict | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


@contextlib.contextmanager
def _refusing_queue(routing_key: str, max_bytes: int = 1000):
    """A subscriber queue that refuses (nacks) any message over `max_bytes`: the broker then
    refuses that one message while accepting the others."""
    name = f"test-refusing-{uuid.uuid4().hex[:8]}"
    with Connection(AMQP_URL) as conn:
        exchange = event_exchange("membership")
        exchange(conn.default_channel).declare()
        queue = Queue(name, exchange=exchange, routing_key=routing_key, durable=True,
                      queue_arguments={"x-max-length-bytes": max_bytes, "x-overflow": "reject-publish"})
        queue(conn.default_channel).declare()
        try:
            yield queue
        finally:
            with contextlib.suppress(Exception):
                queue(conn.default_channel).delete()


def _relay(engine) -> OutboxRelay:
    return OutboxRelay(engine, lambda: ConfirmingPublisher(AMQP_URL))


def _row(engine, event_id: str):
    with engine.connect() as conn:
        return conn.execute(text("SELECT published_at, quarantined_at, attempts, last_error FROM outbox "
                                 "WHERE event_id = :e"), {"e": event_id}).one()


def test_a_row_the_broker_refuses_alone_is_quarantined_and_the_rows_after_it_are_published(engine):
    quarantined_before = _metric("coop_outbox_quarantined_total")
    with bound_queue("membership", "member.updated") as subscriber, _refusing_queue("member.oversized"):
        first, oversized, *after = _emit(
            engine, ("member.updated", {"n": 1}), ("member.oversized", {"blob": "x" * 5000}),
            ("member.updated", {"n": 2}), ("member.updated", {"n": 3}))
        relay = _relay(engine)
        try:
            assert relay.run_once() == 3
        finally:
            relay._drop_publisher()
        received = [e["id"] for e in drain(subscriber, expect=3)]
    assert received == [first, *after], "the rows after the refused one were published, in order"
    published_at, quarantined_at, attempts, last_error = _row(engine, oversized)
    assert published_at is None and quarantined_at is not None and attempts == 1
    assert "MessageRefused" in last_error
    assert pending_count(engine) == 0
    assert _metric("coop_outbox_quarantined_total") == quarantined_before + 1
    relay.refresh_metrics()
    assert _metric("coop_outbox_quarantined_rows") == 1
    assert [r.event_id for r in quarantined_rows(engine)] == [oversized]


def test_rows_refused_with_no_row_after_them_stay_pending_until_a_later_row_goes_through(engine):
    """A refusal every row would meet (here: the only rows are refused) quarantines nothing;
    the relay backs off with the rows pending, as during an outage."""
    with bound_queue("membership", "member.updated") as subscriber, _refusing_queue("member.oversized"):
        refused = _emit(engine, ("member.oversized", {"blob": "x" * 5000}), ("member.oversized", {"blob": "y" * 5000}))
        relay = _relay(engine)
        try:
            with pytest.raises(RowsRefused):
                relay.run_once()
            assert pending_count(engine) == 2 and quarantined_rows(engine) == []
            assert _row(engine, refused[0]).last_error is not None

            (later,) = _emit(engine, ("member.updated", {"n": 1}))
            assert relay.run_once() == 1
        finally:
            relay._drop_publisher()
        assert [e["id"] for e in drain(subscriber, expect=1)] == [later]
    assert [r.event_id for r in quarantined_rows(engine)] == refused
    assert pending_count(engine) == 0


def test_a_released_row_is_published_once_the_broker_takes_it(engine):
    with bound_queue("membership", "member.updated"), _refusing_queue("member.oversized"):
        oversized, _ = _emit(engine, ("member.oversized", {"blob": "x" * 5000}), ("member.updated", {"n": 1}))
        relay = _relay(engine)
        try:
            relay.run_once()
        finally:
            relay._drop_publisher()
    assert [r.event_id for r in quarantined_rows(engine)] == [oversized]
    # the refusing subscriber is gone: releasing the row puts it back in line, and it goes out
    with bound_queue("membership", "member.oversized") as subscriber:
        assert release_quarantined(engine) == 1
        assert pending_count(engine) == 1 and quarantined_rows(engine) == []
        relay = _relay(engine)
        try:
            assert relay.run_once() == 1
        finally:
            relay._drop_publisher()
        assert [e["id"] for e in drain(subscriber, expect=1)] == [oversized]
    assert _row(engine, oversized).published_at is not None


def test_a_correlation_id_too_long_for_amqp_no_longer_stops_the_relay(engine):
    """Written before the edge checked correlation ids: AMQP cannot carry 300 bytes in the
    correlation-id property (the publish raised, and the relay retried that batch for ever).
    The property is left out; the envelope keeps the id."""
    long_id = "c" * 300
    token = set_correlation_id(long_id)
    try:
        (stored,) = _emit(engine, ("member.updated", {"n": 0}))
    finally:
        reset_correlation_id(token)
    with bound_queue("membership", "member.updated") as queue:
        later = _emit(engine, ("member.updated", {"n": 1}), ("member.updated", {"n": 2}))
        relay = _relay(engine)
        try:
            assert relay.run_once() == 3
        finally:
            relay._drop_publisher()
        with Connection(AMQP_URL) as conn:
            bound = queue(conn.default_channel)
            messages = [bound.get(no_ack=True) for _ in range(3)]
    assert [m.properties["message_id"] for m in messages] == [stored, *later]
    assert "correlation_id" not in messages[0].properties
    assert json.loads(messages[0].body)["correlationid"] == long_id
    assert messages[1].properties["correlation_id"] == json.loads(messages[1].body)["correlationid"]
    assert quarantined_rows(engine) == []


def test_an_unreachable_broker_quarantines_nothing(engine):
    _emit(engine, ("member.updated", {"n": 1}), ("member.updated", {"n": 2}))
    relay = OutboxRelay(engine, lambda: ConfirmingPublisher("amqp://guest:guest@127.0.0.1:1/", connect_timeout=0.5))
    for _ in range(3):
        with pytest.raises(Exception):  # noqa: B017 - any connection error
            relay.run_once()
    assert pending_count(engine) == 2 and quarantined_rows(engine) == []


def test_an_event_no_queue_would_take_is_quarantined_as_unroutable_not_confirmed_and_lost(engine):
    """No subscriber and no alternate exchange on membership.events (as on a broker that
    `coop broker setup` never saw): the broker returns the message, the relay keeps its row."""
    unroutable_before = _metric("coop_outbox_unroutable_total", {"exchange": "membership.events"})
    nobody = f"member.nobody_{uuid.uuid4().hex[:8]}"
    (event_id,) = _emit(engine, (nobody, {"n": 1}))
    with scratch_vhost() as bare_broker:  # a vhost of its own: no setup, no alternate exchange
        relay = OutboxRelay(engine, lambda: ConfirmingPublisher(bare_broker))
        try:
            assert relay.run_once() == 0
        finally:
            relay._drop_publisher()
    (row,) = quarantined_rows(engine)
    assert row.event_id == event_id and row.last_error.startswith("unroutable")
    assert _metric("coop_outbox_unroutable_total", {"exchange": "membership.events"}) == unroutable_before + 1


def test_purge_deletes_sent_rows_past_the_retention_and_keeps_pending_and_recent_ones(engine):
    purged_before = _metric("coop_outbox_purged_total")
    old_sent, old_pending, recent_sent, old_quarantined, recent_quarantined = _emit(
        engine, *[("member.updated", {"n": n}) for n in range(5)])
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=8)
    with engine.begin() as conn:
        def set_row(event_id, **values):
            assignments = ", ".join(f"{k} = :{k}" for k in values)
            conn.execute(text(f"UPDATE outbox SET {assignments} WHERE event_id = :e"), {"e": event_id, **values})

        set_row(old_sent, created_at=long_ago, published_at=long_ago + timedelta(seconds=1))
        set_row(old_pending, created_at=long_ago)
        set_row(recent_sent, published_at=now)
        set_row(old_quarantined, created_at=long_ago, quarantined_at=long_ago)
        set_row(recent_quarantined, created_at=long_ago, quarantined_at=now - timedelta(days=1))

    assert purge_outbox(engine, timedelta(days=7), chunk=1) == 2
    with engine.connect() as conn:
        left = set(conn.execute(text("SELECT event_id FROM outbox")).scalars())
    assert left == {old_pending, recent_sent, recent_quarantined}
    assert _metric("coop_outbox_purged_total") == purged_before + 2


@pytest.mark.parametrize("service", ["membership", "billing", "elections"])
def test_each_service_history_carries_the_outbox_v2_revision_up_and_down(service, empty_database_url):
    """The platform table change reaches every service through a revision of its own; going
    back puts quarantined rows in line again."""
    from alembic.script import ScriptDirectory

    from coop_platform.db import make_engine
    from coop_platform.migrations import alembic_config, downgrade, upgrade

    url = empty_database_url
    scripts = ScriptDirectory.from_config(alembic_config(service, url))
    (outbox_v2,) = [r for r in scripts.walk_revisions() if r.revision.endswith("_outbox_v2")]
    upgrade(service, url)
    engine = make_engine(url)
    try:
        (event_id,) = _emit(engine, ("member.updated", {"n": 1}))
        with engine.begin() as conn:
            conn.execute(text("UPDATE outbox SET quarantined_at = :t"), {"t": datetime.now(UTC)})
        assert pending_count(engine) == 0
        engine.dispose()
        downgrade(service, url, outbox_v2.down_revision)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT event_id FROM outbox WHERE published_at IS NULL")).scalars().all() == [
                event_id]
        upgrade(service, url)
        assert pending_count(engine) == 1 and quarantined_rows(engine) == []
    finally:
        engine.dispose()
