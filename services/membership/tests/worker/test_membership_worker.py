"""The membership worker consumes billing's share_fee.paid, and share.paid (its name before the
rename, read for one version), with one handler: effectively once, poison to the dead-letter queue."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection, Queue
from nameko.testing.services import entrypoint_hook, worker_factory
from prometheus_client import REGISTRY
from sqlalchemy import text

from coop.membership.v1 import events_pb2
from coop_domain.principal import system_principal
from coop_membership.entrypoints import worker as worker_module
from coop_membership.service_layer import members, shares
from coop_platform.amqp import ConfirmingPublisher, dead_letter_count
from coop_platform.envelope import make_envelope, parse_data
from coop_testkit import AMQP_URL, bound_queue, drain, wait_until

THIS_YEAR = datetime.now(UTC).year
CONSUMER = "membership.on_share_paid"
SYSTEM = system_principal("membership")
#: billing's event, renamed, and its old name: both pay the share through the same handler
NAMES = ("share_fee.paid", "share.paid")
HANDLER_OF = {"share_fee.paid": "on_share_fee_paid", "share.paid": "on_share_paid"}


def _share_paid(member_id, *, reference=None, amount=3000, year=THIS_YEAR, event_id=None, name="share.paid"):
    data = {"memberId": member_id, "year": year, "amountCents": amount}
    if reference:
        data["paymentReference"] = reference
    return make_envelope("billing", name, data, subject=member_id, event_id=event_id)


def _publish(envelope, name="share.paid"):
    publisher = ConfirmingPublisher(AMQP_URL)
    try:
        publisher.publish("billing.events", name, json.dumps(envelope), envelope["id"],
                          envelope["correlationid"])
    finally:
        publisher.close()


def _rows(sql, **params):
    with worker_module.engine().connect() as conn:
        return conn.execute(text(sql), params).all()


def _shares(member_id):
    return shares.list_shares(worker_module.uow_factory(), SYSTEM, member_id)[0]


def _member(member_id):
    return members.get_member(worker_module.uow_factory(), SYSTEM, member_id)


def _outbox_types(member_id):
    bodies = [json.loads(b) for (b,) in _rows("SELECT body FROM outbox ORDER BY seq")]
    return [e["type"] for e in bodies if e["subject"] == member_id]


def _metric(name, labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _queue_depth(queue_name):
    with Connection(AMQP_URL) as conn:
        _, count, _ = Queue(queue_name)(conn.default_channel).queue_declare(passive=True)
        return count


def test_the_worker_listens_on_the_documented_queue_name():
    from nameko.containers import ServiceContainer
    from nameko.testing.utils import get_extension

    from coop_platform.worker import CoopEventHandler

    container = ServiceContainer(worker_module.MembershipWorker, {"AMQP_URI": AMQP_URL})
    for name, queue in (("share.paid", worker_module.SHARE_PAID_QUEUE),
                        ("share_fee.paid", worker_module.SHARE_FEE_PAID_QUEUE)):
        handler = get_extension(container, CoopEventHandler, event_type=name)
        assert (handler.source_service, handler.event_type, handler.max_deliveries) == ("billing", name, 5)
        handler.setup()
        assert handler.queue.name == queue
        assert handler.queue.queue_arguments["x-dead-letter-routing-key"] == queue + ".dlq"


def test_the_relay_watches_the_dead_letter_queues_of_the_services_own_handlers():
    from nameko.containers import ServiceContainer
    from nameko.testing.utils import get_extension

    from coop_platform.worker import CoopEventHandler, OutboxRelayRunner

    container = ServiceContainer(worker_module.MembershipWorker, {"AMQP_URI": AMQP_URL})
    for name in NAMES:
        get_extension(container, CoopEventHandler, event_type=name).setup()
    assert sorted(get_extension(container, OutboxRelayRunner).handler_queues()) == sorted(
        [worker_module.SHARE_PAID_QUEUE, worker_module.SHARE_FEE_PAID_QUEUE])


@pytest.mark.parametrize("name", NAMES)
def test_handler_called_directly_pays_the_share_and_a_second_call_with_the_same_event_changes_nothing(old, name):
    member = old().member
    handler = worker_factory(worker_module.MembershipWorker)
    envelope = _share_paid(member.member_id, reference=f"INV-{uuid.uuid4().hex[:8]}", name=name)
    getattr(handler, HANDLER_OF[name])(envelope)
    getattr(handler, HANDLER_OF[name])(envelope)
    assert [(s.state, s.amount_cents) for s in _shares(member.member_id)] == [("paid", 3000)]
    assert _outbox_types(member.member_id).count("coop.membership.share.paid.v1") == 1
    assert _member(member.member_id).in_good_standing
    assert len(_rows("SELECT 1 FROM processed_events WHERE consumer = :c AND event_id = :e",
                     c=CONSUMER, e=envelope["id"])) == 1


def test_handler_without_a_payment_reference_uses_the_event_id(old):
    member = old().member
    envelope = _share_paid(member.member_id)
    worker_factory(worker_module.MembershipWorker).on_share_paid(envelope)
    assert _shares(member.member_id)[0].payment_reference == f"event:{envelope['id']}"


@pytest.mark.parametrize("name", NAMES)
def test_share_fee_paid_published_on_billing_events_pays_the_share_and_restores_good_standing(
        running_worker, old, name):
    view = old()
    member = view.member
    assert not view.in_good_standing
    calls = _metric("coop_worker_handler_calls_total", {"handler": HANDLER_OF[name], "outcome": "ok"})
    with bound_queue("membership", "share.paid") as subscriber:
        _publish(_share_paid(member.member_id, reference=f"INV-{uuid.uuid4().hex[:8]}", name=name), name)
        wait_until(lambda: _shares(member.member_id) and _shares(member.member_id)[0].state == "paid",
                   timeout=20, message="the share is paid")
        after = _member(member.member_id)
        assert after.in_good_standing and after.member.paid_through_year == THIS_YEAR
        # the membership share.paid event leaves through the outbox relay to membership.events
        received = [e for e in drain(subscriber, expect=50, timeout=3) if e["subject"] == member.member_id]
    assert [e["type"] for e in received] == ["coop.membership.share.paid.v1"]
    paid = parse_data(received[0], events_pb2.SharePaid)
    assert paid.in_good_standing and paid.share.year == THIS_YEAR and paid.member_number == member.member_number
    assert _metric("coop_worker_handler_calls_total", {"handler": HANDLER_OF[name], "outcome": "ok"}) == calls + 1


def test_one_payment_under_both_names_pays_once_and_emits_one_share_paid(old):
    """While billing publishes the renamed event, a payment may reach membership under both
    names (two events, one payment reference): the share is paid once."""
    member = old().member
    reference = f"INV-{uuid.uuid4().hex[:8]}"
    handler = worker_factory(worker_module.MembershipWorker)
    handler.on_share_fee_paid(_share_paid(member.member_id, reference=reference, name="share_fee.paid"))
    handler.on_share_paid(_share_paid(member.member_id, reference=reference, name="share.paid"))
    assert [(s.state, s.payment_reference) for s in _shares(member.member_id)] == [("paid", reference)]
    assert _outbox_types(member.member_id).count("coop.membership.share.paid.v1") == 1


def test_an_event_without_year_or_amount_is_refused_and_records_nothing(old):
    from coop_domain.errors import InvalidArgument

    member = old().member
    envelope = make_envelope("billing", "share_fee.paid", {"memberId": member.member_id}, subject=member.member_id)
    with pytest.raises(InvalidArgument, match="lacks year or amountCents"):
        worker_factory(worker_module.MembershipWorker).on_share_fee_paid(envelope)
    assert _shares(member.member_id) == []
    assert _rows("SELECT 1 FROM processed_events WHERE event_id = :e", e=envelope["id"]) == []


def test_the_same_event_delivered_twice_pays_once_and_emits_one_share_paid(running_worker, old):
    member = old().member
    envelope = _share_paid(member.member_id, reference=f"INV-{uuid.uuid4().hex[:8]}")
    duplicates = _metric("coop_inbox_duplicates_total", {"consumer": CONSUMER})
    _publish(envelope)
    _publish(envelope)  # same event id: a re-publish after a relay crash looks exactly like this
    wait_until(lambda: _metric("coop_inbox_duplicates_total", {"consumer": CONSUMER}) == duplicates + 1,
               timeout=20, message="the second delivery is seen as a duplicate")
    assert [(s.state, s.year) for s in _shares(member.member_id)] == [("paid", THIS_YEAR)]
    assert _outbox_types(member.member_id).count("coop.membership.share.paid.v1") == 1
    assert len(_rows("SELECT 1 FROM processed_events WHERE event_id = :e", e=envelope["id"])) == 1
    assert _queue_depth(running_worker) == 0


def test_a_poison_event_is_retried_then_parked_in_the_dead_letter_queue_and_counted(running_worker, old):
    queue = running_worker
    dead = _metric("coop_dead_lettered_total", {"queue": queue})
    failures = _metric("coop_worker_handler_calls_total", {"handler": "on_share_paid", "outcome": "error"})
    poison = _share_paid(str(uuid.uuid4()), reference="INV-nobody")  # no such member: fails every time
    _publish(poison)
    wait_until(lambda: dead_letter_count(AMQP_URL, queue) == 1, timeout=30, message="poison in the DLQ")
    wait_until(lambda: _metric("coop_dead_lettered_total", {"queue": queue}) == dead + 1, timeout=10,
               message="dead-letter counter")
    assert _queue_depth(queue) == 0
    with Connection(AMQP_URL) as conn:
        message = Queue(f"{queue}.dlq")(conn.default_channel).get(no_ack=True)
    assert message is not None and json.loads(message.body)["id"] == poison["id"]
    assert message.properties.get("message_id") == poison["id"]
    # every failed attempt (retried after growing delays until COOP_EVENT_RETRY_MAX_SECONDS) counted
    attempts = message.headers["x-coop-attempt"]
    assert attempts >= 3 and message.headers["x-coop-dead-letter-reason"].startswith("retries exhausted")
    assert _metric("coop_worker_handler_calls_total",
                   {"handler": "on_share_paid", "outcome": "error"}) == failures + attempts
    assert _rows("SELECT 1 FROM processed_events WHERE event_id = :e", e=poison["id"]) == []
    # the worker keeps consuming after the poison
    member = old().member
    _publish(_share_paid(member.member_id, reference=f"INV-{uuid.uuid4().hex[:8]}"))
    wait_until(lambda: _shares(member.member_id) and _shares(member.member_id)[0].state == "paid",
               timeout=20, message="the next event is processed")


def test_entrypoint_hook_runs_the_handler_inside_a_real_container(container_factory, worker_service, old):
    cls, _ = worker_service
    container = container_factory(cls, {"AMQP_URI": AMQP_URL, "serializer": "json"})
    container.start()
    member = old().member
    with entrypoint_hook(container, "on_share_paid") as on_share_paid:
        on_share_paid(_share_paid(member.member_id, reference=f"INV-{uuid.uuid4().hex[:8]}"))
    assert _shares(member.member_id)[0].state == "paid"
