"""The elections use cases on in-memory fakes: access, the roll, proxies, casting and the close."""

from __future__ import annotations

from datetime import timedelta

import pytest
from elections_fixtures import (
    ADMIN,
    AFTER,
    BEFORE,
    DURING,
    OPENS,
    OTHER_PARTNER,
    PARTNER,
    TELLER,
    member,
    spec,
)
from fakes import FakeUnitOfWork

from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from coop_domain.principal import Principal
from coop_elections.domain.errors import AlreadyVoted
from coop_elections.domain.events import ElectionOpened, ResultsPublished, VoterVoted
from coop_elections.domain.members import MemberChanged
from coop_elections.domain.published import roll_hash
from coop_elections.service_layer import casting, elections, handlers, proxies, results, roll


def _election(uow: FakeUnitOfWork, voters=("v1", "v2", "v3"), caller=ADMIN, **kw):
    e = elections.create_election(uow, caller, spec(**kw), BEFORE)
    if voters:
        roll.import_roll(uow, caller, e.election_id, [(v, 1) for v in voters], BEFORE)
    return e


def test_only_managers_define_elections_and_another_tenant_sees_none_of_them() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(PermissionDenied):
        elections.create_election(uow, member("v1"), spec(), BEFORE)
    with pytest.raises(PermissionDenied):
        elections.create_election(uow, TELLER, spec(), BEFORE)
    e = _election(uow, caller=PARTNER)
    with pytest.raises(NotFound) as refused:
        elections.get_election(uow, OTHER_PARTNER, e.election_id)
    assert refused.value.field == "election_id" and refused.value.reason == "ELECTION_NOT_FOUND"
    assert elections.get_election(uow, member("v1", "partner-x"), e.election_id).election_id == e.election_id


def test_a_cut_off_after_the_opening_names_roll_cutoff() -> None:
    with pytest.raises(InvalidArgument) as refused:
        spec(cutoff=OPENS + timedelta(minutes=1))
    assert (refused.value.field, refused.value.reason) == ("roll_cutoff", "ROLL_CUTOFF_AFTER_OPENING")


def test_an_election_opening_now_without_a_cut_off_is_refused_with_what_to_send() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidArgument) as refused:
        elections.create_election(uow, ADMIN, spec(opens=DURING), DURING, cutoff_given=False)
    assert refused.value.reason == "ROLL_WOULD_BE_EMPTY" and "opens_at a few minutes ahead" in str(refused.value)
    assert uow.commits == 0
    # the obvious fix works: open a few minutes ahead, import the roll meanwhile
    e = elections.create_election(uow, ADMIN, spec(opens=DURING + timedelta(minutes=5)), DURING, cutoff_given=False)
    assert roll.import_roll(uow, ADMIN, e.election_id, [("v1", 1)], DURING).size == 1


def test_opening_freezes_the_roll_and_publishes_its_hash() -> None:
    uow = FakeUnitOfWork()
    e = _election(uow)
    with pytest.raises(PermissionDenied):
        elections.open_election(uow, member("v1"), e.election_id, OPENS)
    elections.open_election(uow, ADMIN, e.election_id, OPENS)
    opened, roll_part = uow.published
    assert isinstance(opened, ElectionOpened)
    assert opened.roll.size == 3 and opened.roll.sha256 == roll_hash([("v1", 1), ("v2", 1), ("v3", 1)])
    # and the roll's voters, for the invitations, in the same unit
    assert (roll_part.part, roll_part.parts, roll_part.voter_ids, roll_part.roll_size) == (1, 1, ("v1", "v2", "v3"), 3)


