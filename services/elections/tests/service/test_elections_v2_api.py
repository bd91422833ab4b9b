"""The v2 API (coop.elections.v2) on PostgreSQL: who may call what, the rich status of bad
input, and the answers to the friction a first real client met (readiness, the roll rebuilt
and audited, a window opening now, the Assembly day's local date, proxy refusals, typed STV)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from elections_svc_helpers import (
    BEFORE,
    DURING,
    ballot,
    create_request,
    make_election,
)
from google.protobuf.timestamp_pb2 import Timestamp
from google.type.date_pb2 import Date
from grpc_health.v1 import health_pb2

from coop.elections.v1 import elections_pb2 as pb1
from coop.elections.v2 import elections_pb2 as pb
from coop_elections.adapters.events_in import apply_member_event
from coop_elections.domain.published import roll_hash
from coop_platform.envelope import make_envelope
from coop_platform.inbox import process_once
from coop_platform.rich_status import details_of

pytestmark = pytest.mark.postgres
NONE: list[tuple[str, str]] = []


def _refusal(call) -> object:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return details_of(info.value)


def _v2_request(**kw) -> pb.CreateElectionRequest:
    return pb.CreateElectionRequest.FromString(create_request(**kw).SerializeToString())


def _entries(env, eid: str, metadata) -> tuple[pb1.VoterRollSummary, list[tuple[str, int]]]:
    messages = list(env.v2.StreamVoterRollEntries(pb.StreamVoterRollEntriesRequest(election_id=eid),
                                                  metadata=metadata))
    return messages[0].roll, [(e.voter_id, e.weight) for m in messages for e in m.entries]


def test_create_and_get_answer_each_role_of_each_tenant(env) -> None:
    env.clock.set(BEFORE)
    partner = env.token("p-admin", "partner", tenant="partner-x")
    created = env.v2.CreateElection(_v2_request(), metadata=partner)
    eid = created.election.election_id
    assert created.close_time.ToDatetime(tzinfo=UTC) == datetime(2027, 5, 15, 15, tzinfo=UTC)
    for metadata, code in ((env.token("m", "member", tenant="partner-x"), grpc.StatusCode.PERMISSION_DENIED),
                           (env.token("t", "teller", tenant="partner-x"), grpc.StatusCode.PERMISSION_DENIED),
                           (NONE, grpc.StatusCode.UNAUTHENTICATED)):
        assert _refusal(lambda m=metadata: env.v2.CreateElection(_v2_request(), metadata=m)).code == code
    read = pb.GetElectionRequest(election_id=eid)
    for metadata in (partner, env.token("m", "member", tenant="partner-x"), env.token("t", "teller", tenant="partner-x")):
        assert env.v2.GetElection(read, metadata=metadata).election.tenant == "partner-x"
    for metadata in (env.token("a", "admin"), env.token("o", "partner", tenant="partner-y")):
        assert _refusal(lambda m=metadata: env.v2.GetElection(read, metadata=m)).code == grpc.StatusCode.NOT_FOUND
    assert _refusal(lambda: env.v2.GetElection(read, metadata=NONE)).code == grpc.StatusCode.UNAUTHENTICATED


def test_a_bad_definition_names_its_field_and_reason(env) -> None:
    env.clock.set(BEFORE)
    found = _refusal(lambda: env.v2.CreateElection(
        _v2_request(roll_cutoff="2027-05-01T09:00:00+00:00"), metadata=env.token("a", "admin")))
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT and found.reason == "ROLL_CUTOFF_AFTER_OPENING"
    assert "roll_cutoff" in found.field_violations
    found = _refusal(lambda: env.v2.GetElection(pb.GetElectionRequest(election_id="nope"),
                                                metadata=env.token("a", "admin")))
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT and "election_id" in found.field_violations


def test_a_window_opening_now_without_a_cut_off_is_refused_with_what_to_send(env) -> None:
    now = datetime(2027, 5, 10, 12, tzinfo=UTC)
    env.clock.set(now)
    found = _refusal(lambda: env.v2.CreateElection(_v2_request(opens_at=now.isoformat()),
                                                   metadata=env.token("a", "admin")))
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT and found.reason == "ROLL_WOULD_BE_EMPTY"
    assert "opens_at a few minutes ahead" in found.message
    ahead = (now + timedelta(minutes=5)).isoformat()
    e = env.v2.CreateElection(_v2_request(opens_at=ahead), metadata=env.token("a", "admin")).election
    env.v2.ImportVoterRoll(pb.ImportVoterRollRequest(election_id=e.election_id, voters=[pb1.VoterEntry(voter_id="x")]),
                           metadata=env.token("a", "admin"))
    env.clock.set(now + timedelta(minutes=6))
    assert env.v2.GetVoterRoll(pb.GetVoterRollRequest(election_id=e.election_id),
                               metadata=env.token("a", "admin")).roll.size == 1


def test_the_assembly_day_must_be_the_local_date_of_the_close(env) -> None:
    env.clock.set(BEFORE)
    close = Timestamp()
    close.FromDatetime(datetime(2027, 5, 15, 22, 30, tzinfo=UTC))  # 00:30 on 16 May in Brussels
    utc_day = _v2_request(assembly_day="", closes_local="")
    utc_day.close_time.CopyFrom(close)
    utc_day.assembly_date.CopyFrom(Date(year=2027, month=5, day=15))
    found = _refusal(lambda: env.v2.CreateElection(utc_day, metadata=env.token("a", "admin")))
    assert found.reason == "ASSEMBLY_DAY_NOT_LOCAL" and found.metadata["local_date"] == "2027-05-16"
    assert "assembly_date" in found.field_violations
    computed = _v2_request(assembly_day="", closes_local="")
    computed.close_time.CopyFrom(close)
    answer = env.v2.CreateElection(computed, metadata=env.token("a", "admin"))
    assert answer.election.window.assembly_day == "2027-05-16" and answer.election.window.closes_local == "00:30"
    assert answer.close_time == close


def test_a_used_and_a_voided_proxy_are_refused_with_their_own_reasons(env) -> None:
    e = make_election(env, ["vg1", "vg2", "vh"], max_proxies_held=2)
    eid = e.election_id
    for giver in ("vg1", "vg2"):
        env.v2.GiveProxy(pb.GiveProxyRequest(election_id=eid, holder_id="vh"), metadata=env.token(giver, "member"))
    holder = env.token("vh", "member")
    cast = lambda giver: env.v2.CastBallot(pb.CastBallotRequest(  # noqa: E731
        election_id=eid, answers=ballot(), on_behalf_of=giver), metadata=holder)
    cast("vg1")
    env.v2.CastBallot(pb.CastBallotRequest(election_id=eid, answers=ballot()), metadata=env.token("vg2", "member"))
    used, voided = _refusal(lambda: cast("vg1")), _refusal(lambda: cast("vg2"))
    assert used.code == voided.code == grpc.StatusCode.PERMISSION_DENIED
    assert (used.reason, voided.reason) == ("PROXY_USED", "PROXY_VOIDED") and used.message != voided.message


def _member_event(env, name: str, data: dict, member_id: str, at: datetime) -> None:
    envelope = make_envelope("membership", name, data, subject=member_id)
    envelope["time"] = at.isoformat().replace("+00:00", "Z")
    process_once(env.uow_factory, f"elections.test.{name}", envelope, apply_member_event)


def test_readiness_then_a_rebuild_replaces_the_roll_and_the_frozen_roll_is_audited(env) -> None:
    admin = env.token("a", "admin")
    kept, suspended = str(uuid.uuid4()), str(uuid.uuid4())
    for m in (kept, suspended):
        _member_event(env, "member.admitted", {"member": {"memberId": m, "inGoodStanding": True}}, m,
                      BEFORE - timedelta(hours=2))
    env.clock.set(BEFORE)
    ready = env.v2.GetProjectionReadiness(pb.GetProjectionReadinessRequest(), metadata=admin)
    assert ready.members >= 2 and ready.last_event_time.ToDatetime(tzinfo=UTC) >= BEFORE - timedelta(hours=2)
    assert ready.lag.ToTimedelta() <= timedelta(hours=2)
    for metadata, code in ((env.token("p", "partner", tenant="partner-x"), grpc.StatusCode.PERMISSION_DENIED),
                           (env.token("m", "member"), grpc.StatusCode.PERMISSION_DENIED),
                           (NONE, grpc.StatusCode.UNAUTHENTICATED)):
        assert _refusal(lambda m=metadata: env.v2.GetProjectionReadiness(
            pb.GetProjectionReadinessRequest(), metadata=m)).code == code

    eid = env.v2.CreateElection(_v2_request(), metadata=admin).election.election_id
    build = pb.BuildVoterRollFromMembersRequest(election_id=eid)
    env.v2.BuildVoterRollFromMembers(build, metadata=admin)
    _member_event(env, "member.status_changed", {"memberId": suspended, "toStatus": "MEMBER_STATUS_SUSPENDED",
                                                 "inGoodStanding": False}, suspended, BEFORE - timedelta(hours=1))
    env.v2.BuildVoterRollFromMembers(build, metadata=admin)
    env.v2.FreezeVoterRoll(pb.FreezeVoterRollRequest(election_id=eid), metadata=admin)
    summary, entries = _entries(env, eid, admin)
    voters = {v for v, _ in entries}
    assert kept in voters and suspended not in voters
    assert summary.frozen and roll_hash(entries) == summary.sha256 and len(entries) == summary.size
    for metadata, code in ((env.token("m", "member"), grpc.StatusCode.PERMISSION_DENIED),
                           (env.token("t", "teller"), grpc.StatusCode.PERMISSION_DENIED),
                           (env.token("o", "partner", tenant="partner-y"), grpc.StatusCode.NOT_FOUND),
                           (NONE, grpc.StatusCode.UNAUTHENTICATED)):
        assert _refusal(lambda m=metadata: _entries(env, eid, m)).code == code


def test_a_partners_admins_audit_their_frozen_roll_and_no_one_else(env) -> None:
    partner = env.token("p-admin", "partner", tenant="partner-x")
    e = make_election(env, [f"pv{n:04d}" for n in range(1500)], tenant="partner-x", admin_role="partner")
    env.v2.FreezeVoterRoll(pb.FreezeVoterRollRequest(election_id=e.election_id), metadata=partner)
    summary, entries = _entries(env, e.election_id, partner)
    assert len(entries) == 1500 and roll_hash(entries) == summary.sha256
    assert _refusal(lambda: _entries(env, e.election_id, env.token("a", "admin"))).code == grpc.StatusCode.NOT_FOUND


def test_stv_rounds_and_transfers_are_typed_in_v2_results(env) -> None:
    voters = [f"stv{n}" for n in range(5)]
    e = make_election(env, voters)
    rankings = [("alice", "bob"), ("alice", "carol"), ("alice", "bob"), ("bob", "carol"), ("carol", "dave")]
    for voter, ranking in zip(voters, rankings, strict=True):
        env.v2.CastBallot(pb.CastBallotRequest(election_id=e.election_id, answers=ballot(ranking)),
                          metadata=env.token(voter, "member"))
    env.clock.set(datetime(2027, 5, 15, 15, 0, 1, tzinfo=UTC))
    closed = env.v2.CloseElection(pb.CloseElectionRequest(election_id=e.election_id), metadata=env.token("a", "admin"))
    [stv] = closed.stv_counts
    board = next(q for q in closed.results.questions if q.question_id == "board")
    assert list(stv.winners) == list(board.winners) and stv.quota == 2 and stv.rounds[0].action == "first preferences"
    assert any(r.action == "surplus" and r.transfers for r in stv.rounds)
    got = env.v2.GetResults(pb.GetResultsRequest(election_id=e.election_id), metadata=env.token(voters[0], "member"))
    assert got.stv_counts == closed.stv_counts
    env.clock.set(DURING)


def test_elections_are_listed_in_pages_and_v1_clients_still_get_their_list(env) -> None:
    admin = env.token("lister", "partner", tenant="partner-list")
    env.clock.set(BEFORE)
    made = {env.v2.CreateElection(_v2_request(), metadata=admin).election.election_id for _ in range(3)}
    seen, token = [], ""
    while True:
        page = env.v2.ListElections(pb.ListElectionsRequest(page_size=2, page_token=token), metadata=admin)
        seen += [e.election_id for e in page.elections]
        token = page.next_page_token
        if not token:
            break
    assert set(seen) == made and len(seen) == 3
    assert {e.election_id for e in env.stub.ListElections(pb1.ListElectionsRequest(), metadata=admin).elections} == made


def test_health_reports_both_api_versions(env) -> None:
    for service in ("coop.elections.v2.ElectionsService", "coop.elections.v1.ElectionsService"):
        answer = env.health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
