"""Fault injection on the consuming side (DESIGN D3, issue 2 section 5): a poison message ends in
the dead-letter queue after N tries; a consumer that dies before or after its commit applies its
effect exactly once after the redelivery. Real RabbitMQ, real PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Queue

from coop_platform.amqp import dead_letter_count, declare_consumer_queue
from coop_platform.envelope import dumps, make_envelope
from coop_platform.inbox import process_once
from coop_testkit import AMQP_URL

pytestmark = [pytest.mark.rabbitmq]

CRASH_CONSUMER = Path(__file__).with_name("crash_consumer.py")
CRASHING_CONSUMER = "reliability.crashing-consumer"  # the consumer name crash_consumer.py uses


def _publish_to_queue(queue_name: str, envelope: dict[str, Any]) -> None:
    """Publish straight into one queue (default exchange), confirmed and persistent: a fabricated
    event must not reach the real subscribers of membership.events."""
    with Connection(AMQP_URL, transport_options={"confirm_publish": True}) as conn:
        conn.Producer().publish(
            dumps(envelope), exchange="", routing_key=queue_name, content_type="application/json",
            content_encoding="utf-8", delivery_mode=2, message_id=envelope["id"],
            correlation_id=envelope["correlationid"], retry=False,
        )


def _get(queue: Queue, timeout: float = 15.0):
    """Next message (unacknowledged), or None when nothing arrives in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = queue.get(no_ack=False)
        if message is not None:
            return message
        time.sleep(0.02)
    return None


def test_poison_message_ends_in_dead_letter_queue_after_three_failed_deliveries(scratch_queues):
    name = scratch_queues("test-poison")
    envelope = make_envelope("membership", "member.admitted", {"member": {"memberNumber": "M0000000"}})
    with Connection(AMQP_URL) as conn:
        declared = declare_consumer_queue(conn, name, "membership", "member.admitted", max_deliveries=3)
        _publish_to_queue(name, envelope)
        queue = declared(conn.default_channel)
        deliveries = 0
        deadline = time.monotonic() + 30
        # A handler that always fails: every delivery is rejected with requeue, as nameko does.
        while time.monotonic() < deadline and dead_letter_count(AMQP_URL, name) == 0:
            message = queue.get(no_ack=False)
            if message is None:
                time.sleep(0.02)
                continue
            assert message.properties.get("message_id") == envelope["id"]
            deliveries += 1
            message.reject(requeue=True)

        assert deliveries == 3
        assert dead_letter_count(AMQP_URL, name) == 1
        assert queue.get(no_ack=False) is None, "the poison message must leave the consumer queue"
        _, ready, _ = queue.queue_declare(passive=True)
        assert ready == 0

        parked = _get(Queue(f"{name}.dlq", channel=conn.default_channel), timeout=5)
        assert parked is not None
        assert parked.properties.get("message_id") == envelope["id"]
        assert json.loads(parked.body)["id"] == envelope["id"]
        assert parked.headers["x-death"][0]["queue"] == name
        parked.ack()


@pytest.mark.postgres
def test_effect_failing_after_its_write_leaves_nothing_and_retry_applies_it_once_then_skips_duplicate(
    consumer_db,
):
    envelope = make_envelope("billing", "share.paid", {"memberNumber": "M0000001", "year": 2026})
    consumer = "reliability.flaky-handler"

    def write_then_fail(uow: Any, env: dict[str, Any]) -> None:
        consumer_db.record_effect(uow, env)
        uow.session.flush()  # the effect's row really reached PostgreSQL inside the transaction
        raise RuntimeError("handler crashed before the commit")

    with pytest.raises(RuntimeError, match="before the commit"):
        process_once(consumer_db.uow, consumer, envelope, write_then_fail)
    assert consumer_db.effects_by_event() == {}
    assert consumer_db.inbox_rows(consumer) == 0

    assert process_once(consumer_db.uow, consumer, envelope, consumer_db.record_effect) is True
    assert process_once(consumer_db.uow, consumer, envelope, consumer_db.record_effect) is False
    assert consumer_db.effects_by_event() == {envelope["id"]: 1}
    assert consumer_db.inbox_rows(consumer) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("moment", ["before_commit", "after_commit"])
def test_consumer_killed_before_or_after_commit_applies_effect_exactly_once_after_redelivery(
    moment, consumer_db, scratch_queues
):
    name = scratch_queues(f"test-crash-{moment.replace('_', '-')}")
    envelope = make_envelope("membership", "member.admitted", {"member": {"memberNumber": "M0000002"}})
    with Connection(AMQP_URL) as conn:
        declare_consumer_queue(conn, name, "membership", f"test.{uuid.uuid4().hex}", max_deliveries=5)
    _publish_to_queue(name, envelope)

    crashed = subprocess.run([sys.executable, str(CRASH_CONSUMER), consumer_db.url, AMQP_URL, name, moment],
                             capture_output=True, text=True, timeout=120)
    assert crashed.returncode == -9, crashed.stdout + crashed.stderr
    if moment == "before_commit":
        assert "before the commit" in crashed.stdout
        assert consumer_db.effects_by_event() == {}, "an uncommitted effect must vanish with the process"
        assert consumer_db.inbox_rows(CRASHING_CONSUMER) == 0
    else:
        assert "applied=True" in crashed.stdout and "before the ack" in crashed.stdout
        assert consumer_db.effects_by_event() == {envelope["id"]: 1}
        assert consumer_db.inbox_rows(CRASHING_CONSUMER) == 1

    # The broker saw the consumer's connection die without an ack: it delivers the message again.
    with Connection(AMQP_URL) as conn:
        queue = Queue(name, channel=conn.default_channel)
        redelivered = _get(queue, timeout=30)
        assert redelivered is not None, "the unacknowledged message must come back"
        assert redelivered.delivery_info.get("redelivered") is True
        applied = process_once(consumer_db.uow, CRASHING_CONSUMER, json.loads(redelivered.body),
                               consumer_db.record_effect)
        redelivered.ack()
        assert applied is (moment == "before_commit"), "applied again only if it never committed"
        assert queue.get(no_ack=False) is None, "nothing else may be left to deliver"

    assert consumer_db.effects_by_event() == {envelope["id"]: 1}
    assert consumer_db.inbox_rows(CRASHING_CONSUMER) == 1
