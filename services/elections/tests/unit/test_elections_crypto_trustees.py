"""Trustees' k-of-n key and threshold decryption: honest boards decrypt, cheaters are named.

Each ceremony here runs the protocol of docs/elections.md, "Trustees: threshold key and
decryption", among trustees simulated in memory: dealings stay in the test (as they would stay
on each trustee's machine), only commitments, complaints, answers and decryption shares are
handed to the functions a third party would run.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from dataclasses import dataclass

import pytest

from coop_elections.domain.crypto.elgamal import Ciphertext, add_all, encrypt
from coop_elections.domain.crypto.group import G, Scalar, random_scalar
from coop_elections.domain.crypto.proofs import SchnorrProof
from coop_elections.domain.crypto.trustees import (
    DECRYPTION_CONTEXT_LABEL,
    KEY_CONTEXT_LABEL,
    Complaint,
    Dealing,
    DecryptionShare,
    NotEnoughDecryptionShares,
    Qualification,
    Threshold,
    TrusteeCommitment,
    TrusteeKeyShare,
    check_shares,
    combine_decryption_shares,
    combine_shares,
    decryption_context,
    joint_public_key,
    key_context,
    lagrange_at_zero,
    partial_decrypt,
    qualify,
    threshold_decrypt,
    verify_decryption_share,
    verify_share,
)

ELECTION = b"election:6f1c2a"
ONE = Scalar.from_int(1)


@dataclass
class Ceremony:
    threshold: Threshold
    dealings: dict[int, Dealing]
    published: list[TrusteeCommitment]
    sent: dict[int, dict[int, Scalar]]  # recipient -> sender -> share
    qualification: Qualification
    key_shares: dict[int, TrusteeKeyShare]

    @property
    def public_key(self):
        return self.qualification.public_key

    def decryption_shares(self, ciphertext: Ciphertext, trustees=None) -> list[DecryptionShare]:
        chosen = self.key_shares if trustees is None else trustees
        return [partial_decrypt(self.key_shares[t], ciphertext, ELECTION) for t in chosen]


def _ceremony(k: int, n: int, *, published_by=None, sent_by=None) -> Ceremony:
    """Run key generation; published_by / sent_by let a test make one trustee cheat."""
    threshold = Threshold(k, n)
    dealings = {i: Dealing.generate(i, threshold) for i in threshold.trustees}
    published = [(published_by or {}).get(i, lambda d: d.publish(ELECTION))(dealings[i])
                 for i in threshold.trustees]
    published = [p for p in published if p is not None]
    sent = {t: {i: (sent_by or {}).get((i, t), lambda d, r: d.share_for(r))(dealings[i], t)
                for i in threshold.trustees}
            for t in threshold.trustees}
    by_trustee = {p.trustee: p for p in published}
    complaints = [c for t in threshold.trustees for c in check_shares(t, sent[t], by_trustee)]
    # Each accused sender answers with the share it really computed (an honest answer).
    answers = {c: dealings[c.sender].share_for(c.recipient) for c in complaints}
    qualification = qualify(published, threshold, ELECTION, complaints, answers)
    for c in complaints:  # a dismissed complaint: the recipient takes the published answer
        if c.sender in qualification.qualified:
            sent[c.recipient][c.sender] = answers[c]
    key_shares = {t: combine_shares(t, sent[t], qualification) for t in threshold.trustees}
    return Ceremony(threshold, dealings, published, sent, qualification, key_shares)


def _votes_ciphertext(ceremony: Ceremony, votes=(1, 0, 1, 1, 0, 1, 1)) -> Ciphertext:
    return add_all(encrypt(v, ceremony.public_key, random_scalar()) for v in votes)


def _lagrange_secret(shares: dict[int, Scalar]) -> Scalar:
    """Interpolation at 0 (test-side only: the module never forms the joint secret)."""
    total = Scalar.from_int(0)
    for t, x in shares.items():
        total = total + x * lagrange_at_zero(t, shares)
    return total


def _sum_elements(elements):
    total = None
    for e in elements:
        total = e if total is None else total + e
    return total


def _sum_scalars(scalars):
    total = Scalar.from_int(0)
    for s in scalars:
        total = total + s
    return total


@pytest.fixture(scope="module")
def board() -> Ceremony:
    return _ceremony(3, 5)


# --- key generation --------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(3, 5), (2, 3)])
def test_honest_trustees_generate_a_k_of_n_key_end_to_end(k, n):
    ceremony = _ceremony(k, n)
    q = ceremony.qualification
    assert list(q.qualified) == list(range(1, n + 1)) and q.disqualified == {}
    assert all(len(p.coefficients) == k for p in ceremony.published)
    for t, key_share in ceremony.key_shares.items():
        assert key_share.public == G * key_share.secret == q.verification_key(t)
    ciphertext = _votes_ciphertext(ceremony, votes=(1, 1, 0))
    shares = ceremony.decryption_shares(ciphertext, range(n - k + 1, n + 1))
    assert threshold_decrypt(ciphertext, shares, q, bound=10) == 2


def test_every_share_sent_by_an_honest_dealer_passes_the_feldman_check(board):
    for (i, commitment), t in itertools.product(enumerate(board.published, 1), range(1, 6)):
        assert verify_share(commitment, t, board.dealings[i].share_for(t))
        assert not verify_share(commitment, t, board.dealings[i].share_for(t) + ONE)
    assert all(check_shares(t, board.sent[t], board.qualification.qualified) == ()
               for t in range(1, 6))


def test_a_third_party_recomputes_the_joint_key_the_trustees_use(board):
    shuffled = list(board.published)
    random.shuffle(shuffled)
    recomputed = joint_public_key(shuffled, Threshold(3, 5), ELECTION)
    assert recomputed == board.public_key
    c_i0 = [p.coefficients[0] for p in board.published]
    assert recomputed == c_i0[0] + c_i0[1] + c_i0[2] + c_i0[3] + c_i0[4]


def test_a_third_party_recomputes_each_trustees_verification_key_from_the_commitments(board):
    q = qualify(board.published, Threshold(3, 5), ELECTION)
    for t, key_share in board.key_shares.items():
        expected = None
        for p in board.published:  # prod_i prod_j C_ij^(l^j), written out
            for j, c in enumerate(p.coefficients):
                term = c * Scalar.from_int(t**j)
                expected = term if expected is None else expected + term
        assert q.verification_key(t) == expected == key_share.public


def test_the_proofs_of_knowledge_are_bound_to_the_documented_context_bytes():
    assert key_context(ELECTION, 3) == (
        len(KEY_CONTEXT_LABEL).to_bytes(8, "big") + KEY_CONTEXT_LABEL
        + len(ELECTION).to_bytes(8, "big") + ELECTION + (4).to_bytes(8, "big") + b"\0\0\0\3")
    assert KEY_CONTEXT_LABEL == b"coopgov/elections/v1/trustee/key"
    dealing = Dealing.generate(3, Threshold(3, 5))
    commitment = dealing.publish(ELECTION)
    assert commitment.proof.verify(commitment.public, key_context(ELECTION, 3))
    assert not commitment.proof.verify(commitment.public, key_context(ELECTION, 2))
    assert not commitment.proof.verify(commitment.public, key_context(b"election:other", 3))


# --- cheating at key generation --------------------------------------------------------------


def _bad_share(dealing: Dealing, recipient: int) -> Scalar:
    return dealing.share_for(recipient) + ONE


def test_a_bad_share_sent_to_one_trustee_is_caught_by_its_check_and_names_the_sender():
    threshold = Threshold(3, 5)
    dealings = {i: Dealing.generate(i, threshold) for i in threshold.trustees}
    published = {i: d.publish(ELECTION) for i, d in dealings.items()}
    received = {i: d.share_for(4) for i, d in dealings.items()}
    received[2] = _bad_share(dealings[2], 4)
    assert check_shares(4, received, published) == (Complaint(sender=2, recipient=4),)
    del received[5]  # a share never sent is a complaint too
    assert check_shares(4, received, published) == (Complaint(2, 4), Complaint(5, 4))
    with pytest.raises(ValueError, match=r"trustee 4 has no valid share from trustees \[2, 5\]"):
        combine_shares(4, received, qualify(published.values(), threshold, ELECTION))


def test_an_unanswered_complaint_disqualifies_the_sender_and_the_key_is_formed_from_the_others():
    threshold = Threshold(3, 5)
    dealings = {i: Dealing.generate(i, threshold) for i in threshold.trustees}
    published = [d.publish(ELECTION) for d in dealings.values()]
    complaint = Complaint(sender=2, recipient=4)
    q = qualify(published, threshold, ELECTION, [complaint])
    assert list(q.qualified) == [1, 3, 4, 5]
    assert "complaint" in q.disqualified[2]
    # a wrong answer (the bad share again) does not clear the sender either
    wrong = qualify(published, threshold, ELECTION, [complaint],
                    {complaint: _bad_share(dealings[2], 4)})
    assert list(wrong.qualified) == [1, 3, 4, 5]
    assert q.public_key == _sum_elements(published[i - 1].public for i in (1, 3, 4, 5))


def test_a_bad_share_answered_correctly_keeps_the_sender_and_the_board_still_decrypts():
    ceremony = _ceremony(3, 5, sent_by={(2, 4): _bad_share})
    assert list(ceremony.qualification.qualified) == [1, 2, 3, 4, 5]
    ciphertext = _votes_ciphertext(ceremony)
    shares = ceremony.decryption_shares(ciphertext, [2, 4, 5])
    assert threshold_decrypt(ciphertext, shares, ceremony.qualification, bound=10) == 5


def test_a_sender_who_does_not_answer_is_out_and_the_remaining_key_still_decrypts():
    threshold = Threshold(3, 5)
    dealings = {i: Dealing.generate(i, threshold) for i in threshold.trustees}
    published = [d.publish(ELECTION) for d in dealings.values()]
    sent = {t: {i: d.share_for(t) for i, d in dealings.items()} for t in threshold.trustees}
    sent[4][2] = _bad_share(dealings[2], 4)
    complaints = [c for t in threshold.trustees
                  for c in check_shares(t, sent[t], {p.trustee: p for p in published})]
    q = qualify(published, threshold, ELECTION, complaints)  # trustee 2 stays silent
    assert list(q.qualified) == [1, 3, 4, 5] and list(q.disqualified) == [2]
    key_shares = {t: combine_shares(t, sent[t], q) for t in threshold.trustees}  # 2 included
    ciphertext = add_all(encrypt(v, q.public_key, random_scalar()) for v in (1, 1, 1, 0))
    shares = [partial_decrypt(key_shares[t], ciphertext, ELECTION) for t in (1, 2, 3)]
    assert threshold_decrypt(ciphertext, shares, q, bound=10) == 3  # 2 still holds a key share


def _with_bad_proof(dealing: Dealing) -> TrusteeCommitment:
    honest = dealing.publish(ELECTION)
    return dataclasses.replace(honest, proof=SchnorrProof.prove(random_scalar(),
                                                                key_context(ELECTION, 2)))


def _with_proof_from_another_election(dealing: Dealing) -> TrusteeCommitment:
    return dataclasses.replace(dealing.publish(ELECTION),
                               proof=dealing.publish(b"election:other").proof)


def _one_commitment_short(dealing: Dealing) -> TrusteeCommitment:
    honest = dealing.publish(ELECTION)
    return dataclasses.replace(honest, coefficients=honest.coefficients[:-1])


def _one_commitment_too_many(dealing: Dealing) -> TrusteeCommitment:
    honest = dealing.publish(ELECTION)
    return dataclasses.replace(honest, coefficients=(*honest.coefficients, G * random_scalar()))


@pytest.mark.parametrize(("cheat", "reason"), [
    (_with_bad_proof, "bad proof of knowledge"),
    (_with_proof_from_another_election, "bad proof of knowledge"),
    (_one_commitment_short, "3 commitments expected, 2 published"),
    (_one_commitment_too_many, "3 commitments expected, 4 published"),
    (lambda dealing: None, "published no commitments"),
])
def test_a_trustee_with_bad_commitments_is_disqualified_and_the_key_is_formed_from_the_others(
        cheat, reason):
    ceremony = _ceremony(3, 5, published_by={2: cheat})
    q = ceremony.qualification
    assert list(q.qualified) == [1, 3, 4, 5]
    assert reason in q.disqualified[2]
    honest = [p for p in ceremony.published if p.trustee != 2]
    assert q.public_key == _sum_elements(p.public for p in honest)
    assert joint_public_key(ceremony.published, Threshold(3, 5), ELECTION) == q.public_key
    # trustee 2 keeps a key share of the others' polynomials and can still take part
    ciphertext = _votes_ciphertext(ceremony)
    assert threshold_decrypt(ciphertext, ceremony.decryption_shares(ciphertext, [2, 3, 5]), q,
                             bound=10) == 5


def test_copying_another_trustees_commitments_under_ones_own_index_is_disqualified(board):
    copied = dataclasses.replace(board.published[0], trustee=2)  # proof is bound to trustee 1
    published = [board.published[0], copied, *board.published[2:]]
    q = qualify(published, Threshold(3, 5), ELECTION)
    assert list(q.disqualified) == [2] and "proof of knowledge" in q.disqualified[2]


def test_a_trustee_publishing_two_different_sets_of_commitments_is_disqualified(board):
    again = board.dealings[3].publish(ELECTION)  # a fresh proof: a different publication
    q = qualify([*board.published, again], Threshold(3, 5), ELECTION)
    assert list(q.qualified) == [1, 2, 4, 5]
    assert "more than one" in q.disqualified[3]


def test_commitments_under_an_index_outside_the_board_are_ignored(board):
    stranger = Dealing.generate(6, Threshold(3, 6)).publish(ELECTION)
    q = qualify([*board.published, stranger], Threshold(3, 5), ELECTION)
    assert q.public_key == board.public_key and 6 not in q.disqualified


# --- threshold decryption --------------------------------------------------------------------


def test_every_3_of_5_subset_decrypts_the_homomorphic_sum_to_the_same_total(board):
    votes = (1, 0, 1, 1, 0, 1, 1)
    ciphertext = _votes_ciphertext(board, votes)
    all_shares = {s.trustee: s for s in board.decryption_shares(ciphertext)}
    expected = G * Scalar.from_int(sum(votes))
    for subset in itertools.combinations(range(1, 6), 3):
        shares = [all_shares[t] for t in subset]
        assert combine_decryption_shares(ciphertext, shares, board.qualification) == expected
        assert threshold_decrypt(ciphertext, shares, board.qualification, bound=7) == sum(votes)
    assert threshold_decrypt(ciphertext, all_shares.values(), board.qualification, 7) == 5


def test_a_trustee_withholding_its_share_does_not_stop_the_other_k(board):
    ciphertext = _votes_ciphertext(board)
    shares = board.decryption_shares(ciphertext, [1, 2, 4, 5])  # trustee 3 stays away
    assert threshold_decrypt(ciphertext, shares, board.qualification, bound=10) == 5


def test_fewer_than_k_shares_raise_an_error_naming_the_missing_trustees(board):
    ciphertext = _votes_ciphertext(board)
    with pytest.raises(NotEnoughDecryptionShares) as raised:
        combine_decryption_shares(ciphertext, board.decryption_shares(ciphertext, [2, 5]),
                                  board.qualification)
    error = raised.value
    assert (error.needed, error.valid, error.missing, error.rejected) == (3, (2, 5), (1, 3, 4), ())
    assert "missing: trustees [1, 3, 4]" in str(error)
    assert isinstance(error, ValueError)


def _tamper_share(share: DecryptionShare) -> DecryptionShare:
    return dataclasses.replace(share, share=share.share + G)


def _tamper_proof(share: DecryptionShare) -> DecryptionShare:
    proof = dataclasses.replace(share.proof, response=share.proof.response + ONE)
    return dataclasses.replace(share, proof=proof)


@pytest.mark.parametrize("tamper", [_tamper_share, _tamper_proof])
def test_a_tampered_decryption_share_is_rejected_and_names_its_trustee(board, tamper):
    ciphertext = _votes_ciphertext(board)
    shares = board.decryption_shares(ciphertext, [1, 3, 4])
    shares[1] = tamper(shares[1])
    assert not verify_decryption_share(shares[1], ciphertext, board.qualification)
    with pytest.raises(NotEnoughDecryptionShares) as raised:
        combine_decryption_shares(ciphertext, shares, board.qualification)
    assert raised.value.rejected == (3,) and raised.value.missing == (2, 5)
    assert "proof failed: trustees [3]" in str(raised.value)
    # with a fourth honest share, the bad one is set aside and the tally still comes out
    extra = board.decryption_shares(ciphertext, [5])
    assert threshold_decrypt(ciphertext, shares + extra, board.qualification, bound=10) == 5


def test_a_share_is_checked_against_the_key_of_the_trustee_it_claims_to_come_from(board):
    ciphertext = _votes_ciphertext(board)
    share = board.decryption_shares(ciphertext, [1])[0]
    assert verify_decryption_share(share, ciphertext, board.qualification)
    assert not verify_decryption_share(dataclasses.replace(share, trustee=2), ciphertext,
                                       board.qualification)
    assert not verify_decryption_share(dataclasses.replace(share, trustee=9), ciphertext,
                                       board.qualification)


def test_a_decryption_share_does_not_verify_for_another_ciphertext_or_election(board):
    ciphertext = _votes_ciphertext(board)
    share = board.decryption_shares(ciphertext, [1])[0]
    # same a, another b: the proof's context holds the whole ciphertext
    other_b = Ciphertext(ciphertext.a, ciphertext.b + G)
    assert not verify_decryption_share(share, other_b, board.qualification)
    elsewhere = dataclasses.replace(board.qualification, election_id=b"election:other")
    assert not verify_decryption_share(share, ciphertext, elsewhere)


def test_the_decryption_context_is_the_documented_bytes(board):
    ciphertext = _votes_ciphertext(board)
    parts = (DECRYPTION_CONTEXT_LABEL, ELECTION, (5).to_bytes(4, "big"), ciphertext.to_bytes())
    assert decryption_context(ELECTION, 5, ciphertext) == b"".join(
        len(p).to_bytes(8, "big") + p for p in parts)
    assert DECRYPTION_CONTEXT_LABEL == b"coopgov/elections/v1/trustee/decryption-share"


# --- the joint secret ------------------------------------------------------------------------


def test_the_joint_secret_needs_k_key_shares_and_is_never_formed_by_the_protocol(monkeypatch):
    seen: set[bytes] = set()
    original = Scalar._of

    def recording(cls, data: bytes) -> Scalar:
        seen.add(data)
        return original(data)

    monkeypatch.setattr(Scalar, "_of", classmethod(recording))
    ceremony = _ceremony(3, 5)
    ciphertext = _votes_ciphertext(ceremony)
    assert threshold_decrypt(ciphertext, ceremony.decryption_shares(ciphertext),
                             ceremony.qualification, bound=10) == 5
    monkeypatch.undo()

    secrets = {t: ks.secret for t, ks in ceremony.key_shares.items()}
    joint = _lagrange_secret({t: secrets[t] for t in (1, 2, 3)})
    assert G * joint == ceremony.public_key
    # the protocol produced every scalar above, and not once the joint secret
    assert joint.to_bytes() not in seen
    assert len(seen) > 100
    for subset in itertools.combinations(secrets, 3):
        assert _lagrange_secret({t: secrets[t] for t in subset}) == joint
    for subset in itertools.combinations(secrets, 2):
        assert G * _lagrange_secret({t: secrets[t] for t in subset}) != ceremony.public_key
    # k-1 shares do not determine it: through the shares at 1 and 2 and any candidate z at 0
    # passes a polynomial of degree k-1; only a k-th point (here X_3, public) tells them apart.
    for z, is_the_secret in [(joint, True), (random_scalar(), False), (random_scalar(), False)]:
        points = {0: z, 1: secrets[1], 2: secrets[2]}
        for x in (1, 2):
            assert _interpolate(points, x) == secrets[x]
        assert (G * _interpolate(points, 3) == ceremony.qualification.verification_key(3)) \
            is is_the_secret


def _interpolate(points: dict[int, Scalar], x: int) -> Scalar:
    """f(x) for the polynomial through the given points (test-side Lagrange interpolation)."""
    total = Scalar.from_int(0)
    for index, value in points.items():
        weight = Scalar.from_int(1)
        for j in points:
            if j != index:
                weight = weight * (Scalar.from_int(x) - Scalar.from_int(j)) * (
                    Scalar.from_int(index) - Scalar.from_int(j)).invert()
        total = total + value * weight
    return total


def test_lagrange_coefficients_at_zero_add_up_to_one_over_any_set():
    for subset in [(1, 2, 3), (2, 4, 5), (1, 5)]:
        assert _sum_scalars(lagrange_at_zero(t, subset) for t in subset) == ONE


def test_a_threshold_is_at_least_1_and_at_most_n():
    for k, n in [(0, 3), (4, 3), (1, 0)]:
        with pytest.raises(ValueError):
            Threshold(k, n)
    assert list(Threshold(1, 1).trustees) == [1]
    with pytest.raises(ValueError):
        Dealing.generate(6, Threshold(3, 5))
