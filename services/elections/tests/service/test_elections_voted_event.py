"""election.voted (the notifications service's reminder re-check): one event per voter entering
the register, written in the cast's own transaction, and nothing in it that links the voter to
a ballot (docs/elections.md, "Who voted: election.voted")."""

from __future__ import annotations

import json
import secrets

import grpc
import pytest
from elections_svc_helpers import AFTER, DURING, ballot, make_election

from coop.elections.v1 import elections_pb2 as pb

pytestmark = pytest.mark.postgres

VOTED_AT = DURING.isoformat()  # the api's clock when the vote was recorded, to the second


def _voted(env, election_id: str) -> list[dict]:
    return [x for x in env.outbox("election.voted") if x["data"]["electionId"] == election_id]


def _voters(env, election_id: str) -> list[str]:
    return [x["data"]["voterId"] for x in _voted(env, election_id)]


def _cast(env, eid: str, voter: str, **kw) -> pb.CastBallotResponse:
    metadata = env.token(voter, "member") + kw.pop("metadata", [])
    return env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=kw.pop("answers", None) or ballot(),
                                                    **kw), metadata=metadata)


def _refused(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code()


def test_a_cast_publishes_election_voted_for_the_voter_and_nothing_of_the_ballot(env):
    e = make_election(env, ["vv-ann", "vv-ben"], allow_revote=True)
    eid = e.election_id
    receipt = _cast(env, eid, "vv-ann", answers=ballot(("carol", "dave"), "no"),
                    metadata=[("x-correlation-id", "cast-vv-ann")])
    [event] = _voted(env, eid)
    assert event["data"] == {"electionId": eid, "tenant": "coop", "voterId": "vv-ann", "votedAt": VOTED_AT}
    assert (event["type"], event["subject"]) == ("coop.elections.election.voted.v1", eid)
    assert event["correlationid"] == "cast-vv-ann"  # the caster's request, not the batch leader's
    body = json.dumps(event)
    for secret in (receipt.tracker, receipt.ballot_hash, receipt.revote_code, "carol", "dave", "online"):
        assert secret not in body
    # a re-vote replaces the ballot, not the fact that the voter voted: nothing more is published
    again = _cast(env, eid, "vv-ann", previous_tracker=receipt.tracker, previous_revote_code=receipt.revote_code)
    assert again.superseded_previous
    assert _voters(env, eid) == ["vv-ann"]


def test_a_proxy_cast_publishes_election_voted_for_the_giver_not_the_holder(env):
    e = make_election(env, ["px-giver", "px-holder"], max_proxies_held=1)
    eid = e.election_id
    env.stub.GiveProxy(pb.GiveProxyRequest(election_id=eid, holder_id="px-holder"),
                       metadata=env.token("px-giver", "member"))
    _cast(env, eid, "px-holder", on_behalf_of="px-giver")
    assert _voters(env, eid) == ["px-giver"]
    _cast(env, eid, "px-holder")  # and then their own ballot
    assert _voters(env, eid) == ["px-giver", "px-holder"]


def test_a_refused_cast_publishes_nothing(env):
    e = make_election(env, ["rf-ann", "rf-ben", "rf-cat"], max_proxies_held=1)
    eid = e.election_id
    key = secrets.token_urlsafe(16)
    first = _cast(env, eid, "rf-ann", ballot_key=key)
    assert _voters(env, eid) == ["rf-ann"]
    refusals = {
        "not on the roll": lambda: _cast(env, eid, "rf-stranger"),
        "an invalid ballot": lambda: _cast(env, eid, "rf-ben", answers=ballot(("alice", "alice"))),
        "a second vote": lambda: _cast(env, eid, "rf-ann"),
        "a proxy nobody gave": lambda: _cast(env, eid, "rf-ben", on_behalf_of="rf-cat"),
    }
    codes = {why: _refused(call) for why, call in refusals.items()}
    assert codes == {"not on the roll": grpc.StatusCode.FAILED_PRECONDITION,
                     "an invalid ballot": grpc.StatusCode.INVALID_ARGUMENT,
                     "a second vote": grpc.StatusCode.ALREADY_EXISTS,
                     "a proxy nobody gave": grpc.StatusCode.PERMISSION_DENIED}
    assert _cast(env, eid, "rf-ann", ballot_key=key).tracker == first.tracker  # a retry: the first receipt
    env.clock.set(AFTER)
    assert _refused(lambda: _cast(env, eid, "rf-cat")) == grpc.StatusCode.FAILED_PRECONDITION  # closed
    assert _voters(env, eid) == ["rf-ann"]


def test_a_sign_in_at_the_assembly_publishes_election_voted_and_paper_ballots_publish_nothing(env):
    e = make_election(env, ["ip-p1", "ip-online"])
    eid = e.election_id
    t1, t2 = env.token("teller-1", "teller"), env.token("teller-2", "teller")
    sign_in = pb.SignInPersonRegisterRequest(election_id=eid, voter_id="ip-p1")
    env.stub.SignInPersonRegister(sign_in, metadata=t1)
    env.stub.SignInPersonRegister(sign_in, metadata=t1)  # the same teller's retry
    [event] = _voted(env, eid)
    assert event["data"] == {"electionId": eid, "tenant": "coop", "voterId": "ip-p1", "votedAt": VOTED_AT}
    for teller in (t1, t2):
        paper = env.stub.EnterPaperBallot(pb.EnterPaperBallotRequest(election_id=eid, paper_id="IP-1",
                                                                     answers=ballot()), metadata=teller)
    assert paper.state == "counted"
    assert _voters(env, eid) == ["ip-p1"]  # the paper ballot carries no voter, and publishes nothing


def test_a_batch_of_casts_publishes_one_election_voted_per_new_voter_with_its_commit(env):
    """cast_ballots (the api's group commit): the events of the accepted casts only, in the same
    commit as their ballots."""
    from coop_domain.principal import Principal
    from coop_elections.adapters import messages as msg
    from coop_elections.service_layer import casting

    e = make_election(env, ["bt-ann", "bt-ben", "bt-cat"])
    eid = e.election_id

    def cast(voter, answers=None):
        answers = answers or ballot()
        return casting.Cast(Principal(voter, "coop", frozenset({"member"})), eid,
                            lambda el: msg.content_from_answers(answers, el), env.clock())

    out = casting.cast_ballots(env.uow_factory(), [
        cast("bt-ann"), cast("bt-ben", ballot(("alice", "alice"))), cast("bt-zed"), cast("bt-cat"), cast("bt-ann")])
    assert [type(x).__name__ for x in out] == ["Receipt", "InvalidArgument", "FailedPrecondition", "Receipt",
                                               "AlreadyVoted"]
    assert sorted(_voters(env, eid)) == ["bt-ann", "bt-cat"]
