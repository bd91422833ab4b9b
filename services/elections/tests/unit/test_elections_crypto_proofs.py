"""Zero-knowledge proofs: honest ones verify, any single change is caught, lies cannot be proved.

The Fiat-Shamir challenges are also recomputed here from the byte layout documented in
docs/elections.md, with hashlib and Python integers only, so the documentation and the code
cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop_elections.domain.crypto.elgamal import (
    Ciphertext,
    KeyPair,
    add_all,
    decryption_share,
    encrypt,
)
from coop_elections.domain.crypto.group import ORDER, Element, G, H, Scalar, random_scalar
from coop_elections.domain.crypto.proofs import (
    CHAUM_PEDERSEN_LABEL,
    DISJUNCTIVE_LABEL,
    SCHNORR_LABEL,
    ChaumPedersenProof,
    DisjunctiveChaumPedersenProof,
    SchnorrProof,
)

KEY = KeyPair.generate()
OTHER = KeyPair.generate()
CONTEXT = b"election:6f1c2a"
ONE = Scalar.from_int(1)


def _documented_challenge(label: bytes, *parts: bytes) -> Scalar:
    """docs/elections.md: SHA-512 over (8-byte big-endian length || bytes) of each, mod L."""
    data = b"".join(len(x).to_bytes(8, "big") + x for x in (label, *parts))
    value = int.from_bytes(hashlib.sha512(data).digest(), "little") % ORDER
    return Scalar.from_bytes(value.to_bytes(32, "little"))


def _other(element: Element) -> Element:
    return element + G


# --- Schnorr: knowledge of a key share's secret ---------------------------------------------


def test_schnorr_honest_proof_verifies():
    assert SchnorrProof.prove(KEY.secret, CONTEXT).verify(KEY.public, CONTEXT)


def test_schnorr_proof_is_rejected_for_another_public_key():
    assert not SchnorrProof.prove(KEY.secret, CONTEXT).verify(OTHER.public, CONTEXT)


def test_schnorr_proof_is_rejected_with_its_commitment_changed():
    proof = SchnorrProof.prove(KEY.secret, CONTEXT)
    tampered = dataclasses.replace(proof, commitment=_other(proof.commitment))
    assert not tampered.verify(KEY.public, CONTEXT)


def test_schnorr_proof_is_rejected_with_its_response_changed():
    proof = SchnorrProof.prove(KEY.secret, CONTEXT)
    assert not dataclasses.replace(proof, response=proof.response + ONE).verify(KEY.public, CONTEXT)


def test_schnorr_proof_is_rejected_in_another_context():
    proof = SchnorrProof.prove(KEY.secret, CONTEXT)
    assert not proof.verify(KEY.public, b"election:other")
    assert not proof.verify(KEY.public, b"")


def test_schnorr_challenge_hashes_label_context_generator_public_key_and_commitment():
    proof = SchnorrProof.prove(KEY.secret, CONTEXT)
    c = _documented_challenge(SCHNORR_LABEL, CONTEXT, G.to_bytes(), KEY.public.to_bytes(),
                              proof.commitment.to_bytes())
    assert SchnorrProof.challenge(KEY.public, proof.commitment, CONTEXT) == c
    assert G * proof.response == proof.commitment + KEY.public * c


def test_schnorr_refuses_to_prove_a_zero_secret_and_rejects_the_identity_key():
    with pytest.raises(ValueError):
        SchnorrProof.prove(Scalar.from_int(0), CONTEXT)
    # s = w + c * 0 would "prove" the identity key for free; the identity is never a key.
    w = random_scalar()
    forged = SchnorrProof(G * w, w)
    assert not forged.verify(G * Scalar.from_int(0), CONTEXT)


# --- Chaum-Pedersen: a correct partial decryption -------------------------------------------


def _share_and_proof(ciphertext: Ciphertext, key: KeyPair = KEY):
    share = decryption_share(ciphertext, key.secret)
    return share, ChaumPedersenProof.prove(key.secret, ciphertext.a, CONTEXT)


def test_chaum_pedersen_honest_partial_decryption_verifies():
    ciphertext = encrypt(1, KEY.public, random_scalar())
    share, proof = _share_and_proof(ciphertext)
    assert proof.verify(KEY.public, ciphertext.a, share, CONTEXT)


def test_chaum_pedersen_with_the_public_key_and_share_given_verifies_and_binds_them():
    """The trustee passes G^x and the share it has computed (two multiplications spared): the
    proof is the same kind of proof, and a wrong share passed in gives one that fails."""
    ciphertext = encrypt(1, KEY.public, random_scalar())
    share = decryption_share(ciphertext, KEY.secret)
    given_both = ChaumPedersenProof.prove(KEY.secret, ciphertext.a, CONTEXT, public=KEY.public, share=share)
    assert given_both.verify(KEY.public, ciphertext.a, share, CONTEXT)
    wrong = share + G
    forged = ChaumPedersenProof.prove(KEY.secret, ciphertext.a, CONTEXT, public=KEY.public, share=wrong)
    assert not forged.verify(KEY.public, ciphertext.a, wrong, CONTEXT)
    assert not forged.verify(KEY.public, ciphertext.a, share, CONTEXT)


def test_chaum_pedersen_rejects_a_share_that_is_not_a_to_the_secret():
    ciphertext = encrypt(1, KEY.public, random_scalar())
    share, proof = _share_and_proof(ciphertext)
    assert not proof.verify(KEY.public, ciphertext.a, _other(share), CONTEXT)
    # a share made with another secret, proved with that secret, is not this key's share
    other_share, other_proof = _share_and_proof(ciphertext, OTHER)
    assert not other_proof.verify(KEY.public, ciphertext.a, other_share, CONTEXT)


@pytest.mark.parametrize("part", ["public", "base", "share", "context"])
def test_chaum_pedersen_proof_is_rejected_when_the_statement_changes(part):
    ciphertext = encrypt(2, KEY.public, random_scalar())
    share, proof = _share_and_proof(ciphertext)
    statement = {"public": KEY.public, "base": ciphertext.a, "share": share, "context": CONTEXT}
    statement[part] = b"election:other" if part == "context" else _other(statement[part])
    assert not proof.verify(**statement)


@pytest.mark.parametrize("field", ["commitment_g", "commitment_base", "response"])
def test_chaum_pedersen_proof_is_rejected_when_a_commitment_or_the_response_changes(field):
    ciphertext = encrypt(2, KEY.public, random_scalar())
    share, proof = _share_and_proof(ciphertext)
    value = getattr(proof, field)
    tampered = dataclasses.replace(
        proof, **{field: value + ONE if isinstance(value, Scalar) else _other(value)})
    assert not tampered.verify(KEY.public, ciphertext.a, share, CONTEXT)


def test_chaum_pedersen_challenge_hashes_the_documented_bytes():
    ciphertext = encrypt(1, KEY.public, random_scalar())
    share, proof = _share_and_proof(ciphertext)
    c = _documented_challenge(
        CHAUM_PEDERSEN_LABEL, CONTEXT, G.to_bytes(), KEY.public.to_bytes(), ciphertext.a.to_bytes(),
        share.to_bytes(), proof.commitment_g.to_bytes(), proof.commitment_base.to_bytes())
    assert ChaumPedersenProof.challenge(KEY.public, ciphertext.a, share, proof.commitment_g,
                                        proof.commitment_base, CONTEXT) == c
    assert G * proof.response == proof.commitment_g + KEY.public * c
    assert ciphertext.a * proof.response == proof.commitment_base + share * c


def test_chaum_pedersen_works_for_any_base_including_the_generator_h():
    proof = ChaumPedersenProof.prove(KEY.secret, H, CONTEXT)
    assert proof.verify(KEY.public, H, H * KEY.secret, CONTEXT)


# --- disjunctive Chaum-Pedersen: the ciphertext holds one of the allowed values -------------


def _ballot(m: int, allowed=(0, 1)):
    r = random_scalar()
    ciphertext = encrypt(m, KEY.public, r)
    proof = DisjunctiveChaumPedersenProof.prove(ciphertext, m, r, KEY.public, allowed, CONTEXT)
    return ciphertext, proof


@pytest.mark.parametrize("m", [0, 1])
def test_a_selection_proved_to_be_0_or_1_verifies(m):
    ciphertext, proof = _ballot(m)
    assert proof.verify(ciphertext, KEY.public, [0, 1], CONTEXT)


def test_a_2_cannot_be_proved_to_be_0_or_1():
    r = random_scalar()
    ciphertext = encrypt(2, KEY.public, r)
    with pytest.raises(ValueError, match="not among the allowed"):
        DisjunctiveChaumPedersenProof.prove(ciphertext, 2, r, KEY.public, [0, 1], CONTEXT)


def test_lying_about_the_plaintext_or_the_nonce_does_not_give_a_proof():
    r = random_scalar()
    ciphertext = encrypt(2, KEY.public, r)
    with pytest.raises(ValueError, match="not the encryption"):
        DisjunctiveChaumPedersenProof.prove(ciphertext, 1, r, KEY.public, [0, 1], CONTEXT)
    with pytest.raises(ValueError, match="not the encryption"):
        DisjunctiveChaumPedersenProof.prove(encrypt(1, KEY.public, r), 1, r + ONE, KEY.public,
                                            [0, 1], CONTEXT)


def test_a_proof_made_for_a_1_does_not_vouch_for_a_2_in_its_place():
    ciphertext, proof = _ballot(1)
    forged = ciphertext + encrypt(1, KEY.public, random_scalar())  # now encrypts 2
    assert not proof.verify(forged, KEY.public, [0, 1], CONTEXT)


def test_the_number_of_selections_is_proved_within_the_questions_limits():
    selections = [1, 0, 1, 1, 0]  # at least 1 and at most 3 of 5 candidates
    nonces = [random_scalar() for _ in selections]
    ciphertexts = [encrypt(m, KEY.public, r) for m, r in zip(selections, nonces, strict=True)]
    total, nonce = add_all(ciphertexts), nonces[0]
    for r in nonces[1:]:
        nonce = nonce + r
    limits = range(1, 4)
    proof = DisjunctiveChaumPedersenProof.prove(total, 3, nonce, KEY.public, limits, CONTEXT)
    assert proof.verify(total, KEY.public, limits, CONTEXT)
    assert not proof.verify(total, KEY.public, range(0, 3), CONTEXT)
    with pytest.raises(ValueError):
        DisjunctiveChaumPedersenProof.prove(total, 3, nonce, KEY.public, range(0, 3), CONTEXT)


@pytest.mark.parametrize("part", ["a", "b", "public_key", "allowed", "allowed order", "context"])
def test_disjunctive_proof_is_rejected_when_the_statement_changes(part):
    ciphertext, proof = _ballot(1)
    statement = {"ciphertext": ciphertext, "public_key": KEY.public, "allowed": [0, 1],
                 "context": CONTEXT}
    if part == "a":
        statement["ciphertext"] = Ciphertext(_other(ciphertext.a), ciphertext.b)
    elif part == "b":
        statement["ciphertext"] = Ciphertext(ciphertext.a, _other(ciphertext.b))
    elif part == "public_key":
        statement["public_key"] = OTHER.public
    elif part == "allowed":
        statement["allowed"] = [1, 2]
    elif part == "allowed order":
        statement["allowed"] = [1, 0]
    else:
        statement["context"] = b"election:other"
    assert not proof.verify(**statement)


def _disjunctive_tamperings():
    for j in range(3):
        for k in range(2):
            yield f"commitment {j}.{k + 1}", ("commitments", j, k)
        yield f"challenge {j}", ("challenges", j, None)
        yield f"response {j}", ("responses", j, None)


@pytest.mark.parametrize("m", [0, 2])
@pytest.mark.parametrize("where", [w for _, w in _disjunctive_tamperings()],
                         ids=[name for name, _ in _disjunctive_tamperings()])
def test_disjunctive_proof_is_rejected_when_any_commitment_challenge_or_response_changes(m, where):
    ciphertext, proof = _ballot(m, allowed=(0, 1, 2))
    name, j, k = where
    values = list(getattr(proof, name))
    if k is None:
        values[j] = values[j] + ONE
    else:
        pair = list(values[j])
        pair[k] = _other(pair[k])
        values[j] = tuple(pair)
    tampered = dataclasses.replace(proof, **{name: tuple(values)})
    assert not tampered.verify(ciphertext, KEY.public, (0, 1, 2), CONTEXT)


def test_disjunctive_challenge_hashes_the_documented_bytes_and_the_branches_add_up_to_it():
    ciphertext, proof = _ballot(1)
    parts = [CONTEXT, G.to_bytes(), KEY.public.to_bytes(), ciphertext.a.to_bytes(),
             ciphertext.b.to_bytes(), (0).to_bytes(32, "little"), (1).to_bytes(32, "little")]
    for t1, t2 in proof.commitments:
        parts += [t1.to_bytes(), t2.to_bytes()]
    c = _documented_challenge(DISJUNCTIVE_LABEL, *parts)
    assert DisjunctiveChaumPedersenProof.challenge(
        ciphertext, KEY.public, [0, 1], proof.commitments, CONTEXT) == c
    assert proof.challenges[0] + proof.challenges[1] == c


@pytest.mark.parametrize("change", ["drop a branch", "commitment not a pair", "not a scalar",
                                    "context not bytes", "negative allowed", "empty allowed",
                                    "repeated allowed", "identity key", "not a ciphertext",
                                    "challenges not a tuple"])
def test_a_malformed_disjunctive_proof_or_statement_is_rejected_without_raising(change):
    ciphertext, proof = _ballot(0)
    args = {"ciphertext": ciphertext, "public_key": KEY.public, "allowed": [0, 1],
            "context": CONTEXT}
    if change == "drop a branch":
        proof = DisjunctiveChaumPedersenProof(proof.commitments[:1], proof.challenges[:1],
                                              proof.responses[:1])
    elif change == "commitment not a pair":
        proof = dataclasses.replace(proof, commitments=(proof.commitments[0][0],
                                                        proof.commitments[1]))
    elif change == "not a scalar":
        proof = dataclasses.replace(proof, responses=(proof.responses[0], b"\x00" * 32))
    elif change == "context not bytes":
        args["context"] = CONTEXT.decode()
    elif change == "negative allowed":
        args["allowed"] = [-1, 0]
    elif change == "empty allowed":
        args["allowed"] = []
    elif change == "repeated allowed":
        args["allowed"] = [0, 0]
    elif change == "identity key":
        args["public_key"] = G * Scalar.from_int(0)
    elif change == "challenges not a tuple":
        proof = dataclasses.replace(proof, challenges=None)
    else:
        args["ciphertext"] = ciphertext.to_bytes()
    assert proof.verify(**args) is False


def test_schnorr_and_chaum_pedersen_reject_malformed_input_without_raising():
    proof = SchnorrProof.prove(KEY.secret, CONTEXT)
    assert proof.verify(KEY.public, "text") is False
    assert SchnorrProof(proof.commitment, b"x").verify(KEY.public, CONTEXT) is False
    assert proof.verify(KEY.public.to_bytes(), CONTEXT) is False
    cp = ChaumPedersenProof.prove(KEY.secret, H, CONTEXT)
    assert cp.verify(KEY.public, H, None, CONTEXT) is False


def test_proofs_of_different_kinds_are_domain_separated():
    assert len({SCHNORR_LABEL, CHAUM_PEDERSEN_LABEL, DISJUNCTIVE_LABEL}) == 3


@settings(max_examples=15, deadline=None)
@given(st.sets(st.integers(0, 12), min_size=1, max_size=4).flatmap(
    lambda s: st.tuples(st.just(sorted(s)), st.sampled_from(sorted(s)), st.integers(0, 12))))
def test_any_allowed_value_is_provable_and_the_proof_holds_for_nothing_else(case):
    allowed, m, other = case
    ciphertext, proof = _ballot(m, allowed=allowed)
    assert proof.verify(ciphertext, KEY.public, allowed, CONTEXT)
    if other != m:
        elsewhere = encrypt(other, KEY.public, random_scalar())
        assert not proof.verify(elsewhere, KEY.public, allowed, CONTEXT)
