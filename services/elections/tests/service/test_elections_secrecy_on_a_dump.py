"""The pairing attacks of someone holding a copy of the database (docs/elections.md, "Secrecy"):
what they still pair during voting, and that a copy taken after the close pairs nothing.

Attacks tried: the transaction id (xmin) a voter's register row shares with the ballot written in
the same transaction; the order of rows in a pg_dump (heap order = cast order), the n-th register
row against the n-th ballot; a weight that only one voter on the roll has; on SQLite, the rowid
order and the deleted rows left in the file."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import timedelta

import pytest
from elections_svc_helpers import AFTER, BEFORE, DURING, ballot, make_election, pg_dump_rows
from sqlalchemy import text

from coop.elections.v1 import elections_pb2 as pb

pytestmark = pytest.mark.postgres


def _rank_pairs(dump: dict[str, list[list[str]]], election_id: str) -> dict[str, str]:
    """The n-th register row of the election with its n-th ballot row (voter -> tracker)."""
    voters = [r[1] for r in dump["voters_who_voted"] if r[0] == election_id]
    trackers = [r[1] for r in dump["ballots"] if r[0] == election_id]
    return dict(zip(voters, trackers, strict=False))


def _xmin_pairs(env, election_id: str) -> dict[str, set[str]]:
    """Voter -> trackers of the ballot rows written by the same transaction as their register row."""
    with env.engine.connect() as conn:
        register = conn.execute(text("SELECT voter_id, xmin::text AS x FROM voters_who_voted WHERE election_id = :e"),
                                {"e": election_id}).all()
        ballots = conn.execute(text("SELECT tracker, xmin::text AS x FROM ballots WHERE election_id = :e"),
                               {"e": election_id}).all()
    return {v: {t for t, bx in ballots if bx == x} for v, x in register}


def _cast_one_by_one(env, election_id: str, voters: list[str]) -> dict[str, pb.CastBallotResponse]:
    """Each voter alone (no other cast in flight): one transaction per ballot, the worst case."""
    return {v: env.stub.CastBallot(pb.CastBallotRequest(election_id=election_id, answers=ballot()),
                                   metadata=env.token(v, "member")) for v in voters}


def test_during_voting_a_lone_cast_is_paired_by_its_transaction_id(env):
    """The documented limit: while the ballot rows exist, whoever reads the live database or a
    physical copy of it pairs a ballot cast alone with its voter."""
    voters = ["xm-a", "xm-b", "xm-c"]
    e = make_election(env, voters)
    receipts = _cast_one_by_one(env, e.election_id, voters)
    assert _xmin_pairs(env, e.election_id) == {v: {r.tracker} for v, r in receipts.items()}


def test_a_dump_after_the_close_pairs_no_voter_with_a_ballot(env):
    voters = ["dump-a", "dump-b", "dump-c", "dump-d", "dump-giver", "dump-holder"]
    e = make_election(env, voters, allow_revote=True, max_proxies_held=1)
    eid = e.election_id
    env.stub.GiveProxy(pb.GiveProxyRequest(election_id=eid, holder_id="dump-holder"),
                       metadata=env.token("dump-giver", "member"))
    tables = ("voters_who_voted", "ballots", "superseded_ballots", "election_results")
    receipts = _cast_one_by_one(env, eid, voters[:4])
    during = pg_dump_rows(env.url, *tables)  # cast one by one: file order is cast order
    assert _rank_pairs(during, eid) == {v: r.tracker for v, r in receipts.items()}, "the attack works before the close"
    receipts |= _cast_one_by_one(env, eid, ["dump-holder"])
    receipts["dump-giver"] = env.stub.CastBallot(pb.CastBallotRequest(
        election_id=eid, answers=ballot(("carol",), "no"), on_behalf_of="dump-giver"),
        metadata=env.token("dump-holder", "member"))
    first = receipts["dump-b"]
    receipts["dump-b"] = env.stub.CastBallot(pb.CastBallotRequest(
        election_id=eid, answers=ballot(("dave",), "abstain"), previous_tracker=first.tracker,
        previous_revote_code=first.revote_code), metadata=env.token("dump-b", "member"))
    truth = {v: r.tracker for v, r in receipts.items()}

    env.clock.set(AFTER)
    env.stub.CloseElection(pb.ElectionRef(election_id=eid), metadata=env.token("a", "admin"))
    after = pg_dump_rows(env.url, *tables)
    assert _rank_pairs(after, eid) == {}
    assert [r for r in after["ballots"] + after["superseded_ballots"] if r[0] == eid] == []
    assert sorted(r[1] for r in after["voters_who_voted"] if r[0] == eid) == sorted(voters)  # who voted stays
    [published] = [r for r in after["election_results"] if r[0] == eid]
    box_text = next(col for col in published if col.startswith("{") and '"entries"' in col)
    trackers = [x["tracker"] for x in json.loads(box_text.replace("\\\\", "\\"))["entries"]]
    assert trackers == sorted(truth.values())  # in tracker order, nothing of the cast order
    assert _xmin_pairs(env, eid) == {v: set() for v in voters}
    with env.engine.connect() as conn:  # no row holding a tracker shares a register row's transaction
        closing = conn.execute(text("SELECT xmin::text FROM election_results WHERE election_id = :e"),
                               {"e": eid}).scalar_one()
        register = set(conn.execute(text("SELECT xmin::text FROM voters_who_voted WHERE election_id = :e"),
                                    {"e": eid}).scalars())
    assert closing not in register


def test_a_voter_with_a_unique_weight_is_not_found_by_it_in_the_published_box(env):
    weights = {"wt-a": 1, "wt-b": 1, "wt-c": 1, "wt-big": 7}
    e = make_election(env, list(weights), weights=weights)
    receipts = _cast_one_by_one(env, e.election_id, list(weights))
    env.clock.set(AFTER)
    ref = pb.ElectionRef(election_id=e.election_id)
    env.stub.CloseElection(ref, metadata=env.token("a", "admin"))
    box = json.loads(env.stub.GetPublishedBox(ref, metadata=env.token("wt-a", "member")).box_json)
    found_by_weight = [x["tracker"] for x in box["entries"] if x.get("weight") == weights["wt-big"]]
    assert found_by_weight == []
    assert receipts["wt-big"].tracker in {x["tracker"] for x in box["entries"]}
    # What remains (documented): a class's weight beyond its number of ballots. Here all four
    # ballots are identical, so the class says that voters weighing 10 in all voted this way.
    assert box["weight_classes"] == [{"content": {"accounts": "yes", "board": ["alice", "bob"]}, "ballots": 4,
                                      "weight": 10}]
    assert env.stub.GetTurnout(ref, metadata=env.token("wt-a", "member")).voted_weight == 10


def test_on_sqlite_neither_rowids_nor_the_file_pair_voters_with_ballots(tmp_path):
    from coop_domain.principal import Principal
    from coop_elections.domain.election import QuestionSpec, Text, make_spec
    from coop_elections.domain.model import Method
    from coop_elections.entrypoints.grpc_api import build
    from coop_elections.service_layer import casting, elections, results, roll
    from coop_platform.config import Settings
    from coop_platform.migrations import upgrade

    path = tmp_path / "elections.db"
    url = f"sqlite:///{path}"
    upgrade("elections", url)
    engine, _, uow_factory = build(Settings(service_name="elections", database_url=url, grpc_port=0))
    try:
        spec = make_spec([Text("en", "Board")], [QuestionSpec("q", Method.RESOLUTION, (Text("en", "Q"),))],
                         opens_at=DURING - timedelta(days=1), assembly_day=AFTER.date(),
                         closes_local=AFTER.time().replace(second=0, microsecond=0), tz="UTC", roll_cutoff=None,
                         allow_revote=True, max_proxies_held=0, nominations_open=None, nominations_close=None,
                         max_permanent_staff_seats=0)
        uow, admin = uow_factory(), Principal("sq-admin", "coop", frozenset({"admin"}))
        e = elections.create_election(uow, admin, spec, BEFORE)
        voters = ["sq-a", "sq-b", "sq-c"]
        roll.import_roll(uow, admin, e.election_id, [(v, 1) for v in voters], BEFORE)
        receipts = [casting.cast_ballot(uow, Principal(v, "coop", frozenset({"member"})), e.election_id, {"q": "yes"},
                                        DURING) for v in voters]
        with sqlite3.connect(path) as conn:
            for table in ("ballots", "voters_who_voted"):
                with pytest.raises(sqlite3.OperationalError, match="no such column: rowid"):
                    conn.execute(f"SELECT rowid FROM {table}")
        results.close_election(uow, admin, e.election_id, AFTER)
    finally:
        engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert conn.execute("SELECT count(*) FROM ballots").fetchone() == (0,)
    stored = path.read_bytes()
    # the SHA-256 of each re-vote code was stored in the ballot row only: no copy of it is left
    assert all(hashlib.sha256(r.revote_code.encode()).hexdigest().encode() not in stored for r in receipts)
