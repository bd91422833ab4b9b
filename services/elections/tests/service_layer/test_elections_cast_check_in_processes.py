"""CastBallot's proof check runs in the api's pool of spawned processes (trustees.
check_encrypted_ballot over the servicer's mapper): the definition, key and bytes cross to a
worker and the verdict comes back, with the same answers as a check in the request's thread:
the stored content of a valid ballot, MALFORMED_BALLOT or BALLOT_PROOF_FAILED naming the proof."""

from __future__ import annotations

import pytest

from coop_domain.errors import InvalidArgument
from coop_elections.client import PublishedElection, prepare_ballot
from coop_elections.domain.crypto.box import stored_content
from coop_elections.domain.crypto.elgamal import KeyPair
from coop_elections.domain.model import ElectionDefinition, Method, Question
from coop_elections.service_layer.trustees import check_encrypted_ballot
from coop_platform.processes import LazyProcessPool

DEFINITION = ElectionDefinition("e-pool", (Question("board", Method.STV, ("alice", "bob", "carol"), seats=2),
                                           Question("accounts", Method.RESOLUTION)), tie_break_seed="unused")
KEY = KeyPair.generate().public


@pytest.fixture(scope="module")
def pool():
    spawned = LazyProcessPool(2)
    yield spawned
    spawned.shutdown()


class Recording:
    """The pool's map, noting which function each call sent to the workers."""

    def __init__(self, pool: LazyProcessPool) -> None:
        self.pool, self.sent = pool, []

    def __call__(self, fn, *iterables):
        self.sent.append(fn.__name__)
        return self.pool.map(fn, *iterables)


def _ballot(key=KEY, answers=None) -> bytes:
    election = PublishedElection(DEFINITION, key)
    return prepare_ballot(election, answers or {"board": ["bob", "alice"], "accounts": "no"}).ballot.to_bytes()


def test_a_valid_ballot_is_checked_in_a_worker_and_its_stored_content_returned(pool):
    raw, mapper = _ballot(), Recording(pool)
    assert check_encrypted_ballot(DEFINITION, KEY, raw, mapper) == stored_content(raw)
    assert mapper.sent == ["ballot_verdict"]


def test_a_ballot_under_another_key_fails_in_the_worker_naming_the_proof(pool):
    with pytest.raises(InvalidArgument) as refused:
        check_encrypted_ballot(DEFINITION, KEY, _ballot(KeyPair.generate().public), pool.map)
    assert refused.value.reason == "BALLOT_PROOF_FAILED"
    assert (refused.value.detail["question"], refused.value.detail["proof"]) == ("board", "permutation")


def test_bytes_that_are_no_ballot_are_refused_as_malformed_from_the_worker(pool):
    with pytest.raises(InvalidArgument) as refused:
        check_encrypted_ballot(DEFINITION, KEY, b"\x00\x01not a ballot", pool.map)
    assert refused.value.reason == "MALFORMED_BALLOT" and refused.value.field == "encrypted_ballot"


@pytest.mark.parametrize("raw", [_ballot(), _ballot(KeyPair.generate().public), b"junk"])
def test_the_pool_and_the_request_thread_give_the_same_verdict(pool, raw):
    def outcome(mapper):
        try:
            return check_encrypted_ballot(DEFINITION, KEY, raw, mapper)
        except InvalidArgument as exc:
            return exc.reason, exc.message, exc.detail

    assert outcome(pool.map) == outcome(map)
