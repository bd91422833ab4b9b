"""CoopEventHandler (hardening points 5 and 6): failures are retried after growing delays and
dead-lettered after a bounded time, with their story in the headers; a message that does not
come from the handler's source is dead-lettered unread; a queue an older version declared with
other arguments is recreated with its messages. Real nameko containers, RabbitMQ, PostgreSQL."""

import contextlib
import json
import subprocess
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Queue
from prometheus_client import REGISTRY
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select

from coop_platform import delivery
from coop_platform.amqp import (
    ConfirmingPublisher,
    HandlerQueues,
    OutgoingMessage,
    consumer_queue_arguments,
    dead_letter_count,
    event_exchange,
    queue_depth,
)
from coop_platform.db import make_engine, make_session_factory
from coop_platform.envelope import dumps, make_envelope
from coop_platform.inbox import process_once
from coop_platform.tables import inbox_table
from coop_platform.unit_of_work import UnitOfWork
from coop_platform.worker import CoopEventHandler
from coop_testkit import AMQP_URL, postgres_database, wait_until

CONSUMED = ("membership", "member.admitted")
CONSUMER_METADATA = MetaData()
#: One row per application of an effect: no unique key, so a doubled effect shows.
EFFECTS = Table(
    "effect_log", CONSUMER_METADATA,
    Column("event_id", String(64), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)
inbox_table(CONSUMER_METADATA)


@pytest.fixture(scope="module")
def consumer_engine():
    """A consumer's database: the inbox and an effect table."""
    with postgres_database("coop_platform_worker") as url:
        engine = make_engine(url, pool_size=4)
        CONSUMER_METADATA.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()


class RecordingHandler(CoopEventHandler):
    """The platform handler, noting what reached it (exchange and headers) for the asserts."""

    seen: list[tuple[str, dict]] = []

    def handle_message(self, body, message):
        RecordingHandler.seen.append((message.delivery_info.get("exchange"), dict(message.headers or {})))
        super().handle_message(body, message)


def _service(name, engine, failures_per_event):
    """A nameko service whose handler records its effect once per event (inbox), after failing
    `failures_per_event` times for each event (None: always)."""
    sessions = make_session_factory(engine)
    calls: Counter = Counter()

    def effect(uow, envelope):
        uow.session.execute(EFFECTS.insert().values(event_id=envelope["id"], applied_at=datetime.now(UTC)))

    @RecordingHandler.decorator(*CONSUMED)
    def on_member_admitted(self, envelope):
        calls[envelope["id"]] += 1
        if failures_per_event is None or calls[envelope["id"]] <= failures_per_event:
            raise RuntimeError(f"database unavailable (call {calls[envelope['id']]})")
        process_once(lambda: UnitOfWork(sessions, name), f"{name}.on_member_admitted", envelope, effect)

    return type("DeliveryTestService", (), {"name": name, "on_member_admitted": on_member_admitted}), calls


@pytest.fixture
def service_name():
    """A service name of this test alone; its queues and exchanges are deleted afterwards."""
    name = f"deliverytest_{uuid.uuid4().hex[:8]}"
    RecordingHandler.seen = []
    yield name
    queue = f"evt-{CONSUMED[0]}-{CONSUMED[1]}--{name}.on_member_admitted"
    handler = HandlerQueues(name, queue, *CONSUMED, retry_delays=delivery.DeliverySettings.from_env().retry_delays)
    with Connection(AMQP_URL) as conn:
        for doomed in (queue, handler.dead_letter_queue_name, *(handler.delay_queue(d).name for d in handler.retry_delays)):
            with contextlib.suppress(Exception), conn.channel() as channel:
                channel.queue_delete(doomed)
        for exchange in (handler.retry_exchange.name, handler.dead_letter_exchange.name):
            with contextlib.suppress(Exception), conn.channel() as channel:
                channel.exchange_delete(exchange)


def _queue(name):
    return f"evt-{CONSUMED[0]}-{CONSUMED[1]}--{name}.on_member_admitted"


def _publish(envelope, *, exchange="membership.events", routing_key="member.admitted"):
    publisher = ConfirmingPublisher(AMQP_URL)
    try:
        publisher.publish_many([OutgoingMessage(exchange, routing_key, dumps(envelope), envelope["id"],
                                                envelope["correlationid"])])
    finally:
        publisher.close()


def _admitted():
    return make_envelope("membership", "member.admitted", {"member": {"memberNumber": "M000001"}})


def _effects(engine, event_id):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(EFFECTS).where(EFFECTS.c.event_id == event_id)).scalar_one()


