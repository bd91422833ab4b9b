"""Each service has its own broker user (hardening point 5): it may write only to its own
exchanges and read only its own queues, so nobody else can publish a service's events; its
worker still does everything it must under that user. `coop broker setup` on a vhost of its
own on the real local RabbitMQ, the real membership worker in a process of its own."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from amqp.exceptions import AccessRefused
from kombu import Connection, Exchange, Queue

from coop_cli.events import replay
from coop_platform import broker
from coop_platform.amqp import (
    ConfirmingPublisher,
    HandlerQueues,
    OutgoingMessage,
    queue_depth,
    with_credentials,
)
from coop_platform.delivery import DeliverySettings
from coop_platform.envelope import dumps, make_envelope
from coop_testkit import ServiceProcess, free_port, scratch_vhost, wait_until

pytestmark = [pytest.mark.rabbitmq]
SERVICES = ("membership", "billing", "elections")


@pytest.fixture(scope="module")
def vhost():
    """A vhost of its own, set up as `make run` does (development passwords); yields its admin URL."""
    with scratch_vhost("coop-test-broker") as admin_url:
        broker.setup(admin_url.rsplit("/", 1)[1], SERVICES, dev=True)
        yield admin_url


def _as(admin_url: str, service: str) -> str:
    return with_credentials(admin_url, service, broker.service_password(service, dev=True))


def _publish(url: str, exchange: str, routing_key: str, envelope: dict) -> ConfirmingPublisher:
    publisher = ConfirmingPublisher(url, declare_exchanges=False)
    try:
        publisher.publish_many([OutgoingMessage(exchange, routing_key, dumps(envelope), envelope["id"], None)])
    finally:
        publisher.close()
    return publisher


@pytest.mark.parametrize("exchange", ["billing.events", "billing.retry", "billing.dlx", "elections.events"])
def test_a_service_user_cannot_publish_to_another_services_exchange(vhost, exchange):
    forged = make_envelope("billing", "share.paid", {"memberId": str(uuid.uuid4()), "year": 2026})
    with pytest.raises(AccessRefused, match="ACCESS_REFUSED"):
        _publish(_as(vhost, "membership"), exchange, "share.paid", forged)


def test_a_service_user_publishes_to_its_own_exchange(vhost):
    own = make_envelope("membership", "member.updated", {})
    assert _publish(_as(vhost, "membership"), "membership.events", "member.updated", own).unroutable == []


def test_a_service_user_cannot_read_bind_or_declare_another_services_queues(vhost):
    billing = HandlerQueues("billing", "evt-membership-share.paid--billing.on_share_paid", "membership", "share.paid")
    with Connection(_as(vhost, "billing")) as conn:
        billing.declare(conn)  # the billing worker may declare its own
    own_queue = "evt-elections-election.opened--membership.on_x"
    with Connection(_as(vhost, "membership")) as conn:
        with conn.channel() as channel:
            channel.queue_declare(own_queue, durable=True)  # a queue of its own: allowed
        refused = {
            "consume billing's queue": lambda ch: ch.basic_get(billing.name),
            "read billing's dead letters": lambda ch: ch.basic_get(billing.dead_letter_queue_name),
            "purge billing's queue": lambda ch: ch.queue_purge(billing.name),
            "declare a queue named as billing's": lambda ch: ch.queue_declare(
                "evt-membership-share.paid--billing.on_other", durable=True),
            "bind to an exchange it does not consume": lambda ch: ch.queue_bind(own_queue, "elections.events", "#"),
            "bind to billing's retry exchange": lambda ch: ch.queue_bind(own_queue, "billing.retry", own_queue),
        }
        for what, attempt in refused.items():
            with conn.channel() as channel, pytest.raises(AccessRefused):
                attempt(channel)
                pytest.fail(f"membership's user could {what}")
        with conn.channel() as channel:
            channel.queue_delete(own_queue)


def test_an_event_nobody_is_bound_to_waits_in_the_unroutable_queue_and_can_be_replayed(vhost):
    lonely = make_envelope("membership", f"member.unheard_of_{uuid.uuid4().hex[:6]}", {})
    routing_key = lonely["type"].split(".", 2)[2].rsplit(".", 1)[0]
    before = queue_depth(vhost, "membership.unroutable")
    assert _publish(_as(vhost, "membership"), "membership.events", routing_key, lonely).unroutable == []
    wait_until(lambda: queue_depth(vhost, "membership.unroutable") == before + 1, timeout=10,
               message="the event kept by the alternate exchange")
    with Connection(vhost) as conn:  # a subscriber binds its queue at last
        queue = Queue(f"test-late-{uuid.uuid4().hex[:6]}", exchange=Exchange("membership.events", type="topic"),
                      routing_key=routing_key, durable=False, auto_delete=True)
        bound = queue(conn.default_channel)
        bound.declare()
        assert replay(vhost, "membership.unroutable", ids={lonely["id"]}) == (1, before)
        wait_until(lambda: bound.queue_declare(passive=True)[1] == 1, timeout=10, message="the replayed event")
        assert json.loads(bound.get(no_ack=True).body)["id"] == lonely["id"]


def test_dead_letter_and_unroutable_queues_keep_messages_only_for_the_retention(vhost):
    """The retention policy (COOP_DEAD_LETTER_RETENTION_DAYS): here a second, on a vhost of its own."""
    with scratch_vhost("coop-test-retention") as admin_url:
        name = admin_url.rsplit("/", 1)[1]
        broker.setup(name, ["membership"], dev=True,
                     settings=DeliverySettings(dead_letter_retention_days=1 / 86400))
        with Connection(admin_url) as conn:
            for queue in ("evt-billing-share.paid--membership.on_share_paid.dlq", "an-ordinary-queue"):
                Queue(queue, durable=True)(conn.default_channel).declare()
                _publish(admin_url, "", queue, make_envelope("billing", "share.paid", {}))
        wait_until(lambda: queue_depth(admin_url, "evt-billing-share.paid--membership.on_share_paid.dlq") == 0,
                   timeout=30, message="the dead letter expired")
        assert queue_depth(admin_url, "an-ordinary-queue") == 1


def test_the_membership_worker_does_its_work_under_its_own_user(vhost, tmp_path):
    """Declares its queues (after the admin created the shared topology), consumes billing's
    share.paid, publishes its outbox to membership.events."""
    from coop_domain.principal import system_principal
    from coop_membership.adapters.unit_of_work import SqlMembershipUnitOfWork
    from coop_membership.domain.model import Category, MemberDetails
    from coop_membership.service_layer import members
    from coop_platform.db import make_engine, make_session_factory
    from coop_platform.migrations import upgrade

    database_url = f"sqlite:///{tmp_path / 'membership.db'}"
    upgrade("membership", database_url)
    engine = make_engine(database_url)
    details = MemberDetails(given_name="Ada", family_name="Lovelace", email=f"ada-{uuid.uuid4().hex[:6]}@example.org",
                            country_of_residence="BE", preferred_language="en", category=Category.USER,
                            joined_on=date(2014, 2, 1))
    member = members.register_member(SqlMembershipUnitOfWork(make_session_factory(engine)), system_principal("test"),
                                     details, admit=True).member
    worker = ServiceProcess("coop_membership.entrypoints.worker", {
        "COOP_DATABASE_URL": database_url, "COOP_AMQP_URL": _as(vhost, "membership"),
        "COOP_METRICS_PORT": str(free_port())}, tmp_path / "worker.log")
    with Connection(vhost) as conn:
        subscriber = Queue(f"test-sub-{uuid.uuid4().hex[:6]}", exchange=Exchange("membership.events", type="topic"),
                           routing_key="share.paid", durable=False, auto_delete=False)
        subscriber(conn.default_channel).declare()
    worker.start()
    try:
        wait_until(lambda: "worker: consuming" in worker.log() or worker.proc.poll() is not None, timeout=60,
                   message="the worker consuming")
        assert worker.proc.poll() is None, worker.log()[-3000:]
        paid = make_envelope("billing", "share.paid", {"memberId": member.member_id,
                                                        "year": datetime.now(UTC).year, "amountCents": 3000,
                                                        "paymentReference": f"INV-{uuid.uuid4().hex[:6]}"})
        _publish(_as(vhost, "billing"), "billing.events", "share.paid", paid)  # billing's user, billing's exchange

        def share_paid_event_out() -> bool:
            return queue_depth(vhost, subscriber.name) >= 1

        wait_until(share_paid_event_out, timeout=30, message="membership's share.paid published by its relay")
        with Connection(vhost) as conn:
            out = json.loads(Queue(subscriber.name, channel=conn.default_channel).get(no_ack=True).body)
        assert out["type"] == "coop.membership.share.paid.v1" and out["subject"] == member.member_id
        users = broker.rabbitmqctl("list_connections", "-p", vhost.rsplit("/", 1)[1], "user",
                                   "--no-table-headers").split()
        admin = vhost.split("//", 1)[1].split(":", 1)[0]  # this test's own connections, closing
        assert {user for user in users if user != admin} == {"membership"}
        assert "ACCESS_REFUSED" not in worker.log()
    finally:
        worker.stop()
        engine.dispose()
        with Connection(vhost) as conn:
            conn.default_channel.queue_delete(subscriber.name)
