"""Non-interactive zero-knowledge proofs over ristretto255 (sigma protocols + strong Fiat-Shamir).

Each challenge hashes, after a label naming the proof, the caller's context (e.g. the election
id, so a proof cannot be replayed in another election), the whole statement (generators
included) and every commitment: "weak" Fiat-Shamir, which leaves the statement out, has broken
deployed verifiers (Bernhard, Pereira, Warinschi 2012). The exact bytes are in docs/elections.md.

`verify` answers False for any proof that does not hold, never an exception: a verifier run over
a published ballot box must be able to list the bad proofs, not stop at the first one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .elgamal import Ciphertext, encrypt
from .group import (
    ELEMENT_BYTES,
    SCALAR_BYTES,
    Element,
    G,
    PickledAsBytes,
    Scalar,
    hash_to_scalar,
    linear_combination,
    random_scalar,
)

SCHNORR_LABEL = b"coopgov/elections/v1/proof/schnorr"
CHAUM_PEDERSEN_LABEL = b"coopgov/elections/v1/proof/chaum-pedersen"
DISJUNCTIVE_LABEL = b"coopgov/elections/v1/proof/disjunctive-chaum-pedersen"

# Allowed plaintexts of a disjunctive proof are small counts (a selection, a number of
# selections); the cap says so, and keeps each one's hashed encoding (32-byte little-endian
# scalar) the integer itself.
MAX_ALLOWED_VALUE = 2**32

# Published sizes of the proofs a trustee publishes (to_bytes / from_bytes).
SCHNORR_PROOF_BYTES = ELEMENT_BYTES + SCALAR_BYTES
CHAUM_PEDERSEN_PROOF_BYTES = 2 * ELEMENT_BYTES + SCALAR_BYTES


def _context(context: bytes) -> bytes:
    if not isinstance(context, bytes):
        raise TypeError("the context is bytes (e.g. the election id in UTF-8)")
    return context


def _elements(*items: object) -> bool:
    return all(isinstance(item, Element) for item in items)


def _scalars(*items: object) -> bool:
    return all(isinstance(item, Scalar) for item in items)


@dataclass(frozen=True, slots=True)
class SchnorrProof:
    """Knowledge of x with public = G^x: a trustee shows it holds the secret of its key share.

    Commitment t = G^w, challenge c = H(label, context, G, public, t), response s = w + c x;
    it holds iff G^s = t * public^c.
    """

    commitment: Element
    response: Scalar

    @staticmethod
    def challenge(public: Element, commitment: Element, context: bytes) -> Scalar:
        return hash_to_scalar(
            SCHNORR_LABEL, _context(context), G.to_bytes(), public.to_bytes(), commitment.to_bytes())

    @classmethod
    def prove(cls, secret: Scalar, context: bytes) -> SchnorrProof:
        if secret.is_zero():
            raise ValueError("a zero secret has the identity as its public key")
        w = random_scalar()
        commitment = G * w
        c = cls.challenge(G * secret, commitment, context)
        return cls(commitment, w + c * secret)

    def verify(self, public: Element, context: bytes) -> bool:
        if not (_elements(public, self.commitment) and _scalars(self.response)):
            return False
        if not isinstance(context, bytes) or public.is_identity():
            return False
        c = self.challenge(public, self.commitment, context)
        return linear_combination([(self.response, G), (-c, public)]) == self.commitment

    def to_bytes(self) -> bytes:
        """t || s, 64 bytes: how a trustee's proof is published (docs/trustees.md)."""
        return self.commitment.to_bytes() + self.response.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> SchnorrProof:
        """Decode 64 published bytes; ValueError unless t is an element and s a canonical scalar."""
        data = bytes(data)
        if len(data) != SCHNORR_PROOF_BYTES:
            raise ValueError(f"a Schnorr proof is {SCHNORR_PROOF_BYTES} bytes")
        return cls(Element.from_bytes(data[:ELEMENT_BYTES]), Scalar.from_bytes(data[ELEMENT_BYTES:]))


