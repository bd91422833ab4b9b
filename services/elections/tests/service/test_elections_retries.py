"""Writes a portal may retry: a retry gets the first answer, not a second effect or a bare
ALREADY_EXISTS. For CastBallot the retry is recognised from the client's ballot key, which the
service never stores: no link between voter and ballot is kept for it."""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from elections_svc_helpers import ballot, make_election
from sqlalchemy import text

from coop.elections.v1 import elections_pb2 as pb
from coop_domain.principal import Principal
from coop_elections.adapters import messages as msg
from coop_elections.domain.ballot_box import receipt_hash
from coop_elections.domain.trackers import tracker_from_key
from coop_elections.service_layer import casting

pytestmark = pytest.mark.postgres


def code_of(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code()


def _database_text(env) -> str:
    """Every row of every table, as someone with a dump would search it."""
    with env.engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        return json.dumps({t: [list(map(_text, r)) for r in conn.execute(text(f'SELECT * FROM "{t}"'))] for t in tables})


def _text(value: object) -> str:
    """A column's value as a dump shows it: bytea (mixes, decryption shares) as hex."""
    return bytes(value).hex() if isinstance(value, memoryview | bytes) else str(value)


def test_a_cast_retried_with_its_ballot_key_gets_the_first_receipt_and_stores_nothing(env):
    e = make_election(env, ["rk-1", "rk-2"], allow_revote=True)
    eid, key = e.election_id, secrets.token_urlsafe(16)
    md = env.token("rk-1", "member")
    request = pb.CastBallotRequest(election_id=eid, answers=ballot(("carol",), "no"), ballot_key=key)
    first = env.stub.CastBallot(request, metadata=md)
    # the client knows its receipt from its key and its answers, whatever happens to the answer
    assert first.tracker == tracker_from_key(eid, key)
    assert first.ballot_hash == receipt_hash(eid, first.tracker, None, {"board": ["carol"], "accounts": "no"})
    counts, stored = env.counts(), _database_text(env)
    assert env.stub.CastBallot(request, metadata=md) == first
    assert env.counts() == counts and _database_text(env) == stored  # the retry wrote nothing
    assert key not in stored  # the key itself is kept nowhere
    other_answers = pb.CastBallotRequest(election_id=eid, answers=ballot(("dave",), "yes"), ballot_key=key)
    assert code_of(lambda: env.stub.CastBallot(other_answers, metadata=md)) == grpc.StatusCode.ALREADY_EXISTS
    bad_key = pb.CastBallotRequest(election_id=eid, answers=ballot(), ballot_key="short")
    assert code_of(lambda: env.stub.CastBallot(bad_key, metadata=env.token("rk-2", "member"))) \
        == grpc.StatusCode.INVALID_ARGUMENT


def test_a_cast_retried_without_a_key_is_already_exists_with_a_clear_message(env):
    e = make_election(env, ["rn-1"])
    request = pb.CastBallotRequest(election_id=e.election_id, answers=ballot())
    env.stub.CastBallot(request, metadata=env.token("rn-1", "member"))
    with pytest.raises(grpc.RpcError) as info:
        env.stub.CastBallot(request, metadata=env.token("rn-1", "member"))
    assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "its receipt is what your client kept" in info.value.details()
    assert "ballot_key" in info.value.details()


def test_concurrent_retries_of_one_keyed_cast_all_get_its_receipt(env):
    e = make_election(env, ["rc-1"])
    request = pb.CastBallotRequest(election_id=e.election_id, answers=ballot(), ballot_key=secrets.token_urlsafe(16))
    md = env.token("rc-1", "member")
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: env.stub.CastBallot(request, metadata=md), range(20)))
    assert len({a.tracker for a in answers}) == 1 and len({a.ballot_hash for a in answers}) == 1
    with env.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ballots WHERE election_id = :e"),
                            {"e": e.election_id}).scalar_one() == 1


def test_proxy_and_revote_casts_retried_with_their_keys_get_their_first_receipts(env):
    e = make_election(env, ["rp-giver", "rp-holder"], allow_revote=True, max_proxies_held=1)
    eid = e.election_id
    env.stub.GiveProxy(pb.GiveProxyRequest(election_id=eid, holder_id="rp-holder"),
                       metadata=env.token("rp-giver", "member"))
    holder = env.token("rp-holder", "member")
    by_proxy = pb.CastBallotRequest(election_id=eid, answers=ballot(), on_behalf_of="rp-giver",
                                    ballot_key=secrets.token_urlsafe(16))
    first = env.stub.CastBallot(by_proxy, metadata=holder)
    assert env.stub.CastBallot(by_proxy, metadata=holder) == first
    own = env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=ballot(("bob",), "no")), metadata=holder)
    revote = pb.CastBallotRequest(election_id=eid, answers=ballot(("carol",), "yes"), previous_tracker=own.tracker,
                                  previous_revote_code=own.revote_code, ballot_key=secrets.token_urlsafe(16))
    replaced = env.stub.CastBallot(revote, metadata=holder)
    assert replaced.superseded_previous and env.stub.CastBallot(revote, metadata=holder) == replaced
    assert env.stub.GetTurnout(pb.ElectionRef(election_id=eid), metadata=holder).voted == 2


