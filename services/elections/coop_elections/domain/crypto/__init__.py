"""Cryptographic primitives of end-to-end verifiable encrypted ballots (issue 14, first step).

Pure and self-contained: the group (ristretto255, RFC 9496, through libsodium), exponential
ElGamal, the zero-knowledge proofs a Helios/Belenios-style election needs, and the trustees'
threshold key and decryption. Nothing here knows of ballots, services or storage yet;
docs/elections.md, "Encrypted ballots: the primitives", fixes every encoding and every hashed
byte so other implementations can verify.

Modules:

* :mod:`.group` - `Scalar`, `Element`, generators `G` and `H`, `hash_to_scalar`;
* :mod:`.elgamal` - `KeyPair`, `Ciphertext`, `encrypt`, `decrypt`, `discrete_log`;
* :mod:`.proofs` - `SchnorrProof`, `ChaumPedersenProof`, `DisjunctiveChaumPedersenProof`;
* :mod:`.trustees` - the trustees' k-of-n key (`Dealing`, `qualify`, `joint_public_key`,
  `combine_shares`) and its threshold decryption (`partial_decrypt`, `threshold_decrypt`).
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
from .trustees import (
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
    joint_public_key,
    partial_decrypt,
    qualify,
    threshold_decrypt,
    verify_decryption_share,
    verify_share,
)

__all__ = [
    "G",
    "H",
    "IDENTITY",
    "NEUTRAL",
    "ORDER",
    "ChaumPedersenProof",
    "Ciphertext",
    "Complaint",
    "Dealing",
    "DecryptionShare",
    "DisjunctiveChaumPedersenProof",
    "Element",
    "KeyPair",
    "NotEnoughDecryptionShares",
    "Qualification",
    "Scalar",
    "SchnorrProof",
    "Threshold",
    "TrusteeCommitment",
    "TrusteeKeyShare",
    "add_all",
    "check_shares",
    "combine_decryption_shares",
    "combine_shares",
    "decrypt",
    "decryption_share",
    "discrete_log",
    "encrypt",
    "hash_to_element",
    "hash_to_scalar",
    "joint_public_key",
    "partial_decrypt",
    "qualify",
    "random_scalar",
    "threshold_decrypt",
    "verify_decryption_share",
    "verify_share",
]
