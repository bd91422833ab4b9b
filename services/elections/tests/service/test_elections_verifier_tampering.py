"""The verifier against tampered publications. Each tampering is re-published consistently, as an
operator with write access would do it: the box re-chained and the results recounted from the
changed box, so the hash chain and the results agree again. What still catches it: the voter's
receipt, the roll's published size and total, the seed's commitment, the comparison with the
published results."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from elections_svc_helpers import AFTER, make_election, texts

from coop.elections.v1 import elections_pb2 as pb
from coop_elections.domain.ballot_box import PublishedBox, publish_box, recount
from coop_elections.domain.canonical import to_jsonable
from coop_elections.domain.published import definition_from_json
from coop_elections.domain.tiebreak import draw_order
from coop_elections.domain.trackers import new_tracker
from coop_elections.entrypoints.verify import main as verify_main

pytestmark = pytest.mark.postgres

ROLL = [f"t{i}" for i in range(8)]
# Three ballots of a roll of eight: the motion's quorum (half the roll's weight, 4) is missed and
# the board seat is a tie between alice and bob, decided by the seeded draw.
BALLOTS = {"t0": ("alice", "yes"), "t1": ("bob", "yes"), "t2": (None, "yes")}


@dataclasses.dataclass
class Publication:
    box: dict
    election: dict
    results: dict
    receipts: dict[str, pb.CastBallotResponse]
    seed_sha256: str
    roll_sha256: str


@pytest.fixture(scope="module")
def publication(env) -> Publication:
    questions = [pb.QuestionSpec(question_id="board", method=pb.METHOD_PLURALITY, texts=texts("Seat"),
                                 candidates=["alice", "bob"], seats=1),
                 pb.QuestionSpec(question_id="motion", method=pb.METHOD_RESOLUTION, texts=texts("Motion"),
                                 quorum_fraction="1/2")]
    e = make_election(env, ROLL, questions=questions)
    receipts = {}
    for voter, (seat, motion) in BALLOTS.items():
        answers = [pb.Answer(question_id="motion", resolution=motion)]
        if seat:
            answers.append(pb.Answer(question_id="board", choices=[seat]))
        receipts[voter] = env.stub.CastBallot(pb.CastBallotRequest(election_id=e.election_id, answers=answers),
                                              metadata=env.token(voter, "member"))
    ref = pb.ElectionRef(election_id=e.election_id)
    roll = env.stub.GetVoterRoll(ref, metadata=env.token("t0", "member"))
    env.clock.set(AFTER)
    env.stub.CloseElection(ref, metadata=env.token("a", "admin"))
    box = env.stub.GetPublishedBox(ref, metadata=env.token("t0", "member"))
    return Publication(json.loads(box.box_json), json.loads(box.election_json), json.loads(box.results_json),
                       receipts, e.tie_break_seed_sha256, roll.sha256)


def _republish(box_doc: dict, election_doc: dict, results_doc: dict) -> tuple[dict, dict]:
    """What a tamperer publishes after changing box entries or election.json: a box re-chained
    over its entries and results recounted from it."""
    original = PublishedBox.from_json(box_doc)  # every voter on this roll weighs 1
    box = publish_box(original.election_id, ((e.tracker, 1, e.content) for e in original.entries),
                      original.superseded_count)
    count = recount(box, definition_from_json(election_doc))
    results = dict(results_doc, head_hash=box.head_hash, count=to_jsonable(count))
    return box.to_json(), results


def _verify(tmp_path: Path, capsys, box: dict, election: dict, results: dict | None, *options: str) -> tuple[int, dict]:
    for name, doc in (("box", box), ("election", election), ("results", results)):
        if doc is not None:
            (tmp_path / f"{name}.json").write_text(json.dumps(doc), encoding="utf-8")
    capsys.readouterr()
    code = verify_main([str(tmp_path / "box.json"), str(tmp_path / "election.json"), *options, "--json"])
    return code, json.loads(capsys.readouterr().out)


def _receipt(p: Publication, voter: str) -> list[str]:
    return ["--tracker", p.receipts[voter].tracker, "--ballot-hash", p.receipts[voter].ballot_hash]


def test_an_untampered_publication_verifies_with_every_check(publication, tmp_path, capsys):
    p = publication
    code, report = _verify(tmp_path, capsys, p.box, p.election, p.results, *_receipt(p, "t1"),
                           "--seed-sha256", p.seed_sha256, "--roll-sha256", p.roll_sha256)
    assert code == 0, report
    assert set(report["checks"]) == {"roll", "seed", "results", "receipt"}
    assert report["receipt"]["content"] == {"board": ["bob"], "motion": "yes"}
    motion = {q["question_id"]: q for q in report["recount"]["questions"]}["motion"]
    assert (motion["quorum_met"], motion["adopted"]) == (False, False)


def test_a_ballot_changed_behind_its_tracker_fails_the_voters_receipt(publication, tmp_path, capsys):
    p = publication
    box = json.loads(json.dumps(p.box))
    mine = next(e for e in box["entries"] if e["tracker"] == p.receipts["t1"].tracker)
    mine["content"]["board"] = ["alice"]  # bob's vote becomes alice's
    box, results = _republish(box, p.election, p.results)
    code, report = _verify(tmp_path, capsys, box, p.election, results)
    assert code == 0, "the chain and the republished results agree: only the receipt can tell"
    code, report = _verify(tmp_path, capsys, box, p.election, results, *_receipt(p, "t1"))
    assert code == 1
    assert report["checks"]["receipt"].startswith("FAILED") and "receipt's ballot hash" in report["checks"]["receipt"]
    code, _ = _verify(tmp_path, capsys, box, p.election, results, *_receipt(p, "t0"))
    assert code == 0  # another voter's ballot is untouched


def test_more_ballots_than_the_roll_has_voters_fail(publication, tmp_path, capsys):
    p = publication
    box = json.loads(json.dumps(p.box))
    stuffed = [{"tracker": new_tracker(), "content": {"motion": "yes"}, "prev_hash": "", "entry_hash": ""}
               for _ in range(len(ROLL) - len(BALLOTS) + 1)]
    box["entries"] = sorted(box["entries"] + stuffed, key=lambda x: x["tracker"])
    box, results = _republish(box, p.election, p.results)
    assert len(box["entries"]) == len(ROLL) + 1
    code, report = _verify(tmp_path, capsys, box, p.election, results)
    assert code == 1
    assert report["checks"]["roll"] == f"FAILED: {len(ROLL) + 1} ballots counted, the roll has {len(ROLL)} voters"


def test_a_roll_weight_other_than_the_rolls_total_fails(publication, tmp_path, capsys):
    p = publication
    election = dict(p.election, roll_weight=6)  # the quorum becomes 3 of 6: met, the motion adopted
    box, results = _republish(p.box, election, p.results)
    motion = {q["question_id"]: q for q in results["count"]["questions"]}["motion"]
    assert motion["adopted"]
    code, report = _verify(tmp_path, capsys, box, election, results)
    assert code == 1
    assert report["checks"]["roll"] == "FAILED: the count used a roll weight of 6, the roll's total is 8"


def test_a_tie_break_seed_swapped_after_the_count_fails_its_commitment(publication, tmp_path, capsys):
    p = publication
    winner = {q["question_id"]: q for q in p.results["count"]["questions"]}["board"]["winners"]
    seed = next(s for s in (f"{n:064x}" for n in range(1000)) if list(draw_order(s, ["alice", "bob"])[:1]) != winner)
    election = dict(p.election, tie_break_seed=seed)
    box, results = _republish(p.box, election, p.results)
    assert {q["question_id"]: q for q in results["count"]["questions"]}["board"]["winners"] != winner
    code, report = _verify(tmp_path, capsys, box, election, results)
    assert code == 1 and report["checks"]["seed"].startswith("FAILED: the tie-break seed does not match election.json")
    # the tamperer rewrites the commitment in election.json too: the one shown before voting still differs
    from coop_elections.domain.verification import seed_commitment

    election["tie_break_seed_sha256"] = seed_commitment(seed)
    code, report = _verify(tmp_path, capsys, box, election, results, "--seed-sha256", p.seed_sha256)
    assert code == 1
    assert report["checks"]["seed"] == "FAILED: the tie-break seed does not match the commitment recorded before voting"


def test_results_are_always_compared_with_the_recount(publication, tmp_path, capsys):
    p = publication
    results = json.loads(json.dumps(p.results))
    motion = {q["question_id"]: q for q in results["count"]["questions"]}["motion"]
    motion["adopted"] = True  # published as adopted, the box says rejected
    code, report = _verify(tmp_path, capsys, p.box, p.election, results)  # results.json beside box.json
    assert code == 1
    assert report["checks"]["results"] == "FAILED: the published results differ from the recount of the box: count"
    (tmp_path / "results.json").unlink()
    code, report = _verify(tmp_path, capsys, p.box, p.election, None)
    assert code == 1 and report["checks"]["results"].startswith("FAILED: no published results")
