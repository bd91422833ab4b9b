"""Tellers at the Assembly: the sign-in audit records who signed whom in and touches no ballot,
an undo needs a second teller, and only managers read the audit, page by page."""

from __future__ import annotations

import grpc
import pytest
from elections_svc_helpers import AFTER, ballot, make_election
from sqlalchemy import inspect, text

from coop.elections.v1 import elections_pb2 as pb

pytestmark = pytest.mark.postgres


def code_of(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code()


def _sign(env, eid, voter, teller):
    return env.stub.SignInPersonRegister(pb.SignInPersonRegisterRequest(election_id=eid, voter_id=voter),
                                         metadata=env.token(teller, "teller"))


def _undo(env, eid, voter, teller, reason="wrong person at the desk"):
    return env.stub.UndoSignIn(pb.UndoSignInRequest(election_id=eid, voter_id=voter, reason=reason),
                               metadata=env.token(teller, "teller"))


def _audit(env, eid, **kw):
    return env.stub.ListSignInAudit(pb.ListSignInAuditRequest(election_id=eid, **kw),
                                    metadata=env.token("admin-1", "admin"))


def test_the_audit_records_which_teller_signed_a_voter_in_and_no_ballot(env):
    e = make_election(env, ["ta-1", "ta-2"])
    eid = e.election_id
    _sign(env, eid, "ta-1", "teller-anna")
    enter = lambda teller: env.stub.EnterPaperBallot(pb.EnterPaperBallotRequest(  # noqa: E731
        election_id=eid, paper_id="P-1", answers=ballot()), metadata=env.token(teller, "teller"))
    enter("teller-anna")
    tracker = enter("teller-bert").tracker
    [entry] = _audit(env, eid).entries
    assert (entry.voter_id, entry.teller_id, entry.action) == ("ta-1", "teller-anna", "signed_in")
    assert entry.at == "2027-05-10T12:00:00+00:00"
    # not a ballot link: no column for one, and the sign-in's transaction wrote no ballot
    columns = {c["name"] for c in inspect(env.engine).get_columns("sign_in_audit")}
    assert columns == {"sequence", "election_id", "voter_id", "teller_id", "action", "reason", "at"}
    with env.engine.connect() as conn:
        signed = conn.execute(text("SELECT xmin::text FROM sign_in_audit WHERE election_id = :e"),
                              {"e": eid}).scalar_one()
        ballots = dict(conn.execute(text("SELECT tracker, xmin::text FROM ballots WHERE election_id = :e"),
                                    {"e": eid}).all())
    assert list(ballots) == [tracker] and signed not in ballots.values()


def test_undoing_a_sign_in_needs_a_second_teller(env):
    e = make_election(env, ["tu-1", "tu-2", "tu-online"])
    eid = e.election_id
    _sign(env, eid, "tu-1", "teller-anna")
    asked = _undo(env, eid, "tu-1", "teller-anna")
    assert (asked.state, asked.requested_by, asked.confirmed_by) == ("pending", "teller-anna", "")
    assert _undo(env, eid, "tu-1", "teller-anna").state == "pending"  # the same teller cannot confirm
    vote = pb.CastBallotRequest(election_id=eid, answers=ballot())
    assert code_of(lambda: env.stub.CastBallot(vote, metadata=env.token("tu-1", "member"))) \
        == grpc.StatusCode.ALREADY_EXISTS  # still signed in
    done = _undo(env, eid, "tu-1", "teller-bert")
    assert (done.state, done.requested_by, done.confirmed_by) == ("undone", "teller-anna", "teller-bert")
    assert _undo(env, eid, "tu-1", "teller-bert") == done  # a retry: the first answer
    assert env.stub.CastBallot(vote, metadata=env.token("tu-1", "member")).tracker  # out of the register
    assert [(x.voter_id, x.teller_id, x.action, x.reason) for x in _audit(env, eid).entries] == [
        ("tu-1", "teller-anna", "signed_in", ""),
        ("tu-1", "teller-anna", "undo_requested", "wrong person at the desk"),
        ("tu-1", "teller-bert", "undone", "wrong person at the desk"),
    ]
    # only sign-ins are undone, never an online vote; a reason is required
    env.stub.CastBallot(vote, metadata=env.token("tu-online", "member"))
    assert code_of(lambda: _undo(env, eid, "tu-online", "teller-anna")) == grpc.StatusCode.FAILED_PRECONDITION
    assert code_of(lambda: _undo(env, eid, "tu-2", "teller-anna", reason=" ")) == grpc.StatusCode.INVALID_ARGUMENT


def test_a_sign_in_whose_paper_ballot_may_be_counted_cannot_be_undone(env):
    e = make_election(env, ["tp-1"])
    eid = e.election_id
    _sign(env, eid, "tp-1", "teller-anna")
    for teller in ("teller-anna", "teller-bert"):
        env.stub.EnterPaperBallot(pb.EnterPaperBallotRequest(election_id=eid, paper_id="P-9", answers=ballot()),
                                  metadata=env.token(teller, "teller"))
    _undo(env, eid, "tp-1", "teller-anna")
    assert code_of(lambda: _undo(env, eid, "tp-1", "teller-bert")) == grpc.StatusCode.FAILED_PRECONDITION
    env.clock.set(AFTER)
    assert env.stub.CloseElection(pb.ElectionRef(election_id=eid), metadata=env.token("a", "admin")).ballots == 1


def test_the_sign_in_audit_is_for_managers_and_comes_in_pages(env):
    voters = [f"tl-{i}" for i in range(5)]
    e = make_election(env, voters)
    eid = e.election_id
    for v in voters:
        _sign(env, eid, v, "teller-anna")
    first = _audit(env, eid, page_size=2)
    assert [x.voter_id for x in first.entries] == voters[:2] and first.next_page_token
    second = _audit(env, eid, page_size=2, page_token=first.next_page_token)
    third = _audit(env, eid, page_size=2, page_token=second.next_page_token)
    assert [x.voter_id for x in [*second.entries, *third.entries]] == voters[2:] and third.next_page_token == ""
    request = pb.ListSignInAuditRequest(election_id=eid)
    for role in ("teller", "member"):
        assert code_of(lambda role=role: env.stub.ListSignInAudit(request, metadata=env.token("x", role))) \
            == grpc.StatusCode.PERMISSION_DENIED
    other = env.token("partner-admin", "partner", tenant="partner-x")
    assert code_of(lambda: env.stub.ListSignInAudit(request, metadata=other)) == grpc.StatusCode.NOT_FOUND
    for bad in (pb.ListSignInAuditRequest(election_id=eid, page_token="abc"),
                pb.ListSignInAuditRequest(election_id=eid, page_size=1001)):
        assert code_of(lambda bad=bad: env.stub.ListSignInAudit(bad, metadata=env.token("a", "admin"))) \
            == grpc.StatusCode.INVALID_ARGUMENT
