"""Every domain event billing publishes has a translator, and no name is another service's."""

import dataclasses
import inspect

import pytest

from coop_billing.adapters import events_out
from coop_billing.domain import events


def _published_event_classes() -> set[type]:
    return {cls for _, cls in inspect.getmembers(events, inspect.isclass)
            if dataclasses.is_dataclass(cls) and cls.__module__ == events.__name__ and cls is not events.ContractEvent}


def test_every_domain_event_has_a_translator():
    assert _published_event_classes() == set(events_out._TRANSLATORS)


def test_the_paid_share_fee_is_published_as_share_fee_paid_not_membership_s_share_paid():
    fee = type("Fee", (), dict(member_id="m-1", year=2026, amount_cents=3000, number="SH-2026-000001"))()
    name, message, subject = events_out.translate(events.ShareFeePaid(fee, "M000001"))
    assert (name, subject) == ("share_fee.paid", "m-1")
    assert (message.member_number, message.payment_reference, message.amount_cents) == ("M000001", "SH-2026-000001", 3000)


def test_an_object_that_is_no_billing_event_is_refused():
    with pytest.raises(TypeError):
        events_out.translate(object())
