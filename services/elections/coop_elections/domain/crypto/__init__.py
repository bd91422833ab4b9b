"""Cryptographic primitives of end-to-end verifiable encrypted ballots (issue 14, first step).

Pure and self-contained: the group (ristretto255, RFC 9496, through libsodium), exponential
ElGamal, and the zero-knowledge proofs a Helios/Belenios-style election needs. Nothing here
knows of elections, ballots, trustees or storage yet; docs/elections.md, "Encrypted ballots: the
primitives", fixes every encoding and every hashed byte so other implementations can verify.

Modules:

* :mod:`.group` - `Scalar`, `Element`, generators `G` and `H`, `hash_to_scalar`;
* :mod:`.elgamal` - `KeyPair`, `Ciphertext`, `encrypt`, `decrypt`, `discrete_log`;
* :mod:`.proofs` - `SchnorrProof`, `ChaumPedersenProof`, `DisjunctiveChaumPedersenProof`.
"""

from .elgamal import (
    NEUTRAL,
    Ciphertext,
    KeyPair,
    add_all,
    decrypt,
    decryption_share,
    discrete_log,
    encrypt,
)
from .group import (
    IDENTITY,
    ORDER,
    Element,
    G,
    H,
    Scalar,
    hash_to_element,
    hash_to_scalar,
    random_scalar,
)
from .proofs import ChaumPedersenProof, DisjunctiveChaumPedersenProof, SchnorrProof

__all__ = [
    "G",
    "H",
    "IDENTITY",
    "NEUTRAL",
    "ORDER",
    "ChaumPedersenProof",
    "Ciphertext",
    "DisjunctiveChaumPedersenProof",
    "Element",
    "KeyPair",
    "Scalar",
    "SchnorrProof",
    "add_all",
    "decrypt",
    "decryption_share",
    "discrete_log",
    "encrypt",
    "hash_to_element",
    "hash_to_scalar",
    "random_scalar",
]
