"""Membership's events reach the recipients table once (the inbox), read by the shared parser."""

from __future__ import annotations

import uuid

from coop_notifications.adapters.events_in import apply_member_event
from coop_platform.envelope import make_envelope
from coop_platform.inbox import process_once


def _envelope(name: str, data: dict, at: str) -> dict:
    envelope = make_envelope("membership", name, data)
    envelope["time"] = at
    return envelope


def _apply(env, envelope: dict) -> bool:
    return process_once(env.uow_factory, "notifications.test", envelope, apply_member_event)


def _recipient(env, member_id: str):
    with env.uow_factory() as uow:
        return uow.recipients.get("coop", member_id)


def test_admission_update_and_erasure_through_the_inbox(env) -> None:
    mid = str(uuid.uuid4())
    admitted = _envelope("member.admitted", {"member": {
        "memberId": mid, "memberNumber": "M000042", "givenName": "Jan", "email": "jan@example.org",
        "preferredLanguage": "nl", "status": "MEMBER_STATUS_ACTIVE", "inGoodStanding": True}},
        "2027-01-01T10:00:00Z")
    assert _apply(env, admitted)
    assert not _apply(env, admitted)  # a redelivery changes nothing
    r = _recipient(env, mid)
    assert (r.email, r.language, r.given_name, r.member_number, r.status) == (
        "jan@example.org", "nl", "Jan", "M000042", "active")

    _apply(env, _envelope("member.status_changed", {"memberId": mid, "toStatus": "MEMBER_STATUS_SUSPENDED"},
                          "2027-01-02T10:00:00Z"))
    assert _recipient(env, mid).status == "suspended"

    _apply(env, _envelope("member.erased", {"memberId": mid, "memberNumber": "M000042"}, "2027-01-03T10:00:00Z"))
    r = _recipient(env, mid)
    assert r.erased and r.email is None and r.given_name is None and r.member_id == mid