@dataclass(frozen=True, slots=True)
class ChaumPedersenProof(PickledAsBytes):
    """One x with public = G^x and share = base^x: a correct partial decryption.

    With base the ciphertext's a, share = a^x is the key holder's decryption share. Commitments
    t1 = G^w, t2 = base^w; c = H(label, context, G, public, base, share, t1, t2); s = w + c x;
    it holds iff G^s = t1 * public^c and base^s = t2 * share^c.
    """

    commitment_g: Element
    commitment_base: Element
    response: Scalar

    @staticmethod
    def challenge(public: Element, base: Element, share: Element, commitment_g: Element,
                  commitment_base: Element, context: bytes) -> Scalar:
        return hash_to_scalar(
            CHAUM_PEDERSEN_LABEL, _context(context), G.to_bytes(), public.to_bytes(),
            base.to_bytes(), share.to_bytes(), commitment_g.to_bytes(), commitment_base.to_bytes())

    @classmethod
    def prove(cls, secret: Scalar, base: Element, context: bytes, public: Element | None = None,
              share: Element | None = None) -> ChaumPedersenProof:
        """Prove log_G(G^secret) = log_base(share), share = base^secret (elgamal.decryption_share).
        A caller that has G^secret (`public`) or the share already passes them: each is a scalar
        multiplication spared (a trustee's 375,321 shares at the cooperative's scale)."""
        if secret.is_zero():
            raise ValueError("a zero secret has the identity as its public key")
        w = random_scalar()
        commitment_g, commitment_base = G * w, base * w
        c = cls.challenge(public if public is not None else G * secret, base,
                          share if share is not None else base * secret, commitment_g, commitment_base, context)
        return cls(commitment_g, commitment_base, w + c * secret)

    def verify(self, public: Element, base: Element, share: Element, context: bytes) -> bool:
        if not (_elements(public, base, share, self.commitment_g, self.commitment_base)
                and _scalars(self.response)):
            return False
        if not isinstance(context, bytes) or public.is_identity():
            return False
        c = self.challenge(public, base, share, self.commitment_g, self.commitment_base, context)
        # a trustee's key checks all of its shares: a kept table makes its term cheap
        return (linear_combination([(self.response, G), (-c, public)], reused=(public,)) == self.commitment_g
                and linear_combination([(self.response, base), (-c, share)]) == self.commitment_base)

    def to_bytes(self) -> bytes:
        """t1 || t2 || s, 96 bytes: how a decryption share's proof is published."""
        return (self.commitment_g.to_bytes() + self.commitment_base.to_bytes()
                + self.response.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes, *, trusted: bool = False) -> ChaumPedersenProof:
        """Decode 96 published bytes; ValueError unless t1, t2 are elements and s a canonical scalar
        (`trusted`: see Element.from_bytes)."""
        data = bytes(data)
        if len(data) != CHAUM_PEDERSEN_PROOF_BYTES:
            raise ValueError(f"a Chaum-Pedersen proof is {CHAUM_PEDERSEN_PROOF_BYTES} bytes")
        e = ELEMENT_BYTES
        return cls(Element.from_bytes(data[:e], trusted=trusted),
                   Element.from_bytes(data[e:2 * e], trusted=trusted),
                   Scalar.from_bytes(data[2 * e:], trusted=trusted))


def _allowed(values: Sequence[int]) -> tuple[int, ...]:
    """The allowed plaintexts, checked: a non-empty sequence of distinct small non-negative ints."""
    allowed = tuple(values)
    if not allowed:
        raise ValueError("at least one allowed value is needed")
    for v in allowed:
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_ALLOWED_VALUE:
            raise ValueError(f"allowed values are integers in [0, {MAX_ALLOWED_VALUE}]")
    if len(set(allowed)) != len(allowed):
        raise ValueError("allowed values are distinct")
    return allowed


