"""The notifications worker on the real RabbitMQ: membership's member.admitted reaches the
recipients projection and becomes a welcome (once, whatever the redeliveries), and the delivery
timer hands it to the Sender (a scripted one, or the real Postfix), and the bounce timer reads
Postfix's report back from Dovecot over IMAP and suppresses the address."""

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

    def bounce_mailbox(self):
        return None


class RealMail:
    """The worker's real mail adapters on the local Postfix and Dovecot, with a bounce mailbox of
    this test's own (VERP local part b-<random>)."""

    def __init__(self) -> None:
        from coop_notifications.adapters import templates
        from coop_notifications.adapters.bounces import ImapBounceReader, ImapSettings, verp_address
        from coop_notifications.adapters.smtp import SmtpSender, SmtpSettings
        from coop_testkit.mailbox import mail_path

        self.path = path = mail_path()
        local = f"b-{uuid.uuid4().hex[:10]}"
        self.sender = SmtpSender(SmtpSettings.from_url(path.smtp_url))
        self.settings = MailSettings(domain=path.domain,
                                     return_path=lambda key, domain: verp_address(key, domain, local))
        self.render = templates.render
        self.mailbox = ImapBounceReader(ImapSettings.from_url(
            f"imap://{local}%40{path.domain}:{path.password}@127.0.0.1:{path.imap_port}?tls=none"),
            domain=path.domain, local=local)

    def get(self):
        return self.render, self.sender, self.settings

    def bounce_mailbox(self):
        return self.mailbox


def _publish(envelope: dict, exchange: str, name: str) -> None:
    publisher = ConfirmingPublisher(AMQP)
    try:
        publisher.publish(exchange, name, json.dumps(envelope), envelope["id"], envelope["correlationid"])
    finally:
        publisher.close()


def _rows(sql: str, **params):
    with worker_module.engine().connect() as conn:
        return conn.execute(text(sql), params).all()


def _start(container_factory, monkeypatch, adapters):
    monkeypatch.setattr(worker_module, "mail", adapters)
    name = f"notifications_test_{uuid.uuid4().hex[:8]}"
    cls = type("NotificationsWorkerUnderTest", (worker_module.NotificationsWorker,), {"name": name})
    container = container_factory(cls, {**nameko_config(worker_module.settings()), "max_workers": 4})
    container.start()
    return container, name


def _stop(container, name: str) -> None:
    container.stop()
    with Connection(AMQP) as conn:
        for (source, event) in worker_module.CONSUMED:
            for suffix in ("", ".dlq", ".delay-200ms", ".delay-400ms"):
                with contextlib.suppress(Exception):
                    Queue(f"evt-{source}-{event}--{name}.{worker_module.handler_name(event)}{suffix}")(
                        conn.channel()).delete()


@pytest.fixture
def running_worker(container_factory, monkeypatch):
    fake = FakeMail()
    container, name = _start(container_factory, monkeypatch, fake)
    yield fake.sender
    _stop(container, name)


@pytest.fixture
def worker_on_the_mail_path(container_factory, monkeypatch):
    real = RealMail()
    container, name = _start(container_factory, monkeypatch, real)
    yield real
    _stop(container, name)
    real.sender.close()


def _admit(member_id: str, email: str, language: str = "en") -> None:
    envelope = make_envelope("membership", "member.admitted", {"member": {
        "memberId": member_id, "memberNumber": "M000900", "givenName": "Noor", "email": email,
        "preferredLanguage": language, "joinedOn": "2027-03-01"}})
    _publish(envelope, "membership.events", "member.admitted")


def test_a_welcome_to_an_unknown_mailbox_bounces_and_the_worker_suppresses_the_address(
        worker_on_the_mail_path) -> None:
    path = worker_on_the_mail_path.path
    gone, here = str(uuid.uuid4()), str(uuid.uuid4())
    unknown, known = path.unknown_address(), path.new_address("noor")
    _admit(gone, unknown, "nl")
    _admit(here, known, "fr")
    [welcome] = path.fetch(known, timeout=60)
    assert welcome["Content-Language"] == "fr"

    def bounced() -> bool:
        return _rows("SELECT state FROM deliveries WHERE recipient_id = :m AND channel = 'email'",
                     m=gone) == [("bounced",)]

    wait_until(bounced, timeout=90)
    with worker_module.uow_factory() as uow:
        assert uow.suppressions.is_suppressed(unknown) and not uow.suppressions.is_suppressed(known)
    assert _rows("SELECT state FROM deliveries WHERE recipient_id = :m AND channel = 'email'",
                 m=here) == [("submitted",)]


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
