"""The shared parser of membership's events reads the contact data of member.admitted and
member.updated (for the notifications service); the other events state none."""

from __future__ import annotations

from coop_domain.membership import MemberContact
from coop_platform.envelope import make_envelope
from coop_platform.membership_facts import member_fact


def test_admitted_and_updated_carry_the_members_contact_data() -> None:
    member = {"memberId": "m1", "memberNumber": "M000001", "givenName": "Ana", "familyName": "Peeters",
              "email": "ana@example.org", "preferredLanguage": "nl"}
    for name in ("member.admitted", "member.updated"):
        fact = member_fact(make_envelope("membership", name, {"member": member}))
        assert fact.contact == MemberContact("M000001", "Ana", "ana@example.org", "nl", erased=False)


def test_status_changes_and_payments_state_no_contact() -> None:
    changed = member_fact(make_envelope("membership", "member.status_changed",
                                        {"memberId": "m1", "toStatus": "MEMBER_STATUS_SUSPENDED"}))
    paid = member_fact(make_envelope("membership", "share.paid", {"share": {"memberId": "m1"}}))
    assert changed.contact is None and paid.contact is None
