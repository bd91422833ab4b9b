"""The tally of an encrypted election through the api on PostgreSQL: two mixers shuffle (only
the named mixer, in order, with a proof that holds), two of three trustees decrypt (every share's
proof checked), FinishTally publishes results equal to the plaintext count of the same ballots,
and the streamed record passes the independent verifier and fails it when tampered with."""

from __future__ import annotations

import json
from datetime import timedelta

import grpc
import pytest
from elections_svc_helpers import AFTER, ASSEMBLY, BEFORE, DURING, OPENS, texts
from sqlalchemy import func, select

from coop.elections.v1 import elections_pb2 as pb1
from coop.elections.v2 import elections_pb2 as pb
from coop_elections.adapters import orm
from coop_elections.client import PublishedElection, prepare_ballot
from coop_elections.domain.counting import count_election
from coop_elections.domain.crypto.elgamal import Ciphertext
from coop_elections.domain.crypto.group import Element, G
from coop_elections.domain.crypto.tally import decrypt_all, mix
from coop_elections.domain.crypto.trustees import Dealing, Threshold, combine_shares, qualify
from coop_elections.domain.model import CastBallot, ElectionDefinition, Method, Question
from coop_elections.entrypoints.verify_encrypted import main as verify
from coop_platform.rich_status import details_of

pytestmark = pytest.mark.postgres
TRUSTEES = ("tr-ana", "tr-ben", "tr-cas")
MIXERS = ("mix-service", "mix-observers")
NAMES = ("alice", "bob", "carol", "dave")
VOTES = {
    "v-1": {"board": ["carol", "alice"], "accounts": "yes", "chair": ["bob"]},
    "v-2": {"board": ["dave", "carol", "bob"], "accounts": "no", "chair": ["bob"]},
    "v-3": {"board": ["alice"], "accounts": "yes", "chair": ["alice"]},
    "v-4": {"board": ["bob", "alice", "dave", "carol"], "accounts": "abstain", "chair": []},
    "v-5": {"board": [], "chair": ["dave"]},
}
WEIGHTS = {"v-2": 3}


def _refusal(call) -> object:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return details_of(info.value)


def _question(qid, method, candidates=(), seats=1, mandate_years=0) -> pb1.QuestionSpec:
    return pb1.QuestionSpec(question_id=qid, method=method, texts=texts(qid), candidates=list(candidates), seats=seats,
                            mandate_years=mandate_years)


def _definition(eid: str, roll_weight: int = 1, seed: str = "not-needed-to-encrypt") -> ElectionDefinition:
    return ElectionDefinition(eid, (Question("board", Method.STV, NAMES, seats=2), Question("accounts", Method.RESOLUTION),
                                    Question("chair", Method.PLURALITY, NAMES)),
                              tie_break_seed=seed, roll_weight=roll_weight)


