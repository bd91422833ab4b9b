"""Events carry the member's real good standing, not a placeholder."""

from __future__ import annotations

from coop.membership.v1 import membership_pb2 as pb


def test_member_admitted_and_updated_events_carry_the_members_good_standing(svc, h):
    recent = h.register(svc)                               # just admitted: within the grace period
    old = h.register(svc, joined_on="2020-01-15")          # admitted long ago, share unpaid
    assert recent.in_good_standing and not old.in_good_standing
    for member in (recent, old):
        admitted = [e for e in svc.outbox_envelopes(member.member_id)
                    if e["type"] == "coop.membership.member.admitted.v1"]
        assert len(admitted) == 1
        assert admitted[0]["data"]["member"]["inGoodStanding"] is member.in_good_standing
    svc.stub.UpdateMember(pb.UpdateMemberRequest(
        member_id=recent.member_id, member=pb.MemberDraft(phone="+32 470 12 34 56"), update_paths=["phone"]),
        metadata=h.ADMIN)
    updated = [e for e in svc.outbox_envelopes(recent.member_id) if e["type"] == "coop.membership.member.updated.v1"]
    assert updated[-1]["data"]["member"]["inGoodStanding"] is True
