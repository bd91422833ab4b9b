"""Proxies (cap, use, revoke, void), tellers' double entry, candidacies and their window."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from elections_svc_helpers import AFTER, ballot, board_question, make_election

from coop.elections.v1 import elections_pb2 as pb

pytestmark = pytest.mark.postgres


def code_of(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code()


def test_proxies_cap_use_revoke_and_void(env):
    e = make_election(env, ["g1", "g2", "g3", "g4", "h"], max_proxies_held=2)
    eid = e.election_id
    give = lambda giver, holder: env.stub.GiveProxy(  # noqa: E731
        pb.GiveProxyRequest(election_id=eid, holder_id=holder), metadata=env.token(giver, "member"))
    assert give("g1", "h").status == "active"
    give("g2", "h")
    assert code_of(lambda: give("g3", "h")) == grpc.StatusCode.FAILED_PRECONDITION  # cap of 2
    assert code_of(lambda: give("g1", "g4")) == grpc.StatusCode.ALREADY_EXISTS
    assert code_of(lambda: give("g3", "nobody")) == grpc.StatusCode.FAILED_PRECONDITION  # not on the roll
    # revoke frees a place
    assert env.stub.RevokeProxy(pb.ElectionRef(election_id=eid), metadata=env.token("g2", "member")).status == "revoked"
    give("g3", "h")
    holder = env.token("h", "member")
    env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=ballot(), on_behalf_of="g1"), metadata=holder)
    # used: neither revocable, nor usable twice, and the giver cannot vote on top of it
    assert code_of(lambda: env.stub.RevokeProxy(pb.ElectionRef(election_id=eid),
                                                metadata=env.token("g1", "member"))) == grpc.StatusCode.FAILED_PRECONDITION
    assert code_of(lambda: env.stub.CastBallot(pb.CastBallotRequest(
        election_id=eid, answers=ballot(), on_behalf_of="g1"), metadata=holder)) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: env.stub.CastBallot(pb.CastBallotRequest(
        election_id=eid, answers=ballot()), metadata=env.token("g1", "member"))) == grpc.StatusCode.ALREADY_EXISTS
    # g3 votes themselves: the proxy they gave is void
    env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=ballot()), metadata=env.token("g3", "member"))
    assert code_of(lambda: env.stub.CastBallot(pb.CastBallotRequest(
        election_id=eid, answers=ballot(), on_behalf_of="g3"), metadata=holder)) == grpc.StatusCode.PERMISSION_DENIED
    env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=ballot()), metadata=holder)
    assert env.stub.GetTurnout(pb.ElectionRef(election_id=eid), metadata=holder).voted == 3


def test_paper_ballots_are_entered_twice_and_online_voters_cannot_vote_in_person(env):
    e = make_election(env, ["p1", "p2", "online"])
    eid = e.election_id
    t1, t2 = env.token("teller-1", "teller"), env.token("teller-2", "teller")
    env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=ballot()), metadata=env.token("online", "member"))
    sign = lambda v: env.stub.SignInPersonRegister(  # noqa: E731
        pb.SignInPersonRegisterRequest(election_id=eid, voter_id=v), metadata=t1)
    assert code_of(lambda: sign("online")) == grpc.StatusCode.ALREADY_EXISTS
    assert code_of(lambda: sign("stranger")) == grpc.StatusCode.FAILED_PRECONDITION
    first = sign("p1")
    assert sign("p1") == first  # the same teller's retry: the first answer, nothing more
    assert code_of(lambda: env.stub.SignInPersonRegister(pb.SignInPersonRegisterRequest(
        election_id=eid, voter_id="p1"), metadata=t2)) == grpc.StatusCode.ALREADY_EXISTS  # signed in twice?
    enter = lambda md, paper, ans: env.stub.EnterPaperBallot(  # noqa: E731
        pb.EnterPaperBallotRequest(election_id=eid, paper_id=paper, answers=ans), metadata=md)
    assert enter(t1, "P-001", ballot(("carol",), "no")).state == "pending"
    assert enter(t1, "P-001", ballot(("carol",), "no")).state == "pending"  # a retry: the first answer
    assert code_of(lambda: enter(t1, "P-001", ballot(("dave",), "no"))) == grpc.StatusCode.FAILED_PRECONDITION
    assert enter(t2, "P-001", ballot(("dave",), "no")).state == "mismatch"
    assert enter(t1, "P-001", ballot(("carol",), "no")).state == "pending"
    counted = enter(t2, "P-001", ballot(("carol",), "no"))
    assert counted.state == "counted" and counted.tracker
    assert enter(t2, "P-001", ballot(("carol",), "no")) == counted  # a retry: the first answer
    assert code_of(lambda: enter(t1, "P-001", ballot())) == grpc.StatusCode.ALREADY_EXISTS
    # one voter signed in: a second paper ballot cannot be counted
    enter(t1, "P-002", ballot())
    assert code_of(lambda: enter(t2, "P-002", ballot())) == grpc.StatusCode.FAILED_PRECONDITION
    # a member signed in at the Assembly can no longer vote online
    assert code_of(lambda: env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=ballot()),
                                               metadata=env.token("p1", "member"))) == grpc.StatusCode.ALREADY_EXISTS
    env.clock.set(AFTER)
    results = env.stub.CloseElection(pb.ElectionRef(election_id=eid), metadata=env.token("a", "admin"))
    assert results.ballots == 2


def test_candidacies_window_withdrawal_and_slate(env):
    q = board_question(candidates=(), seats=1, method=pb.METHOD_PLURALITY)
    e = make_election(env, ["c1", "c2", "c3", "voter"], questions=[q],
                      nominations_open="2027-04-10T00:00:00+00:00", nominations_close="2027-04-25T00:00:00+00:00")
    eid = e.election_id
    env.clock.set(datetime(2027, 4, 20, tzinfo=UTC))
    submit = lambda who: env.stub.SubmitCandidacy(pb.SubmitCandidacyRequest(  # noqa: E731
        election_id=eid, question_id="board", statement=[pb.LocalizedText(language="en", description="hi")]),
        metadata=env.token(who, "member"))
    submit("c1")
    first = submit("c2")
    assert submit("c2") == first  # a retry: the first answer
    assert code_of(lambda: env.stub.SubmitCandidacy(pb.SubmitCandidacyRequest(
        election_id=eid, question_id="board", statement=[pb.LocalizedText(language="en", description="other")]),
        metadata=env.token("c2", "member"))) == grpc.StatusCode.ALREADY_EXISTS
    assert code_of(lambda: submit("not-a-member")) == grpc.StatusCode.FAILED_PRECONDITION
    env.stub.WithdrawCandidacy(pb.CandidacyRef(election_id=eid, question_id="board"), metadata=env.token("c2", "member"))
    listing = pb.ListCandidaciesRequest(election_id=eid)
    assert code_of(lambda: env.stub.ListCandidacies(listing, metadata=env.token("voter", "member"))) \
        == grpc.StatusCode.FAILED_PRECONDITION  # published when nominations close
    assert len(env.stub.ListCandidacies(listing, metadata=env.token("a", "admin")).candidacies) == 2
    env.clock.set(datetime(2027, 4, 26, tzinfo=UTC))
    assert code_of(lambda: submit("c3")) == grpc.StatusCode.FAILED_PRECONDITION
    public = env.stub.ListCandidacies(listing, metadata=env.token("voter", "member")).candidacies
    assert [c.candidate_id for c in public] == ["c1"]
    env.clock.set(datetime(2027, 5, 10, tzinfo=UTC))
    md = env.token("voter", "member")
    bad = pb.CastBallotRequest(election_id=eid, answers=[pb.Answer(question_id="board", choices=["c2"])])
    assert code_of(lambda: env.stub.CastBallot(bad, metadata=md)) == grpc.StatusCode.INVALID_ARGUMENT
    env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=[pb.Answer(question_id="board", choices=["c1"])]),
                        metadata=md)
    env.clock.set(AFTER)
    results = env.stub.CloseElection(pb.ElectionRef(election_id=eid), metadata=env.token("a", "admin"))
    assert list(results.questions[0].winners) == ["c1"]
