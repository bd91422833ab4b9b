"""Exponential ElGamal: votes decrypt, add up under encryption, take weights, re-encrypt."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop_elections.domain.crypto.elgamal import (
    NEUTRAL,
    Ciphertext,
    KeyPair,
    add_all,
    decrypt,
    decryption_share,
    discrete_log,
    encrypt,
)
from coop_elections.domain.crypto.group import IDENTITY, Element, G, H, Scalar, random_scalar

KEY = KeyPair.generate()


def _encrypt(m: int, key: KeyPair = KEY) -> Ciphertext:
    return encrypt(m, key.public, random_scalar())


def _plaintext(ciphertext: Ciphertext, bound: int = 1000, key: KeyPair = KEY) -> int:
    return discrete_log(decrypt(ciphertext, key.secret), bound)


@pytest.mark.parametrize("m", [0, 1, 2, 7, 100])
def test_a_vote_decrypts_to_what_was_encrypted(m):
    assert _plaintext(_encrypt(m), bound=100) == m


def test_an_encrypted_zero_is_pk_to_the_r_because_g_to_the_zero_is_the_identity():
    r = random_scalar()
    ciphertext = encrypt(0, KEY.public, r)
    assert ciphertext == Ciphertext(G * r, KEY.public * r)
    assert decrypt(ciphertext, KEY.secret) == IDENTITY


def test_decryption_is_b_over_the_decryption_share():
    ciphertext = _encrypt(3)
    assert ciphertext.b - decryption_share(ciphertext, KEY.secret) == G * Scalar.from_int(3)


def test_the_sum_of_many_encrypted_votes_decrypts_to_the_number_of_yes():
    rng = random.Random(14)
    votes = [rng.randint(0, 1) for _ in range(200)]
    total = add_all(_encrypt(v) for v in votes)
    assert _plaintext(total, bound=len(votes)) == sum(votes)


def test_adding_two_ciphertexts_adds_their_plaintexts():
    assert _plaintext(_encrypt(5) + _encrypt(8)) == 13


def test_the_sum_of_no_ciphertext_is_the_neutral_one_an_encryption_of_zero():
    assert add_all([]) == NEUTRAL
    assert _plaintext(NEUTRAL) == 0
    ciphertext = _encrypt(4)
    assert ciphertext + NEUTRAL == ciphertext


def test_a_weight_multiplies_the_plaintext():
    ciphertext = _encrypt(1)
    assert _plaintext(ciphertext * 5) == 5
    assert _plaintext(7 * _encrypt(3)) == 21
    assert _plaintext(ciphertext * 1) == 1
    assert ciphertext * 0 == NEUTRAL


def test_weighted_ballots_add_up_to_the_weighted_count():
    ballots = [(1, 3), (0, 10), (1, 1), (1, 250), (0, 2)]  # (selection, weight)
    total = add_all(_encrypt(v) * w for v, w in ballots)
    assert _plaintext(total) == 254


def test_a_negative_weight_is_refused():
    with pytest.raises(ValueError):
        _encrypt(1) * -1


def test_reencryption_changes_every_byte_but_not_the_plaintext():
    ciphertext = _encrypt(6)
    again = ciphertext.reencrypt(KEY.public, random_scalar())
    assert again.a != ciphertext.a and again.b != ciphertext.b
    assert _plaintext(again) == 6
    assert again.reencrypt(KEY.public, random_scalar()) != again


def test_reencryption_is_multiplying_by_an_encryption_of_zero():
    ciphertext, r = _encrypt(2), random_scalar()
    assert ciphertext.reencrypt(KEY.public, r) == ciphertext + encrypt(0, KEY.public, r)


def test_the_same_vote_encrypts_differently_each_time():
    assert _encrypt(1) != _encrypt(1)


def test_another_key_does_not_decrypt():
    other = KeyPair.generate()
    with pytest.raises(ValueError):
        _plaintext(_encrypt(1), key=other)


def test_discrete_log_finds_every_value_up_to_the_bound_inclusive():
    for bound in (0, 1, 2, 15, 16, 17):
        for m in range(bound + 1):
            assert discrete_log(G * Scalar.from_int(m), bound) == m


def test_discrete_log_refuses_a_value_beyond_the_bound_with_a_clear_error():
    with pytest.raises(ValueError, match="0 <= m <= 10"):
        discrete_log(G * Scalar.from_int(11), 10)
    with pytest.raises(ValueError, match="0 <= m <= 10"):
        discrete_log(G * Scalar.from_int(15), 10)  # found by the 4 x 4 search, then refused
    with pytest.raises(ValueError, match="0 <= m <= 3"):
        discrete_log(G * Scalar.from_int(16), 3)
    with pytest.raises(ValueError):
        discrete_log(H, 10_000)  # not a small multiple of G at all
    with pytest.raises(ValueError):
        discrete_log(G, -1)


def test_discrete_log_of_a_large_tally_is_fast_enough():
    assert discrete_log(G * Scalar.from_int(1_000_000), 1_000_000) == 1_000_000


def test_encrypt_refuses_negative_plaintexts_zero_nonces_and_the_identity_key():
    with pytest.raises(ValueError):
        encrypt(-1, KEY.public, random_scalar())
    with pytest.raises(ValueError, match="nonce"):
        encrypt(1, KEY.public, Scalar.from_int(0))
    with pytest.raises(ValueError, match="public key"):
        encrypt(1, IDENTITY, random_scalar())


def test_a_ciphertext_is_published_as_64_bytes_and_read_back_checked():
    ciphertext = _encrypt(1)
    data = ciphertext.to_bytes()
    assert len(data) == 64 and data == ciphertext.a.to_bytes() + ciphertext.b.to_bytes()
    assert Ciphertext.from_bytes(data) == ciphertext
    with pytest.raises(ValueError):
        Ciphertext.from_bytes(data[:63])
    with pytest.raises(ValueError):
        Ciphertext.from_bytes(data[:32] + b"\xff" * 32)  # a non-canonical second half


def test_a_key_pair_checks_its_public_key_and_does_not_print_its_secret():
    assert KeyPair.from_secret(KEY.secret) == KEY
    with pytest.raises(ValueError):
        KeyPair(G, KEY.secret)
    with pytest.raises(ValueError):
        KeyPair.from_secret(Scalar.from_int(0))
    assert KEY.secret.to_bytes().hex() not in repr(KEY)
    assert isinstance(KEY.public, Element)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), max_size=12))
def test_any_weighted_sum_of_small_votes_decrypts_to_its_value(ballots):
    total = add_all(_encrypt(v) * w for v, w in ballots)
    assert _plaintext(total, bound=3 * 5 * 12) == sum(v * w for v, w in ballots)
