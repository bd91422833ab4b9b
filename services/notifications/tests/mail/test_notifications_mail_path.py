"""Through the real mail path: the SMTP sender hands messages to Postfix, read back over IMAP."""

from __future__ import annotations

import pytest
from notif_mail_samples import outgoing

from coop_notifications.adapters.bounces import parse_verp
from coop_notifications.adapters.smtp import SmtpSender, SmtpSettings
from coop_testkit.mailbox import mail_path


@pytest.fixture(scope="module")
def path():
    return mail_path()


@pytest.fixture
def sender(path):
    sender = SmtpSender(SmtpSettings.from_url(path.smtp_url),
                        from_address=f"Coop Zuid <notifications@{path.domain}>")
    yield sender
    sender.close()


def _plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def _deliver(path, sender, name: str, language: str, sends: int = 1):
    """Send notification ``name`` to a fresh mailbox; the mail and what arrived over IMAP."""
    address = path.new_address(language)
    mail = outgoing(name, language, key=f"evt-{name}:{address}:email", to=address,
                    domain=path.domain)
    for _ in range(sends):
        assert sender.send(mail).kind == "submitted"
    return mail, path.fetch(address, count=sends)


def test_an_invitation_arrives_in_the_members_language_with_its_headers(path, sender):
    mail, [message] = _deliver(path, sender, "election_invitation", "fr")
    assert message["Message-ID"] == mail.message_id
    assert message["Subject"] == "Vous êtes invité·e à voter\u00a0: Board 2027"
    assert message["Content-Language"] == "fr"
    assert message["From"] == f"Coop Zuid <notifications@{path.domain}>"
    assert message["List-Unsubscribe"] == "<https://portal.coop.test/unsubscribe?t=abc.def>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parse_verp(message["Return-Path"]) == mail.delivery_key  # the envelope sender
    text = _plain(message)
    assert "L'élection «\u00a0Board 2027\u00a0» est ouverte" in text
    assert "dimanche 14 mars 2027, 09:00" in text  # 08:00 UTC in Brussels
    assert "https://portal.coop.test/vote/e-1" in text
    html = message.get_body(("html",)).get_content()
    assert 'href="https://portal.coop.test/vote/e-1"' in html and "<style" not in html


def test_each_member_gets_the_language_of_their_choice(path, sender):
    subjects = {}
    for language in ("fr", "nl", "en"):
        _, [message] = _deliver(path, sender, "election_reminder", language)
        assert message["Content-Language"] == language
        subjects[language] = (message["Subject"], _plain(message))
    assert subjects["nl"][0] == "Herinnering: stem vóór de sluiting van Board 2027"
    assert "U hebt nog niet gestemd" in subjects["nl"][1]
    assert subjects["en"][0] == "Reminder: vote before the close of Board 2027"
    assert "Rappel" in subjects["fr"][0]


def test_a_legal_convocation_arrives_without_unsubscribe_headers(path, sender):
    _, [message] = _deliver(path, sender, "assembly_convocation", "nl")
    assert message["List-Unsubscribe"] is None
    assert "wettelijke kennisgeving" in _plain(message)
    assert "Annual accounts 2026" in _plain(message)


def test_the_same_delivery_resent_after_a_crash_carries_the_same_message_id(path, sender):
    mail, messages = _deliver(path, sender, "member_welcome", "en", sends=2)
    assert {m["Message-ID"] for m in messages} == {mail.message_id}
