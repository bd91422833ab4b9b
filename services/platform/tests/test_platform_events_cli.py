"""`coop dlq` and `coop outbox`, the operator's commands for what event delivery set aside
(hardening points 4 and 6), against the real broker and real databases."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection, Queue

from coop_cli.main import main as coop
from coop_platform import delivery
from coop_platform.amqp import ConfirmingPublisher, HandlerQueues, OutgoingMessage
from coop_platform.db import make_session_factory
from coop_platform.envelope import dumps, make_envelope
from coop_platform.outbox import quarantined_rows
from coop_platform.unit_of_work import UnitOfWork
from coop_testkit import AMQP_URL

pytestmark = [pytest.mark.rabbitmq]


@pytest.fixture
def handler_queues():
    """The queues of one handler of a service of this test alone (deleted afterwards)."""
    service = f"clitest_{uuid.uuid4().hex[:8]}"
    queues = HandlerQueues(service, f"evt-membership-member.admitted--{service}.on_member_admitted",
                           "membership", "member.admitted", retry_delays=(0.5,))
    with Connection(AMQP_URL) as conn:
        queues.declare(conn)
    yield queues
    with Connection(AMQP_URL) as conn:
        for name in (queues.name, queues.dead_letter_queue_name, queues.delay_queue(0.5).name):
            with contextlib.suppress(Exception), conn.channel() as channel:
                channel.queue_delete(name)
        for name in (queues.retry_exchange.name, queues.dead_letter_exchange.name):
            with contextlib.suppress(Exception), conn.channel() as channel:
                channel.exchange_delete(name)


def _dead_letter(queues: HandlerQueues, reason: str = "retries exhausted after 7 attempts") -> dict:
    """Park an event in the handler's DLQ the way a worker does when it gives up."""
    envelope = make_envelope("membership", "member.admitted", {"member": {"memberNumber": "M000042"}})
    headers = {delivery.HEADER_ATTEMPT: 7, delivery.HEADER_FIRST_FAILED_AT: time.time() - 3600,
               delivery.HEADER_LAST_ERROR: "OperationalError: could not connect to server",
               delivery.HEADER_ORIGIN_EXCHANGE: "membership.events",
               delivery.HEADER_ORIGIN_ROUTING_KEY: "member.admitted",
               delivery.HEADER_DEAD_LETTER_REASON: reason,
               delivery.HEADER_DEAD_LETTERED_AT: datetime.now(UTC).isoformat()}
    publisher = ConfirmingPublisher(AMQP_URL, declare_exchanges=False)
    try:
        publisher.publish_many([OutgoingMessage(queues.dead_letter_exchange.name, queues.dead_letter_queue_name,
                                                dumps(envelope), envelope["id"], envelope["correlationid"], headers)])
    finally:
        publisher.close()
    return envelope


def _depth(name: str) -> int:
    with Connection(AMQP_URL) as conn:
        return conn.default_channel.queue_declare(name, passive=True)[1]


def _get(name: str):
    with Connection(AMQP_URL) as conn:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message = Queue(name, channel=conn.default_channel).get(no_ack=True)
            if message is not None:
                return message
            time.sleep(0.02)
    return None


@pytest.fixture
def admin_env(monkeypatch):
    monkeypatch.setenv("COOP_BROKER_ADMIN_URL", AMQP_URL)


def test_dlq_list_shows_each_parked_queue_with_its_count_and_where_it_replays_to(handler_queues, admin_env, capsys):
    _dead_letter(handler_queues)
    _dead_letter(handler_queues)
    assert coop(["dlq", "list"]) == 0
    (line,) = [row for row in capsys.readouterr().out.splitlines()
               if row.startswith(handler_queues.dead_letter_queue_name)]
    assert line.split() == [handler_queues.dead_letter_queue_name, "2", handler_queues.name]


def test_dlq_show_explains_each_message_and_leaves_it_in_the_queue(handler_queues, admin_env, capsys):
    first = _dead_letter(handler_queues)
    _dead_letter(handler_queues, reason="refused: arrived through exchange '', not 'membership.events'")
    assert coop(["dlq", "show", handler_queues.dead_letter_queue_name]) == 0
    out = capsys.readouterr().out
    assert f"[1] message {first['id']}" in out
    assert "event:          coop.membership.member.admitted.v1" in out
    assert "reason:         retries exhausted after 7 attempts" in out
    assert "attempts:       7 (first failed" in out
    assert "last error:     OperationalError: could not connect to server" in out
    assert "came through:   membership.events / member.admitted" in out
    assert "reason:         refused: arrived through exchange ''" in out
    assert '"memberNumber": "M000042"' in out
    assert _depth(handler_queues.dead_letter_queue_name) == 2


