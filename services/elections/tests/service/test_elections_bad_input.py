"""Property-based bad input: never UNKNOWN or INTERNAL, and a refused call writes nothing."""

from __future__ import annotations

import uuid

import grpc
import pytest
from elections_svc_helpers import board_question, create_request, make_election
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop.elections.v1 import elections_pb2 as pb

pytestmark = pytest.mark.postgres
SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
BUGS = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}

junk = st.text(max_size=30) | st.sampled_from(["", " ", "\x00", "a" * 300, "fr", "nl", "en", "1/2", "2/3",
                                                "-1", "2027-05-15", "17:00", "Europe/Brussels",
                                                "2027-05-01T08:00:00+00:00", "0001-01-01T00:00:00+14:00",
                                                "9999-12-31", "9999-12-31T23:59:59-12:00", "../etc", "alice"])
ints = st.integers(min_value=-(2**31), max_value=2**31 - 1)
bigints = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@pytest.fixture(scope="module")
def targets(env):
    open_e = make_election(env, ["v1", "v2", "v3"], max_proxies_held=2, allow_revote=True)
    draft = make_election(env, [], opens_at="2027-05-20T08:00:00+00:00", assembly_day="2027-05-30")
    other = make_election(env, ["v1"], tenant="partner-x", admin_role="partner")
    nominations = make_election(
        env, ["v1", "v2"], questions=[board_question(candidates=(), seats=2)],
        nominations_open="2027-04-01T00:00:00+00:00", nominations_close="2027-04-30T00:00:00+00:00")
    return [open_e.election_id, draft.election_id, other.election_id, nominations.election_id]


def election_ids(targets):
    return st.sampled_from(targets) | st.just(str(uuid.uuid4())) | junk


def texts():
    return st.lists(st.builds(pb.LocalizedText, language=junk, title=junk, description=junk), max_size=4)


def answers():
    return st.lists(st.builds(pb.Answer, question_id=st.sampled_from(["board", "accounts"]) | junk,
                              choices=st.lists(st.sampled_from(["alice", "bob", "carol", "dave"]) | junk, max_size=5),
                              resolution=st.sampled_from(["yes", "no", "abstain"]) | junk), max_size=4)


def questions():
    return st.lists(st.builds(
        pb.QuestionSpec, question_id=st.sampled_from(["q1", "q2"]) | junk, method=st.integers(-1, 7),
        texts=texts(), candidates=st.lists(junk, max_size=4), seats=ints, mandate_years=ints,
        majority=junk, majority_strict=st.booleans(), quorum_count=bigints, quorum_fraction=junk), max_size=3)


def check(env, call, metadata):
    before = env.counts()
    try:
        call(metadata)
    except grpc.RpcError as exc:
        assert exc.code() not in BUGS, exc.details()
        assert env.counts() == before, f"a refused call ({exc.code()}) wrote something"


def manager(env):
    return env.token("admin-1", "admin")


def test_create_election_all_fields_random(env):
    @SETTINGS
    @given(st.builds(pb.CreateElectionRequest, texts=texts(), questions=questions(),
                     window=st.builds(pb.VotingWindowSpec, opens_at=junk, assembly_day=junk, closes_local=junk,
                                      time_zone=junk),
                     roll_cutoff=junk, allow_revote=st.booleans(), max_proxies_held=ints,
                     nominations_open=junk, nominations_close=junk, max_permanent_staff_seats=ints))
    def run(request):
        check(env, lambda md: env.stub.CreateElection(request, metadata=md), manager(env))
    run()


WINDOW_FIELDS = ["opens_at", "assembly_day", "closes_local", "time_zone"]
TOP_FIELDS = ["roll_cutoff", "nominations_open", "nominations_close"]
QUESTION_FIELDS = ["question_id", "majority", "quorum_fraction", "candidates", "seats", "mandate_years",
                   "quorum_count", "method"]


