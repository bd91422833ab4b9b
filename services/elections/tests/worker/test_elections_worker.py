"""The elections worker: membership projection (effectively once) and the election timers."""

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import text

from coop.elections.v1 import events_pb2
from coop_domain.principal import Principal
from coop_elections.domain.election import QuestionSpec, Text, make_spec
from coop_elections.domain.model import Method
from coop_elections.entrypoints import worker as worker_module
from coop_elections.service_layer import casting, elections, results, roll
from coop_platform.envelope import make_envelope, parse_data

ASSEMBLY = date(2027, 5, 15)
OPENS = datetime(2027, 5, 1, 8, tzinfo=UTC)
CLOSES = datetime(2027, 5, 15, 15, tzinfo=UTC)  # 17:00 Brussels


def _admin(tenant: str) -> Principal:
    return Principal("t-admin", tenant, frozenset({"admin" if tenant == "coop" else "partner"}))


def _member(subject: str, tenant: str) -> Principal:
    return Principal(subject, tenant, frozenset({"member"}))


def _spec():
    return make_spec(
        [Text("en", "Board")],
        [QuestionSpec("board", Method.PLURALITY, (Text("en", "Seats"),), ("alice", "bob"), 1, 4)],
        opens_at=OPENS, assembly_day=ASSEMBLY, closes_local=time(17), tz="Europe/Brussels",
        roll_cutoff=None, allow_revote=False, max_proxies_held=0, nominations_open=None,
        nominations_close=None, max_permanent_staff_seats=0)


def _outbox(name, election_id):
    with worker_module.engine().connect() as conn:
        bodies = [json.loads(b) for (b,) in conn.execute(
            text("SELECT body FROM outbox WHERE routing_key = :k ORDER BY seq"), {"k": name})]
    return [b for b in bodies if b["data"].get("electionId") == election_id]


def _member_event(name, data, member_id, at=None):
    envelope = make_envelope("membership", name, data, subject=member_id)
    if at is not None:  # when membership committed it (CloudEvents time)
        envelope["time"] = at
    return envelope


def _projected(member_id):
    with worker_module.engine().connect() as conn:
        return conn.execute(text("SELECT status, category, in_good_standing FROM member_projection "
                                 "WHERE member_id = :m"), {"m": member_id}).one()


def test_worker_consumes_the_documented_queues():
    from nameko.containers import ServiceContainer
    from nameko.testing.utils import get_extension

    from coop_platform.worker import CoopEventHandler

    container = ServiceContainer(worker_module.ElectionsWorker, {"AMQP_URI": "memory://"})
    for event, method in worker_module.CONSUMED.items():
        handler = get_extension(container, CoopEventHandler, method_name=method)
        assert (handler.source_service, handler.event_type) == ("membership", event)


def test_timer_interval_comes_from_the_environment_and_is_checked():
    assert worker_module.tick_seconds("") == 15
    assert worker_module.tick_seconds("0.5") == 0.5
    for bad in ("0", "-1", "nan", "7200.5"):
        with pytest.raises(ValueError, match="COOP_ELECTIONS_TICK_SECONDS"):
            worker_module.tick_seconds(bad)


