"""End-to-end verifiable encrypted ballots (issue 14): primitives, tally and audit.

Pure and self-contained: the group (ristretto255, RFC 9496, through libsodium), exponential
ElGamal, the zero-knowledge proofs a Helios/Belenios-style election needs, the trustees'
threshold key and decryption, and the encrypted ballot. Nothing here knows of services or storage;
docs/elections.md, "Encrypted ballots", fixes every encoding and every hashed
byte so other implementations can verify.

Modules:

* :mod:`.group` - `Scalar`, `Element`, generators `G` and `H`, `hash_to_scalar`;
* :mod:`.elgamal` - `KeyPair`, `Ciphertext`, `encrypt`, `decrypt`, `discrete_log`;
* :mod:`.proofs` - `SchnorrProof`, `ChaumPedersenProof`, `DisjunctiveChaumPedersenProof`;
* :mod:`.trustees` - the trustees' k-of-n key (`Dealing`, `qualify`, `joint_public_key`,
  `combine_shares`) and its threshold decryption (`partial_decrypt`, `threshold_decrypt`);
* :mod:`.ballots` - the encrypted ballot (`EncryptedBallot`, `encrypt_ballot`, `verify_ballot`):
  0/1 ciphertexts per option, or a ranking's positions with a proof of shuffle, proving a valid
  answer;
* :mod:`.shuffle` - one verifiable mix-net step (`shuffle`, `prove_shuffle`, `verify_shuffle`,
  `ShuffleProof`): re-encrypt and permute ballots, with a Terelius-Wikstrom proof of shuffle;
* :mod:`.tally` - from accepted ballots to the result: homomorphic sums, ranking rows, the
  chain of mixes, the trustees' decryption of it all, and today's counting over the plaintexts;
* :mod:`.audit` - the check of a published encrypted election, naming every element that fails.
"""

from .ballots import (
    BallotContext,
    BallotFailure,
    EncryptedBallot,
    EncryptedRanking,
    EncryptedSelection,
    decrypt_answer,
    decrypt_ballot,
    encrypt_answer,
    encrypt_ballot,
    proof_context,
    prove_ranking,
    prove_selection,
    verify_answer,
    verify_ballot,
)
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
from .shuffle import (
    ShuffleProof,
    ShuffleWitness,
    prove_shuffle,
    shuffle,
    verify_shuffle,
)
from .shuffle import generators as shuffle_generators
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
    "BallotContext",
    "BallotFailure",
    "ChaumPedersenProof",
    "Ciphertext",
    "Complaint",
    "Dealing",
    "DecryptionShare",
    "DisjunctiveChaumPedersenProof",
    "Element",
    "EncryptedBallot",
    "EncryptedRanking",
    "EncryptedSelection",
    "KeyPair",
    "NotEnoughDecryptionShares",
    "Qualification",
    "Scalar",
    "SchnorrProof",
    "ShuffleProof",
    "ShuffleWitness",
    "Threshold",
    "TrusteeCommitment",
    "TrusteeKeyShare",
    "add_all",
    "check_shares",
    "combine_decryption_shares",
    "combine_shares",
    "decrypt",
    "decrypt_answer",
    "decrypt_ballot",
    "decryption_share",
    "discrete_log",
    "encrypt",
    "encrypt_answer",
    "encrypt_ballot",
    "hash_to_element",
    "hash_to_scalar",
    "joint_public_key",
    "partial_decrypt",
    "proof_context",
    "prove_ranking",
    "prove_selection",
    "prove_shuffle",
    "qualify",
    "random_scalar",
    "shuffle",
    "shuffle_generators",
    "threshold_decrypt",
    "verify_answer",
    "verify_ballot",
    "verify_decryption_share",
    "verify_share",
    "verify_shuffle",
]
