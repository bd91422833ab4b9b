"""Create -> roll -> vote -> close -> publish -> verify, through gRPC on PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from elections_svc_helpers import AFTER, BEFORE, ballot, make_election

from coop.elections.v1 import elections_pb2 as pb

pytestmark = pytest.mark.postgres


def code_of(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code()


def test_full_election_is_counted_published_and_verifiable(env, tmp_path):
    voters = [f"m{i:03d}" for i in range(7)]
    e = make_election(env, voters)
    eid = e.election_id
    admin = env.token("admin-1", "admin")
    assert e.status == pb.ELECTION_STATUS_SCHEDULED and len(e.tie_break_seed_sha256) == 64

    roll = env.stub.GetVoterRoll(pb.ElectionRef(election_id=eid), metadata=admin)
    assert roll.size == 7 and roll.frozen and len(roll.sha256) == 64  # frozen: past the cut-off

    opened = env.stub.OpenElection(pb.ElectionRef(election_id=eid), metadata=admin)
    assert opened.status == pb.ELECTION_STATUS_OPEN
    [evt] = [x for x in env.outbox("election.opened") if x["data"]["electionId"] == eid]
    assert evt["data"]["rollSize"] == "7" and evt["type"] == "coop.elections.election.opened.v1"
    assert (evt["data"]["tieBreakSeedSha256"], evt["data"]["rollSha256"], evt["data"]["rollTotalWeight"]) \
        == (e.tie_break_seed_sha256, roll.sha256, "7")  # the commitments the verifier checks against
    # the invitations' audience: exactly the frozen roll, voter ids only
    [part] = [x for x in env.outbox("election.roll_frozen") if x["data"]["electionId"] == eid]
    assert (part["data"]["part"], part["data"]["parts"], part["data"]["rollSize"]) == (1, 1, "7")
    assert part["data"]["voterIds"] == voters and part["data"]["titles"]
    assert set(part["data"]) == {"electionId", "tenant", "opensAt", "closesAt", "titles", "part", "parts",
                                 "voterIds", "rollSize"}
    env.stub.OpenElection(pb.ElectionRef(election_id=eid), metadata=admin)  # once open: nothing again
    assert len([x for x in env.outbox("election.roll_frozen") if x["data"]["electionId"] == eid]) == 1

    prefs = [("alice", "bob"), ("alice", "carol"), ("bob", "alice"), ("carol",), ("alice",),
             ("dave", "bob"), ("bob",)]
    trackers, hashes = [], []
    for voter, pref in zip(voters, prefs, strict=True):
        r = env.stub.CastBallot(pb.CastBallotRequest(election_id=eid, answers=ballot(pref, "yes")),
                                metadata=env.token(voter, "member"))
        assert len(r.tracker) == 14 and len(r.ballot_hash) == 64
        trackers.append(r.tracker)
        hashes.append(r.ballot_hash)

    mine = env.stub.CheckMyRollEntry(pb.ElectionRef(election_id=eid), metadata=env.token("m000", "member"))
    assert mine.on_roll and mine.has_voted and mine.weight == 1
    stranger = env.stub.CheckMyRollEntry(pb.ElectionRef(election_id=eid), metadata=env.token("zz", "member"))
    assert not stranger.on_roll

    turnout = env.stub.GetTurnout(pb.ElectionRef(election_id=eid), metadata=env.token("m000", "member"))
    assert (turnout.voted, turnout.roll_size, turnout.voted_weight) == (7, 7, 7)
    # sealed during voting, and the box too
    ref = pb.ElectionRef(election_id=eid)
    assert code_of(lambda: env.stub.GetResults(ref, metadata=admin)) == grpc.StatusCode.FAILED_PRECONDITION
    assert code_of(lambda: env.stub.GetPublishedBox(ref, metadata=admin)) == grpc.StatusCode.FAILED_PRECONDITION
    # no early close
    assert code_of(lambda: env.stub.CloseElection(ref, metadata=admin)) == grpc.StatusCode.FAILED_PRECONDITION

    env.clock.set(AFTER)
    results = env.stub.CloseElection(ref, metadata=admin)
    assert results.ballots == 7 and len(results.tie_break_seed) == 64
    board = {q.question_id: q for q in results.questions}["board"]
    assert list(board.winners) == ["alice", "bob"]
    assert (board.mandate_start, board.mandate_end) == ("2027-05-15", "2031-05-15")
    assert json.loads(board.detail_json)["rounds"]  # every STV round is published
    accounts = {q.question_id: q for q in results.questions}["accounts"]
    assert accounts.adopted and accounts.tallies["yes"] == "7"
    # idempotent close, readable results
    assert env.stub.CloseElection(ref, metadata=admin).box_head_hash == results.box_head_hash
    assert env.stub.GetResults(ref, metadata=env.token("m003", "member")) == results

    [published] = [x for x in env.outbox("election.results_published") if x["data"]["electionId"] == eid]
    data = published["data"]
    assert data["electedMemberIds"] == ["alice", "bob"]
    assert (data["mandateStart"], data["mandateEnd"]) == ("2027-05-15", "2031-05-15")
    assert data["adoptedResolutions"] == ["accounts"] and data["tieBreakSeed"] == results.tie_break_seed

    box = env.stub.GetPublishedBox(ref, metadata=env.token("m001", "member"))
    box_doc = json.loads(box.box_json)
    assert box_doc["head_hash"] == results.box_head_hash
    assert [x["tracker"] for x in box_doc["entries"]] == sorted(trackers)
    paths = {}
    for name, text in (("box", box.box_json), ("election", box.election_json), ("results", box.results_json)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(text)
    election_doc = json.loads(box.election_json)
    assert election_doc["tie_break_seed"] == results.tie_break_seed
    assert election_doc["roll"] == {"size": 7, "total_weight": 7, "sha256": roll.sha256, "min_weight": 1,
                                    "max_weight": 1}
    assert election_doc["tie_break_seed_sha256"] == e.tie_break_seed_sha256

    def verify(*extra):
        return subprocess.run([sys.executable, "-m", "coop_elections.entrypoints.verify",
                               str(paths["box"]), str(paths["election"]), *extra],
                              capture_output=True, text=True, timeout=60)

    ok = verify("--tracker", trackers[3].lower(), "--ballot-hash", hashes[3], "--results", str(paths["results"]),
                "--seed-sha256", e.tie_break_seed_sha256, "--roll-sha256", roll.sha256)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "VERIFIED" in ok.stdout and "receipt: ok" in ok.stdout and '"board": ["carol"]' in ok.stdout
    absent = verify("--tracker", "AAAA-AAAA-AAAA", "--ballot-hash", hashes[3])
    assert absent.returncode == 1 and "not in the published box" in absent.stdout
    # tamper with one ballot: the chain breaks
    box_doc["entries"][2]["content"]["accounts"] = "no"
    paths["box"].write_text(json.dumps(box_doc))
    bad = verify()
    assert bad.returncode == 1 and "FAILED" in bad.stdout


def test_window_is_enforced_to_the_second_on_a_dst_day(env):
    # Sunday 28 March 2027: Brussels moves from UTC+1 to UTC+2 at 02:00; 17:00 local = 15:00 UTC.
    e = make_election(env, ["v1", "v2", "v3"], assembly_day="2027-03-28",
                      opens_at="2027-03-20T09:00:00+00:00")
    assert e.closes_at == "2027-03-28T15:00:00+00:00"
    ref, cast = pb.ElectionRef(election_id=e.election_id), env.stub.CastBallot
    req = pb.CastBallotRequest(election_id=e.election_id, answers=ballot())
    opening = datetime(2027, 3, 20, 9, tzinfo=UTC)
    env.clock.set(opening - timedelta(seconds=1))
    assert code_of(lambda: cast(req, metadata=env.token("v1", "member"))) == grpc.StatusCode.FAILED_PRECONDITION
    env.clock.set(opening)
    cast(req, metadata=env.token("v1", "member"))
    closing = datetime(2027, 3, 28, 15, tzinfo=UTC)
    env.clock.set(closing - timedelta(seconds=1))
    cast(req, metadata=env.token("v2", "member"))
    env.clock.set(closing)
    assert code_of(lambda: cast(req, metadata=env.token("v3", "member"))) == grpc.StatusCode.FAILED_PRECONDITION
    assert env.stub.GetTurnout(ref, metadata=env.token("v1", "member")).voted == 2


def test_roll_is_frozen_at_the_cut_off(env):
    admin = env.token("admin-1", "admin")
    e = make_election(env, ["a1"])
    more = pb.ImportVoterRollRequest(election_id=e.election_id, voters=[pb.VoterEntry(voter_id="a2")])
    assert code_of(lambda: env.stub.ImportVoterRoll(more, metadata=admin)) == grpc.StatusCode.FAILED_PRECONDITION
    env.clock.set(BEFORE)
    dup = pb.ImportVoterRollRequest(election_id=e.election_id, voters=[pb.VoterEntry(voter_id="a1", weight=2)])
    assert code_of(lambda: env.stub.ImportVoterRoll(dup, metadata=admin)) == grpc.StatusCode.ALREADY_EXISTS
    retry = pb.ImportVoterRollRequest(election_id=e.election_id, voters=[pb.VoterEntry(voter_id="a1")])
    assert env.stub.ImportVoterRoll(retry, metadata=admin).size == 1  # the import went through already
    env.stub.ImportVoterRoll(more, metadata=admin)
    frozen = env.stub.FreezeVoterRoll(pb.ElectionRef(election_id=e.election_id), metadata=admin)
    assert frozen.frozen and frozen.size == 2
    late = pb.ImportVoterRollRequest(election_id=e.election_id, voters=[pb.VoterEntry(voter_id="a3")])
    assert code_of(lambda: env.stub.ImportVoterRoll(late, metadata=admin)) == grpc.StatusCode.FAILED_PRECONDITION
    from coop_elections.domain.published import roll_hash
    assert frozen.sha256 == roll_hash([("a1", 1), ("a2", 1)])


def test_voters_must_be_on_the_roll_and_weights_count(env):
    e = make_election(env, ["w1", "w2"], weights={"w1": 5})
    req = pb.CastBallotRequest(election_id=e.election_id, answers=ballot(("carol",), "no"))
    code = code_of(lambda: env.stub.CastBallot(req, metadata=env.token("outsider", "member")))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    env.stub.CastBallot(req, metadata=env.token("w1", "member"))
    env.stub.CastBallot(pb.CastBallotRequest(election_id=e.election_id, answers=ballot(("dave",), "yes")),
                        metadata=env.token("w2", "member"))
    env.clock.set(AFTER)
    results = env.stub.CloseElection(pb.ElectionRef(election_id=e.election_id), metadata=env.token("a", "admin"))
    accounts = {q.question_id: q for q in results.questions}["accounts"]
    assert (accounts.tallies["yes"], accounts.tallies["no"], accounts.adopted) == ("1", "5", False)
    assert results.total_weight == 6
