"""One counted ballot per voter under concurrency; re-voting; secrecy of what is stored."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from elections_svc_helpers import AFTER, ballot, make_election
from sqlalchemy import Date, DateTime, Time, func, inspect, select, text

from coop.elections.v1 import elections_pb2 as pb
from coop_elections.adapters import orm

pytestmark = pytest.mark.postgres
ATTEMPTS = 20


def _attempts(env, request_for, voter="racer"):
    md = env.token(voter, "member")

    def one(i):
        try:
            return env.stub.CastBallot(request_for(i), metadata=md)
        except grpc.RpcError as exc:
            return exc.code()

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        return list(pool.map(one, range(ATTEMPTS)))


def _ballot_count(env, election_id):
    with env.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(orm.ballots)
                            .where(orm.ballots.c.election_id == election_id)).scalar_one()


def test_many_concurrent_attempts_by_one_voter_count_once(env):
    e = make_election(env, ["racer", "other"])
    outcomes = _attempts(env, lambda i: pb.CastBallotRequest(
        election_id=e.election_id, answers=ballot(("alice",) if i % 2 else ("bob",), "yes")))
    ok = [o for o in outcomes if isinstance(o, pb.CastBallotResponse)]
    assert len(ok) == 1
    assert all(o == grpc.StatusCode.ALREADY_EXISTS for o in outcomes if o not in ok)
    assert _ballot_count(env, e.election_id) == 1
    turnout = env.stub.GetTurnout(pb.ElectionRef(election_id=e.election_id), metadata=env.token("x", "member"))
    assert turnout.voted == 1 and turnout.voted_weight == 1
    env.clock.set(AFTER)
    results = env.stub.CloseElection(pb.ElectionRef(election_id=e.election_id), metadata=env.token("a", "admin"))
    assert results.ballots == 1


def test_revote_last_counts_and_concurrent_revotes_supersede_once(env):
    e = make_election(env, ["racer"], allow_revote=True)
    md = env.token("racer", "member")
    first = env.stub.CastBallot(pb.CastBallotRequest(election_id=e.election_id, answers=ballot(("alice",), "no")),
                                metadata=md)
    assert first.revote_code
    with pytest.raises(grpc.RpcError) as info:  # a second ballot without the receipt
        env.stub.CastBallot(pb.CastBallotRequest(election_id=e.election_id, answers=ballot()), metadata=md)
    assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
    outcomes = _attempts(env, lambda i: pb.CastBallotRequest(
        election_id=e.election_id, answers=ballot(("carol",), "yes"), previous_tracker=first.tracker,
        previous_revote_code=first.revote_code))
    ok = [o for o in outcomes if isinstance(o, pb.CastBallotResponse)]
    assert len(ok) == 1 and ok[0].superseded_previous
    assert {o for o in outcomes if o not in ok} == {grpc.StatusCode.FAILED_PRECONDITION}, outcomes
    assert _ballot_count(env, e.election_id) == 1
    env.clock.set(AFTER)
    ref = pb.ElectionRef(election_id=e.election_id)
    results = env.stub.CloseElection(ref, metadata=env.token("a", "admin"))
    assert results.superseded_count == 1
    assert {q.question_id: q for q in results.questions}["accounts"].tallies["yes"] == "1"
    box = json.loads(env.stub.GetPublishedBox(ref, metadata=md).box_json)
    assert [x["tracker"] for x in box["entries"]] == [ok[0].tracker]  # the old tracker is gone
    assert box["superseded_count"] == 1


VOTERISH = ("voter", "member", "subject", "user", "person")
TIMEISH = ("time", "date", "_at", "created", "updated", "seq", "order", "cast")


def test_schema_keeps_ballots_apart_from_voters(env):
    inspector = inspect(env.engine)
    ballot_cols = {c["name"]: c for c in inspector.get_columns("ballots")}
    register_cols = {c["name"]: c for c in inspector.get_columns("voters_who_voted")}
    assert set(ballot_cols) == {"election_id", "tracker", "content", "weight", "ballot_hash", "revote_hash"}
    assert set(register_cols) == {"election_id", "voter_id", "channel"}
    for name, col in ballot_cols.items():
        assert not any(w in name for w in VOTERISH), name
        assert not any(w in name for w in TIMEISH), name
        assert not isinstance(col["type"], DateTime | Date | Time), name
        assert col.get("autoincrement") is not True or name == "election_id"
    for name, col in register_cols.items():
        assert "tracker" not in name and "ballot" not in name and "hash" not in name
        assert not any(w in name for w in TIMEISH), name
        assert not isinstance(col["type"], DateTime | Date | Time), name
    # ballots are keyed by the random tracker, never by a sequence
    assert inspector.get_pk_constraint("ballots")["constrained_columns"] == ["election_id", "tracker"]
    assert inspector.get_pk_constraint("voters_who_voted")["constrained_columns"] == ["election_id", "voter_id"]
    # no foreign key links the two
    assert all(fk["referred_table"] == "elections" for fk in inspector.get_foreign_keys("ballots"))
    assert all(fk["referred_table"] == "elections" for fk in inspector.get_foreign_keys("voters_who_voted"))
    # and no table carries both a voter and a tracker
    for table in inspector.get_table_names():
        names = {c["name"] for c in inspector.get_columns(table)}
        assert not ({"tracker"} & names and any(any(w in n for w in VOTERISH) for n in names)), table


def test_stored_ballots_and_register_do_not_mention_each_other(env):
    voters = ["sec-anna", "sec-bert", "sec-cleo"]
    e = make_election(env, voters, allow_revote=True)
    trackers = [env.stub.CastBallot(pb.CastBallotRequest(election_id=e.election_id, answers=ballot()),
                                    metadata=env.token(v, "member")).tracker for v in voters]
    with env.engine.connect() as conn:
        ballots = conn.execute(text("SELECT * FROM ballots WHERE election_id = :e"), {"e": e.election_id}).all()
        register = conn.execute(text("SELECT * FROM voters_who_voted WHERE election_id = :e"),
                                {"e": e.election_id}).all()
        outbox = conn.execute(text("SELECT body FROM outbox")).scalars().all()
    dump = json.dumps([list(map(str, r)) for r in ballots])
    assert not any(v in dump for v in voters)
    reg_dump = json.dumps([list(map(str, r)) for r in register])
    assert not any(t in reg_dump for t in trackers)
    assert not any(t in body for t in trackers for body in outbox)


def test_migrations_match_the_tables_the_code_uses(env):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with env.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), orm.metadata)
    assert diff == []


def test_superseded_markers_carry_nothing_but_a_random_key(env):
    names = {c["name"] for c in inspect(env.engine).get_columns("superseded_ballots")}
    assert names == {"election_id", "marker"}


def test_a_batch_of_casts_answers_each_voter_on_its_own(env):
    """cast_ballots (the api's group commit): every refusal reaches only its own voter and writes
    nothing; the accepted ballots and register rows commit together."""
    from coop_domain.principal import Principal
    from coop_elections.adapters import messages as msg
    from coop_elections.service_layer import casting

    e = make_election(env, ["ann", "ben", "cat", "dan"])
    other = make_election(env, ["ann"], tenant="partner-x", admin_role="partner")
    env.stub.CastBallot(pb.CastBallotRequest(election_id=e.election_id, answers=ballot()),
                        metadata=env.token("dan", "member"))
    before = _ballot_count(env, e.election_id)

    def cast(voter, answers=None, election_id=e.election_id, tenant="coop"):
        answers = answers or ballot()
        return casting.Cast(Principal(voter, tenant, frozenset({"member"})), election_id,
                            lambda el: msg.content_from_answers(answers, el), env.clock())

    out = casting.cast_ballots(env.uow_factory(), [
        cast("ann"),
        cast("ben", ballot(("alice", "alice"), "yes")),     # invalid ballot
        cast("ann"),                                        # same voter again in the batch
        cast("zed"),                                        # not on the roll
        cast("dan"),                                        # voted before the batch
        cast("cat", election_id=other.election_id),         # another tenant's election
        cast("cat"),
    ])
    kinds = [type(x).__name__ for x in out]
    assert kinds == ["Receipt", "InvalidArgument", "AlreadyVoted", "FailedPrecondition", "AlreadyVoted",
                     "NotFound", "Receipt"]
    assert out[0].tracker != out[6].tracker
    assert _ballot_count(env, e.election_id) == before + 2
    with env.engine.connect() as conn:
        stored = set(conn.execute(select(orm.ballots.c.tracker).where(
            orm.ballots.c.election_id == e.election_id)).scalars())
        register = set(conn.execute(select(orm.voters_who_voted.c.voter_id).where(
            orm.voters_who_voted.c.election_id == e.election_id)).scalars())
    assert {out[0].tracker, out[6].tracker} <= stored
    assert register == {"ann", "cat", "dan"}  # ben's refused ballot left no register row