def test_membership_events_build_the_projection_once_and_the_roll_from_it():
    worker = worker_factory(worker_module.ElectionsWorker)
    good, lapsed, suspended = (str(uuid.uuid4()) for _ in range(3))
    for member_id in (good, lapsed, suspended):
        worker.on_member_admitted(_member_event("member.admitted", {
            "member": {"memberId": member_id, "category": "MEMBER_CATEGORY_USER", "inGoodStanding": False}},
            member_id))
    paid = _member_event("share.paid", {"share": {"memberId": good}, "inGoodStanding": True}, good)
    worker.on_share_paid(paid)
    worker.on_share_paid(paid)  # redelivery: nothing more
    worker.on_share_paid(_member_event("share.paid", {"share": {"memberId": suspended}, "inGoodStanding": True},
                                       suspended))
    worker.on_member_status_changed(_member_event("member.status_changed", {
        "memberId": suspended, "toStatus": "MEMBER_STATUS_SUSPENDED", "inGoodStanding": False}, suspended))
    with worker_module.engine().connect() as conn:
        claimed = conn.execute(text("SELECT count(*) FROM processed_events WHERE event_id = :e"),
                               {"e": paid["id"]}).scalar_one()
    assert claimed == 1

    before_cutoff = OPENS - timedelta(days=2)
    e = elections.create_election(worker_module.uow_factory(), _admin("coop"), _spec(), before_cutoff)
    summary = roll.build_roll_from_members(worker_module.uow_factory(), _admin("coop"), e.election_id, before_cutoff)
    assert summary.size >= 1
    assert roll.my_roll_entry(worker_module.uow_factory(), _member(good, "coop"), e.election_id)[0]
    assert not roll.my_roll_entry(worker_module.uow_factory(), _member(lapsed, "coop"), e.election_id)[0]
    assert not roll.my_roll_entry(worker_module.uow_factory(), _member(suspended, "coop"), e.election_id)[0]


def test_timer_opens_reminds_closes_and_publishes(monkeypatch):
    uow = worker_module.uow_factory
    e = elections.create_election(uow(), _admin("coop"), _spec(), OPENS - timedelta(days=3))
    roll.import_roll(uow(), _admin("coop"), e.election_id, [("v1", 1), ("v2", 1), ("v3", 1)], OPENS - timedelta(days=3))
    worker = worker_factory(worker_module.ElectionsWorker)

    monkeypatch.setattr(worker_module, "now", lambda: OPENS + timedelta(seconds=1))
    assert worker.tick()["opened"] >= 1
    [opened] = _outbox("election.opened", e.election_id)
    assert parse_data(opened, events_pb2.ElectionOpened).roll_size == 3
    casting.cast_ballot(uow(), _member("v2", "coop"), e.election_id, {"board": ["bob"]}, OPENS + timedelta(hours=1))

    monkeypatch.setattr(worker_module, "now", lambda: CLOSES - timedelta(hours=2))
    worker.tick()
    worker.tick()  # once only
    [soon] = _outbox("election.closing_soon", e.election_id)
    assert list(parse_data(soon, events_pb2.ElectionClosingSoon).non_voters) == ["v1", "v3"]

    monkeypatch.setattr(worker_module, "now", lambda: CLOSES)
    assert worker.tick()["closed"] >= 1
    [published] = _outbox("election.results_published", e.election_id)
    data = parse_data(published, events_pb2.ResultsPublished)
    assert list(data.elected_member_ids) == ["bob"]
    assert (data.mandate_start, data.mandate_end) == ("2027-05-15", "2031-05-15")
    assert results.get_results(uow(), _admin("coop"), e.election_id)["count"]["ballots"] == 1


def test_timer_builds_our_cooperatives_roll_from_the_projection_just_before_the_cut_off(monkeypatch):
    uow = worker_module.uow_factory
    worker = worker_factory(worker_module.ElectionsWorker)
    member = str(uuid.uuid4())
    worker.on_member_admitted(_member_event("member.admitted", {
        "member": {"memberId": member, "category": "MEMBER_CATEGORY_USER", "inGoodStanding": True}}, member))
    e = elections.create_election(uow(), _admin("coop"), _spec(), OPENS - timedelta(days=3))
    partner = elections.create_election(uow(), _admin("partner-x"), _spec(), OPENS - timedelta(days=3))

    monkeypatch.setattr(worker_module, "now", lambda: OPENS - timedelta(hours=1))
    assert worker.tick()["rolls_built"] == 0  # too early: members may still join or lapse
    assert not roll.my_roll_entry(uow(), _member(member, "coop"), e.election_id)[0]

    monkeypatch.setattr(worker_module, "now", lambda: OPENS - timedelta(seconds=20))
    assert worker.tick()["rolls_built"] >= 1
    assert roll.my_roll_entry(uow(), _member(member, "coop"), e.election_id)[0]
    assert not roll.my_roll_entry(uow(), _member(member, "partner-x"), partner.election_id)[0]  # partners import theirs
    assert worker.tick()["rolls_built"] == 0  # built once


