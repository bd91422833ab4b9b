"""Packed sequences: published values kept as bytes, decoded one at a time where they are read."""

from __future__ import annotations

import pickle

import pytest

from coop_elections.domain.crypto.elgamal import CIPHERTEXT_BYTES, Ciphertext, encrypt
from coop_elections.domain.crypto.group import G, random_scalar
from coop_elections.domain.crypto.packed import SIZE, WIDTH, Joined, Packed, published

KEY = G * random_scalar()
CIPHERTEXTS = tuple(encrypt(m, KEY, random_scalar()) for m in range(7))


def _packed() -> Packed[Ciphertext]:
    return Packed(b"".join(published(CIPHERTEXTS)), CIPHERTEXT_BYTES, Ciphertext.from_bytes)


def test_a_packed_sequence_reads_like_the_values_it_holds():
    values = _packed()
    assert len(values) == 7 and list(values) == list(CIPHERTEXTS)
    assert values[0] == CIPHERTEXTS[0] and values[-1] == CIPHERTEXTS[-1]
    assert list(values.raw()) == [ct.to_bytes() for ct in CIPHERTEXTS]
    assert CIPHERTEXTS[3] in values and values.index(CIPHERTEXTS[4]) == 4
    with pytest.raises(IndexError):
        values[7]
    with pytest.raises(IndexError):
        values[-8]


def test_a_slice_of_a_packed_sequence_stays_packed_views_its_bytes_and_pickles_only_them():
    values = _packed()
    part = values[2:5]
    assert isinstance(part, Packed) and list(part) == list(CIPHERTEXTS[2:5])
    assert len(part.blob) == 3 * CIPHERTEXT_BYTES
    assert isinstance(part.blob, memoryview) and part.blob.obj is values.blob  # a view, no copy
    assert list(part[1:]) == list(CIPHERTEXTS[3:5]) and list(part.raw()) == [ct.to_bytes() for ct in CIPHERTEXTS[2:5]]
    assert len(pickle.dumps(part)) < 3 * CIPHERTEXT_BYTES + 200
    assert list(pickle.loads(pickle.dumps(part))) == list(CIPHERTEXTS[2:5])
    assert list(_packed()[5:100]) == list(CIPHERTEXTS[5:]) and len(_packed()[6:2]) == 0
    with pytest.raises(ValueError, match="step 1"):
        _packed()[::2]


def test_a_packed_sequence_pickles_as_its_bytes():
    data = pickle.dumps(_packed())
    assert len(data) < 7 * CIPHERTEXT_BYTES + 200
    assert list(pickle.loads(data)) == list(CIPHERTEXTS)


def test_a_malformed_item_fails_where_it_is_read_and_a_torn_blob_at_once():
    blob = bytearray(_packed().blob)
    blob[CIPHERTEXT_BYTES:CIPHERTEXT_BYTES + 32] = b"\xff" * 32
    values = Packed(bytes(blob), CIPHERTEXT_BYTES, Ciphertext.from_bytes)
    assert values[0] == CIPHERTEXTS[0]
    with pytest.raises(ValueError, match="canonical encoding"):
        values[1]
    with pytest.raises(ValueError, match="no whole number"):
        Packed(bytes(blob[:-1]), CIPHERTEXT_BYTES, Ciphertext.from_bytes)
    with pytest.raises(ValueError, match="no whole number"):
        Packed(b"", 0, Ciphertext.from_bytes)


def test_published_bytes_come_as_stored_from_a_packed_sequence_and_encoded_from_values():
    values = _packed()
    assert list(published(values)) == list(published(CIPHERTEXTS)) == [ct.to_bytes() for ct in CIPHERTEXTS]
    assert list(published(values[1:3])) == [ct.to_bytes() for ct in CIPHERTEXTS[1:3]]


def test_joined_items_hold_their_bytes_in_order_across_chunks():
    raw = [ct.to_bytes() for ct in CIPHERTEXTS]
    joined = Joined(CIPHERTEXT_BYTES)
    joined.extend(raw[:3])
    joined.extend(iter(raw[3:]))
    assert (joined.count, joined.problem) == (7, None)
    assert joined.blob() == b"".join(raw) == Joined.of(raw, CIPHERTEXT_BYTES).blob()


def test_joined_rows_keep_their_width_and_count():
    raw = [ct.to_bytes() for ct in CIPHERTEXTS[:6]]
    rows = Joined.of_rows([raw[0:3], raw[3:6]], CIPHERTEXT_BYTES)
    assert (rows.rows, rows.width, rows.count, rows.problem) == (2, 3, 6, None)
    assert rows.blob() == b"".join(raw)
    assert (Joined.of_rows([], CIPHERTEXT_BYTES).rows, Joined.of_rows([], CIPHERTEXT_BYTES).width) == (0, None)


def test_a_wrong_sized_item_is_recorded_with_its_position_and_ends_the_join():
    raw = [ct.to_bytes() for ct in CIPHERTEXTS]
    joined = Joined.of([*raw[:4], raw[4][:-1], *raw[5:]], CIPHERTEXT_BYTES)
    assert (joined.problem.kind, joined.problem.position) == (SIZE, 4)
    assert joined.count == 4 and joined.blob() == b"".join(raw[:4])  # nothing joined after it
    joined.extend(raw)
    assert joined.count == 4


def test_a_row_of_another_width_is_recorded_with_its_row():
    raw = [ct.to_bytes() for ct in CIPHERTEXTS]
    rows = Joined.of_rows([raw[0:2], raw[2:4], raw[4:7]], CIPHERTEXT_BYTES)
    assert (rows.problem.kind, rows.problem.position, rows.rows) == (WIDTH, 2, 2)
    torn = Joined.of_rows([raw[0:2], [raw[2], raw[3][:10]]], CIPHERTEXT_BYTES)
    assert (torn.problem.kind, torn.problem.position) == (SIZE, 3)