def test_a_rebuild_from_the_members_before_the_cut_off_replaces_the_roll() -> None:
    uow = FakeUnitOfWork()
    e = _election(uow, voters=())
    with uow:
        for m in ("m1", "m2"):
            handlers.apply_member_fact(uow, MemberChanged(m, BEFORE, status="active", in_good_standing=True))
    assert roll.build_roll_from_members(uow, ADMIN, e.election_id, BEFORE).size == 2
    with uow:  # m2 is suspended after the first build; m3 joins
        handlers.apply_member_fact(uow, MemberChanged("m2", BEFORE + timedelta(hours=1), status="suspended",
                                                      in_good_standing=False))
        handlers.apply_member_fact(uow, MemberChanged("m3", BEFORE + timedelta(hours=1), status="active",
                                                      in_good_standing=True))
    rebuilt = roll.build_roll_from_members(uow, ADMIN, e.election_id, BEFORE + timedelta(hours=2))
    assert rebuilt.size == 2
    assert sorted(v for v, _ in uow.elections.roll_entries(e.election_id)) == ["m1", "m3"]
    with pytest.raises(FailedPrecondition) as late:
        roll.build_roll_from_members(uow, ADMIN, e.election_id, OPENS)
    assert late.value.reason == "ROLL_FROZEN"
    with pytest.raises(PermissionDenied):  # partners import their roll
        roll.build_roll_from_members(uow, PARTNER, e.election_id, BEFORE)
    with pytest.raises(FailedPrecondition) as partners:
        roll.build_roll_from_members(uow, Principal("a", "partner-x", frozenset({"admin"})), e.election_id, BEFORE)
    assert partners.value.reason == "PARTNERS_IMPORT_THEIR_ROLL"


def test_a_frozen_rolls_entries_recompute_its_published_hash_for_its_tenants_admins_only() -> None:
    uow = FakeUnitOfWork()
    e = _election(uow, caller=PARTNER, voters=[f"v{n:04d}" for n in range(2500)])
    with pytest.raises(FailedPrecondition):
        roll.frozen_roll_entries(uow, PARTNER, e.election_id, BEFORE)
    summary, entries = roll.frozen_roll_entries(uow, PARTNER, e.election_id, OPENS)
    listed = list(entries)
    assert len(listed) == 2500 and roll_hash(listed) == summary.sha256
    with pytest.raises(NotFound):
        roll.frozen_roll_entries(uow, OTHER_PARTNER, e.election_id, OPENS)
    with pytest.raises(PermissionDenied):
        roll.frozen_roll_entries(uow, member("v0001", "partner-x"), e.election_id, OPENS)


def test_a_used_and_a_voided_proxy_are_refused_for_different_reasons() -> None:
    uow = FakeUnitOfWork()
    e = _election(uow, voters=("g1", "g2", "h"), proxies=2)
    proxies.give_proxy(uow, member("g1"), e.election_id, "h", BEFORE)
    proxies.give_proxy(uow, member("g2"), e.election_id, "h", BEFORE)
    answers = {"accounts": "yes"}
    casting.cast_ballot(uow, member("h"), e.election_id, answers, DURING, on_behalf_of="g1")
    casting.cast_ballot(uow, member("g2"), e.election_id, answers, DURING)  # voids g2's proxy
    with pytest.raises(PermissionDenied) as used:
        casting.cast_ballot(uow, member("h"), e.election_id, answers, DURING, on_behalf_of="g1")
    with pytest.raises(PermissionDenied) as voided:
        casting.cast_ballot(uow, member("h"), e.election_id, answers, DURING, on_behalf_of="g2")
    assert (used.value.reason, voided.value.reason) == ("PROXY_USED", "PROXY_VOIDED")
    assert "already been used" in str(used.value) and "void" in str(voided.value)
    assert used.value.field == voided.value.field == "on_behalf_of"


def test_a_cast_publishes_who_voted_for_the_voter_or_the_proxys_giver_and_a_refusal_nothing() -> None:
    uow = FakeUnitOfWork()
    e = _election(uow, voters=("g1", "h", "v1"), proxies=1)
    proxies.give_proxy(uow, member("g1"), e.election_id, "h", BEFORE)
    answers = {"accounts": "yes"}
    casting.cast_ballot(uow, member("h"), e.election_id, answers, DURING, on_behalf_of="g1")
    casting.cast_ballot(uow, member("v1"), e.election_id, answers, DURING)
    for refused in (lambda: casting.cast_ballot(uow, member("v1"), e.election_id, answers, DURING),
                    lambda: casting.cast_ballot(uow, member("nobody"), e.election_id, answers, DURING),
                    lambda: casting.cast_ballot(uow, member("h"), e.election_id, answers, DURING, on_behalf_of="g1")):
        with pytest.raises((FailedPrecondition, PermissionDenied, AlreadyVoted)):
            refused()
    voted = [x for x in uow.published if isinstance(x, VoterVoted)]
    assert [(x.election.election_id, x.voter_id, x.voted_at) for x in voted] == [
        (e.election_id, "g1", DURING), (e.election_id, "v1", DURING)]


