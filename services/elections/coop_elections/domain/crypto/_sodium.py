"""The one place that binds libsodium's ristretto255 functions (all group arithmetic is libsodium's).

PyNaCl 1.6 exposes no ristretto255 function (its bindings stop at ed25519, and the libsodium it
bundles is built without them: pyca/pynacl#646 is open since 2020). pysodium, a maintained ctypes
wrapper of the system's libsodium (Debian's libsodium23), finds and initialises the library;
these `crypto_core_ristretto255_*` / `crypto_scalarmult_ristretto255*` calls go to that same
library through `ctypes.PyDLL`, which keeps the GIL during each call. pysodium's own wrappers
(`ctypes.CDLL`) release and retake the GIL around every call, even a 0.3 us scalar addition: with
the api's 16 request threads checking ballots at once, that handover cost 2x the CPU of a check
(a GIL convoy: 900 context switches a ballot; see bench/README.md). (rbcl, which bundles
libsodium, was tried: it writes its library to the temporary directory and loads it from there
at each import, which fails where /tmp is mounted noexec, as Compose's tmpfs is.)

Every function takes and returns bytes and raises ValueError on a wrong length or a libsodium
error, as pysodium's do. group.py still checks every value before it gets here (32-byte
canonical scalars, valid points, no zero scalar or identity where libsodium refuses them), so
that a wrong input fails with the group's own message.
"""

from __future__ import annotations

import ctypes

import pysodium  # finds libsodium and runs sodium_init() at import

POINT_BYTES = 32
SCALAR_BYTES = 32
HASH_BYTES = 64  # from_hash's input, and scalar_reduce's

_lib = ctypes.PyDLL(pysodium.sodium._name)
_is_valid_point = _lib.crypto_core_ristretto255_is_valid_point
_add, _sub = _lib.crypto_core_ristretto255_add, _lib.crypto_core_ristretto255_sub
_from_hash = _lib.crypto_core_ristretto255_from_hash
_scalar_add, _scalar_sub = _lib.crypto_core_ristretto255_scalar_add, _lib.crypto_core_ristretto255_scalar_sub
_scalar_mul = _lib.crypto_core_ristretto255_scalar_mul
_scalar_negate = _lib.crypto_core_ristretto255_scalar_negate
_scalar_invert = _lib.crypto_core_ristretto255_scalar_invert
_scalar_reduce = _lib.crypto_core_ristretto255_scalar_reduce
_scalar_random = _lib.crypto_core_ristretto255_scalar_random
_scalarmult, _scalarmult_base = _lib.crypto_scalarmult_ristretto255, _lib.crypto_scalarmult_ristretto255_base


def _sized(value: bytes, size: int, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != size:
        raise ValueError(f"{what} must be {size} bytes")
    return value


def _checked(status: int, what: str) -> None:
    if status != 0:
        raise ValueError(f"libsodium refused {what}")


def is_valid_point(p: bytes) -> bool:
    return isinstance(p, bytes) and len(p) == POINT_BYTES and _is_valid_point(p) == 1


def point_add(p: bytes, q: bytes) -> bytes:
    out = ctypes.create_string_buffer(POINT_BYTES)
    _checked(_add(out, _sized(p, POINT_BYTES, "a point"), _sized(q, POINT_BYTES, "a point")), "the sum")
    return out.raw


def point_sub(p: bytes, q: bytes) -> bytes:
    out = ctypes.create_string_buffer(POINT_BYTES)
    _checked(_sub(out, _sized(p, POINT_BYTES, "a point"), _sized(q, POINT_BYTES, "a point")), "the difference")
    return out.raw


def point_from_hash(h: bytes) -> bytes:
    out = ctypes.create_string_buffer(POINT_BYTES)
    _checked(_from_hash(out, _sized(h, HASH_BYTES, "a hash")), "the hash")
    return out.raw


def _scalar_op(fn, *scalars: bytes) -> bytes:
    out = ctypes.create_string_buffer(SCALAR_BYTES)
    fn(out, *(_sized(s, SCALAR_BYTES, "a scalar") for s in scalars))
    return out.raw


def scalar_add(x: bytes, y: bytes) -> bytes:
    return _scalar_op(_scalar_add, x, y)


def scalar_sub(x: bytes, y: bytes) -> bytes:
    return _scalar_op(_scalar_sub, x, y)


def scalar_mul(x: bytes, y: bytes) -> bytes:
    return _scalar_op(_scalar_mul, x, y)


def scalar_negate(x: bytes) -> bytes:
    return _scalar_op(_scalar_negate, x)


def scalar_invert(x: bytes) -> bytes:
    out = ctypes.create_string_buffer(SCALAR_BYTES)
    _checked(_scalar_invert(out, _sized(x, SCALAR_BYTES, "a scalar")), "to invert zero")
    return out.raw


def scalar_reduce(wide: bytes) -> bytes:
    out = ctypes.create_string_buffer(SCALAR_BYTES)
    _scalar_reduce(out, _sized(wide, HASH_BYTES, "a wide scalar"))
    return out.raw


def scalar_random() -> bytes:
    out = ctypes.create_string_buffer(SCALAR_BYTES)
    _scalar_random(out)
    return out.raw


def scalarmult(n: bytes, p: bytes) -> bytes:
    out = ctypes.create_string_buffer(POINT_BYTES)
    _checked(_scalarmult(out, _sized(n, SCALAR_BYTES, "a scalar"), _sized(p, POINT_BYTES, "a point")),
             "the product (the identity)")
    return out.raw


def scalarmult_base(n: bytes) -> bytes:
    out = ctypes.create_string_buffer(POINT_BYTES)
    _checked(_scalarmult_base(out, _sized(n, SCALAR_BYTES, "a scalar")), "the product (the identity)")
    return out.raw


__all__ = [
    "is_valid_point",
    "point_add",
    "point_from_hash",
    "point_sub",
    "scalar_add",
    "scalar_invert",
    "scalar_mul",
    "scalar_negate",
    "scalar_random",
    "scalar_reduce",
    "scalar_sub",
    "scalarmult",
    "scalarmult_base",
]