def test_projection_keeps_the_newest_status_and_standing_whatever_order_the_queues_deliver_them_in():
    """One queue per event type: member.status_changed of an admission may be handled after the
    share.paid that followed it, and a member.admitted after a later suspension."""
    worker = worker_factory(worker_module.ElectionsWorker)
    paid_late, suspended = str(uuid.uuid4()), str(uuid.uuid4())
    admitted_at, paid_at, suspended_at = ("2026-03-02T09:00:00.000000Z", "2026-03-02T09:00:00.300000Z",
                                          "2026-03-02T09:05:00.000000Z")

    def admission(member_id):
        return (_member_event("member.admitted", {"member": {
                    "memberId": member_id, "status": "MEMBER_STATUS_ACTIVE", "category": "MEMBER_CATEGORY_USER",
                    "inGoodStanding": False}}, member_id, admitted_at),
                _member_event("member.status_changed", {
                    "memberId": member_id, "fromStatus": "MEMBER_STATUS_APPLICANT", "toStatus": "MEMBER_STATUS_ACTIVE",
                    "inGoodStanding": False}, member_id, admitted_at))

    def paid(member_id):
        return _member_event("share.paid", {"share": {"memberId": member_id}, "inGoodStanding": True},
                             member_id, paid_at)

    # the payment is handled before the admission that preceded it
    admitted, activated = admission(paid_late)
    worker.on_share_paid(paid(paid_late))
    worker.on_member_status_changed(activated)
    worker.on_member_admitted(admitted)
    assert tuple(_projected(paid_late)) == ("active", "user", True)

    # the suspension is handled before the admission and the payment that preceded it
    admitted, activated = admission(suspended)
    worker.on_member_status_changed(activated)
    worker.on_member_status_changed(_member_event("member.status_changed", {
        "memberId": suspended, "fromStatus": "MEMBER_STATUS_ACTIVE", "toStatus": "MEMBER_STATUS_SUSPENDED",
        "inGoodStanding": False}, suspended, suspended_at))
    worker.on_share_paid(paid(suspended))
    worker.on_member_admitted(admitted)
    assert tuple(_projected(suspended)) == ("suspended", "user", False)

    e = elections.create_election(worker_module.uow_factory(), _admin("coop"), _spec(), OPENS - timedelta(days=2))
    roll.build_roll_from_members(worker_module.uow_factory(), _admin("coop"), e.election_id, OPENS - timedelta(days=2))
    assert roll.my_roll_entry(worker_module.uow_factory(), _member(paid_late, "coop"), e.election_id)[0]
    assert not roll.my_roll_entry(worker_module.uow_factory(), _member(suspended, "coop"), e.election_id)[0]


def test_member_updated_carries_a_new_category_into_the_projection_in_either_order():
    worker = worker_factory(worker_module.ElectionsWorker)
    for updated_first in (False, True):
        member_id = str(uuid.uuid4())
        member = {"memberId": member_id, "status": "MEMBER_STATUS_ACTIVE", "inGoodStanding": True}
        admitted = _member_event("member.admitted", {"member": {**member, "category": "MEMBER_CATEGORY_USER"}},
                                 member_id, "2026-03-02T09:00:00.000000Z")
        updated = _member_event("member.updated", {
            "member": {**member, "category": "MEMBER_CATEGORY_PERMANENT_STAFF"}, "changedFields": ["category"]},
            member_id, "2026-03-02T10:00:00.000000Z")
        deliveries = [(worker.on_member_admitted, admitted), (worker.on_member_updated, updated)]
        for handle, envelope in (reversed(deliveries) if updated_first else deliveries):
            handle(envelope)
        worker.on_member_updated(updated)  # redelivery: nothing more
        assert tuple(_projected(member_id)) == ("active", "permanent_staff", True), updated_first


