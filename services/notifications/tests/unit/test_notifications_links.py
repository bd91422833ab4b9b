"""Links of a message: the signed one-click unsubscribe and the portal pages of its context;
every catalog key reaches the template, localized for the recipient."""

from __future__ import annotations

from datetime import UTC, datetime

from coop_notifications.domain.catalog import NOTIFICATIONS, Priority
from coop_notifications.domain.ledger import Channel, new_delivery
from coop_notifications.domain.links import check_unsubscribe, portal_links, unsubscribe_url
from coop_notifications.domain.mapping import texts
from coop_notifications.domain.recipients import Recipient
from coop_notifications.service_layer.delivery import MailSettings, context_for

SECRET = b"s3cret"


def test_the_unsubscribe_link_is_signed_for_one_member_and_category() -> None:
    url = unsubscribe_url("https://coop.example/", SECRET, "coop", "m1", "elections")
    assert url.startswith("https://coop.example/unsubscribe?t=coop&m=m1&c=elections&s=")
    signature = url.rsplit("s=", 1)[1]
    assert check_unsubscribe(SECRET, "coop", "m1", "elections", signature)
    assert not check_unsubscribe(SECRET, "coop", "m2", "elections", signature)
    assert not check_unsubscribe(SECRET, "coop", "m1", "board", signature)
    assert not check_unsubscribe(b"other", "coop", "m1", "elections", signature)


def test_portal_links_follow_the_ids_of_the_context() -> None:
    links = portal_links("https://portal.example/", {"election_id": "e1"}, ("vote_url", "title"))
    assert links == {"vote_url": "https://portal.example/elections/e1/vote"}


def _context(name: str, values: dict, language: str = "nl") -> dict:
    spec = NOTIFICATIONS[name]
    d = new_delivery(tenant="coop", event_id="e", recipient_id="m1", channel=Channel.EMAIL, notification=name,
                     priority=spec.priority, category=spec.category.value, context=values,
                     now=datetime(2027, 1, 1, tzinfo=UTC))
    return context_for(d, Recipient("coop", "m1", "M1", "Ana", "a@example.org", language), MailSettings())


def test_every_catalog_key_reaches_the_template_in_the_recipients_language() -> None:
    for name, spec in NOTIFICATIONS.items():
        assert set(spec.all_context_keys) <= set(_context(name, {})), name
    ctx = _context("election_invitation", {"election_id": "e1", "title": texts({"fr": "Élection", "nl": "Verkiezing"})})
    assert ctx["title"] == "Verkiezing" and ctx["vote_url"].endswith("/elections/e1/vote")
    assert ctx["unsubscribe_url"].startswith("https://") and ctx["recipient_name"] == "Ana"
    assert NOTIFICATIONS["assembly_convocation"].priority == Priority.LEGAL
    assert _context("assembly_convocation", {"assembly_id": "ga"})["unsubscribe_url"] == ""