def _metric(name, labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _dead_letters(queue):
    with Connection(AMQP_URL) as conn:
        dlq = Queue(f"{queue}.dlq", channel=conn.default_channel)
        found = []
        while (message := dlq.get(no_ack=True)) is not None:
            found.append(message)
        return found


def test_a_failing_event_is_retried_after_growing_delays_then_applied_once(container_factory, consumer_engine,
                                                                         service_name):
    cls, calls = _service(service_name, consumer_engine, failures_per_event=2)
    queue = _queue(service_name)
    retries = _metric("coop_event_retries_total", {"queue": queue})
    container = container_factory(cls, {"AMQP_URI": AMQP_URL, "serializer": "json"})
    container.start()
    envelope = _admitted()
    _publish(envelope)
    wait_until(lambda: _effects(consumer_engine, envelope["id"]) == 1, timeout=30, message="the effect applied")

    assert calls[envelope["id"]] == 3
    assert _metric("coop_event_retries_total", {"queue": queue}) == retries + 2
    # first through membership.events, then twice back through the service's own retry exchange,
    # from the delay queue of each level in turn
    exchanges = [exchange for exchange, _ in RecordingHandler.seen]
    assert exchanges == ["membership.events", f"{service_name}.retry", f"{service_name}.retry"]
    last_headers = RecordingHandler.seen[-1][1]
    assert last_headers[delivery.HEADER_ATTEMPT] == 2
    assert last_headers[delivery.HEADER_ORIGIN_EXCHANGE] == "membership.events"
    assert "database unavailable (call 2)" in last_headers[delivery.HEADER_LAST_ERROR]
    waited_in = {death["queue"]: death["count"] for death in last_headers["x-death"]}
    assert waited_in == {f"{queue}.delay-200ms": 1, f"{queue}.delay-400ms": 1}
    assert dead_letter_count(AMQP_URL, queue) == 0 and queue_depth(AMQP_URL, queue) == 0


def test_an_event_that_keeps_failing_is_dead_lettered_after_the_retry_time_with_its_story(
        container_factory, consumer_engine, service_name):
    cls, calls = _service(service_name, consumer_engine, failures_per_event=None)
    queue = _queue(service_name)
    dead = _metric("coop_dead_lettered_total", {"queue": queue})
    container = container_factory(cls, {"AMQP_URI": AMQP_URL, "serializer": "json"})
    container.start()
    envelope = _admitted()
    _publish(envelope)
    wait_until(lambda: dead_letter_count(AMQP_URL, queue) == 1, timeout=30, message="the event dead-lettered")

    (parked,) = _dead_letters(queue)
    headers = parked.headers
    assert json.loads(parked.body)["id"] == envelope["id"] and parked.properties["message_id"] == envelope["id"]
    assert headers[delivery.HEADER_DEAD_LETTER_REASON].startswith("retries exhausted")
    assert headers[delivery.HEADER_ATTEMPT] == calls[envelope["id"]] >= 3
    assert headers[delivery.HEADER_ORIGIN_EXCHANGE] == "membership.events"
    assert headers[delivery.HEADER_ORIGIN_ROUTING_KEY] == "member.admitted"
    assert "database unavailable" in headers[delivery.HEADER_LAST_ERROR]
    # dead-lettered no later than COOP_EVENT_RETRY_MAX_SECONDS after the first failure
    last_try_at = headers[delivery.HEADER_FIRST_FAILED_AT] + 1.5
    assert datetime.fromisoformat(headers[delivery.HEADER_DEAD_LETTERED_AT]).timestamp() <= last_try_at + 1.0
    assert _metric("coop_dead_lettered_total", {"queue": queue}) == dead + 1
    assert queue_depth(AMQP_URL, queue) == 0 and _effects(consumer_engine, envelope["id"]) == 0


@pytest.mark.parametrize("forgery", ["type_of_another_service", "source_of_another_service",
                                     "straight_into_the_queue", "not_an_envelope"])
def test_a_message_that_does_not_come_from_the_handlers_source_is_dead_lettered_unread(
        forgery, container_factory, consumer_engine, service_name):
    cls, calls = _service(service_name, consumer_engine, failures_per_event=0)
    queue = _queue(service_name)
    refused = _metric("coop_events_refused_total", {"queue": queue})
    container = container_factory(cls, {"AMQP_URI": AMQP_URL, "serializer": "json"})
    container.start()
    envelope = _admitted()
    if forgery == "type_of_another_service":  # billing's share.paid, published as member.admitted
        envelope["type"] = "coop.billing.share.paid.v1"
        _publish(envelope)
    elif forgery == "source_of_another_service":
        envelope["source"] = "/coop/billing"
        _publish(envelope)
    elif forgery == "straight_into_the_queue":  # the default exchange: no service's exchange at all
        _publish(envelope, exchange="", routing_key=queue)
    else:
        envelope = {"id": envelope["id"], "correlationid": "x", "hello": "world"}
        _publish(envelope)
    wait_until(lambda: dead_letter_count(AMQP_URL, queue) == 1, timeout=30, message="the message refused")

    (parked,) = _dead_letters(queue)
    assert parked.headers[delivery.HEADER_DEAD_LETTER_REASON].startswith("refused: ")
    assert _metric("coop_events_refused_total", {"queue": queue}) == refused + 1
    assert calls == Counter(), "the handler never saw it"
    assert _effects(consumer_engine, envelope["id"]) == 0
    # the genuine article still goes through
    genuine = _admitted()
    _publish(genuine)
    wait_until(lambda: _effects(consumer_engine, genuine["id"]) == 1, timeout=30, message="a genuine event applied")


def test_a_queue_an_older_version_declared_is_recreated_with_its_messages(container_factory, consumer_engine,
                                                                         service_name):
    queue = _queue(service_name)
    with Connection(AMQP_URL) as conn:  # as the previous version declared it: shared coop.dlx
        Exchange("coop.dlx", type="direct", durable=True)(conn.default_channel).declare()
        Queue(queue, exchange=event_exchange("membership"), routing_key="member.admitted", durable=True,
              queue_arguments=consumer_queue_arguments(queue, 5))(conn.default_channel).declare()
    waiting = [_admitted(), _admitted()]
    for envelope in waiting:
        _publish(envelope)
    assert queue_depth(AMQP_URL, queue) == 2

    cls, _ = _service(service_name, consumer_engine, failures_per_event=0)
    container = container_factory(cls, {"AMQP_URI": AMQP_URL, "serializer": "json"})
    container.start()
    wait_until(lambda: all(_effects(consumer_engine, e["id"]) == 1 for e in waiting), timeout=30,
               message="the waiting events applied")
    arguments = _queue_arguments(queue)
    assert arguments["x-dead-letter-exchange"] == f"{service_name}.dlx"
    assert queue_depth(AMQP_URL, f"{queue}.migrating") is None


def _queue_arguments(queue):
    from urllib.parse import unquote, urlparse

    vhost = unquote(urlparse(AMQP_URL).path[1:]) or "/"
    listed = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "arguments",
                             "--formatter", "json"], capture_output=True, text=True, check=True).stdout
    (entry,) = [q for q in json.loads(listed) if q["name"] == queue]
    return {name: value for name, _type, value in entry["arguments"]}  # [["x-...", "longstr", "..."], ...]