def test_member_erased_leaves_a_tombstone_that_older_events_do_not_overwrite():
    worker = worker_factory(worker_module.ElectionsWorker)
    member_id = str(uuid.uuid4())
    worker.on_member_admitted(_member_event("member.admitted", {"member": {
        "memberId": member_id, "status": "MEMBER_STATUS_ACTIVE", "inGoodStanding": True}},
        member_id, "2026-03-02T09:00:00Z"))
    erased = _member_event("member.erased", {"memberId": member_id, "memberNumber": "M000007",
                                             "erasedAt": "2026-06-01T12:00:00Z"}, member_id, "2026-06-01T12:00:01Z")
    worker.on_member_erased(erased)
    worker.on_member_erased(erased)  # redelivery: nothing more
    worker.on_share_paid(_member_event("share.paid", {"share": {"memberId": member_id}, "inGoodStanding": True},
                                       member_id, "2026-05-01T09:00:00Z"))  # older, delivered late
    assert tuple(_projected(member_id)) == ("erased", "user", False)


def test_the_tick_starts_one_tally_finisher_at_a_time_and_only_for_a_ready_tally(monkeypatch):
    """The finishing job runs as a process of its own (its CPU stays out of the eventlet hub);
    here a stand-in command that lasts half a second, with the ready tallies set by the test."""
    import sys

    finisher = worker_module.TallyFinisher()
    monkeypatch.setattr(finisher, "command", (sys.executable, "-c", "import time; time.sleep(0.5)"))
    ready: list[tuple[str, str]] = []
    monkeypatch.setattr(worker_module, "ready_tallies", lambda uow: list(ready))
    uow = worker_module.uow_factory()
    assert finisher.start_if_ready(uow) == 0 and finisher.process is None  # nothing ready
    ready.append(("coop", "e-1"))
    assert finisher.start_if_ready(uow) == 1
    first = finisher.process
    assert finisher.start_if_ready(uow) == 0 and finisher.process is first  # still finishing
    assert first.wait(timeout=10) == 0
    assert finisher.start_if_ready(uow) == 1 and finisher.process is not first  # ready again: a new one
    finisher.process.wait(timeout=10)
    ready.clear()
    assert finisher.start_if_ready(uow) == 0


def test_a_failing_tally_finisher_is_started_again_only_after_a_growing_pause(monkeypatch):
    import sys

    now = [1000.0]
    finisher = worker_module.TallyFinisher(clock=lambda: now[0])
    monkeypatch.setattr(finisher, "command", (sys.executable, "-c", "raise SystemExit(3)"))
    monkeypatch.setattr(worker_module, "ready_tallies", lambda uow: [("coop", "e-1")])
    uow = worker_module.uow_factory()
    assert finisher.start_if_ready(uow) == 1
    assert finisher.process.wait(timeout=10) == 3
    assert finisher.start_if_ready(uow) == 0  # failed: a pause of FIRST_PAUSE first
    now[0] += finisher.FIRST_PAUSE - 1
    assert finisher.start_if_ready(uow) == 0
    now[0] += 1
    assert finisher.start_if_ready(uow) == 1
    finisher.process.wait(timeout=10)
    assert finisher.start_if_ready(uow) == 0 and finisher.failures == 2
    now[0] += 2 * finisher.FIRST_PAUSE  # the pause doubles
    monkeypatch.setattr(finisher, "command", (sys.executable, "-c", "pass"))
    assert finisher.start_if_ready(uow) == 1
    finisher.process.wait(timeout=10)
    assert finisher.start_if_ready(uow) == 1 and finisher.failures == 0  # a success ends the pauses
    finisher.process.wait(timeout=10)


def test_the_tick_reports_the_tally_finishers_it_started(monkeypatch):
    monkeypatch.setattr(worker_module.finisher, "start_if_ready", lambda uow: 1)
    worker = worker_factory(worker_module.ElectionsWorker)
    monkeypatch.setattr(worker_module, "now", lambda: OPENS - timedelta(days=30))
    assert worker.tick()["tally_finishers_started"] == 1
