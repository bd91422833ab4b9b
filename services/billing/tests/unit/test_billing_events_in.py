"""Membership's envelopes become typed facts at the worker's edge, stamped with the event's time."""

import uuid
from datetime import UTC, datetime

import pytest

from coop_billing.adapters import events_in
from coop_billing.domain.member_facts import MemberNames
from coop_domain.errors import InvalidArgument
from coop_platform.envelope import make_envelope

AT = "2027-03-01T10:00:00.000000Z"


def _envelope(name: str, data: dict) -> dict:
    envelope = make_envelope("membership", name, data)
    envelope["time"] = AT
    return envelope


def test_an_admission_carries_the_names_and_the_event_time():
    member_id = str(uuid.uuid4())
    fact = events_in.member_admitted(_envelope("member.admitted", {"member": {
        "memberId": member_id, "memberNumber": "M000001", "givenName": "Ada", "preferredLanguage": "nl",
        "someFieldOfLater": 1}}))
    assert fact.member_id == member_id and fact.member_number == "M000001"
    assert fact.names == MemberNames("Ada", None, "nl")
    assert fact.occurred_at == datetime(2027, 3, 1, 10, tzinfo=UTC)


def test_a_status_change_reads_the_status_in_lower_case():
    member_id = str(uuid.uuid4())
    fact = events_in.member_status_changed(_envelope("member.status_changed", {
        "memberId": member_id, "toStatus": "MEMBER_STATUS_SUSPENDED", "inGoodStanding": False}))
    assert (fact.status, fact.in_good_standing) == ("suspended", False)
    unset = events_in.member_status_changed(_envelope("member.status_changed", {"memberId": member_id}))
    assert unset.status == "active"


def test_membership_share_paid_gives_the_standing():
    member_id = str(uuid.uuid4())
    fact = events_in.member_share_paid(_envelope("share.paid", {
        "share": {"memberId": member_id, "year": 2027, "amountCents": "3000"}, "inGoodStanding": True}))
    assert (fact.member_id, fact.in_good_standing) == (member_id, True)


@pytest.mark.parametrize("data", [{}, {"memberId": "nope"}, {"memberId": 12}])
def test_an_event_without_a_readable_member_id_is_refused(data):
    with pytest.raises(InvalidArgument):
        events_in.member_erased(_envelope("member.erased", data))
