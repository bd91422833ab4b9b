"""The tally of an encrypted election through the api on PostgreSQL: two mixers shuffle (only
the named mixer, in order, with a proof that holds), two of three trustees decrypt (every share's
proof checked), FinishTally publishes results equal to the plaintext count of the same ballots,
and the streamed record passes the independent verifier and fails it when tampered with."""

from __future__ import annotations

import json
import multiprocessing
from datetime import timedelta

import grpc
import pytest
from elections_svc_helpers import ASSEMBLY, BEFORE, DURING, OPENS, texts
from encrypted_tally_helpers import (
    MIXERS,
    NAMES,
    VOTES,
    WEIGHTS,
    Tally,
    definition,
    question,
    refusal,
)
from sqlalchemy import func, select

from coop.elections.v1 import elections_pb2 as pb1
from coop.elections.v2 import elections_pb2 as pb
from coop_elections.adapters import orm
from coop_elections.domain.counting import count_election
from coop_elections.domain.crypto.elgamal import Ciphertext
from coop_elections.domain.crypto.group import Element, G
from coop_elections.domain.crypto.tally import mix
from coop_elections.domain.model import CastBallot
from coop_elections.entrypoints.verify_encrypted import main as verify

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def tally(env) -> Tally:
    return Tally(env)


def _count(env, table) -> int:
    with env.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_whole_encrypted_tally_publishes_the_plaintext_count_and_a_record_the_verifier_accepts(env, tally, tmp_path):
    state = tally.state()
    assert [(q.question_id, q.next_mixer, q.rows) for q in state.mixes] == [("board", "mix-service", 7)]
    assert not state.mixes_complete and not state.ready_to_finish
    early = refusal(lambda: tally.ciphertexts())
    assert (early.code, early.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MIXES_INCOMPLETE")

    step, mixer, rows = tally.input("board")
    assert (step, mixer, len(rows), len(rows[0])) == (0, "mix-service", 7, 4)  # 5 ballots, one of weight 3
    _, answer = tally.mix("board", 0)
    assert list(answer.tally.mixes[0].done_by) == ["mix-service"]
    _, answer = tally.mix("board", 1)
    assert answer.tally.mixes_complete and list(answer.tally.missing_trustees) == [1, 2, 3]

    not_yet = refusal(lambda: tally.env.v2.FinishTally(pb.FinishTallyRequest(election_id=tally.eid),
                                                        metadata=tally.admin))
    assert (not_yet.reason, not_yet.metadata["missing"]) == ("DECRYPTION_INCOMPLETE", "1,2,3")
    assert list(tally.submit_shares(3, tally.decrypt(3)).tally.decrypted_by) == [3]
    ready = tally.submit_shares(1, tally.decrypt(1)).tally
    assert ready.ready_to_finish and list(ready.missing_trustees) == [2]

    finished = tally.env.v2.FinishTally(pb.FinishTallyRequest(election_id=tally.eid), metadata=tally.admin)
    again = tally.env.v2.GetResults(pb.GetResultsRequest(election_id=tally.eid), metadata=tally.env.token("v-3", "member"))
    assert finished.results == again.results
    plain = count_election(definition(tally.eid, roll_weight=sum(WEIGHTS.get(v, 1) for v in VOTES),
                                       seed=finished.results.tie_break_seed),
                           [CastBallot({**{"chair": []}, **c}, WEIGHTS.get(v, 1)) for v, c in VOTES.items()])
    detail = {q.question_id: json.loads(q.detail_json) for q in finished.results.questions}
    assert detail["board"]["winners"] == list(plain.question("board").winners)
    assert [r["action"] for r in detail["board"]["rounds"]] == [r.action for r in plain.question("board").rounds]
    assert (detail["accounts"]["yes"], detail["accounts"]["no"], detail["accounts"]["abstain"]) == (2, 3, 1)
    assert detail["chair"]["tallies"] == [list(t) for t in plain.question("chair").tallies]
    assert detail["chair"]["blank"] == 1 and finished.results.total_weight == 7
    assert finished.stv_counts[0].winners == list(plain.question("board").winners)
    [published] = [x for x in tally.env.outbox("election.results_published") if x["data"]["electionId"] == tally.eid]
    assert published["data"]["electedMemberIds"] == list(plain.question("board").winners)  # the board's mandates
    assert (published["data"]["mandateStart"], published["data"]["mandateEnd"]) == ("2027-05-15", "2031-05-15")

    folder = tmp_path / "record"
    folder.mkdir()
    for part in tally.env.v2.StreamEncryptedRecord(pb.StreamEncryptedRecordRequest(election_id=tally.eid),
                                                   metadata=tally.env.token("v-5", "member")):
        with open(folder / part.file_name, "ab") as f:
            f.write(part.chunk)
    assert sorted(p.name for p in folder.iterdir()) == [
        "ballots.json", "decryption-shares-1.json", "decryption-shares-3.json", "election.json", "mixes.json",
        "results.json", "trustee-1.public.json", "trustee-2.public.json", "trustee-3.public.json"]
    assert verify([str(folder), "--processes", "1"]) == 0
    for voter, receipt in tally.receipts.items():  # each voter's receipt from CastBallot holds
        assert verify([str(folder), "--processes", "1", "--tracker", receipt.tracker,
                       "--ballot-hash", receipt.ballot_hash]) == 0, voter
    assert json.loads((folder / "ballots.json").read_text())["head_hash"] == finished.results.box_head_hash
    published_box = tally.env.v2.GetPublishedBox(pb.GetPublishedBoxRequest(election_id=tally.eid),
                                                 metadata=tally.env.token("v-2", "member")).box
    assert json.loads(published_box.election_json) == json.loads((folder / "election.json").read_text())
    assert json.loads(published_box.box_json) == {
        "format": "coopgov-encrypted-box/1", "election_id": tally.eid, "ballots": len(VOTES),
        "total_weight": finished.results.total_weight, "head_hash": finished.results.box_head_hash,
        "ballots_in": "StreamEncryptedRecord: ballots.json"}
    assert json.loads(published_box.results_json)["head_hash"] == finished.results.box_head_hash
    results = json.loads((folder / "results.json").read_text())
    results["questions"][1]["yes"] += 1
    (folder / "results.json").write_text(json.dumps(results))
    assert verify([str(folder), "--processes", "1"]) == 1


@pytest.fixture
def fresh(env) -> Tally:
    return Tally(env)


def test_only_the_named_mixer_shuffles_each_step_in_order_with_a_proof_that_holds(env, fresh):
    _, _, rows = fresh.input("board")
    good = mix(rows, fresh.key, fresh.eid, "board", 0, MIXERS[0])
    proof = good.proof.to_bytes()
    before = _count(env, orm.mixes)
    for metadata, reason in ((env.token("mix-observers", "mixer"), "NOT_THIS_MIXER"),
                             (env.token("admin-1", "admin"), "ROLE_REQUIRED"),
                             (env.token("tr-ana", "trustee"), "ROLE_REQUIRED"),
                             (env.token("v-1", "member"), "ROLE_REQUIRED"),
                             (env.token("mix-service", "mixer", tenant="partner-coop"), "ELECTION_NOT_FOUND")):
        refused = refusal(lambda metadata=metadata: fresh.submit_mix("board", 0, good.outputs, proof, metadata))
        assert refused.reason == reason
    out_of_order = refusal(lambda: fresh.submit_mix("board", 1, good.outputs, proof))
    assert (out_of_order.code, out_of_order.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MIX_OUT_OF_ORDER")
    tampered = list(good.outputs)
    tampered[0] = (Ciphertext(tampered[0][0].a, tampered[0][0].b + G), *tampered[0][1:])
    bad = refusal(lambda: fresh.submit_mix("board", 0, tampered, proof))
    assert (bad.code, bad.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "SHUFFLE_PROOF_FAILED")
    short = refusal(lambda: fresh.submit_mix("board", 0, good.outputs[:-1], proof))
    assert (short.code, short.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MIX_SHAPE")
    ragged = refusal(lambda: fresh.submit_mix("board", 0, [*good.outputs[:-1], good.outputs[-1][:-1]], proof))
    assert (ragged.code, ragged.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MIX_SHAPE")
    cut = [list(row) for row in good.outputs]
    cut[1][2] = cut[1][2].to_bytes()[:-1]  # the 7th ciphertext, row-major, one byte short
    torn = refusal(lambda: fresh.submit_mix("board", 0, cut, proof))
    assert (torn.code, torn.reason, torn.metadata["position"]) == (
        grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_CIPHERTEXT", str(len(good.outputs[0]) + 2))
    garbled = refusal(lambda: fresh.submit_mix("board", 0, good.outputs, proof[:-5]))
    assert (garbled.code, garbled.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_PROOF")
    not_ranked = refusal(lambda: fresh.submit_mix("accounts", 0, good.outputs, proof))
    assert (not_ranked.code, not_ranked.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "NOT_A_RANKED_QUESTION")
    assert _count(env, orm.mixes) == before
    fresh.submit_mix("board", 0, good.outputs, proof)
    assert fresh.submit_mix("board", 0, good.outputs, proof).tally.mixes[0].done_by == ["mix-service"]  # a retry
    other = mix(rows, fresh.key, fresh.eid, "board", 0, MIXERS[0])
    twice = refusal(lambda: fresh.submit_mix("board", 0, other.outputs, other.proof.to_bytes()))
    assert twice.reason == "MIX_SUBMITTED"


def test_a_trustees_shares_are_checked_one_by_one_and_a_bad_one_is_named_with_nothing_stored(env, fresh):
    fresh.mix("board", 0)
    fresh.mix("board", 1)
    shares = fresh.decrypt(2)
    before = _count(env, orm.decryption_shares)
    forged = list(shares)
    raw = bytearray(forged[5])
    raw[4:36] = (Element.from_bytes(bytes(raw[4:36])) + G).to_bytes()
    forged[5] = bytes(raw)
    bad = refusal(lambda: fresh.submit_shares(2, forged))
    assert (bad.code, bad.reason, bad.metadata["position"]) == (grpc.StatusCode.INVALID_ARGUMENT,
                                                                 "DECRYPTION_PROOF_FAILED", "5")
    spawned = [p for p in multiprocessing.active_children() if p.name.startswith("SpawnProcess")]
    assert spawned, "the api checks the proofs in its spawned pool"
    for position, garbled in ((7, b"\xff" * 32), (9, b"")):  # a share that is no element, one cut short
        raw = bytearray(shares[position])
        raw[4:36] = garbled
        malformed = refusal(lambda position=position, raw=raw: fresh.submit_shares(
            2, [*shares[:position], bytes(raw), *shares[position + 1:]]))
        assert (malformed.code, malformed.reason, malformed.metadata["position"]) == (
            grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_SHARE", str(position))
    short = refusal(lambda: fresh.submit_shares(2, shares[:-1]))
    assert short.reason == "SHARE_COUNT"
    others = refusal(lambda: fresh.submit_shares(2, fresh.decrypt(3)))
    assert others.reason == "DECRYPTION_PROOF_FAILED"  # trustee 3's shares sent as trustee 2's
    for metadata, reason in ((fresh.trustee(1), "NOT_THIS_TRUSTEE"), (env.token("admin-1", "admin"), "ROLE_REQUIRED"),
                             (env.token("tr-ben", "trustee", tenant="partner-coop"), "ELECTION_NOT_FOUND")):
        assert refusal(lambda metadata=metadata: fresh.submit_shares(2, shares, metadata)).reason == reason
    assert _count(env, orm.decryption_shares) == before
    fresh.submit_shares(2, shares)
    assert list(fresh.submit_shares(2, shares).tally.decrypted_by) == [2]  # a retry answers again
    headless = refusal(lambda: env.v2.SubmitDecryptionShares(iter([pb.SubmitDecryptionSharesRequest(
        shares=pb.DecryptionShareChunk(shares=shares[:1]))]), metadata=fresh.trustee(2)))
    assert (headless.code, headless.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "HEADER_MISSING")


def test_the_tally_waits_for_the_close_and_the_record_for_the_results(env):
    fresh = Tally.__new__(Tally)
    fresh.env = env
    env.clock.set(BEFORE)
    election = env.v2.CreateElection(pb.CreateElectionRequest(
        texts=texts(), questions=[question("board", pb1.METHOD_STV, NAMES, seats=2)],
        window=pb1.VotingWindowSpec(opens_at=OPENS, assembly_day=ASSEMBLY, closes_local="17:00"),
        encryption=pb1.EncryptionSettings(threshold=1, trustee_ids=["tr-ana"], mixer_ids=list(MIXERS))),
        metadata=env.token("admin-1", "admin")).election
    env.clock.set(DURING - timedelta(days=1))
    refused = refusal(lambda: list(env.v2.StreamMixInput(pb.StreamMixInputRequest(
        election_id=election.election_id, question_id="board"), metadata=env.token("v-1", "member"))))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOT_TALLYING")
    record = refusal(lambda: list(env.v2.StreamEncryptedRecord(pb.StreamEncryptedRecordRequest(
        election_id=election.election_id), metadata=env.token("v-1", "member"))))
    assert record.reason == "TALLY_PENDING"