def test_create_election_one_bad_field(env):
    """A valid request with one field replaced: reaches every check deep in the domain."""
    @SETTINGS
    @given(st.sampled_from(WINDOW_FIELDS + TOP_FIELDS + QUESTION_FIELDS), junk, bigints)
    def run(name, text, number):
        request = create_request()
        if name in WINDOW_FIELDS:
            setattr(request.window, name, text)
        elif name in TOP_FIELDS:
            setattr(request, name, text)
            if name.startswith("nominations"):
                other = "nominations_close" if name == "nominations_open" else "nominations_open"
                setattr(request, other, "2027-04-10T00:00:00+00:00")
        else:
            q = request.questions[0 if name != "majority" else 1]
            if name == "candidates":
                q.candidates.append(text)
            elif name in ("seats", "mandate_years", "method"):
                setattr(q, name, max(-(2**31), min(2**31 - 1, number)))
            elif name == "quorum_count":
                q.quorum_count = number
            else:
                setattr(q, name, text)
        check(env, lambda md: env.stub.CreateElection(request, metadata=md), manager(env))
    run()


def test_import_roll(env, targets):
    @SETTINGS
    @given(election_ids(targets), st.lists(st.builds(pb.VoterEntry, voter_id=junk, weight=bigints), max_size=5))
    def run(eid, voters):
        req = pb.ImportVoterRollRequest(election_id=eid, voters=voters)
        check(env, lambda md: env.stub.ImportVoterRoll(req, metadata=md), manager(env))
    run()


def test_cast_ballot(env, targets):
    @SETTINGS
    @given(election_ids(targets), answers(), junk, junk, junk, st.sampled_from(["v1", "v2", "v3", "zz"]) | junk)
    def run(eid, ans, tracker, code, behalf, voter):
        req = pb.CastBallotRequest(election_id=eid, answers=ans, previous_tracker=tracker,
                                   previous_revote_code=code, on_behalf_of=behalf)
        check(env, lambda md: env.stub.CastBallot(req, metadata=md), env.token(voter or "x", "member"))
    run()


def test_teller_calls(env, targets):
    @SETTINGS
    @given(election_ids(targets), junk, answers(), st.booleans())
    def run(eid, some_id, ans, sign):
        md = env.token("teller-1", "teller")
        if sign:
            req = pb.SignInPersonRegisterRequest(election_id=eid, voter_id=some_id)
            check(env, lambda m: env.stub.SignInPersonRegister(req, metadata=m), md)
        else:
            req = pb.EnterPaperBallotRequest(election_id=eid, paper_id=some_id, answers=ans)
            check(env, lambda m: env.stub.EnterPaperBallot(req, metadata=m), md)
    run()


def test_member_calls(env, targets):
    @SETTINGS
    @given(election_ids(targets), junk, texts(), st.integers(0, 4))
    def run(eid, other, statement, which):
        md = env.token("v1", "member")
        calls = [
            lambda m: env.stub.GiveProxy(pb.GiveProxyRequest(election_id=eid, holder_id=other), metadata=m),
            lambda m: env.stub.RevokeProxy(pb.ElectionRef(election_id=eid), metadata=m),
            lambda m: env.stub.SubmitCandidacy(pb.SubmitCandidacyRequest(
                election_id=eid, question_id=other, statement=statement), metadata=m),
            lambda m: env.stub.WithdrawCandidacy(pb.CandidacyRef(election_id=eid, question_id=other), metadata=m),
            lambda m: env.stub.ListCandidacies(pb.ListCandidaciesRequest(election_id=eid, question_id=other),
                                               metadata=m),
        ]
        check(env, calls[which], md)
    run()


def test_reads_and_admin_calls(env, targets):
    @SETTINGS
    @given(election_ids(targets) | st.just(str(uuid.uuid4())), ints, st.integers(0, 9))
    def run(eid, size, which):
        ref = pb.ElectionRef(election_id=eid if which not in (7, 8) else str(uuid.uuid4()))
        calls = [
            lambda m: env.stub.GetElection(ref, metadata=m),
            lambda m: env.stub.ListElections(pb.ListElectionsRequest(page_size=size), metadata=m),
            lambda m: env.stub.GetVoterRoll(ref, metadata=m),
            lambda m: env.stub.CheckMyRollEntry(ref, metadata=m),
            lambda m: env.stub.GetTurnout(ref, metadata=m),
            lambda m: env.stub.GetResults(ref, metadata=m),
            lambda m: env.stub.GetPublishedBox(ref, metadata=m),
            lambda m: env.stub.OpenElection(ref, metadata=m),
            lambda m: env.stub.CloseElection(ref, metadata=m),
            lambda m: env.stub.FreezeVoterRoll(pb.ElectionRef(election_id=str(uuid.uuid4())), metadata=m),
        ]
        check(env, calls[which], manager(env))
    run()