@dataclass(frozen=True, slots=True)
class DisjunctiveChaumPedersenProof:
    """A ciphertext (a, b) under pk encrypts one of the allowed values v_0..v_{n-1}, not which.

    For each v_j, branch j is a Chaum-Pedersen proof that log_G a = log_pk (b / G^{v_j}); the
    branch of the true value is proved, the others simulated (Cramer-Damgard-Schoenmakers).
    The branch challenges must add up to c = H(label, context, G, pk, a, b, v_0..v_{n-1},
    t1_0, t2_0, .., t1_{n-1}, t2_{n-1}), fixed after the commitments: the prover can choose the
    challenges of all branches but one in advance (and simulate them), so one branch, that of a
    value the ciphertext really encrypts, must be proved with the nonce. {0, 1} proves a
    selection; lo..hi proves a question's number of selections.
    """

    commitments: tuple[tuple[Element, Element], ...]  # (t1_j, t2_j) = (G^{w_j}, pk^{w_j}) if proved
    challenges: tuple[Scalar, ...]
    responses: tuple[Scalar, ...]

    @staticmethod
    def challenge(ciphertext: Ciphertext, public_key: Element, allowed: Sequence[int],
                  commitments: Sequence[tuple[Element, Element]], context: bytes) -> Scalar:
        parts = [_context(context), G.to_bytes(), public_key.to_bytes(), ciphertext.a.to_bytes(),
                 ciphertext.b.to_bytes()]
        parts += [Scalar.from_int(v).to_bytes() for v in allowed]
        for t1, t2 in commitments:
            parts += [t1.to_bytes(), t2.to_bytes()]
        return hash_to_scalar(DISJUNCTIVE_LABEL, *parts)

    @classmethod
    def prove(cls, ciphertext: Ciphertext, plaintext: int, nonce: Scalar, public_key: Element,
              allowed: Sequence[int], context: bytes) -> DisjunctiveChaumPedersenProof:
        """ValueError if plaintext is not allowed, or ciphertext is not encrypt(plaintext, pk, nonce)."""
        values = _allowed(allowed)
        if plaintext not in values:
            raise ValueError(f"{plaintext} is not among the allowed values")
        if encrypt(plaintext, public_key, nonce) != ciphertext:
            raise ValueError("the ciphertext is not the encryption of plaintext with this nonce")
        a, b = ciphertext.a, ciphertext.b
        real = values.index(plaintext)
        w = random_scalar()
        # Simulated branches: challenge and response drawn first, commitments solved for.
        simulated = {j: (random_scalar(), random_scalar()) for j in range(len(values)) if j != real}
        commitments: list[tuple[Element, Element]] = []
        for j, v in enumerate(values):
            if j == real:
                commitments.append((G * w, linear_combination([(w, public_key)], reused=(public_key,))))
            else:
                c_j, s_j = simulated[j]
                commitments.append(_branch(a, b, public_key, v, c_j, s_j))
        c_real = cls.challenge(ciphertext, public_key, values, commitments, context)
        for c_j, _ in simulated.values():
            c_real = c_real - c_j
        s_real = w + c_real * nonce
        branches = [(c_real, s_real) if j == real else simulated[j] for j in range(len(values))]
        return cls(tuple(commitments), tuple(c for c, _ in branches), tuple(s for _, s in branches))

    def verify(self, ciphertext: Ciphertext, public_key: Element, allowed: Sequence[int],
               context: bytes) -> bool:
        try:
            values = _allowed(allowed)
        except (TypeError, ValueError):
            return False
        n = len(values)
        if not (isinstance(ciphertext, Ciphertext) and _elements(ciphertext.a, ciphertext.b, public_key)
                and isinstance(context, bytes) and not public_key.is_identity()):
            return False
        if not all(isinstance(x, tuple) for x in (self.commitments, self.challenges, self.responses)):
            return False
        if not (len(self.commitments) == len(self.challenges) == len(self.responses) == n):
            return False
        if not all(isinstance(pair, tuple) and len(pair) == 2 and _elements(*pair)
                   for pair in self.commitments):
            return False
        if not _scalars(*self.challenges, *self.responses):
            return False
        c = self.challenge(ciphertext, public_key, values, self.commitments, context)
        total = Scalar.from_int(0)
        for c_j in self.challenges:
            total = total + c_j
        if total != c:
            return False
        a, b = ciphertext.a, ciphertext.b
        return all(_branch(a, b, public_key, v, c_j, s_j) == t
                   for v, t, c_j, s_j in zip(values, self.commitments, self.challenges, self.responses,
                                             strict=True))


def _branch(a: Element, b: Element, public_key: Element, v: int, c: Scalar,
            s: Scalar) -> tuple[Element, Element]:
    """The commitments (G^s / a^c, pk^s / (b / G^v)^c) that branch v's challenge c and response s
    answer: a simulated branch's, or the ones a verifier expects."""
    return (linear_combination([(s, G), (-c, a)]),
            linear_combination([(s, public_key), (-c, b), (c * Scalar.from_int(v), G)], reused=(public_key,)))
