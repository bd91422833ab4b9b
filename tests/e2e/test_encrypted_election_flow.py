"""An encrypted election end to end through the real processes (issue 14): five trustees make
the key (3 of 5) and publish their commitments through the api; the elections worker's timer
opens the vote once the key is complete; members vote with encrypted STV and resolution ballots
made by the voter's client library; the timer closes the vote and the election waits, tallying;
two independent mixers shuffle the ranked ballots; three trustees decrypt; the worker finishes
the tally by itself and election.results_published goes out on RabbitMQ; the results equal the plaintext count of
the same ballots; the verifier accepts the streamed record and rejects each tampered file.

A partner's election (tenant partner-a, roll imported), so it needs no membership events; run
against `elections_platform` (conftest.py): docker-compose.yml where a Docker engine exists, the
processes `make run` starts where none does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
import pytest
from election_helpers import RESULTS_PUBLISHED, event_of, localized, seconds_until

from coop.elections.v1 import elections_pb2 as epb
from coop.elections.v2 import elections_pb2 as pb
from coop.elections.v2 import elections_pb2_grpc as pb_grpc
from coop_elections.client import PublishedElection, prepare_ballot
from coop_elections.domain.counting import count_election
from coop_elections.domain.crypto.elgamal import Ciphertext
from coop_elections.domain.crypto.group import Element, G
from coop_elections.domain.crypto.tally import decrypt_all, mix
from coop_elections.domain.crypto.trustees import Dealing, Threshold, combine_shares, qualify
from coop_elections.domain.model import CastBallot
from coop_elections.domain.published import definition_from_json
from coop_testkit import REPO_ROOT, bearer, wait_until

pytestmark = [pytest.mark.rabbitmq]
TENANT = "partner-a"
TRUSTEES = tuple(f"trustee-{name}" for name in ("ana", "ben", "cas", "dua", "eli"))
MIXERS = ("mixer-operators", "mixer-auditors")
CANDIDATES = ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9")
VOTES = {
    "voter-1": {"board": ["c3", "c1", "c7"], "accounts": "yes"},
    "voter-2": {"board": ["c1", "c3"], "accounts": "yes"},
    "voter-3": {"board": ["c9", "c8", "c7", "c6", "c5", "c4", "c3", "c2", "c1"], "accounts": "no"},
    "voter-4": {"board": ["c2"], "accounts": "abstain"},
    "voter-5": {"board": ["c3", "c2", "c1"]},
    "voter-6": {"board": ["c1", "c7", "c3"], "accounts": "yes"},
}
WEIGHTS = {"voter-3": 2}
SETUP_SECONDS = 25  # create, import the roll, five trustees publish: before the opening
VOTING_SECONDS = 20


@dataclass(frozen=True)
class Window:
    opens: datetime
    closes: datetime

    @classmethod
    def from_now(cls, tick: float) -> Window:
        now = datetime.now(UTC).replace(microsecond=0)
        opens = now + timedelta(seconds=SETUP_SECONDS)
        at_least = opens + timedelta(seconds=tick + VOTING_SECONDS)
        return cls(opens, at_least.replace(second=0) + timedelta(minutes=1))


def _token(subject: str, role: str) -> list[tuple[str, str]]:
    return bearer(subject, role, tenant=TENANT)


def _verify(folder: Path, *receipt: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "coop_elections.entrypoints.verify_encrypted", str(folder),
                           "--processes", "2", *receipt], capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    return done.returncode, done.stdout + done.stderr


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _other_element_hex() -> str:
    from coop_elections.domain.crypto.group import random_scalar

    return (G * random_scalar()).to_bytes().hex()


TAMPERINGS = {
    "election.json": lambda d: d["encryption"].update(public_key=_other_element_hex()),
    "trustee-4.public.json": lambda d: d["coefficients"].__setitem__(0, _other_element_hex()),
    "ballots.json": lambda d: d["ballots"][2].update(weight=d["ballots"][2]["weight"] + 1),
    "mixes.json": lambda d: d["questions"]["board"][1]["outputs"].reverse(),
    "decryption-shares-3.json": lambda d: d["shares"][4].update(share=_other_element_hex()),
    "results.json": lambda d: d["questions"][1].update(yes=d["questions"][1]["yes"] + 1),
}


@pytest.fixture
def elections(elections_platform):
    with grpc.insecure_channel(elections_platform.targets["elections"]) as channel:
        yield pb_grpc.ElectionsServiceStub(channel)


def test_an_encrypted_election_is_keyed_voted_mixed_decrypted_and_verified_through_the_real_processes(
    elections_platform, elections, elections_events, tmp_path
):
    tick = elections_platform.elections_tick_seconds
    admin = _token("partner-admin", "partner")
    window = Window.from_now(tick)
    local_close = window.closes.astimezone(ZoneInfo("Europe/Brussels"))

    # 1. The partner's administrator defines the election: 3 of 5 trustees, two mixers.
    election = elections.CreateElection(pb.CreateElectionRequest(
        texts=localized("Conseil de la coopérative partenaire"),
        questions=[epb.QuestionSpec(question_id="board", method=epb.METHOD_STV, texts=localized("Sièges"),
                                    candidates=list(CANDIDATES), seats=5, mandate_years=4),
                   epb.QuestionSpec(question_id="accounts", method=epb.METHOD_RESOLUTION, texts=localized("Comptes"))],
        window=epb.VotingWindowSpec(opens_at=window.opens.isoformat(), assembly_day=local_close.date().isoformat(),
                                    closes_local=local_close.strftime("%H:%M"), time_zone="Europe/Brussels"),
        roll_cutoff=window.opens.isoformat(),
        encryption=epb.EncryptionSettings(threshold=3, trustee_ids=list(TRUSTEES), mixer_ids=list(MIXERS))),
        metadata=admin, timeout=15).election
    eid = election.election_id
    elections.ImportVoterRoll(pb.ImportVoterRollRequest(election_id=eid, voters=[
        epb.VoterEntry(voter_id=v, weight=WEIGHTS.get(v, 1)) for v in VOTES]), metadata=admin, timeout=15)

    # 2. Five trustees generate the key, no dealer: each publishes its commitments.
    threshold = Threshold(3, 5)
    dealings = {i: Dealing.generate(i, threshold) for i in threshold.trustees}
    for i, dealing in dealings.items():
        answer = elections.PublishTrusteeKey(pb.PublishTrusteeKeyRequest(
            election_id=eid, trustee=i, commitment=dealing.publish(eid.encode()).to_bytes(),
            transport_public_key=bytes([i]) * 32), metadata=_token(TRUSTEES[i - 1], "trustee"), timeout=15).key
    qualification = qualify([d.publish(eid.encode()) for d in dealings.values()], threshold, eid.encode())
    assert answer.public_key == qualification.public_key.to_bytes() and not answer.missing
    key_shares = {j: combine_shares(j, {i: d.share_for(j) for i, d in dealings.items()}, qualification)
                  for j in threshold.trustees}
    assert datetime.now(UTC) < window.opens, "setting up took longer than SETUP_SECONDS"

    # 3. The timer opens the vote; members vote with the client library's encrypted ballots.
    member = _token("voter-1", "member")
    wait_until(lambda: elections.GetElection(pb.GetElectionRequest(election_id=eid), metadata=member,
                                             timeout=15).election.status == epb.ELECTION_STATUS_OPEN,
               timeout=seconds_until(window.opens) + tick + 30, interval=0.5, message="the worker opening the vote")
    key = elections.GetElectionKey(pb.GetElectionKeyRequest(election_id=eid), metadata=member, timeout=15).key
    published = PublishedElection(definition_from_json(json.loads(key.election_json)),
                                  Element.from_bytes(key.public_key))
    receipts = {}
    for voter, answers in VOTES.items():
        prepared = prepare_ballot(published, answers)
        receipts[voter] = elections.CastBallot(pb.CastBallotRequest(
            election_id=eid, encrypted_ballot=prepared.ballot.to_bytes()), metadata=_token(voter, "member"), timeout=30)
    assert len({r.tracker for r in receipts.values()}) == len(VOTES)
    # a ballot encrypted under another key: refused, naming the failed proof
    bad = prepare_ballot(PublishedElection(published.definition, G + G), {"accounts": "yes"})
    with pytest.raises(grpc.RpcError) as refused:
        elections.CastBallot(pb.CastBallotRequest(election_id=eid, encrypted_ballot=bad.ballot.to_bytes()),
                             metadata=_token("voter-1", "member"), timeout=30)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "proof" in refused.value.details()

    # 4. The timer closes the vote: the election waits, tallying.
    wait_until(lambda: elections.GetElection(pb.GetElectionRequest(election_id=eid), metadata=admin,
                                             timeout=15).election.status == epb.ELECTION_STATUS_TALLYING,
               timeout=seconds_until(window.closes) + tick + 60, interval=1, message="the worker closing the vote")

    # 5. Two independent mixers shuffle the ranked ballots, each proving its shuffle.
    for step, mixer in enumerate(MIXERS):
        rows, stream_step, stream_mixer = [], -1, ""
        for part in elections.StreamMixInput(pb.StreamMixInputRequest(election_id=eid, question_id="board"),
                                             metadata=_token(mixer, "mixer"), timeout=60):
            stream_step, stream_mixer = part.step, part.mixer
            rows += [tuple(Ciphertext.from_bytes(ct) for ct in r.ciphertexts) for r in part.rows]
        assert (stream_step, stream_mixer, len(rows)) == (step, mixer, 7)  # voter-3 weighs 2
        done = mix(rows, qualification.public_key, eid, "board", step, mixer)

        def parts(done=done, step=step):
            yield pb.SubmitMixRequest(header=pb.MixHeader(election_id=eid, question_id="board", step=step))
            yield pb.SubmitMixRequest(rows=pb.MixRows(rows=[
                pb.CiphertextRow(ciphertexts=[ct.to_bytes() for ct in row]) for row in done.outputs]))
            yield pb.SubmitMixRequest(proof_chunk=done.proof.to_bytes())
        state = elections.SubmitMix(parts(), metadata=_token(mixer, "mixer"), timeout=120).tally
    assert state.mixes_complete

    # 6. Three trustees of five decrypt, each share proved.
    ciphertexts = [Ciphertext.from_bytes(ct) for part in elections.StreamTallyCiphertexts(
        pb.StreamTallyCiphertextsRequest(election_id=eid), metadata=_token(TRUSTEES[0], "trustee"), timeout=60)
        for ct in part.ciphertexts]
    for trustee in (1, 3, 5):
        shares = [s.to_bytes() for s in decrypt_all(key_shares[trustee], ciphertexts, eid.encode())]

        def share_parts(trustee=trustee, shares=shares):
            yield pb.SubmitDecryptionSharesRequest(header=pb.DecryptionHeader(election_id=eid, trustee=trustee))
            yield pb.SubmitDecryptionSharesRequest(shares=pb.DecryptionShareChunk(shares=shares))
        state = elections.SubmitDecryptionShares(share_parts(), metadata=_token(TRUSTEES[trustee - 1], "trustee"),
                                                 timeout=120).tally
    assert state.ready_to_finish and list(state.missing_trustees) == [2, 4]

    # 7. Nobody runs FinishTally: the worker's tick sees k trustees' shares and starts the
    # finishing job, which publishes; results equal the plaintext count; the event goes out.
    results_event = elections_events.wait_for(event_of(RESULTS_PUBLISHED, eid), timeout=180)
    finished = elections.GetResults(pb.GetResultsRequest(election_id=eid), metadata=admin, timeout=60)
    again = elections.FinishTally(pb.FinishTallyRequest(election_id=eid), metadata=admin, timeout=120)
    assert again.results == finished.results  # by hand afterwards: the same published results
    plain = count_election(
        definition_from_json({**json.loads(key.election_json), "tie_break_seed": finished.results.tie_break_seed,
                              "roll_weight": sum(WEIGHTS.get(v, 1) for v in VOTES)}),
        [CastBallot(answers, WEIGHTS.get(v, 1)) for v, answers in VOTES.items()])
    detail = {q.question_id: json.loads(q.detail_json) for q in finished.results.questions}
    assert detail["board"]["winners"] == list(plain.question("board").winners)
    assert detail["board"]["quota"] == plain.question("board").quota
    resolution = plain.question("accounts")
    assert (detail["accounts"]["yes"], detail["accounts"]["no"], detail["accounts"]["abstain"]) == (
        resolution.yes, resolution.no, resolution.abstain)
    assert results_event["data"]["electedMemberIds"] == list(plain.question("board").winners)

    # 8. Anyone verifies the published record; each tampered file is rejected.
    folder = tmp_path / "record"
    folder.mkdir()
    for part in elections.StreamEncryptedRecord(pb.StreamEncryptedRecordRequest(election_id=eid),
                                                metadata=_token("voter-4", "member"), timeout=120):
        with open(folder / part.file_name, "ab") as handle:
            handle.write(part.chunk)
    code, output = _verify(folder)
    assert code == 0, output
    mine, other = receipts["voter-3"], receipts["voter-5"]  # a voter checks their receipt
    code, output = _verify(folder, "--tracker", mine.tracker, "--ballot-hash", mine.ballot_hash)
    assert code == 0 and "your receipt too" in output, output
    code, output = _verify(folder, "--tracker", mine.tracker, "--ballot-hash", other.ballot_hash)
    assert code == 1 and "FAIL receipt" in output, output
    for name, change in TAMPERINGS.items():
        copy = tmp_path / f"tampered-{name}"
        shutil.copytree(folder, copy)
        _edit(copy / name, change)
        code, output = _verify(copy)
        assert code == 1 and "FAIL" in output, f"{name}: {output}"
