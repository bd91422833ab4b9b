"""Membership's events become typed facts at the worker's edge (adapters/events_in.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coop_domain.membership import MemberContact
from coop_elections.adapters.events_in import MalformedEvent, member_fact
from coop_elections.domain.members import MemberChanged, MemberErased
from coop_platform.envelope import make_envelope

AT = "2026-03-02T09:00:00.250000Z"


def _envelope(name: str, data: dict) -> dict:
    envelope = make_envelope("membership", name, data)
    envelope["time"] = AT
    return envelope


def test_each_membership_event_becomes_one_typed_fact_with_its_event_time() -> None:
    at = datetime(2026, 3, 2, 9, 0, 0, 250000, tzinfo=UTC)
    updated = member_fact(_envelope("member.updated", {"member": {
        "memberId": "m1", "status": "MEMBER_STATUS_SUSPENDED", "category": "MEMBER_CATEGORY_PERMANENT_STAFF",
        "inGoodStanding": False, "unknownLaterField": 1}}))
    assert updated == MemberChanged("m1", at, status="suspended", category="permanent_staff", in_good_standing=False,
                                     contact=MemberContact())
    admitted = member_fact(_envelope("member.admitted", {"member": {"memberId": "m2", "inGoodStanding": True}}))
    assert admitted == MemberChanged("m2", at, status="active", category=None, in_good_standing=True,
                                      contact=MemberContact())
    paid = member_fact(_envelope("share.paid", {"share": {"memberId": "m3"}, "inGoodStanding": True}))
    assert paid == MemberChanged("m3", at, in_good_standing=True)
    erased = member_fact(_envelope("member.erased", {"memberId": "m4", "erasedAt": "2026-03-01T00:00:00Z"}))
    assert erased == MemberErased("m4", datetime(2026, 3, 1, tzinfo=UTC))
    newer = member_fact(_envelope("member.updated", {"member": {"memberId": "m5", "status": "MEMBER_STATUS_LATER"}}))
    assert newer.status is None  # a status this service does not know yet says nothing, as an absent one


@pytest.mark.parametrize("name, data", [
    ("member.admitted", {"member": {}}),
    ("member.status_changed", {"toStatus": "MEMBER_STATUS_ACTIVE"}),
    ("member.updated", {"member": {"memberId": "m1", "inGoodStanding": "perhaps"}}),
    ("member.exploded", {"memberId": "m1"}),
])
def test_an_event_that_cannot_be_read_is_refused_as_malformed(name: str, data: dict) -> None:
    with pytest.raises(MalformedEvent):
        member_fact(_envelope(name, data))
