"""The group's own binding of libsodium's ristretto255 calls (_sodium.py) answers exactly as
pysodium's wrappers of the same library do, refuses what they refuse, and keeps the GIL during
each call: with the api's request threads checking ballots at once, releasing it around every
0.3 us call cost twice the CPU of a check (bench/README.md, the GIL convoy)."""

from __future__ import annotations

import ctypes
import os

import pysodium
import pytest

from coop_elections.domain.crypto import _decaf, _sodium

SCALAR_CALLS = [
    ("scalar_add", pysodium.crypto_core_ristretto255_scalar_add, 2),
    ("scalar_sub", pysodium.crypto_core_ristretto255_scalar_sub, 2),
    ("scalar_mul", pysodium.crypto_core_ristretto255_scalar_mul, 2),
    ("scalar_negate", pysodium.crypto_core_ristretto255_scalar_negate, 1),
    ("scalar_invert", pysodium.crypto_core_ristretto255_scalar_invert, 1),
]


def _scalar() -> bytes:
    return pysodium.crypto_core_ristretto255_scalar_random()


def _point() -> bytes:
    return pysodium.crypto_scalarmult_ristretto255_base(_scalar())


@pytest.mark.parametrize(("name", "reference", "arity"), SCALAR_CALLS)
def test_scalar_arithmetic_agrees_with_pysodium(name, reference, arity):
    for _ in range(20):
        args = [_scalar() for _ in range(arity)]
        assert getattr(_sodium, name)(*args) == reference(*args)


def test_point_arithmetic_hashing_and_reduction_agree_with_pysodium():
    for _ in range(20):
        p, q, k, wide = _point(), _point(), _scalar(), os.urandom(64)
        assert _sodium.point_add(p, q) == pysodium.crypto_core_ristretto255_add(p, q)
        assert _sodium.point_sub(p, q) == pysodium.crypto_core_ristretto255_sub(p, q)
        assert _sodium.scalarmult(k, p) == pysodium.crypto_scalarmult_ristretto255(k, p)
        assert _sodium.scalarmult_base(k) == pysodium.crypto_scalarmult_ristretto255_base(k)
        assert _sodium.point_from_hash(wide) == pysodium.crypto_core_ristretto255_from_hash(wide)
        assert _sodium.scalar_reduce(wide) == pysodium.crypto_core_ristretto255_scalar_reduce(wide)
        assert _sodium.is_valid_point(p) and not _sodium.is_valid_point(bytes(31) + b"\xff")


def test_random_scalars_are_canonical_and_differ():
    drawn = {_sodium.scalar_random() for _ in range(50)}
    assert len(drawn) == 50
    assert all(_sodium.scalar_reduce(s + bytes(32)) == s for s in drawn)


@pytest.mark.parametrize("bad", [b"", bytes(31), bytes(33), "not bytes"])
def test_every_call_refuses_a_value_of_the_wrong_length(bad):
    with pytest.raises(ValueError):
        _sodium.scalar_add(bad, _scalar())
    with pytest.raises(ValueError):
        _sodium.point_add(_point(), bad)
    with pytest.raises(ValueError):
        _sodium.scalarmult(bad, _point())
    with pytest.raises(ValueError):
        _sodium.scalar_reduce(bad)
    assert not _sodium.is_valid_point(bad)
    assert not _sodium.is_valid_point("x" * 32)  # 32 characters are not 32 bytes


def test_libsodium_refusals_raise_value_error():
    with pytest.raises(ValueError, match="invert zero"):
        _sodium.scalar_invert(bytes(32))
    with pytest.raises(ValueError, match="identity"):
        _sodium.scalarmult_base(bytes(32))
    with pytest.raises(ValueError, match="identity"):
        _sodium.scalarmult(bytes(32), _point())
    with pytest.raises(ValueError):
        _sodium.point_add(bytes(31) + b"\xff", _point())  # not a canonical encoding


def test_both_native_libraries_are_called_with_the_gil_held():
    assert isinstance(_sodium._lib, ctypes.PyDLL)
    assert isinstance(_decaf._load(), ctypes.PyDLL)
