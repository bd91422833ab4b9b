"""Members' language for the General Assembly's convocation: read from membership's events at the
worker's edge (coop_platform.membership_facts) and kept by the board's projection, newest event
first; an erased member's language is forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from board_fakes_roster import FakeMemberStandingRepository

from coop_domain.membership import MemberErased
from coop_platform.envelope import make_envelope
from coop_platform.membership_facts import member_fact

AT = datetime(2027, 3, 1, tzinfo=UTC)


class _Uow:
    def __init__(self) -> None:
        self.members = FakeMemberStandingRepository()


def test_admitted_and_updated_members_carry_their_preferred_language() -> None:
    admitted = member_fact(make_envelope("membership", "member.admitted", {
        "member": {"memberId": "m1", "preferredLanguage": "NL", "inGoodStanding": True}}))
    assert admitted.language == "nl"
    silent = member_fact(make_envelope("membership", "member.updated", {"member": {"memberId": "m1"}}))
    assert silent.language is None  # says nothing about it: the projection keeps what it has
    paid = member_fact(make_envelope("membership", "share.paid", {"share": {"memberId": "m1"},
                                                                   "inGoodStanding": True}))
    assert paid.language is None


def test_the_projection_keeps_the_newest_language_and_forgets_it_on_erasure() -> None:
    from coop_board.service_layer.roster_handlers import apply_member_fact
    from coop_domain.membership import MemberChanged, MemberContact

    uow = _Uow()
    apply_member_fact(uow, MemberChanged("m1", AT + timedelta(hours=1),  # type: ignore[arg-type]
                                         contact=MemberContact(preferred_language="en")))
    apply_member_fact(uow, MemberChanged("m1", AT, status="active", in_good_standing=True,  # type: ignore[arg-type]
                                         contact=MemberContact(preferred_language="fr")))  # older: its language loses, its status counts
    standing = uow.members.standing("m1")
    assert standing is not None and (standing.language, standing.status) == ("en", "active")
    apply_member_fact(uow, MemberErased("m1", AT + timedelta(hours=2)))  # type: ignore[arg-type]
    erased = uow.members.standing("m1")
    assert erased is not None and erased.language is None and erased.status == "erased"
