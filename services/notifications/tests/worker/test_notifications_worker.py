"""The notifications worker on the real RabbitMQ: membership's member.admitted reaches the
recipients projection and becomes a welcome (once, whatever the redeliveries), and the delivery
timer hands it to the Sender (a scripted one here; the mail adapters are n13-mail's)."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from dataclasses import dataclass, field

import pytest
from kombu import Connection, Queue
from sqlalchemy import text

from coop_notifications.domain.mail import OutgoingMail, RenderedMessage, SendOutcome
from coop_notifications.entrypoints import worker as worker_module
from coop_notifications.service_layer.delivery import MailSettings
from coop_platform.amqp import ConfirmingPublisher
from coop_platform.envelope import make_envelope
from coop_platform.worker import nameko_config
from coop_testkit import wait_until

AMQP = os.environ["COOP_AMQP_URL"]


@dataclass
class Recorded:
    sent: list[OutgoingMail] = field(default_factory=list)

    def send(self, mail: OutgoingMail) -> SendOutcome:
        self.sent.append(mail)
        return SendOutcome("submitted", 250, "ok")


class FakeMail:
    def __init__(self) -> None:
        self.sender = Recorded()

    def get(self):
        return (lambda name, lang, ctx: RenderedMessage(f"{name}:{lang}", "<p>x</p>", "x"), self.sender,
                MailSettings(domain="coop.test"))


def _publish(envelope: dict, exchange: str, name: str) -> None:
    publisher = ConfirmingPublisher(AMQP)
    try:
        publisher.publish(exchange, name, json.dumps(envelope), envelope["id"], envelope["correlationid"])
    finally:
        publisher.close()


def _rows(sql: str, **params):
    with worker_module.engine().connect() as conn:
        return conn.execute(text(sql), params).all()


@pytest.fixture
def running_worker(container_factory, monkeypatch):
    fake = FakeMail()
    monkeypatch.setattr(worker_module, "mail", fake)
    name = f"notifications_test_{uuid.uuid4().hex[:8]}"
    cls = type("NotificationsWorkerUnderTest", (worker_module.NotificationsWorker,), {"name": name})
    container = container_factory(cls, {**nameko_config(worker_module.settings()), "max_workers": 4})
    container.start()
    yield fake.sender
    container.stop()
    with Connection(AMQP) as conn:
        for (source, event) in worker_module.CONSUMED:
            for suffix in ("", ".dlq", ".delay-200ms", ".delay-400ms"):
                with contextlib.suppress(Exception):
                    Queue(f"evt-{source}-{event}--{name}.{worker_module.handler_name(event)}{suffix}")(
                        conn.channel()).delete()


def test_an_admission_on_the_bus_is_welcomed_once_and_sent(running_worker) -> None:
    mid = str(uuid.uuid4())
    envelope = make_envelope("membership", "member.admitted", {"member": {
        "memberId": mid, "memberNumber": "M000900", "givenName": "Noor", "email": "noor@example.org",
        "preferredLanguage": "en"}})
    _publish(envelope, "membership.events", "member.admitted")
    _publish(envelope, "membership.events", "member.admitted")  # a redelivery
    wait_until(lambda: any(m.to_address == "noor@example.org" for m in running_worker.sent), timeout=30)
    rows = _rows("SELECT channel, state, notification FROM deliveries WHERE recipient_id = :m ORDER BY channel", m=mid)
    assert [tuple(r) for r in rows] == [("email", "submitted", "member_welcome"), ("inapp", "delivered", "member_welcome")]
    (mail,) = [m for m in running_worker.sent if m.to_address == "noor@example.org"]
    assert mail.rendered.subject == "member_welcome:en"