class Tally:
    """One encrypted election run through the api up to its close."""

    def __init__(self, env) -> None:
        self.env = env
        admin = self.admin = env.token("admin-1", "admin")
        env.clock.set(BEFORE)
        request = pb.CreateElectionRequest(
            texts=texts(), questions=[_question("board", pb1.METHOD_STV, NAMES, seats=2, mandate_years=4),
                                      _question("accounts", pb1.METHOD_RESOLUTION),
                                      _question("chair", pb1.METHOD_PLURALITY, NAMES)],
            window=pb1.VotingWindowSpec(opens_at=OPENS, assembly_day=ASSEMBLY, closes_local="17:00"),
            encryption=pb1.EncryptionSettings(threshold=2, trustee_ids=list(TRUSTEES), mixer_ids=list(MIXERS)))
        self.eid = eid = env.v2.CreateElection(request, metadata=admin).election.election_id
        env.v2.ImportVoterRoll(pb.ImportVoterRollRequest(election_id=eid, voters=[
            pb1.VoterEntry(voter_id=v, weight=WEIGHTS.get(v, 1)) for v in VOTES]), metadata=admin)
        threshold = Threshold(2, 3)
        dealings = {i: Dealing.generate(i, threshold) for i in threshold.trustees}
        for i, d in dealings.items():
            env.v2.PublishTrusteeKey(pb.PublishTrusteeKeyRequest(
                election_id=eid, trustee=i, commitment=d.publish(eid.encode()).to_bytes(),
                transport_public_key=bytes([i]) * 32), metadata=self.trustee(i))
        qualification = qualify([d.publish(eid.encode()) for d in dealings.values()], threshold, eid.encode())
        self.key_shares = {j: combine_shares(j, {i: d.share_for(j) for i, d in dealings.items()}, qualification)
                           for j in threshold.trustees}
        self.key = qualification.public_key
        env.clock.set(DURING)
        election = PublishedElection(_definition(eid), self.key)
        for voter, answers in VOTES.items():
            raw = prepare_ballot(election, answers).ballot.to_bytes()
            env.v2.CastBallot(pb.CastBallotRequest(election_id=eid, encrypted_ballot=raw),
                              metadata=env.token(voter, "member"))
        env.clock.set(AFTER)
        env.v2.CloseElection(pb.CloseElectionRequest(election_id=eid), metadata=admin)

    def trustee(self, i: int) -> list:
        return self.env.token(TRUSTEES[i - 1], "trustee")

    def mixer(self, step: int) -> list:
        return self.env.token(MIXERS[step], "mixer")

    def state(self) -> pb.TallyState:
        return self.env.v2.GetTallyState(pb.GetTallyStateRequest(election_id=self.eid), metadata=self.admin).tally

    def input(self, question_id: str) -> tuple[int, str, list[tuple[Ciphertext, ...]]]:
        rows, step, mixer = [], -1, ""
        for part in self.env.v2.StreamMixInput(pb.StreamMixInputRequest(election_id=self.eid, question_id=question_id),
                                               metadata=self.env.token("v-1", "member")):
            step, mixer = part.step, part.mixer
            rows += [tuple(Ciphertext.from_bytes(ct) for ct in r.ciphertexts) for r in part.rows]
        return step, mixer, rows

    def submit_mix(self, question_id: str, step: int, outputs, proof: bytes, metadata=None) -> pb.SubmitMixResponse:
        def parts():
            yield pb.SubmitMixRequest(header=pb.MixHeader(election_id=self.eid, question_id=question_id, step=step))
            yield pb.SubmitMixRequest(rows=pb.MixRows(rows=[pb.CiphertextRow(ciphertexts=[ct.to_bytes() for ct in row])
                                                            for row in outputs]))
            for start in range(0, len(proof), 1000):
                yield pb.SubmitMixRequest(proof_chunk=proof[start:start + 1000])
        return self.env.v2.SubmitMix(parts(), metadata=metadata or self.mixer(step))

    def mix(self, question_id: str, step: int):
        _, _, rows = self.input(question_id)
        done = mix(rows, self.key, self.eid, question_id, step, MIXERS[step])
        return done, self.submit_mix(question_id, step, done.outputs, done.proof.to_bytes())

    def ciphertexts(self) -> list[Ciphertext]:
        out = []
        for part in self.env.v2.StreamTallyCiphertexts(pb.StreamTallyCiphertextsRequest(election_id=self.eid),
                                                       metadata=self.trustee(1)):
            out += [Ciphertext.from_bytes(ct) for ct in part.ciphertexts]
        return out

    def submit_shares(self, trustee: int, shares: list[bytes], metadata=None) -> pb.SubmitDecryptionSharesResponse:
        def parts():
            yield pb.SubmitDecryptionSharesRequest(header=pb.DecryptionHeader(election_id=self.eid, trustee=trustee))
            for start in range(0, len(shares), 7):
                yield pb.SubmitDecryptionSharesRequest(shares=pb.DecryptionShareChunk(shares=shares[start:start + 7]))
        return self.env.v2.SubmitDecryptionShares(parts(), metadata=metadata or self.trustee(trustee))

    def decrypt(self, trustee: int) -> list[bytes]:
        return [s.to_bytes() for s in decrypt_all(self.key_shares[trustee], self.ciphertexts(), self.eid.encode())]


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
    early = _refusal(lambda: tally.ciphertexts())
    assert (early.code, early.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MIXES_INCOMPLETE")

    step, mixer, rows = tally.input("board")
    assert (step, mixer, len(rows), len(rows[0])) == (0, "mix-service", 7, 4)  # 5 ballots, one of weight 3
    _, answer = tally.mix("board", 0)
    assert list(answer.tally.mixes[0].done_by) == ["mix-service"]
    _, answer = tally.mix("board", 1)
    assert answer.tally.mixes_complete and list(answer.tally.missing_trustees) == [1, 2, 3]

    not_yet = _refusal(lambda: tally.env.v2.FinishTally(pb.FinishTallyRequest(election_id=tally.eid),
                                                        metadata=tally.admin))
    assert (not_yet.reason, not_yet.metadata["missing"]) == ("DECRYPTION_INCOMPLETE", "1,2,3")
    assert list(tally.submit_shares(3, tally.decrypt(3)).tally.decrypted_by) == [3]
    ready = tally.submit_shares(1, tally.decrypt(1)).tally
    assert ready.ready_to_finish and list(ready.missing_trustees) == [2]

    finished = tally.env.v2.FinishTally(pb.FinishTallyRequest(election_id=tally.eid), metadata=tally.admin)
    again = tally.env.v2.GetResults(pb.GetResultsRequest(election_id=tally.eid), metadata=tally.env.token("v-3", "member"))
    assert finished.results == again.results
    plain = count_election(_definition(tally.eid, roll_weight=sum(WEIGHTS.get(v, 1) for v in VOTES),
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
        refused = _refusal(lambda metadata=metadata: fresh.submit_mix("board", 0, good.outputs, proof, metadata))
        assert refused.reason == reason
    out_of_order = _refusal(lambda: fresh.submit_mix("board", 1, good.outputs, proof))
    assert (out_of_order.code, out_of_order.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MIX_OUT_OF_ORDER")
    tampered = list(good.outputs)
    tampered[0] = (Ciphertext(tampered[0][0].a, tampered[0][0].b + G), *tampered[0][1:])
    bad = _refusal(lambda: fresh.submit_mix("board", 0, tampered, proof))
    assert (bad.code, bad.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "SHUFFLE_PROOF_FAILED")
    short = _refusal(lambda: fresh.submit_mix("board", 0, good.outputs[:-1], proof))
    assert (short.code, short.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MIX_SHAPE")
    garbled = _refusal(lambda: fresh.submit_mix("board", 0, good.outputs, proof[:-5]))
    assert (garbled.code, garbled.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_PROOF")
    not_ranked = _refusal(lambda: fresh.submit_mix("accounts", 0, good.outputs, proof))
    assert (not_ranked.code, not_ranked.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "NOT_A_RANKED_QUESTION")
    assert _count(env, orm.mixes) == before
    fresh.submit_mix("board", 0, good.outputs, proof)
    assert fresh.submit_mix("board", 0, good.outputs, proof).tally.mixes[0].done_by == ["mix-service"]  # a retry
    other = mix(rows, fresh.key, fresh.eid, "board", 0, MIXERS[0])
    twice = _refusal(lambda: fresh.submit_mix("board", 0, other.outputs, other.proof.to_bytes()))
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
    bad = _refusal(lambda: fresh.submit_shares(2, forged))
    assert (bad.code, bad.reason, bad.metadata["position"]) == (grpc.StatusCode.INVALID_ARGUMENT,
                                                                 "DECRYPTION_PROOF_FAILED", "5")
    short = _refusal(lambda: fresh.submit_shares(2, shares[:-1]))
    assert short.reason == "SHARE_COUNT"
    others = _refusal(lambda: fresh.submit_shares(2, fresh.decrypt(3)))
    assert others.reason == "DECRYPTION_PROOF_FAILED"  # trustee 3's shares sent as trustee 2's
    for metadata, reason in ((fresh.trustee(1), "NOT_THIS_TRUSTEE"), (env.token("admin-1", "admin"), "ROLE_REQUIRED"),
                             (env.token("tr-ben", "trustee", tenant="partner-coop"), "ELECTION_NOT_FOUND")):
        assert _refusal(lambda metadata=metadata: fresh.submit_shares(2, shares, metadata)).reason == reason
    assert _count(env, orm.decryption_shares) == before
    fresh.submit_shares(2, shares)
    assert list(fresh.submit_shares(2, shares).tally.decrypted_by) == [2]  # a retry answers again
    headless = _refusal(lambda: env.v2.SubmitDecryptionShares(iter([pb.SubmitDecryptionSharesRequest(
        shares=pb.DecryptionShareChunk(shares=shares[:1]))]), metadata=fresh.trustee(2)))
    assert (headless.code, headless.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "HEADER_MISSING")


def test_the_tally_waits_for_the_close_and_the_record_for_the_results(env):
    fresh = Tally.__new__(Tally)
    fresh.env = env
    env.clock.set(BEFORE)
    election = env.v2.CreateElection(pb.CreateElectionRequest(
        texts=texts(), questions=[_question("board", pb1.METHOD_STV, NAMES, seats=2)],
        window=pb1.VotingWindowSpec(opens_at=OPENS, assembly_day=ASSEMBLY, closes_local="17:00"),
        encryption=pb1.EncryptionSettings(threshold=1, trustee_ids=["tr-ana"], mixer_ids=list(MIXERS))),
        metadata=env.token("admin-1", "admin")).election
    env.clock.set(DURING - timedelta(days=1))
    refused = _refusal(lambda: list(env.v2.StreamMixInput(pb.StreamMixInputRequest(
        election_id=election.election_id, question_id="board"), metadata=env.token("v-1", "member"))))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOT_TALLYING")
    record = _refusal(lambda: list(env.v2.StreamEncryptedRecord(pb.StreamEncryptedRecordRequest(
        election_id=election.election_id), metadata=env.token("v-1", "member"))))
    assert record.reason == "TALLY_PENDING"
