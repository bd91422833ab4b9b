"""Partner tokens see and change only their own tenant; the coop's admin is scoped to coop."""

from __future__ import annotations

import grpc
import pytest
from elections_svc_helpers import AFTER, ballot, create_request, make_election

from coop.elections.v1 import elections_pb2 as pb

pytestmark = pytest.mark.postgres


def test_tenants_are_isolated(env):
    theirs = make_election(env, ["p-voter"], tenant="partner-a", admin_role="partner")
    eid = theirs.election_id
    assert theirs.tenant == "partner-a"
    ref = pb.ElectionRef(election_id=eid)
    outsiders = [env.token("p-b", "partner", tenant="partner-b"), env.token("admin-1", "admin"),
                 env.token("p-voter", "member", tenant="partner-b")]
    calls = [
        lambda md: env.stub.GetElection(ref, metadata=md),
        lambda md: env.stub.GetVoterRoll(ref, metadata=md),
        lambda md: env.stub.GetTurnout(ref, metadata=md),
        lambda md: env.stub.CheckMyRollEntry(ref, metadata=md),
        lambda md: env.stub.GetResults(ref, metadata=md),
        lambda md: env.stub.GetPublishedBox(ref, metadata=md),
        lambda md: env.stub.ListCandidacies(pb.ListCandidaciesRequest(election_id=eid), metadata=md),
    ]
    manager_calls = [
        lambda md: env.stub.ImportVoterRoll(pb.ImportVoterRollRequest(
            election_id=eid, voters=[pb.VoterEntry(voter_id="intruder")]), metadata=md),
        lambda md: env.stub.FreezeVoterRoll(ref, metadata=md),
        lambda md: env.stub.OpenElection(ref, metadata=md),
        lambda md: env.stub.CloseElection(ref, metadata=md),
    ]
    before = env.counts()
    for md in outsiders:
        for call in calls + (manager_calls if md is not outsiders[2] else []):
            with pytest.raises(grpc.RpcError) as info:
                call(md)
            assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as info:
        env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=ballot()), metadata=outsiders[2])
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert env.counts() == before
    listed = env.stub.ListElections(pb.ListElectionsRequest(), metadata=outsiders[0]).elections
    assert eid not in {e.election_id for e in listed}
    # the owner sees and runs it
    owner = env.token("p-a", "partner", tenant="partner-a")
    assert eid in {e.election_id for e in env.stub.ListElections(pb.ListElectionsRequest(), metadata=owner).elections}
    env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=ballot()),
                        metadata=env.token("p-voter", "member", tenant="partner-a"))
    env.clock.set(AFTER)
    assert env.stub.CloseElection(ref, metadata=owner).ballots == 1


def test_members_cannot_manage_and_tellers_cannot_vote(env):
    member = env.token("m", "member")
    with pytest.raises(grpc.RpcError) as info:
        env.stub.CreateElection(create_request(), metadata=member)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    e = make_election(env, ["t1"])
    with pytest.raises(grpc.RpcError) as info:
        env.stub.CastBallot(pb.CastBallotRequest(election_id=e.election_id, answers=ballot()),
                            metadata=env.token("t1", "teller"))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as info:
        env.stub.GetElection(pb.ElectionRef(election_id=e.election_id))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
