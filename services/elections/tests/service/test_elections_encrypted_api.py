"""Encrypted elections through the api on PostgreSQL: trustees publish their commitments (only
the right trustee of the right tenant), the key is complete only when none is missing and only
then does the election open, voters cast encrypted ballots whose proofs are checked (a bad one is
named and nothing is stored), the database never holds a choice in the clear, and the close
leaves the election tallying."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import grpc
import pytest
from elections_svc_helpers import (
    AFTER,
    ASSEMBLY,
    BEFORE,
    DURING,
    OPENS,
    accounts_question,
    board_question,
    texts,
)
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine

from coop.elections.v1 import elections_pb2 as pb1
from coop.elections.v2 import elections_pb2 as pb
from coop_elections.adapters import orm
from coop_elections.client import PublishedElection, prepare_ballot
from coop_elections.domain.crypto.elgamal import KeyPair
from coop_elections.domain.crypto.group import Element
from coop_elections.domain.crypto.trustees import Dealing, Threshold, joint_public_key
from coop_elections.domain.model import ElectionDefinition, Method, Question
from coop_elections.domain.published import definition_from_json
from coop_platform.rich_status import details_of

pytestmark = pytest.mark.postgres
TRUSTEES = ("tr-ana", "tr-ben", "tr-cas")
VOTERS = ("v-1", "v-2", "v-3", "v-4")
CANDIDATES = ("alice", "bob", "carol", "dave")


def _refusal(call) -> object:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return details_of(info.value)


def _create(env, tenant: str = "coop", **encryption) -> pb1.Election:
    settings = {"threshold": 2, "trustee_ids": list(TRUSTEES), "mixer_ids": ["service", "observers"], **encryption}
    admin = env.token("admin-1", "admin", tenant=tenant)
    env.clock.set(BEFORE)
    request = pb.CreateElectionRequest(
        texts=texts(), questions=[board_question(), accounts_question()],
        window=pb1.VotingWindowSpec(opens_at=OPENS, assembly_day=ASSEMBLY, closes_local="17:00"),
        encryption=pb1.EncryptionSettings(**settings))
    election = env.v2.CreateElection(request, metadata=admin).election
    env.v2.ImportVoterRoll(pb.ImportVoterRollRequest(
        election_id=election.election_id, voters=[pb1.VoterEntry(voter_id=v) for v in VOTERS]), metadata=admin)
    return election


def _dealings(election_id: str) -> dict[int, Dealing]:
    threshold = Threshold(2, len(TRUSTEES))
    return {i: Dealing.generate(i, threshold) for i in threshold.trustees}


def _publish(env, election_id: str, trustee: int, dealing: Dealing, *, subject: str | None = None,
             tenant: str = "coop", transport: bytes = b"\x07" * 32) -> pb.PublishTrusteeKeyResponse:
    return env.v2.PublishTrusteeKey(pb.PublishTrusteeKeyRequest(
        election_id=election_id, trustee=trustee, commitment=dealing.publish(election_id.encode()).to_bytes(),
        transport_public_key=transport), metadata=env.token(subject or TRUSTEES[trustee - 1], "trustee", tenant=tenant))


def _keyed(env) -> tuple[pb1.Election, dict[int, Dealing]]:
    election = _create(env)
    dealings = _dealings(election.election_id)
    for i, d in dealings.items():
        _publish(env, election.election_id, i, d)
    return election, dealings


def _definition(election_id: str) -> ElectionDefinition:
    return ElectionDefinition(election_id, (Question("board", Method.STV, CANDIDATES, seats=2),
                                            Question("accounts", Method.RESOLUTION)), tie_break_seed="unused")


def _ballot(election_id: str, key: bytes, answers: dict) -> bytes:
    election = PublishedElection(_definition(election_id), Element.from_bytes(key))
    return prepare_ballot(election, answers).ballot.to_bytes()


def _count(env, table) -> int:
    with env.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_the_key_is_complete_when_every_trustee_has_published_and_only_then_the_election_opens(env):
    election = _create(env)
    eid = election.election_id
    admin = env.token("admin-1", "admin")
    member = env.token("v-1", "member")
    state = env.v2.GetElectionKey(pb.GetElectionKeyRequest(election_id=eid), metadata=member).key
    assert (list(state.missing), state.public_key, state.threshold) == ([1, 2, 3], b"", 2)
    dealings = _dealings(eid)
    _publish(env, eid, 1, dealings[1])
    _publish(env, eid, 3, dealings[3])
    env.clock.set(DURING)
    early = _refusal(lambda: env.v2.OpenElection(pb.OpenElectionRequest(election_id=eid), metadata=admin))
    assert (early.code, early.reason, early.metadata["missing"]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "ELECTION_KEY_INCOMPLETE", "2")
    answer = _publish(env, eid, 2, dealings[2]).key
    expected = joint_public_key([d.publish(eid.encode()) for d in dealings.values()], Threshold(2, 3), eid.encode())
    assert answer.public_key == expected.to_bytes() and list(answer.missing) == []
    document = json.loads(env.v2.GetElectionKey(pb.GetElectionKeyRequest(election_id=eid), metadata=member).key.election_json)
    assert document["encryption"] == {"public_key": expected.to_bytes().hex(), "threshold": {"k": 2, "n": 3}}
    assert [q["candidates"] for q in document["questions"]] == [list(CANDIDATES), []]
    assert state.election_json == ""  # not before the key is complete
    assert [(t.trustee, t.trustee_id) for t in answer.trustees] == [(1, "tr-ana"), (2, "tr-ben"), (3, "tr-cas")]
    opened = env.v2.OpenElection(pb.OpenElectionRequest(election_id=eid), metadata=admin).election
    assert opened.encryption.public_key == expected.to_bytes()
    assert list(opened.encryption.trustee_ids) == list(TRUSTEES) and opened.encryption.threshold == 2
    v1 = env.stub.GetElection(pb1.ElectionRef(election_id=eid), metadata=member)  # v1 clients see it too
    assert v1.encryption.public_key == expected.to_bytes()


@pytest.mark.parametrize("role, subject, tenant, code, reason", [
    ("member", "tr-ben", "coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
    ("admin", "admin-1", "coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
    ("partner", "admin-1", "coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
    ("teller", "t-1", "coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
    ("director", "d-1", "coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
    ("trustee", "tr-ana", "coop", grpc.StatusCode.PERMISSION_DENIED, "NOT_THIS_TRUSTEE"),  # trustee 1, not 2
    ("trustee", "tr-ben", "partner-coop", grpc.StatusCode.NOT_FOUND, "ELECTION_NOT_FOUND"),
    ("admin", "admin-9", "partner-coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
])
def test_only_the_named_trustee_of_the_tenant_publishes_its_key(env, role, subject, tenant, code, reason):
    election = _create(env)
    eid = election.election_id
    dealing = _dealings(eid)[2]
    request = pb.PublishTrusteeKeyRequest(election_id=eid, trustee=2, commitment=dealing.publish(eid.encode()).to_bytes(),
                                          transport_public_key=b"\x01" * 32)
    refused = _refusal(lambda: env.v2.PublishTrusteeKey(request, metadata=env.token(subject, role, tenant=tenant)))
    assert (refused.code, refused.reason) == (code, reason)
    key = env.v2.GetElectionKey(pb.GetElectionKeyRequest(election_id=eid), metadata=env.token("v-1", "member")).key
    assert list(key.missing) == [1, 2, 3]
    other_tenant = _refusal(lambda: env.v2.GetElectionKey(pb.GetElectionKeyRequest(election_id=eid),
                                                          metadata=env.token("admin-9", "admin", tenant="partner-coop")))
    assert other_tenant.code == grpc.StatusCode.NOT_FOUND


def _other_election_commitment(trustee: int) -> bytes:
    return Dealing.generate(trustee, Threshold(2, 3)).publish(b"another-election").to_bytes()


@pytest.mark.parametrize("change, field, reason", [
    ({"trustee": 0}, "trustee", "TRUSTEE_OUT_OF_RANGE"),
    ({"trustee": 4}, "trustee", "TRUSTEE_OUT_OF_RANGE"),
    ({"commitment": b"\x00" * 10}, "commitment", "MALFORMED_COMMITMENT"),
    ({"commitment": "trustee-3"}, "commitment", "TRUSTEE_MISMATCH"),
    ({"commitment": "other-election"}, "commitment", "TRUSTEE_PROOF_FAILED"),
    ({"transport_public_key": b"\x01" * 31}, "transport_public_key", "MALFORMED_TRANSPORT_KEY"),
])
def test_a_bad_publication_is_refused_by_field_and_reason_and_nothing_is_stored(env, change, field, reason):
    election = _create(env)
    eid = election.election_id
    dealings = _dealings(eid)
    fields = {"election_id": eid, "trustee": 2, "commitment": dealings[2].publish(eid.encode()).to_bytes(),
              "transport_public_key": b"\x01" * 32, **change}
    if fields["commitment"] == "trustee-3":
        fields["commitment"] = dealings[3].publish(eid.encode()).to_bytes()
    elif fields["commitment"] == "other-election":
        fields["commitment"] = _other_election_commitment(2)
    subject = TRUSTEES[fields["trustee"] - 1] if 1 <= fields["trustee"] <= 3 else "tr-ben"
    before = _count(env, orm.trustee_keys)
    refused = _refusal(lambda: env.v2.PublishTrusteeKey(pb.PublishTrusteeKeyRequest(**fields),
                                                       metadata=env.token(subject, "trustee")))
    assert (refused.code, refused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert field in refused.field_violations
    assert _count(env, orm.trustee_keys) == before


def test_a_retried_publication_answers_as_the_first_and_other_commitments_are_refused(env):
    election = _create(env)
    eid = election.election_id
    dealings = _dealings(eid)
    request = pb.PublishTrusteeKeyRequest(election_id=eid, trustee=1, transport_public_key=b"\x02" * 32,
                                          commitment=dealings[1].publish(eid.encode()).to_bytes())
    first = env.v2.PublishTrusteeKey(request, metadata=env.token("tr-ana", "trustee")).key
    again = env.v2.PublishTrusteeKey(request, metadata=env.token("tr-ana", "trustee")).key
    assert first == again and [t.trustee for t in again.trustees] == [1]
    other = _refusal(lambda: _publish(env, eid, 1, dealings[1]))  # a fresh proof: other bytes
    assert (other.code, other.reason) == (grpc.StatusCode.ALREADY_EXISTS, "TRUSTEE_KEY_PUBLISHED")


@pytest.mark.parametrize("encryption, field, reason", [
    ({"threshold": 0}, "encryption.threshold", "THRESHOLD_OUT_OF_RANGE"),
    ({"threshold": 4}, "encryption.threshold", "THRESHOLD_OUT_OF_RANGE"),
    ({"trustee_ids": []}, "encryption.trustee_ids", "TRUSTEE_COUNT"),
    ({"trustee_ids": ["tr-ana", "tr-ana", "tr-cas"]}, "encryption.trustee_ids", "TRUSTEE_TWICE"),
    ({"trustee_ids": ["tr ana", "tr-ben", "tr-cas"]}, "encryption.trustee_ids", "INVALID_ID"),
    ({"mixer_ids": ["service"]}, "encryption.mixer_ids", "MIXER_COUNT"),
    ({"mixer_ids": ["service", "service"]}, "encryption.mixer_ids", "MIXER_TWICE"),
])
def test_a_bad_encryption_setting_is_refused_by_field(env, encryption, field, reason):
    before = _count(env, orm.elections)
    refused = _refusal(lambda: _create(env, **encryption))
    assert (refused.code, refused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert field in refused.field_violations
    assert _count(env, orm.elections) == before


def test_voters_cast_encrypted_ballots_and_the_database_holds_no_choice_in_the_clear(env):
    election, _ = _keyed(env)
    eid = election.election_id
    env.clock.set(DURING)
    key = env.v2.GetElectionKey(pb.GetElectionKeyRequest(election_id=eid), metadata=env.token("v-1", "member")).key
    receipts = []
    for voter, answers in (("v-1", {"board": ["carol", "alice"], "accounts": "yes"}),
                           ("v-2", {"board": ["dave"], "accounts": "no"})):
        raw = _ballot(eid, key.public_key, answers)
        receipts.append(env.v2.CastBallot(pb.CastBallotRequest(election_id=eid, encrypted_ballot=raw),
                                          metadata=env.token(voter, "member")))
    assert all(r.tracker and r.ballot_hash for r in receipts)
    with env.engine.connect() as conn:
        stored = [r.content for r in conn.execute(select(orm.ballots.c.content).where(orm.ballots.c.election_id == eid))]
        dump = " ".join(str(row) for row in conn.execute(text("SELECT * FROM ballots WHERE election_id = :e"), {"e": eid}))
    assert len(stored) == 2 and all('"encrypted_ballot"' in c for c in stored)
    for plain in ("carol", "alice", "dave", '"yes"', '"no"'):
        assert plain not in dump
    turnout = env.v2.GetTurnout(pb.GetTurnoutRequest(election_id=eid), metadata=env.token("admin-1", "admin")).turnout
    assert (turnout.voted, turnout.voted_weight) == (2, 2)
    twice = _refusal(lambda: env.v2.CastBallot(pb.CastBallotRequest(
        election_id=eid, encrypted_ballot=_ballot(eid, key.public_key, {"accounts": "yes"})),
        metadata=env.token("v-1", "member")))
    assert twice.reason == "ALREADY_VOTED"


def _refused_cast(env, eid: str, raw: bytes, voter: str = "v-3", **extra):
    before = (_count(env, orm.ballots), _count(env, orm.voters_who_voted))
    refused = _refusal(lambda: env.v2.CastBallot(pb.CastBallotRequest(election_id=eid, encrypted_ballot=raw, **extra),
                                                 metadata=env.token(voter, "member")))
    assert (_count(env, orm.ballots), _count(env, orm.voters_who_voted)) == before, "something was stored"
    return refused


def test_a_ballot_whose_proofs_fail_is_refused_naming_the_proof_and_nothing_is_stored(env):
    election, _ = _keyed(env)
    eid = election.election_id
    env.clock.set(DURING)
    wrong_key = KeyPair.generate().public.to_bytes()
    refused = _refused_cast(env, eid, _ballot(eid, wrong_key, {"board": ["bob"]}))
    assert (refused.code, refused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "BALLOT_PROOF_FAILED")
    assert refused.metadata["question"] == "board" and refused.metadata["proof"] == "permutation"
    assert refused.metadata["position"] == "" and "encrypted_ballot" in refused.field_violations
    key = env.v2.GetElection(pb.GetElectionRequest(election_id=eid), metadata=env.token("v-3", "member"))
    other_election = _refused_cast(env, eid, _ballot("another-election", key.election.encryption.public_key,
                                                     {"accounts": "yes"}))
    assert (other_election.reason, other_election.metadata["proof"]) == ("BALLOT_PROOF_FAILED", "election")
    malformed = _refused_cast(env, eid, b"\x00\x01not a ballot")
    assert (malformed.code, malformed.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_BALLOT")
    both = _refused_cast(env, eid, b"x", answers=[pb1.Answer(question_id="accounts", resolution="yes")])
    assert (both.code, both.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "ANSWERS_AND_ENCRYPTED_BALLOT")


@pytest.mark.parametrize("role, subject, tenant, code, reason", [
    ("admin", "admin-1", "coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
    ("teller", "t-1", "coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
    ("director", "d-1", "coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
    ("trustee", "tr-ana", "coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
    ("partner", "admin-1", "coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
    ("admin", "admin-9", "partner-coop", grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED"),
    ("member", "v-3", "partner-coop", grpc.StatusCode.NOT_FOUND, "ELECTION_NOT_FOUND"),
])
@pytest.mark.parametrize("ballot", ["valid", "malformed"])
@pytest.mark.parametrize("voter_cast_first", [False, True], ids=["cold", "check-inputs-kept"])
def test_only_a_voter_of_the_tenant_gets_a_ballot_checked_anyone_else_is_refused_first(
        env, role, subject, tenant, code, reason, ballot, voter_cast_first):
    election, _ = _keyed(env)
    eid = election.election_id
    env.clock.set(DURING)
    key = env.v2.GetElection(pb.GetElectionRequest(election_id=eid), metadata=env.token("v-3", "member"))
    if voter_cast_first:  # the api now keeps this election's check inputs: the refusals stay the same
        env.v2.CastBallot(pb.CastBallotRequest(election_id=eid, encrypted_ballot=_ballot(
            eid, key.election.encryption.public_key, {"accounts": "no"})), metadata=env.token("v-1", "member"))
    raw = (_ballot(eid, key.election.encryption.public_key, {"accounts": "yes"}) if ballot == "valid"
           else b"\x00\x01not a ballot")
    before = (_count(env, orm.ballots), _count(env, orm.voters_who_voted))
    refused = _refusal(lambda: env.v2.CastBallot(pb.CastBallotRequest(election_id=eid, encrypted_ballot=raw),
                                                 metadata=env.token(subject, role, tenant=tenant)))
    assert (refused.code, refused.reason) == (code, reason)
    assert (_count(env, orm.ballots), _count(env, orm.voters_who_voted)) == before


def test_answers_in_the_clear_are_refused_by_an_encrypted_election_and_the_reverse(env):
    election, _ = _keyed(env)
    eid = election.election_id
    env.clock.set(DURING)
    before = _count(env, orm.ballots)
    clear = _refusal(lambda: env.v2.CastBallot(pb.CastBallotRequest(
        election_id=eid, answers=[pb1.Answer(question_id="accounts", resolution="yes")]), metadata=env.token("v-4", "member")))
    assert (clear.code, clear.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ENCRYPTED_BALLOT_REQUIRED")
    assert _count(env, orm.ballots) == before
    from elections_svc_helpers import make_election

    plain = make_election(env, voters=("v-9",))
    key = KeyPair.generate().public.to_bytes()
    refused = _refusal(lambda: env.v2.CastBallot(pb.CastBallotRequest(
        election_id=plain.election_id, encrypted_ballot=_ballot(plain.election_id, key, {"accounts": "yes"})),
        metadata=env.token("v-9", "member")))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOT_ENCRYPTED")


def test_a_cast_before_the_key_is_complete_is_refused(env):
    election = _create(env)
    eid = election.election_id
    env.clock.set(DURING)
    refused = _refused_cast(env, eid, _ballot(eid, KeyPair.generate().public.to_bytes(), {"accounts": "yes"}))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ELECTION_KEY_INCOMPLETE")


def test_the_close_leaves_an_encrypted_election_tallying_with_its_ballots_and_results_pending(env):
    election, _ = _keyed(env)
    eid = election.election_id
    admin = env.token("admin-1", "admin")
    env.clock.set(DURING)
    key = env.v2.GetElectionKey(pb.GetElectionKeyRequest(election_id=eid), metadata=admin).key.public_key
    env.v2.CastBallot(pb.CastBallotRequest(election_id=eid, encrypted_ballot=_ballot(eid, key, {"accounts": "no"})),
                      metadata=env.token("v-1", "member"))
    paper = _refusal(lambda: env.v2.EnterPaperBallot(pb.EnterPaperBallotRequest(
        election_id=eid, paper_id="paper-1", answers=[pb1.Answer(question_id="accounts", resolution="yes")]),
        metadata=env.token("t-1", "teller")))
    assert (paper.code, paper.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PAPER_BALLOT_IN_ENCRYPTED_ELECTION")
    env.clock.set(AFTER)
    closed = env.v2.CloseElection(pb.CloseElectionRequest(election_id=eid), metadata=admin)
    assert closed.status == pb1.ELECTION_STATUS_TALLYING and list(closed.results.questions) == []
    again = env.v2.CloseElection(pb.CloseElectionRequest(election_id=eid), metadata=admin)
    assert again.status == pb1.ELECTION_STATUS_TALLYING
    state = env.v2.GetElection(pb.GetElectionRequest(election_id=eid), metadata=admin).election
    assert state.status == pb1.ELECTION_STATUS_TALLYING
    pending = _refusal(lambda: env.v2.GetResults(pb.GetResultsRequest(election_id=eid), metadata=admin))
    assert (pending.code, pending.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TALLY_PENDING")
    with env.engine.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(orm.ballots).where(orm.ballots.c.election_id == eid))
        assert kept.scalar_one() == 1  # the ciphertexts stay for the mixes
    late = _refusal(lambda: env.v2.CastBallot(pb.CastBallotRequest(
        election_id=eid, encrypted_ballot=_ballot(eid, key, {"accounts": "no"})), metadata=env.token("v-2", "member")))
    assert late.reason == "VOTING_NOT_OPEN"


def _election_reads(env, cast) -> int:
    """How many statements read the elections table while `cast` runs (on any engine: the api
    reads through its read engine and writes through the other)."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM elections" in statement:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        cast()
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    return len(seen)


