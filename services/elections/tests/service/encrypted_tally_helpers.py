"""An encrypted election run through the v2 api on PostgreSQL, for the tally and secrecy tests:
three trustees (2 of 3) publish their key, five members cast ballots made by the client library,
two mixers shuffle, trustees decrypt."""

from __future__ import annotations

import grpc
import pytest
from elections_svc_helpers import AFTER, ASSEMBLY, BEFORE, DURING, OPENS, texts

from coop.elections.v1 import elections_pb2 as pb1
from coop.elections.v2 import elections_pb2 as pb
from coop_elections.client import PublishedElection, prepare_ballot
from coop_elections.domain.crypto.elgamal import Ciphertext
from coop_elections.domain.crypto.tally import decrypt_all, mix
from coop_elections.domain.crypto.trustees import Dealing, Threshold, combine_shares, qualify
from coop_elections.domain.model import ElectionDefinition, Method, Question
from coop_platform.rich_status import details_of

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


def refusal(call) -> object:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return details_of(info.value)


def question(qid, method, candidates=(), seats=1, mandate_years=0) -> pb1.QuestionSpec:
    return pb1.QuestionSpec(question_id=qid, method=method, texts=texts(qid), candidates=list(candidates), seats=seats,
                            mandate_years=mandate_years)


def definition(eid: str, roll_weight: int = 1, seed: str = "not-needed-to-encrypt") -> ElectionDefinition:
    return ElectionDefinition(eid, (Question("board", Method.STV, NAMES, seats=2), Question("accounts", Method.RESOLUTION),
                                    Question("chair", Method.PLURALITY, NAMES)),
                              tie_break_seed=seed, roll_weight=roll_weight)


class Tally:
    """One encrypted election run through the api up to its close."""

    def __init__(self, env, close: bool = True) -> None:
        self.env = env
        self.sent: dict[str, bytes] = {}  # voter -> the encrypted ballot they cast
        self.trackers: dict[str, str] = {}  # voter -> their receipt's tracker
        self.receipts: dict[str, pb.CastBallotResponse] = {}
        admin = self.admin = env.token("admin-1", "admin")
        env.clock.set(BEFORE)
        request = pb.CreateElectionRequest(
            texts=texts(), questions=[question("board", pb1.METHOD_STV, NAMES, seats=2, mandate_years=4),
                                      question("accounts", pb1.METHOD_RESOLUTION),
                                      question("chair", pb1.METHOD_PLURALITY, NAMES)],
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
        election = PublishedElection(definition(eid), self.key)
        for voter, answers in VOTES.items():
            raw = self.sent[voter] = prepare_ballot(election, answers).ballot.to_bytes()
            receipt = self.receipts[voter] = env.v2.CastBallot(pb.CastBallotRequest(
                election_id=eid, encrypted_ballot=raw), metadata=env.token(voter, "member"))
            self.trackers[voter] = receipt.tracker
        if close:
            self.close()

    def close(self) -> None:
        self.env.clock.set(AFTER)
        self.env.v2.CloseElection(pb.CloseElectionRequest(election_id=self.eid), metadata=self.admin)

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
            yield pb.SubmitMixRequest(rows=pb.MixRows(rows=[pb.CiphertextRow(ciphertexts=[ct if isinstance(ct, bytes) else ct.to_bytes()
                                                                                 for ct in row])
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
