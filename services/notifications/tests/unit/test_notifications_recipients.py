"""The recipients projection: contact, language and status from membership's facts, the newest
event winning per group of values whatever the arrival order; erasure keeps only the id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import permutations

from coop_domain.membership import MemberChanged, MemberContact, MemberErased
from coop_notifications.domain.recipients import apply_fact, language_of

T0 = datetime(2027, 1, 1, tzinfo=UTC)


def _at(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


ADMITTED = MemberChanged("m1", _at(0), status="active", in_good_standing=False,
                         contact=MemberContact("M000001", "Ana", "ana@example.org", "nl"))
UPDATED = MemberChanged("m1", _at(1), status="active", in_good_standing=True,
                        contact=MemberContact("M000001", "Ana", "ana@new.example.org", "en"))
SUSPENDED = MemberChanged("m1", _at(2), status="suspended", in_good_standing=False)


def test_admission_gives_contact_language_and_status() -> None:
    r = apply_fact(None, "coop", ADMITTED)
    assert (r.email, r.language, r.given_name, r.member_number, r.status) == (
        "ana@example.org", "nl", "Ana", "M000001", "active")
    assert r.reachable_by_email and r.writing_language == "nl"


def test_the_newest_event_wins_whatever_the_arrival_order() -> None:
    for order in permutations([ADMITTED, UPDATED, SUSPENDED]):
        r = None
        for fact in order:
            r = apply_fact(r, "coop", fact)
        assert (r.email, r.language, r.status, r.in_good_standing) == (
            "ana@new.example.org", "en", "suspended", False), order


def test_erasure_removes_contact_data_for_good_and_keeps_the_id() -> None:
    r = apply_fact(apply_fact(None, "coop", ADMITTED), "coop", MemberErased("m1", _at(5)))
    assert r.member_id == "m1" and r.erased
    assert (r.email, r.given_name) == (None, None)
    assert not r.reachable_by_email
    # an older update replayed later does not bring the address back
    again = apply_fact(r, "coop", UPDATED)
    assert again.email is None and again.given_name is None


def test_an_update_that_says_erased_empties_the_contact_too() -> None:
    erased_update = MemberChanged("m1", _at(3), contact=MemberContact("M000001", "", "", "nl", erased=True))
    r = apply_fact(apply_fact(None, "coop", ADMITTED), "coop", erased_update)
    assert r.erased and r.email is None


def test_a_member_is_written_to_in_fr_nl_or_en_else_french() -> None:
    assert [language_of(v) for v in ("nl", "EN", "en-GB", "de", "", None)] == ["nl", "en", "en", "fr", "fr", "fr"]
