"""Bounces read back by the worker's loop (service_layer/delivery.process_bounces) on the real
mail path: a legal notice to an unknown local user leaves through Postfix with its VERP return
path, Postfix's non-delivery report lands in the bounce mailbox, and the loop reads it over IMAP
from Dovecot, bounces the row, suppresses the address and puts the member on the postal list."""

from __future__ import annotations

import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "mail"))

from notif_mail_samples import SPECIFIC  # noqa: E402

from coop_domain.membership import MemberChanged, MemberContact  # noqa: E402
from coop_notifications.adapters import templates  # noqa: E402
from coop_notifications.adapters.bounces import ImapBounceReader, ImapSettings, verp_address  # noqa: E402
from coop_notifications.adapters.smtp import SmtpSender, SmtpSettings  # noqa: E402
from coop_notifications.domain.catalog import NOTIFICATIONS  # noqa: E402
from coop_notifications.domain.ledger import Channel, State  # noqa: E402
from coop_notifications.service_layer.delivery import MailSettings, deliver_batch, process_bounces  # noqa: E402
from coop_notifications.service_layer.handlers import ProjectionRolls  # noqa: E402
from coop_notifications.service_layer.notify import notify  # noqa: E402
from coop_notifications.service_layer.recipients import apply_member_fact  # noqa: E402
from coop_testkit.mailbox import mail_path  # noqa: E402

NOW = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def path():
    return mail_path()


def _member(uowf, member_id: str, address: str) -> None:
    with uowf() as uow:
        apply_member_fact(uow, MemberChanged(member_id, NOW, status="active", in_good_standing=True,
                                             contact=MemberContact(member_id.upper(), "Ana", address, "fr")))
        uow.commit()


def _rows(uowf, event_id: str) -> dict:
    with uowf() as uow:
        return {d.recipient_id: d for d in uow.ledger.of_event(event_id) if d.channel == Channel.EMAIL}


def _process_until(uowf, reader, wanted: int, timeout: float = 60.0):
    """Poll as the worker's timer does until `wanted` bounces were recorded (Postfix bounces
    asynchronously)."""
    total, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        total += process_bounces(uowf, reader, lambda: NOW).bounced
        if total >= wanted:
            return total
        time.sleep(0.3)
    return total


def test_a_bounced_convocation_suppresses_the_address_and_puts_the_member_on_the_postal_list(uowf, path):
    local = f"b-{uuid.uuid4().hex[:10]}"  # this test's own bounce mailbox
    unknown, known = path.unknown_address(), path.new_address("ana")
    _member(uowf, "gone", unknown)
    _member(uowf, "here", known)
    with uowf() as uow:
        notify(uow, NOTIFICATIONS["assembly_convocation"], tenant="coop", event_id="ev-ga",
               members=["gone", "here"], context=dict(SPECIFIC["assembly_convocation"]), now=NOW)
        uow.commit()
    settings = MailSettings(domain=path.domain,
                            return_path=lambda key, domain: verp_address(key, domain, local))
    sender = SmtpSender(SmtpSettings.from_url(path.smtp_url))
    try:
        result = deliver_batch(uowf, sender, templates.render, ProjectionRolls(), settings, "w1", lambda: NOW)
    finally:
        sender.close()
    assert result.outcomes == {"submitted": 2}  # Postfix takes both; the unknown user bounces later

    reader = ImapBounceReader(ImapSettings.from_url(
        f"imap://{local}%40{path.domain}:{path.password}@127.0.0.1:{path.imap_port}?tls=none"),
        domain=path.domain, local=local)
    assert _process_until(uowf, reader, 1) == 1

    rows = _rows(uowf, "ev-ga")
    assert rows["gone"].state == State.BOUNCED and "5.1.1" in (rows["gone"].last_detail or "")
    assert rows["here"].state == State.SUBMITTED
    with uowf() as uow:
        assert uow.suppressions.is_suppressed(unknown)
        assert not uow.suppressions.is_suppressed(known)
        assert [d.recipient_id for d in uow.ledger.postal_fallback("coop")] == ["gone"]
    assert reader.poll() == []  # the report was taken out of the mailbox
    [delivered] = path.fetch(known)  # the other member's convocation arrived
    assert delivered["Message-ID"] == f"<{rows['here'].delivery_key}@{path.domain}>"


def test_reading_the_same_report_again_changes_nothing(uowf):
    """A worker killed between recording a bounce and deleting its report reads it again."""
    _member(uowf, "gone", "gone@example.org")
    with uowf() as uow:
        notify(uow, NOTIFICATIONS["member_welcome"], tenant="coop", event_id="ev-w",
               members=["gone"], context=dict(SPECIFIC["member_welcome"]), now=NOW)
        uow.commit()

    class Sent:
        def send(self, mail):
            from coop_notifications.domain.mail import SendOutcome
            return SendOutcome("submitted", 250, "ok")

    deliver_batch(uowf, Sent(), templates.render, ProjectionRolls(), MailSettings(domain="coop.test"), "w1",
                  lambda: NOW)
    key = _rows(uowf, "ev-w")["gone"].delivery_key

    class Report:
        delivery_key, status, diagnostic, is_permanent = key, "5.1.1", "User unknown", True

    class Item:
        bounce = Report()

    class Mailbox:
        def __init__(self):
            self.released = []

        def poll(self, limit=500):
            return [Item(), Item()]

        def done(self, *items):
            self.released.extend(items)

    box = Mailbox()
    result = process_bounces(uowf, box, lambda: NOW)
    assert (result.bounced, result.unmatched) == (1, 1) and len(box.released) == 2
    assert _rows(uowf, "ev-w")["gone"].state == State.BOUNCED