def test_an_open_elections_check_inputs_are_read_once_then_only_the_batch_reads_it(env):
    election, _ = _keyed(env)
    eid = election.election_id
    env.clock.set(DURING)
    key = env.v2.GetElectionKey(pb.GetElectionKeyRequest(election_id=eid), metadata=env.token("v-1", "member")).key

    def cast(voter: str):
        raw = _ballot(eid, key.public_key, {"board": ["bob"], "accounts": "yes"})
        return lambda: env.v2.CastBallot(pb.CastBallotRequest(election_id=eid, encrypted_ballot=raw),
                                         metadata=env.token(voter, "member"))

    first, second, third = (_election_reads(env, cast(v)) for v in ("v-1", "v-2", "v-3"))
    assert first == second + 1 == third + 1  # the check's read, then the batch's alone
    assert _refused_cast(env, eid, b"\x00not a ballot", voter="v-4").reason == "MALFORMED_BALLOT"


def test_a_cast_tried_during_nominations_does_not_freeze_the_candidates_its_ballot_was_checked_against(env):
    admin = env.token("admin-1", "admin")
    env.clock.set(datetime(2027, 4, 12, tzinfo=UTC))
    election = env.v2.CreateElection(pb.CreateElectionRequest(
        texts=texts(), questions=[board_question(candidates=(), seats=1, method=pb1.METHOD_PLURALITY)],
        window=pb1.VotingWindowSpec(opens_at=OPENS, assembly_day=ASSEMBLY, closes_local="17:00"),
        nominations_open="2027-04-10T00:00:00+00:00", nominations_close="2027-04-25T00:00:00+00:00",
        encryption=pb1.EncryptionSettings(threshold=2, trustee_ids=list(TRUSTEES), mixer_ids=["service", "observers"])),
        metadata=admin).election
    eid = election.election_id
    env.v2.ImportVoterRoll(pb.ImportVoterRollRequest(
        election_id=eid, voters=[pb1.VoterEntry(voter_id=v) for v in (*VOTERS, "c1", "c2")]), metadata=admin)
    for i, dealing in _dealings(eid).items():
        _publish(env, eid, i, dealing)

    def submit(candidate: str) -> None:
        env.stub.SubmitCandidacy(pb1.SubmitCandidacyRequest(
            election_id=eid, question_id="board", statement=[pb1.LocalizedText(language="en", description="hi")]),
            metadata=env.token(candidate, "member"))

    def ballot(choice: str) -> bytes:
        key = env.v2.GetElectionKey(pb.GetElectionKeyRequest(election_id=eid), metadata=env.token("v-1", "member")).key
        published = PublishedElection(definition_from_json(json.loads(key.election_json)),
                                      Element.from_bytes(key.public_key))
        return prepare_ballot(published, {"board": [choice]}).ballot.to_bytes()

    submit("c1")
    early = _refused_cast(env, eid, ballot("c1"), voter="v-1")  # checked against [c1], then too early
    assert early.reason == "VOTING_NOT_OPEN"
    submit("c2")
    env.clock.set(DURING)
    receipt = env.v2.CastBallot(pb.CastBallotRequest(election_id=eid, encrypted_ballot=ballot("c2")),
                                metadata=env.token("v-1", "member"))
    assert receipt.tracker  # checked against [c1, c2], the definition voting opened with
