"""The one place that binds libsodium's ristretto255 functions (all group arithmetic is libsodium's).

PyNaCl 1.6 exposes no ristretto255 function (its bindings stop at ed25519, and the libsodium it
bundles is built without them: pyca/pynacl#646 is open since 2020). pysodium, a maintained ctypes
wrapper of the system's libsodium (Debian's libsodium23), binds exactly these
`crypto_core_ristretto255_*` / `crypto_scalarmult_ristretto255*` calls and raises ValueError on
every libsodium error code. (rbcl, which bundles libsodium, was tried: it writes its library to the
temporary directory and loads it from there at each import, which fails where /tmp is mounted
noexec, as Compose's tmpfs is.) Keeping the import here means a future switch touches one file.

group.py still checks every value before it gets here (32-byte canonical scalars, valid points,
no zero scalar or identity where libsodium refuses them), so that a wrong input fails with the
group's own message.
"""

from __future__ import annotations

import pysodium

is_valid_point = pysodium.crypto_core_ristretto255_is_valid_point
point_add = pysodium.crypto_core_ristretto255_add
point_sub = pysodium.crypto_core_ristretto255_sub
point_from_hash = pysodium.crypto_core_ristretto255_from_hash
scalar_add = pysodium.crypto_core_ristretto255_scalar_add
scalar_sub = pysodium.crypto_core_ristretto255_scalar_sub
scalar_mul = pysodium.crypto_core_ristretto255_scalar_mul
scalar_negate = pysodium.crypto_core_ristretto255_scalar_negate
scalar_invert = pysodium.crypto_core_ristretto255_scalar_invert
scalar_reduce = pysodium.crypto_core_ristretto255_scalar_reduce
scalar_random = pysodium.crypto_core_ristretto255_scalar_random
scalarmult = pysodium.crypto_scalarmult_ristretto255
scalarmult_base = pysodium.crypto_scalarmult_ristretto255_base

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
