"""Verifiable shuffle: honest mixes verify and keep the plaintexts, every change is caught.

Plaintexts are checked by decrypting with a plain key (the tests' shortcut; an election decrypts
with its trustees). Timings are printed, never asserted: run with -s to see them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import Counter

import pytest

from coop_elections.domain.crypto import (
    Ciphertext,
    KeyPair,
    ShuffleProof,
    ShuffleWitness,
    decrypt,
    discrete_log,
    encrypt,
    prove_shuffle,
    random_scalar,
    shuffle,
    shuffle_generators,
    verify_shuffle,
)
from coop_elections.domain.crypto.group import ORDER, G, H, Scalar
from coop_elections.domain.crypto.shuffle import GENERATOR_LABEL, random_permutation

KEY = KeyPair.generate()
OTHER = KeyPair.generate()
CONTEXT = b"election:6f1c2a|mix:1"
ONE = Scalar.from_int(1)


def _plain(ct: Ciphertext) -> int:
    return discrete_log(decrypt(ct, KEY.secret), 100)


def _ballots(values: list[int]) -> list[Ciphertext]:
    return [encrypt(v, KEY.public, random_scalar()) for v in values]


def _rows(values: list[tuple[int, ...]]) -> list[tuple[Ciphertext, ...]]:
    return [tuple(encrypt(v, KEY.public, random_scalar()) for v in row) for row in values]


VALUES = [0, 1, 2, 3, 4, 5, 6, 7]
INPUTS = _ballots(VALUES)
OUTPUTS, WITNESS = shuffle(INPUTS, KEY.public)
PROOF = prove_shuffle(INPUTS, OUTPUTS, WITNESS, KEY.public, CONTEXT)


# --- generators -------------------------------------------------------------------------------


def test_generators_are_hashed_from_their_index_distinct_and_cached():
    from coop_elections.domain.crypto.group import hash_to_element

    hs = shuffle_generators(5)
    assert hs == tuple(hash_to_element(GENERATOR_LABEL, i.to_bytes(4, "big")) for i in range(5))
    assert len({*hs, G, H}) == 7
    assert shuffle_generators(3) == hs[:3]


def test_random_permutation_is_a_permutation_and_varies():
    seen = {random_permutation(6) for _ in range(50)}
    assert all(sorted(p) == list(range(6)) for p in seen)
    assert len(seen) > 10


# --- honest shuffles --------------------------------------------------------------------------


def test_honest_shuffle_proof_verifies():
    assert verify_shuffle(PROOF, INPUTS, OUTPUTS, KEY.public, CONTEXT)


def test_honest_shuffle_decrypts_to_the_same_multiset():
    assert Counter(_plain(ct) for ct in OUTPUTS) == Counter(VALUES)


def test_output_i_decrypts_to_input_permutation_i_and_is_re_encrypted():
    for i, j in enumerate(WITNESS.permutation):
        assert _plain(OUTPUTS[i]) == VALUES[j]
        assert OUTPUTS[i] != INPUTS[j]
    assert sorted(WITNESS.permutation) == list(range(len(VALUES)))


def test_two_chained_shuffles_verify_and_keep_the_multiset():
    mid, w1 = shuffle(INPUTS, KEY.public)
    p1 = prove_shuffle(INPUTS, mid, w1, KEY.public, b"e|mix:1")
    out, w2 = shuffle(mid, KEY.public)
    p2 = prove_shuffle(mid, out, w2, KEY.public, b"e|mix:2")
    assert verify_shuffle(p1, INPUTS, mid, KEY.public, b"e|mix:1")
    assert verify_shuffle(p2, mid, out, KEY.public, b"e|mix:2")
    assert not verify_shuffle(p2, INPUTS, out, KEY.public, b"e|mix:2")
    assert Counter(_plain(ct) for ct in out) == Counter(VALUES)


def test_a_single_ballot_shuffle_verifies():
    inputs = _ballots([3])
    out, w = shuffle(inputs, KEY.public)
    assert verify_shuffle(prove_shuffle(inputs, out, w, KEY.public, CONTEXT), inputs, out,
                          KEY.public, CONTEXT)


def test_nothing_to_shuffle_is_refused():
    with pytest.raises(ValueError):
        shuffle([], KEY.public)


# --- wrong statements -------------------------------------------------------------------------


def test_proof_is_rejected_for_another_input_list():
    other = list(INPUTS)
    other[2] = encrypt(VALUES[2], KEY.public, random_scalar())  # same plaintext, other ciphertext
    assert not verify_shuffle(PROOF, other, OUTPUTS, KEY.public, CONTEXT)
    assert not verify_shuffle(PROOF, INPUTS[::-1], OUTPUTS, KEY.public, CONTEXT)


def test_proof_is_rejected_when_one_output_is_replaced():
    other = list(OUTPUTS)
    other[0] = encrypt(99, KEY.public, random_scalar())
    assert not verify_shuffle(PROOF, INPUTS, other, KEY.public, CONTEXT)


def test_proof_is_rejected_when_one_output_is_re_encrypted_differently():
    other = list(OUTPUTS)
    other[3] = other[3].reencrypt(KEY.public, random_scalar())  # same plaintext still
    assert not verify_shuffle(PROOF, INPUTS, other, KEY.public, CONTEXT)


def test_proof_is_rejected_when_two_outputs_are_swapped():
    other = list(OUTPUTS)
    other[1], other[5] = other[5], other[1]
    assert not verify_shuffle(PROOF, INPUTS, other, KEY.public, CONTEXT)


def test_proof_is_rejected_for_another_public_key_or_context():
    assert not verify_shuffle(PROOF, INPUTS, OUTPUTS, OTHER.public, CONTEXT)
    assert not verify_shuffle(PROOF, INPUTS, OUTPUTS, KEY.public, b"election:6f1c2a|mix:2")
    assert not verify_shuffle(PROOF, INPUTS, OUTPUTS, KEY.public, b"")


def test_proof_is_rejected_for_lists_of_another_length_without_raising():
    assert not verify_shuffle(PROOF, INPUTS[:-1], OUTPUTS[:-1], KEY.public, CONTEXT)
    assert not verify_shuffle(PROOF, INPUTS, OUTPUTS[:-1], KEY.public, CONTEXT)
    assert not verify_shuffle(PROOF, [], [], KEY.public, CONTEXT)
    assert not verify_shuffle(PROOF, INPUTS, OUTPUTS, G * Scalar.from_int(0), CONTEXT)
    assert not verify_shuffle("proof", INPUTS, OUTPUTS, KEY.public, CONTEXT)  # type: ignore[arg-type]
    assert not verify_shuffle(PROOF, INPUTS, OUTPUTS, KEY.public, "ctx")  # type: ignore[arg-type]


def _altered_proofs(proof: ShuffleProof):
    """Every proof that differs from `proof` in exactly one element or scalar."""
    for f in dataclasses.fields(proof):
        value = getattr(proof, f.name)
        if isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, tuple):  # t4: (t4_a, t4_b) pairs
                    for half in (0, 1):
                        pair = list(item)
                        pair[half] = pair[half] + G
                        items = list(value)
                        items[i] = tuple(pair)
                        yield f"{f.name}[{i}][{half}]", dataclasses.replace(proof, **{f.name: tuple(items)})
                else:
                    items = list(value)
                    items[i] = item + (G if isinstance(item, type(G)) else ONE)
                    yield f"{f.name}[{i}]", dataclasses.replace(proof, **{f.name: tuple(items)})
        else:
            yield f.name, dataclasses.replace(proof, **{f.name: value + (G if value.__class__ is G.__class__ else ONE)})


def test_any_single_altered_proof_element_is_rejected():
    names = []
    for name, altered in _altered_proofs(PROOF):
        names.append(name)
        assert not verify_shuffle(altered, INPUTS, OUTPUTS, KEY.public, CONTEXT), name
    assert len(names) == 5 * len(VALUES) + 3 + 2 + 3 + 1  # every field of the proof was altered


def test_any_single_altered_element_of_a_wide_proof_is_rejected():
    inputs = _rows([(0, 1, 2), (1, 0, 0), (2, 2, 1)])
    out, w = shuffle(inputs, KEY.public)
    proof = prove_shuffle(inputs, out, w, KEY.public, CONTEXT)
    assert verify_shuffle(proof, inputs, out, KEY.public, CONTEXT)
    for name, altered in _altered_proofs(proof):
        assert not verify_shuffle(altered, inputs, out, KEY.public, CONTEXT), name


# --- dishonest shuffles -----------------------------------------------------------------------


def test_a_shuffle_that_replaces_one_ballot_cannot_be_proven():
    out = list(OUTPUTS)
    j = WITNESS.permutation[4]
    r = random_scalar()
    # A mixer who drops input j for a vote of its own, with the same randomness bookkeeping.
    forged = encrypt(7 if VALUES[j] != 7 else 6, KEY.public, r)
    out[4] = forged
    proof = prove_shuffle(INPUTS, out, WITNESS, KEY.public, CONTEXT)
    assert not verify_shuffle(proof, INPUTS, out, KEY.public, CONTEXT)
    # ... even with the witness rewritten to claim that output came from input j with r - r_j.
    randomness = list(WITNESS.randomness)
    randomness[j] = (r,)
    proof = prove_shuffle(INPUTS, out, ShuffleWitness(WITNESS.permutation, tuple(randomness)),
                          KEY.public, CONTEXT)
    assert not verify_shuffle(proof, INPUTS, out, KEY.public, CONTEXT)


def test_a_shuffle_that_duplicates_one_ballot_cannot_be_proven():
    out = list(OUTPUTS)
    out[0] = out[1].reencrypt(KEY.public, random_scalar())
    proof = prove_shuffle(INPUTS, out, WITNESS, KEY.public, CONTEXT)
    assert not verify_shuffle(proof, INPUTS, out, KEY.public, CONTEXT)


def test_a_wrong_permutation_in_the_witness_gives_a_failing_proof():
    psi = list(WITNESS.permutation)
    psi[0], psi[1] = psi[1], psi[0]
    proof = prove_shuffle(INPUTS, OUTPUTS, ShuffleWitness(tuple(psi), WITNESS.randomness),
                          KEY.public, CONTEXT)
    assert not verify_shuffle(proof, INPUTS, OUTPUTS, KEY.public, CONTEXT)


# --- width-w ballots --------------------------------------------------------------------------


WIDE_VALUES = [(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 1), (1, 1, 1, 0), (0, 0, 0, 0)]


def test_wide_ballots_move_as_units_and_verify():
    inputs = _rows(WIDE_VALUES)
    out, w = shuffle(inputs, KEY.public)
    assert all(isinstance(row, tuple) and len(row) == 4 for row in out)
    proof = prove_shuffle(inputs, out, w, KEY.public, CONTEXT)
    assert verify_shuffle(proof, inputs, out, KEY.public, CONTEXT)
    assert proof.width == 4 and proof.size == 5
    for i, j in enumerate(w.permutation):
        assert tuple(_plain(ct) for ct in out[i]) == WIDE_VALUES[j]
        assert all(o != c for o, c in zip(out[i], inputs[j], strict=True))  # every cell re-encrypted
    assert Counter(tuple(_plain(ct) for ct in row) for row in out) == Counter(WIDE_VALUES)


def test_wide_ballots_with_cells_moved_apart_are_rejected():
    inputs = _rows(WIDE_VALUES)
    out, w = shuffle(inputs, KEY.public)
    proof = prove_shuffle(inputs, out, w, KEY.public, CONTEXT)
    # Swap one column between two rows: every column is still a permutation of the inputs'
    # column, but the rows are no longer whole ballots.
    mixed = [list(row) for row in out]
    mixed[0][2], mixed[1][2] = mixed[1][2], mixed[0][2]
    mixed_rows = [tuple(row) for row in mixed]
    assert not verify_shuffle(proof, inputs, mixed_rows, KEY.public, CONTEXT)
    # And an honest prover given that column-wise mix cannot prove it.
    bad = prove_shuffle(inputs, mixed_rows, w, KEY.public, CONTEXT)
    assert not verify_shuffle(bad, inputs, mixed_rows, KEY.public, CONTEXT)


def test_wide_ballots_of_uneven_width_are_refused():
    rows = _rows([(1, 0), (0, 1)])
    with pytest.raises(ValueError):
        shuffle([rows[0], rows[1][:1]], KEY.public)
    assert not verify_shuffle(PROOF, [rows[0], rows[1][:1]], OUTPUTS[:2], KEY.public, CONTEXT)


def test_width_one_tuples_are_the_same_statement_as_bare_ciphertexts():
    assert verify_shuffle(PROOF, [(ct,) for ct in INPUTS], [(ct,) for ct in OUTPUTS],
                              KEY.public, CONTEXT)


# --- canonical bytes --------------------------------------------------------------------------


def test_proof_bytes_round_trip_and_are_canonical():
    data = PROOF.to_bytes()
    n = len(VALUES)
    assert len(data) == 8 + len(b"coopgov/elections/v1/shuffle/proof") + 8 + (3 * n + 5) * 32 + (4 + 2 * n) * 32
    assert ShuffleProof.from_bytes(data) == PROOF
    assert ShuffleProof.from_bytes(data).to_bytes() == data
    assert verify_shuffle(ShuffleProof.from_bytes(data), INPUTS, OUTPUTS, KEY.public, CONTEXT)


def test_proof_bytes_of_a_wide_proof_round_trip():
    inputs = _rows(WIDE_VALUES)
    out, w = shuffle(inputs, KEY.public)
    proof = prove_shuffle(inputs, out, w, KEY.public, CONTEXT)
    assert ShuffleProof.from_bytes(proof.to_bytes()) == proof


@pytest.mark.parametrize("cut", [0, 10, 50, -1, -32])
def test_truncated_or_padded_proof_bytes_are_refused(cut):
    data = PROOF.to_bytes()
    with pytest.raises(ValueError):
        ShuffleProof.from_bytes(data[:cut] if cut else data + b"\x00")


def test_non_canonical_scalar_in_proof_bytes_is_refused():
    data = bytearray(PROOF.to_bytes())
    data[-32:] = b"\xff" * 32  # last s'_i: a value above the group order
    with pytest.raises(ValueError):
        ShuffleProof.from_bytes(bytes(data))


# --- timings (printed, not asserted) ----------------------------------------------------------


def _timed(inputs):
    t0 = time.perf_counter()
    out, w = shuffle(inputs, KEY.public)
    proof = prove_shuffle(inputs, out, w, KEY.public, CONTEXT)
    t1 = time.perf_counter()
    ok = verify_shuffle(proof, inputs, out, KEY.public, CONTEXT)
    t2 = time.perf_counter()
    assert ok
    return t1 - t0, t2 - t1


def test_print_shuffle_timings():
    n1 = 200
    prove1, verify1 = _timed(_ballots([1] * n1))
    print(f"\nshuffle: N={n1} width 1: shuffle+prove {prove1:.2f} s, verify {verify1:.2f} s")
    n81, width = 50, 81
    zero = encrypt(0, KEY.public, random_scalar())
    rows = [tuple(zero.reencrypt(KEY.public, random_scalar()) for _ in range(width))
            for _ in range(n81)]
    prove81, verify81 = _timed(rows)
    per_prove, per_verify = prove81 / n81, verify81 / n81
    total = 41_702 * (per_prove + per_verify) * 2 / 2  # two shuffles, two cores
    print(f"shuffle: N={n81} width {width}: shuffle+prove {prove81:.2f} s, verify {verify81:.2f} s "
          f"({per_prove * 1000:.1f} ms + {per_verify * 1000:.1f} ms per ballot)")
    print(f"shuffle: 41,702 ballots of width 81, two shuffles on 2 cores: "
          f"shuffle+prove {41_702 * per_prove:.0f} s, with verification {total:.0f} s")


# --- the hashed bytes, recomputed from docs/elections.md ------------------------------------


def _enc(*parts: bytes) -> bytes:
    return b"".join(len(x).to_bytes(8, "big") + x for x in parts)


def _documented_scalar(data: bytes) -> Scalar:
    value = int.from_bytes(hashlib.sha512(data).digest(), "little") % ORDER
    return Scalar.from_bytes(value.to_bytes(32, "little"))


def test_challenges_are_the_documented_hashes():
    inputs = _rows([(1, 0), (0, 1), (1, 1)])
    out, w = shuffle(inputs, KEY.public)
    proof = prove_shuffle(inputs, out, w, KEY.public, CONTEXT)
    n, width = 3, 2
    d = hashlib.sha512(_enc(
        b"coopgov/elections/v1/shuffle/statement", CONTEXT, n.to_bytes(4, "big"),
        width.to_bytes(4, "big"), G.to_bytes(), H.to_bytes(), KEY.public.to_bytes(),
        *(ct.to_bytes() for row in inputs for ct in row),
        *(ct.to_bytes() for row in out for ct in row),
        *(c.to_bytes() for c in proof.commitments))).digest()
    u = [_documented_scalar(_enc(b"coopgov/elections/v1/shuffle/u", d, i.to_bytes(4, "big")))
         for i in range(n)]
    c = _documented_scalar(_enc(
        b"coopgov/elections/v1/shuffle/challenge", d, *(x.to_bytes() for x in proof.chain),
        proof.t1.to_bytes(), proof.t2.to_bytes(), proof.t3.to_bytes(),
        *(x.to_bytes() for pair in proof.t4 for x in pair), *(x.to_bytes() for x in proof.t_hat)))
    hs = shuffle_generators(n)
    c_bar = proof.commitments[0] + proof.commitments[1] + proof.commitments[2] - hs[0] - hs[1] - hs[2]
    assert G * proof.s1 - c_bar * c == proof.t1
    u_prod = u[0] * u[1] * u[2]
    assert G * proof.s2 - (proof.chain[-1] - H * u_prod) * c == proof.t2
    c_tilde = proof.commitments[0] * u[0] + proof.commitments[1] * u[1] + proof.commitments[2] * u[2]
    s_h = hs[0] * proof.s_prime[0] + hs[1] * proof.s_prime[1] + hs[2] * proof.s_prime[2]
    assert G * proof.s3 + s_h - c_tilde * c == proof.t3


def test_malformed_proofs_are_rejected_without_raising():
    short = dataclasses.replace(PROOF, chain=PROOF.chain[:-1])
    wide = dataclasses.replace(PROOF, s4=(*PROOF.s4, ONE))
    wrong_type = dataclasses.replace(PROOF, t1=PROOF.s1)
    bad_pair = dataclasses.replace(PROOF, t4=((PROOF.t1,),))
    as_list = dataclasses.replace(PROOF, s_prime=list(PROOF.s_prime))
    for proof in (short, wide, wrong_type, bad_pair, as_list):
        assert not verify_shuffle(proof, INPUTS, OUTPUTS, KEY.public, CONTEXT)


def test_prover_refuses_a_witness_of_another_size():
    with pytest.raises(ValueError):
        prove_shuffle(INPUTS, OUTPUTS, ShuffleWitness(WITNESS.permutation[:-1], WITNESS.randomness),
                      KEY.public, CONTEXT)
    with pytest.raises(ValueError):
        prove_shuffle(INPUTS, OUTPUTS, ShuffleWitness((0,) * len(VALUES), WITNESS.randomness),
                      KEY.public, CONTEXT)


def _packed(rows) -> object:
    from coop_elections.domain.crypto.shuffle import packed_rows

    return packed_rows(b"".join(ct.to_bytes() for row in rows for ct in row), len(rows[0]))


def test_packed_rows_are_shuffled_proved_and_checked_like_decoded_ones():
    inputs = _rows([(1, 2, 3), (4, 5, 6), (7, 8, 9), (0, 0, 1)])
    out, w = shuffle(_packed(inputs), KEY.public)
    proof = prove_shuffle(_packed(inputs), out, w, KEY.public, CONTEXT)
    assert verify_shuffle(proof, inputs, out, KEY.public, CONTEXT)  # the same statement, decoded
    assert verify_shuffle(proof, _packed(inputs), _packed(out), KEY.public, CONTEXT)
    swapped = [out[1], out[0], *out[2:]]
    assert not verify_shuffle(proof, _packed(inputs), _packed(swapped), KEY.public, CONTEXT)
    assert not verify_shuffle(proof, _packed(inputs[::-1]), _packed(out), KEY.public, CONTEXT)


def test_a_packed_output_that_is_no_element_fails_the_check_without_raising():
    from coop_elections.domain.crypto.shuffle import packed_rows

    inputs = _rows([(1, 2), (3, 4), (5, 6)])
    out, w = shuffle(inputs, KEY.public)
    proof = prove_shuffle(inputs, out, w, KEY.public, CONTEXT)
    assert verify_shuffle(proof, inputs, _packed(out), KEY.public, CONTEXT)
    for offset in (64, 2 * 128 + 32):  # row 0's second a; row 2's first b (read in a span)
        blob = bytearray(b"".join(ct.to_bytes() for row in out for ct in row))
        blob[offset:offset + 32] = b"\xff" * 32  # not a canonical encoding
        assert not verify_shuffle(proof, inputs, packed_rows(bytes(blob), 2), KEY.public, CONTEXT)
    with pytest.raises(ValueError):
        packed_rows(b"\x00" * 10, 2)
