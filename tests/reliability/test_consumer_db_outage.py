"""A database outage of a few seconds dead-letters nothing (hardening point 6): a real worker
process consumes through the platform's CoopEventHandler while its PostgreSQL becomes
unreachable (a TCP proxy cut in front of it) and comes back; every event is applied exactly
once, after retries with growing delays, with the production retry settings."""

from __future__ import annotations

import contextlib
import re
import time
import urllib.request
import uuid

import pytest
from kombu import Connection

from coop_platform import delivery
from coop_platform.amqp import (
    ConfirmingPublisher,
    HandlerQueues,
    OutgoingMessage,
    dead_letter_count,
    queue_depth,
)
from coop_platform.envelope import dumps, make_envelope
from coop_testkit import AMQP_URL, ServiceProcess, TcpProxy, free_port, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


def _metric(port: int, name: str, queue: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:  # noqa: S310
        text = reply.read().decode()
    match = re.search(rf'^{name}{{queue="{re.escape(queue)}"}} ([0-9.e+]+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


@pytest.fixture
def service_name():
    name = f"outagetest_{uuid.uuid4().hex[:8]}"
    yield name
    queues = HandlerQueues(name, _queue(name), "membership", "member.admitted")
    with Connection(AMQP_URL) as conn:
        for doomed in (queues.name, queues.dead_letter_queue_name,
                       *(queues.delay_queue(d).name for d in delivery.DEFAULT_RETRY_DELAYS)):
            with contextlib.suppress(Exception), conn.channel() as channel:
                channel.queue_delete(doomed)
        for exchange in (queues.retry_exchange.name, queues.dead_letter_exchange.name):
            with contextlib.suppress(Exception), conn.channel() as channel:
                channel.exchange_delete(exchange)


def _queue(service: str) -> str:
    return f"evt-membership-member.admitted--{service}.on_member_admitted"


def test_a_few_seconds_of_database_outage_dead_letter_nothing_and_apply_every_event_once(
        consumer_db, service_name, tmp_path):
    proxy = TcpProxy(target_port=5432)
    database_url = consumer_db.url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert database_url != consumer_db.url
    metrics_port = free_port()
    worker = ServiceProcess("tests.reliability.retry_worker", {
        "COOP_DATABASE_URL": database_url, "COOP_AMQP_URL": AMQP_URL, "COOP_METRICS_PORT": str(metrics_port),
        "RETRY_WORKER_SERVICE": service_name,
        # the production retry settings
        "COOP_EVENT_RETRY_DELAYS": "", "COOP_EVENT_RETRY_MAX_SECONDS": ""}, tmp_path / "worker.log").start()
    publisher = ConfirmingPublisher(AMQP_URL)
    queue = _queue(service_name)
    try:
        wait_until(lambda: "worker: consuming" in worker.log() or worker.proc.poll() is not None, timeout=60,
                   message="the worker consuming")
        assert worker.proc.poll() is None, worker.log()[-3000:]
        events = [make_envelope("membership", "member.admitted", {"member": {"memberNumber": f"M{n:06d}"}})
                  for n in range(60)]

        def publish(envelope):
            publisher.publish_many([OutgoingMessage("membership.events", "member.admitted", dumps(envelope),
                                                    envelope["id"], envelope["correlationid"])])

        for envelope in events[:20]:
            publish(envelope)
            time.sleep(0.05)
        wait_until(lambda: sum(consumer_db.effects_by_event().values()) >= 10, timeout=30,
                   message="events applied before the outage")
        proxy.cut()  # PostgreSQL unreachable: connections drop, new ones are refused
        cut_at = time.monotonic()
        for envelope in events[20:40]:
            publish(envelope)
            time.sleep(0.05)
        while time.monotonic() - cut_at < 3.0:  # a few seconds of outage
            time.sleep(0.1)
        proxy.restore()
        for envelope in events[40:]:
            publish(envelope)
            time.sleep(0.05)

        wanted = {e["id"] for e in events}
        wait_until(lambda: wanted <= set(consumer_db.effects_by_event()), timeout=90, interval=0.2,
                   message="every event applied after the outage")
        assert _metric(metrics_port, "coop_event_retries_total", queue) > 0, "the outage made handlers fail"
    finally:
        publisher.close()
        worker.stop()
        proxy.close()

    applied = consumer_db.effects_by_event()
    assert {event_id: applied[event_id] for event_id in wanted} == {event_id: 1 for event_id in wanted}
    assert dead_letter_count(AMQP_URL, queue) == 0, "nothing may be dead-lettered"
    assert queue_depth(AMQP_URL, queue) == 0