def test_casting_and_closing_publish_the_counted_results() -> None:
    uow = FakeUnitOfWork()
    e = _election(uow)
    for v, board in (("v1", ["ann"]), ("v2", ["ann"]), ("v3", ["bob"])):
        casting.cast_ballot(uow, member(v), e.election_id, {"board": board}, DURING)
    with pytest.raises(PermissionDenied):
        casting.cast_ballot(uow, TELLER, e.election_id, {"board": ["ann"]}, DURING)
    with pytest.raises(FailedPrecondition) as sealed:
        results.get_results(uow, member("v1"), e.election_id)
    assert sealed.value.reason == "RESULTS_SEALED"
    published = results.close_election(uow, ADMIN, e.election_id, AFTER)
    board = next(q for q in published["count"]["questions"] if q["question_id"] == "board")
    assert board["winners"] == ["ann"]
    assert isinstance(uow.published[-1], ResultsPublished)
    assert results.turnout(uow, member("v1"), e.election_id)[0] == 3


def test_readiness_tells_our_admins_how_fresh_the_members_projection_is() -> None:
    uow = FakeUnitOfWork()
    with uow:
        handlers.apply_member_fact(uow, MemberChanged("m1", BEFORE, status="active", in_good_standing=True))
    ready = handlers.projection_readiness(uow, ADMIN, BEFORE + timedelta(seconds=30))
    assert ready.members == 1 and ready.last_event_time == BEFORE and ready.lag_seconds == 30
    with pytest.raises(PermissionDenied):
        handlers.projection_readiness(uow, member("m1"), BEFORE)
    with pytest.raises((PermissionDenied, FailedPrecondition)):
        handlers.projection_readiness(uow, PARTNER, BEFORE)


def test_an_older_event_does_not_undo_a_newer_one() -> None:
    uow = FakeUnitOfWork()
    with uow:
        handlers.apply_member_fact(uow, MemberChanged("m1", BEFORE, status="suspended", in_good_standing=False))
        handlers.apply_member_fact(uow, MemberChanged("m1", BEFORE - timedelta(hours=1), status="active",
                                                      in_good_standing=True))
    assert uow.elections.members_in_good_standing() == []


def test_a_vote_held_on_the_assembly_day_is_reminded_halfway_not_with_its_invitation() -> None:
    from datetime import UTC, datetime

    from coop_elections.service_layer import timers

    uow = FakeUnitOfWork()
    opens = datetime(2027, 5, 15, 9, tzinfo=UTC)  # 11:00 to 17:00 in Brussels: six hours, less than the lead
    e = _election(uow, opens=opens)
    lead, roll_lead = timedelta(hours=24), timedelta(seconds=45)
    timers.run_timers(uow, opens, lead, roll_lead=roll_lead)
    timers.run_timers(uow, opens + timedelta(hours=2, minutes=59), lead, roll_lead=roll_lead)
    assert [type(x).__name__ for x in uow.published] == ["ElectionOpened", "RollFrozen"]  # nobody reminded yet
    casting.cast_ballot(uow, member("v2"), e.election_id, {"board": ["bob"]}, opens + timedelta(hours=1))
    timers.run_timers(uow, opens + timedelta(hours=3), lead, roll_lead=roll_lead)  # halfway
    [soon] = [x for x in uow.published if type(x).__name__ == "ElectionClosingSoon"]
    assert list(soon.non_voters) == ["v1", "v3"]