def test_proxy_and_revote_casts_share_a_transaction_with_the_casts_that_arrive_with_them(env):
    """In a batch (the api's group commit), a proxy ballot and a re-vote are no longer alone in
    their transaction: the batch's register rows and ballots share one transaction id."""
    e = make_election(env, ["rb-own", "rb-giver", "rb-holder", "rb-again"], allow_revote=True, max_proxies_held=1)
    eid = e.election_id
    env.stub.GiveProxy(pb.GiveProxyRequest(election_id=eid, holder_id="rb-holder"),
                       metadata=env.token("rb-giver", "member"))
    earlier = env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=ballot()),
                                  metadata=env.token("rb-again", "member"))

    def cast(voter, **kw):
        return casting.Cast(Principal(voter, "coop", frozenset({"member"})), eid,
                           lambda el: msg.content_from_answers(ballot(), el), env.clock(), **kw)

    out = casting.cast_ballots(env.uow_factory(), [
        cast("rb-own"), cast("rb-holder", on_behalf_of="rb-giver"),
        cast("rb-again", previous_tracker=earlier.tracker, previous_code=earlier.revote_code)])
    assert [type(x).__name__ for x in out] == ["Receipt"] * 3 and out[2].superseded_previous
    with env.engine.connect() as conn:
        written = conn.execute(text(
            "SELECT xmin::text FROM ballots WHERE election_id = :e UNION ALL "
            "SELECT xmin::text FROM voters_who_voted WHERE election_id = :e AND voter_id IN ('rb-own', 'rb-giver')"),
            {"e": eid}).scalars().all()
    assert len(written) == 5 and len(set(written)) == 1


def test_create_election_retried_with_its_request_id_returns_the_first_election(env):
    from elections_svc_helpers import BEFORE, create_request

    env.clock.set(BEFORE)
    admin = env.token("admin-1", "admin")
    request = create_request(request_id=f"portal-{secrets.token_hex(8)}")
    first = env.stub.CreateElection(request, metadata=admin)
    count = env.counts()["elections"]
    assert env.stub.CreateElection(request, metadata=admin) == first
    assert env.counts()["elections"] == count
    changed = create_request(request_id=request.request_id, allow_revote=True)
    assert code_of(lambda: env.stub.CreateElection(changed, metadata=admin)) == grpc.StatusCode.ALREADY_EXISTS
    other_tenant = env.stub.CreateElection(request, metadata=env.token("p", "partner", tenant="partner-r"))
    assert other_tenant.election_id != first.election_id  # a key is the tenant's own
    bad = create_request(request_id="no spaces allowed")
    assert code_of(lambda: env.stub.CreateElection(bad, metadata=admin)) == grpc.StatusCode.INVALID_ARGUMENT


def test_proxy_and_candidacy_writes_retried_return_their_first_answers(env):
    from datetime import UTC, datetime

    from elections_svc_helpers import board_question

    q = board_question(candidates=(), seats=1, method=pb.METHOD_PLURALITY)
    e = make_election(env, ["rq-giver", "rq-holder", "rq-cand"], questions=[q], max_proxies_held=1,
                      nominations_open="2027-04-10T00:00:00+00:00", nominations_close="2027-04-25T00:00:00+00:00")
    eid, giver = e.election_id, env.token("rq-giver", "member")
    give = pb.GiveProxyRequest(election_id=eid, holder_id="rq-holder")
    first = env.stub.GiveProxy(give, metadata=giver)
    assert env.stub.GiveProxy(give, metadata=giver) == first
    revoked = env.stub.RevokeProxy(pb.ElectionRef(election_id=eid), metadata=giver)
    assert env.stub.RevokeProxy(pb.ElectionRef(election_id=eid), metadata=giver) == revoked
    env.clock.set(datetime(2027, 4, 20, tzinfo=UTC))
    cand = env.token("rq-cand", "member")
    env.stub.SubmitCandidacy(pb.SubmitCandidacyRequest(
        election_id=eid, question_id="board", statement=[pb.LocalizedText(language="en", description="me")]),
        metadata=cand)
    ref = pb.CandidacyRef(election_id=eid, question_id="board")
    withdrawn = env.stub.WithdrawCandidacy(ref, metadata=cand)
    assert withdrawn.withdrawn and env.stub.WithdrawCandidacy(ref, metadata=cand) == withdrawn


def test_a_streamed_roll_import_retried_reports_it_committed(env):
    from elections_svc_helpers import BEFORE, create_request

    env.clock.set(BEFORE)
    admin = env.token("admin-1", "admin")
    e = env.stub.CreateElection(create_request(), metadata=admin)
    chunks = [pb.VoterRollChunk(election_id=e.election_id, rows=[
        pb.VoterRollRow(line=2, voter_id="rs-1"), pb.VoterRollRow(line=3, voter_id="rs-2", weight=3)])]
    first = env.stub.StreamVoterRoll(iter(chunks), metadata=admin)
    again = env.stub.StreamVoterRoll(iter(chunks), metadata=admin)
    assert first.committed and again == first and again.roll.total_weight == 4
