"""Bounces: parsed with flufl.bounce and mapped back to their delivery through the VERP path;
a real one produced by Postfix for an unknown local user, read from the mailbox over IMAP."""

from __future__ import annotations

import smtplib
import time
import uuid
from dataclasses import replace
from email.message import EmailMessage

import pytest
from notif_mail_samples import outgoing

from coop_notifications.adapters.bounces import (
    ImapBounceReader,
    ImapSettings,
    parse_bounce,
    reader_from_env,
    verp_address,
)
from coop_notifications.adapters.smtp import SmtpSender, SmtpSettings
from coop_testkit.mailbox import mail_path

KEY = "evt-7:member-42:email"


def _dsn(*, delivered_to: str | None, action: str = "failed", status: str = "5.1.1",
         original_headers: dict[str, str] | None = None) -> bytes:
    """A relay's non-delivery report (RFC 3464 multipart/report) for gone@example.org."""
    envelope = f"Delivered-To: {delivered_to}\n" if delivered_to else ""
    original = "".join(f"{name}: {value}\n" for name, value in (original_headers or {}).items())
    text = f"""{envelope}From: Mail Delivery System <MAILER-DAEMON@relay.example>
To: {delivered_to or "someone@elsewhere.example"}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example

Final-Recipient: rfc822; gone@example.org
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: Recipient address
    rejected: User unknown

--B1
Content-Type: text/rfc822-headers

{original}From: Coop Zuid <notifications@coop.test>
To: gone@example.org
Subject: Invitation

--B1--
"""
    return text.replace("\n", "\r\n").encode()


def test_a_permanent_failure_maps_back_to_its_delivery_through_the_verp_address():
    bounce = parse_bounce(_dsn(delivered_to=verp_address(KEY, "coop.test")), domain="coop.test")
    assert bounce is not None
    assert bounce.delivery_key == KEY
    assert bounce.permanent == {"gone@example.org"} and bounce.is_permanent
    assert bounce.status == "5.1.1"
    assert "Recipient address rejected" in bounce.diagnostic


def test_without_the_verp_address_the_returned_headers_name_the_delivery():
    raw = _dsn(delivered_to=None, original_headers={"X-Coop-Delivery": KEY})
    assert parse_bounce(raw).delivery_key == KEY


def test_a_return_path_of_another_domain_is_not_taken_as_ours():
    raw = _dsn(delivered_to=verp_address(KEY, "elsewhere.example"))
    assert parse_bounce(raw, domain="coop.test").delivery_key is None


def test_a_delay_warning_is_not_a_permanent_failure():
    raw = _dsn(delivered_to=verp_address(KEY, "coop.test"), action="delayed", status="4.4.1")
    bounce = parse_bounce(raw)
    assert bounce.delivery_key == KEY
    assert bounce.temporary == {"gone@example.org"} and not bounce.is_permanent


def test_an_auto_reply_is_not_a_bounce():
    reply = EmailMessage()
    reply["From"] = "ana@example.org"
    reply["To"] = verp_address(KEY, "coop.test")
    reply["Subject"] = "Out of office"
    reply["Auto-Submitted"] = "auto-replied"
    reply.set_content("I am away until Monday.")
    assert parse_bounce(reply.as_bytes()) is None


def test_the_imap_url_gives_the_mailbox_and_its_credentials():
    s = ImapSettings.from_url("imaps://bounces%40coop.test:s3cret@imap.example/Bounces")
    assert (s.host, s.port, s.username, s.password, s.mailbox) == (
        "imap.example", 993, "bounces@coop.test", "s3cret", "Bounces")
    assert ImapSettings.from_url("imap://u:p@h?tls=none").port == 143
    assert reader_from_env({}) is None
    with pytest.raises(ValueError, match="imap://"):
        ImapSettings.from_url("pop3://u:p@h")
    with pytest.raises(ValueError, match="unknown options"):
        ImapSettings.from_url("imap://u:p@h?colour=blue")
    with pytest.raises(ValueError, match="user:password@host"):
        ImapSettings.from_url("imap://h")


# --- the real thing: Postfix bounces, Dovecot keeps the report, IMAP reads it back ---------------

@pytest.fixture(scope="module")
def path():
    return mail_path()


def _poll(reader: ImapBounceReader, count: int, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        items = reader.poll()
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.2)


def test_mail_to_an_unknown_local_user_comes_back_as_a_bounce_for_its_delivery(path):
    # A bounce mailbox of this test's own: VERP local part b-<random>.
    local = f"b-{uuid.uuid4().hex[:10]}"
    unknown, known = path.unknown_address(), path.new_address("ana")
    sender = SmtpSender(SmtpSettings.from_url(path.smtp_url))
    bad = outgoing("election_invitation", "fr", key=f"evt-9:{unknown}:email", to=unknown,
                   domain=path.domain)
    good = outgoing("election_invitation", "fr", key=f"evt-9:{known}:email", to=known,
                    domain=path.domain)
    bad = replace(bad, return_path=verp_address(bad.delivery_key, path.domain, local))
    good = replace(good, return_path=verp_address(good.delivery_key, path.domain, local))
    # Postfix accepts both (the unknown user is found out at delivery, as by a real relay)...
    assert sender.send(bad).kind == "submitted"
    assert sender.send(good).kind == "submitted"
    sender.close()

    reader = ImapBounceReader(
        ImapSettings.from_url(f"imap://{local}%40{path.domain}:{path.password}"
                              f"@127.0.0.1:{path.imap_port}?tls=none"),
        domain=path.domain, local=local)
    [item] = _poll(reader, 1)
    # ...and the non-delivery report comes back to the VERP address of the bad one only.
    assert item.bounce is not None
    assert item.bounce.delivery_key == bad.delivery_key
    assert item.bounce.permanent == {unknown}
    assert item.bounce.status == "5.1.1"
    assert "User unknown" in item.bounce.diagnostic
    path.fetch(known)  # the good one was delivered

    reader.done(item)
    assert reader.poll() == []


def test_a_message_that_is_not_a_bounce_is_kept_for_a_person_and_not_read_again(path):
    local = f"b-{uuid.uuid4().hex[:10]}"
    mailbox = f"{local}@{path.domain}"
    note = EmailMessage()
    note["From"] = "ana@example.org"
    note["To"] = mailbox
    note["Subject"] = "Out of office"
    note.set_content("Back on Monday.")
    with smtplib.SMTP("127.0.0.1", path.smtp_port, timeout=10) as smtp:
        smtp.send_message(note)
    reader = ImapBounceReader(
        ImapSettings.from_url(f"imap://{local}%40{path.domain}:{path.password}"
                              f"@127.0.0.1:{path.imap_port}?tls=none"), domain=path.domain)
    [item] = _poll(reader, 1)
    assert item.bounce is None
    reader.done(item)
    assert reader.poll() == []
    assert len(path.fetch(mailbox)) == 1  # still there, for a person to read