def test_dlq_replay_sends_one_message_back_to_its_handler_queue_afresh_and_keeps_the_others(
        handler_queues, admin_env, capsys):
    kept = _dead_letter(handler_queues)
    chosen = _dead_letter(handler_queues)
    assert coop(["dlq", "replay", handler_queues.dead_letter_queue_name, chosen["id"]]) == 0
    assert "replayed 1 message(s)" in capsys.readouterr().out
    message = _get(handler_queues.name)
    assert message is not None and json.loads(message.body)["id"] == chosen["id"]
    assert message.delivery_info["exchange"] == handler_queues.retry_exchange.name  # how a handler knows a replay
    headers = message.headers
    assert delivery.HEADER_ATTEMPT not in headers and delivery.HEADER_DEAD_LETTER_REASON not in headers
    assert headers[delivery.HEADER_ORIGIN_EXCHANGE] == "membership.events"
    assert headers[delivery.HEADER_REPLAY_COUNT] == 1
    remaining = _get(handler_queues.dead_letter_queue_name)
    assert json.loads(remaining.body)["id"] == kept["id"]


def test_dlq_replay_of_a_message_the_broker_dead_lettered_keeps_where_it_was_first_published(
        handler_queues, admin_env):
    """A message that kept killing its consumer is dead-lettered by RabbitMQ itself (delivery
    limit), with no header of ours: the replay takes its origin from the broker's x-death."""
    envelope = make_envelope("membership", "member.admitted", {})
    limited = HandlerQueues(handler_queues.service, handler_queues.name, "membership", "member.admitted",
                            max_deliveries=1, retry_delays=(0.5,))
    with Connection(AMQP_URL) as conn:
        conn.default_channel.queue_delete(handler_queues.name)
        limited.declare(conn)
        publisher = ConfirmingPublisher(AMQP_URL)
        publisher.publish_many([OutgoingMessage("membership.events", "member.admitted", dumps(envelope),
                                                envelope["id"], None)])
        publisher.close()
        queue = Queue(handler_queues.name, channel=conn.default_channel)
        deadline = time.monotonic() + 10
        # the consumer "dies" on every delivery (reject and requeue) until the broker gives up
        while _depth(handler_queues.dead_letter_queue_name) == 0 and time.monotonic() < deadline:
            message = queue.get(no_ack=False)
            if message is not None:
                message.reject(requeue=True)
            time.sleep(0.02)
    assert coop(["dlq", "replay", handler_queues.dead_letter_queue_name, "--all"]) == 0
    message = _get(handler_queues.name)
    assert message.headers[delivery.HEADER_ORIGIN_EXCHANGE] == "membership.events"
    assert message.headers[delivery.HEADER_ORIGIN_ROUTING_KEY] == "member.admitted"


def test_dlq_purge_needs_yes_then_empties_the_queue(handler_queues, admin_env, capsys):
    _dead_letter(handler_queues)
    assert coop(["dlq", "purge", handler_queues.dead_letter_queue_name]) == 2
    assert _depth(handler_queues.dead_letter_queue_name) == 1
    assert coop(["dlq", "purge", handler_queues.dead_letter_queue_name, "--yes"]) == 0
    assert _depth(handler_queues.dead_letter_queue_name) == 0


def test_outbox_quarantined_lists_rows_with_their_error_and_release_puts_them_back(
        engine, monkeypatch, capsys):
    monkeypatch.setenv("COOP_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    with UnitOfWork(make_session_factory(engine), "membership") as uow:
        event_id = uow.emit("member.updated", {"n": 1})
        uow.commit()
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET quarantined_at = :t, last_error = 'MessageRefused: broker refused "
                          "message 1 of the batch', attempts = 1"), {"t": datetime.now(UTC)})
    assert coop(["outbox", "quarantined", "membership"]) == 0
    out = capsys.readouterr().out
    assert "membership: 1 quarantined row(s)" in out
    assert f"event {event_id}  membership.events member.updated" in out
    assert "MessageRefused: broker refused message 1 of the batch" in out
    assert coop(["outbox", "release", "membership"]) == 2  # which rows?
    assert coop(["outbox", "release", "membership", "--all"]) == 0
    assert "membership: released 1 row(s)" in capsys.readouterr().out
    assert quarantined_rows(engine) == []


def test_every_new_command_explains_itself(capsys):
    for command in (["dlq"], ["dlq", "replay"], ["broker", "setup"], ["outbox", "release"]):
        with pytest.raises(SystemExit):
            coop([*command, "--help"])
        assert len(capsys.readouterr().out.splitlines()) > 4
