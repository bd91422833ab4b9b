"""Our cooperative's member projection on PostgreSQL: membership events applied in any order
(one queue per event type) leave the newest status, category and good standing, which is what
the roll built from members and candidacies see."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from elections_svc_helpers import BEFORE, board_question
from sqlalchemy import text

from coop.elections.v1 import elections_pb2 as pb
from coop_elections.adapters.events_in import apply_member_event
from coop_platform.envelope import make_envelope
from coop_platform.inbox import process_once

pytestmark = pytest.mark.postgres

ADMITTED_AT, PAID_AT, LATER = "2026-03-02T09:00:00.000000Z", "2026-03-02T09:00:00.250000Z", "2026-03-02T11:00:00Z"


def _apply(env, name: str, data: dict, member_id: str, at: str) -> None:
    envelope = make_envelope("membership", name, data, subject=member_id)
    envelope["time"] = at
    process_once(env.uow_factory, f"elections.test.{name}", envelope, apply_member_event)


def _admission(env, member_id: str, *, status_changed_too: bool = True) -> None:
    _apply(env, "member.admitted", {"member": {"memberId": member_id, "status": "MEMBER_STATUS_ACTIVE",
                                               "category": "MEMBER_CATEGORY_USER"}}, member_id, ADMITTED_AT)
    if status_changed_too:
        _apply(env, "member.status_changed", {"memberId": member_id, "fromStatus": "MEMBER_STATUS_APPLICANT",
                                              "toStatus": "MEMBER_STATUS_ACTIVE"}, member_id, ADMITTED_AT)


def _paid(env, member_id: str) -> None:
    _apply(env, "share.paid", {"share": {"memberId": member_id}, "inGoodStanding": True}, member_id, PAID_AT)


def test_late_events_do_not_undo_newer_ones_in_the_roll_and_the_candidacies(env):
    paid_first, suspended, staff = (str(uuid.uuid4()) for _ in range(3))
    _paid(env, paid_first)  # handled before the admission it followed
    _admission(env, paid_first)
    _apply(env, "member.status_changed", {"memberId": suspended, "toStatus": "MEMBER_STATUS_SUSPENDED"},
           suspended, LATER)
    _admission(env, suspended)
    _paid(env, suspended)
    _apply(env, "member.updated", {"member": {"memberId": staff, "status": "MEMBER_STATUS_ACTIVE",
                                              "category": "MEMBER_CATEGORY_PERMANENT_STAFF", "inGoodStanding": True},
                                   "changedFields": ["category"]}, staff, LATER)
    _admission(env, staff)
    _paid(env, staff)

    env.clock.set(BEFORE)
    admin = env.token("admin-1", "admin")
    election = env.stub.CreateElection(pb.CreateElectionRequest(
        texts=[pb.LocalizedText(language="en", title="Board")],
        questions=[board_question(candidates=(), seats=1, method=pb.METHOD_PLURALITY)],
        window=pb.VotingWindowSpec(opens_at="2027-05-01T08:00:00+00:00", assembly_day="2027-05-15",
                                   closes_local="17:00"),
        nominations_open="2027-04-01T00:00:00+00:00", nominations_close="2027-04-30T00:00:00+00:00"),
        metadata=admin)
    eid = election.election_id
    env.stub.BuildVoterRollFromMembers(pb.ElectionRef(election_id=eid), metadata=admin)

    def on_roll(member_id: str) -> bool:
        return env.stub.CheckMyRollEntry(pb.ElectionRef(election_id=eid),
                                         metadata=env.token(member_id, "member")).on_roll

    assert (on_roll(paid_first), on_roll(suspended), on_roll(staff)) == (True, False, True)
    candidacy = env.stub.SubmitCandidacy(pb.SubmitCandidacyRequest(
        election_id=eid, question_id="board", statement=[pb.LocalizedText(language="en", description="hi")]),
        metadata=env.token(staff, "member"))
    assert candidacy.category == "permanent_staff"


def _run_to_close(env, eid: str, voters: list[str]) -> pb.PublishedBox:
    from elections_svc_helpers import AFTER

    env.clock.set(datetime(2027, 5, 10, tzinfo=UTC))
    for voter in voters:
        env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=[pb.Answer(question_id="board",
                                                                                      choices=[voters[0]])]),
                            metadata=env.token(voter, "member"))
    env.clock.set(AFTER)
    env.stub.CloseElection(pb.ElectionRef(election_id=eid), metadata=env.token("admin-1", "admin"))
    return env.stub.GetPublishedBox(pb.ElectionRef(election_id=eid), metadata=env.token("admin-1", "admin"))


def test_member_erased_empties_candidacy_statements_and_keeps_closed_elections_verifiable(env, tmp_path):
    from coop_elections.entrypoints.verify import verify

    erased, other = str(uuid.uuid4()), str(uuid.uuid4())
    for member in (erased, other):
        _admission(env, member)
        _paid(env, member)
    admin = env.token("admin-1", "admin")

    def election(nominations_close: str) -> str:
        env.clock.set(BEFORE - timedelta(days=30))
        created = env.stub.CreateElection(pb.CreateElectionRequest(
            texts=[pb.LocalizedText(language="en", title="Board")],
            questions=[board_question(candidates=(), seats=1, method=pb.METHOD_PLURALITY)],
            window=pb.VotingWindowSpec(opens_at="2027-05-01T08:00:00+00:00", assembly_day="2027-05-15",
                                       closes_local="17:00"),
            nominations_open="2027-03-01T00:00:00+00:00", nominations_close=nominations_close), metadata=admin)
        env.stub.BuildVoterRollFromMembers(pb.ElectionRef(election_id=created.election_id), metadata=admin)
        env.clock.set(datetime(2027, 3, 10, tzinfo=UTC))
        for member in (erased, other):
            env.stub.SubmitCandidacy(pb.SubmitCandidacyRequest(
                election_id=created.election_id, question_id="board",
                statement=[pb.LocalizedText(language="en", title=f"Name of {member[:8]}",
                                            description=f"call me on +32 470 {member[:6]}")]),
                metadata=env.token(member, "member"))
        return created.election_id

    closed, nominating = election("2027-04-01T00:00:00+00:00"), election("2027-04-30T00:00:00+00:00")
    box = _run_to_close(env, closed, [erased, other])
    _apply(env, "member.erased", {"memberId": erased, "memberNumber": "M000042",
                                  "erasedAt": "2027-04-20T10:00:00Z"}, erased, "2027-04-20T10:00:00.100000Z")

    with env.engine.connect() as conn:
        everything = json.dumps([list(map(str, r)) for t in ("candidacies", "member_projection")
                                 for r in conn.execute(text(f"SELECT * FROM {t}"))])
    assert f"Name of {erased[:8]}" not in everything and f"+32 470 {erased[:6]}" not in everything
    assert f"Name of {other[:8]}" in everything  # another member's statement stays

    def mine(eid: str):
        listed = env.stub.ListCandidacies(pb.ListCandidaciesRequest(election_id=eid), metadata=admin).candidacies
        return next(c for c in listed if c.candidate_id == erased)

    assert (list(mine(closed).statement), mine(closed).withdrawn) == ([], False)  # counted: the id stays
    assert (list(mine(nominating).statement), mine(nominating).withdrawn) == ([], True)  # not a member now
    for name, doc in (("box", box.box_json), ("election", box.election_json), ("results", box.results_json)):
        (tmp_path / f"{name}.json").write_text(doc)
    ok, report = verify(str(tmp_path / "box.json"), str(tmp_path / "election.json"))
    assert ok, report
    # a share payment from before the erasure, delivered late, does not bring the member back
    _apply(env, "share.paid", {"share": {"memberId": erased}, "inGoodStanding": True}, erased, "2027-04-20T09:00:00Z")
    env.clock.set(BEFORE - timedelta(days=30))
    later = env.stub.CreateElection(pb.CreateElectionRequest(
        texts=[pb.LocalizedText(language="en", title="Next")], questions=[board_question()],
        window=pb.VotingWindowSpec(opens_at="2027-05-01T08:00:00+00:00", assembly_day="2027-05-15",
                                   closes_local="17:00")), metadata=admin)
    env.stub.BuildVoterRollFromMembers(pb.ElectionRef(election_id=later.election_id), metadata=admin)
    on_roll = lambda member: env.stub.CheckMyRollEntry(  # noqa: E731
        pb.ElectionRef(election_id=later.election_id), metadata=env.token(member, "member")).on_roll
    assert (on_roll(erased), on_roll(other)) == (False, True)
