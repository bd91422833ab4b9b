"""Trustees: a k-of-n election key nobody holds, and its threshold decryption.

Pedersen's dealerless key generation with Feldman-verifiable shares ("joint-Feldman", Pedersen
1991; Gennaro, Jarecki, Krawczyk, Rabin 1999/2007): each trustee i deals a random polynomial
f_i of degree k-1, publishes commitments C_ij = G^a_ij to its coefficients with a Schnorr proof
of knowledge of a_i0, and sends f_i(l) privately to each trustee l. The election key is the
product of the qualified trustees' C_i0; its secret, the sum of their a_i0, is never formed:
trustee l only holds x_l = sum_i f_i(l), a point of the summed polynomial, and any k of them
decrypt a tally together by Lagrange interpolation in the exponent.

Everything a trustee publishes (TrusteeCommitment, Complaint, an answer to a complaint,
DecryptionShare) can be checked by anyone with the functions here; what stays private (a
Dealing's polynomial, the shares it sends, a TrusteeKeyShare) never needs to reach the service.
docs/elections.md, "Trustees: threshold key and decryption", fixes the bytes of each context.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from types import MappingProxyType

from .elgamal import Ciphertext, decryption_share, discrete_log
from .group import (
    ELEMENT_BYTES,
    ONE,
    Element,
    G,
    PickledAsBytes,
    Scalar,
    length_prefixed,
    linear_combination,
    random_scalar,
    u32,
)
from .proofs import (
    CHAUM_PEDERSEN_PROOF_BYTES,
    SCHNORR_PROOF_BYTES,
    ChaumPedersenProof,
    SchnorrProof,
)

KEY_CONTEXT_LABEL = b"coopgov/elections/v1/trustee/key"
DECRYPTION_CONTEXT_LABEL = b"coopgov/elections/v1/trustee/decryption-share"

# Trustee indices are encoded on 4 bytes in the contexts; a real board has a handful.
MAX_TRUSTEES = 2**16


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Threshold:
    """k of n: any k trustees decrypt, k-1 learn nothing (k-1 is also the polynomials' degree)."""

    k: int
    n: int

    def __post_init__(self) -> None:
        if not (_is_int(self.k) and _is_int(self.n)):
            raise TypeError("k and n are integers")
        if not 1 <= self.k <= self.n <= MAX_TRUSTEES:
            raise ValueError(f"a threshold needs 1 <= k <= n <= {MAX_TRUSTEES}")

    @property
    def trustees(self) -> range:
        """The trustee indices 1..n (0 is excluded: f(0) is the secret)."""
        return range(1, self.n + 1)

    def is_trustee(self, index: object) -> bool:
        return isinstance(index, int) and not isinstance(index, bool) and 1 <= index <= self.n

    def check(self, index: int) -> int:
        if not self.is_trustee(index):
            raise ValueError(f"trustees are numbered 1..{self.n}, not {index!r}")
        return index


def key_context(election_id: bytes, trustee: int) -> bytes:
    """What a trustee's proof of knowledge of a_i0 is bound to: this election, this trustee."""
    if not isinstance(election_id, bytes):
        raise TypeError("the election id is bytes (e.g. its UTF-8)")
    return length_prefixed(KEY_CONTEXT_LABEL, election_id, u32(trustee))


def decryption_context(election_id: bytes, trustee: int, ciphertext: Ciphertext) -> bytes:
    """What a decryption share's proof is bound to: election, trustee and the whole ciphertext."""
    if not isinstance(election_id, bytes):
        raise TypeError("the election id is bytes (e.g. its UTF-8)")
    return length_prefixed(DECRYPTION_CONTEXT_LABEL, election_id, u32(trustee),
                           ciphertext.to_bytes())


def _powers(index: int, count: int) -> list[Scalar]:
    """l^0, l^1, .., l^(count-1) as scalars: the weights of the commitments at point l."""
    point, power, out = Scalar.from_int(index), Scalar.from_int(1), []
    for _ in range(count):
        out.append(power)
        power = power * point
    return out


def _evaluate_in_exponent(commitments: tuple[Element, ...], index: int) -> Element:
    """prod_j C_j^(l^j) = G^f(l): what a share f(l) must match, computed from public values."""
    total = None
    for commitment, power in zip(commitments, _powers(index, len(commitments)), strict=True):
        term = commitment * power
        total = term if total is None else total + term
    assert total is not None  # there is at least one commitment (k >= 1)
    return total


@dataclass(frozen=True, slots=True)
class TrusteeCommitment:
    """What trustee i publishes at key generation: C_i0..C_i,k-1 and a proof it knows a_i0."""

    trustee: int
    coefficients: tuple[Element, ...]
    proof: SchnorrProof

    @property
    def public(self) -> Element:
        """C_i0 = G^a_i0, this trustee's contribution to the election key."""
        return self.coefficients[0]

    def problem(self, threshold: Threshold, election_id: bytes) -> str | None:
        """Why this commitment disqualifies its trustee, or None if it is well-formed and proved."""
        if not threshold.is_trustee(self.trustee):
            return f"not a trustee index of 1..{threshold.n}"
        if not isinstance(self.coefficients, tuple) or not all(
                isinstance(c, Element) for c in self.coefficients):
            return "the commitments are not a tuple of elements"
        if len(self.coefficients) != threshold.k:
            return f"{threshold.k} commitments expected, {len(self.coefficients)} published"
        if not isinstance(self.proof, SchnorrProof) or not self.proof.verify(
                self.public, key_context(election_id, self.trustee)):
            return "bad proof of knowledge of the secret coefficient"
        return None

    def to_bytes(self) -> bytes:
        """i (4 bytes) || k (4 bytes) || C_i0 .. C_i,k-1 || Schnorr proof: 8 + 32k + 64 bytes."""
        return (u32(self.trustee) + u32(len(self.coefficients))
                + b"".join(c.to_bytes() for c in self.coefficients) + self.proof.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> TrusteeCommitment:
        """Decode published bytes (ValueError if malformed); the proof is checked by `problem`."""
        data = bytes(data)
        if len(data) < 8:
            raise ValueError("a trustee commitment starts with its trustee and its count")
        trustee, count = int.from_bytes(data[:4], "big"), int.from_bytes(data[4:8], "big")
        if count < 1 or len(data) != 8 + count * ELEMENT_BYTES + SCHNORR_PROOF_BYTES:
            raise ValueError(f"a trustee commitment of {count} coefficients is "
                             f"{8 + count * ELEMENT_BYTES + SCHNORR_PROOF_BYTES} bytes")
        body = data[8:8 + count * ELEMENT_BYTES]
        coefficients = tuple(Element.from_bytes(body[j:j + ELEMENT_BYTES])
                             for j in range(0, len(body), ELEMENT_BYTES))
        return cls(trustee, coefficients, SchnorrProof.from_bytes(data[8 + len(body):]))


@dataclass(frozen=True, slots=True)
class Dealing:
    """Trustee i's private polynomial f_i: it stays on the trustee's machine, never published."""

    trustee: int
    threshold: Threshold
    coefficients: tuple[Scalar, ...] = field(repr=False)

    def __post_init__(self) -> None:
        self.threshold.check(self.trustee)
        if len(self.coefficients) != self.threshold.k:
            raise ValueError(f"a polynomial of degree k-1 has {self.threshold.k} coefficients")
        if self.coefficients[0].is_zero():
            raise ValueError("a zero a_i0 would contribute the identity to the election key")

    @classmethod
    def generate(cls, trustee: int, threshold: Threshold) -> Dealing:
        """Fresh uniform nonzero coefficients from libsodium's CSPRNG."""
        return cls(trustee, threshold, tuple(random_scalar() for _ in range(threshold.k)))

    def publish(self, election_id: bytes) -> TrusteeCommitment:
        """The commitments G^a_ij and the proof of knowledge of a_i0, for the bulletin board."""
        proof = SchnorrProof.prove(self.coefficients[0], key_context(election_id, self.trustee))
        return TrusteeCommitment(self.trustee, tuple(G * a for a in self.coefficients), proof)

    def share_for(self, recipient: int) -> Scalar:
        """f_i(l), sent privately to trustee l (over a channel the service cannot read)."""
        point = Scalar.from_int(self.threshold.check(recipient))
        value = self.coefficients[-1]
        for coefficient in reversed(self.coefficients[:-1]):  # Horner
            value = value * point + coefficient
        return value


def verify_share(commitment: TrusteeCommitment, recipient: int, share: Scalar | None) -> bool:
    """G^s_il == prod_j C_ij^(l^j): the share trustee l received lies on the committed polynomial."""
    if not (isinstance(share, Scalar) and isinstance(commitment, TrusteeCommitment)
            and _is_int(recipient) and recipient >= 1
            and isinstance(commitment.coefficients, tuple) and commitment.coefficients
            and all(isinstance(c, Element) for c in commitment.coefficients)):
        return False
    return G * share == _evaluate_in_exponent(commitment.coefficients, recipient)


@dataclass(frozen=True, slots=True)
class Complaint:
    """Published by trustee `recipient`: the share `sender` sent it is missing or fails its check.

    The sender answers by publishing that share; anyone checks it with verify_share. An
    unanswered complaint, or a wrong answer, disqualifies the sender.
    """

    sender: int
    recipient: int


def check_shares(recipient: int, received: Mapping[int, Scalar],
                 published: Mapping[int, TrusteeCommitment]) -> tuple[Complaint, ...]:
    """The complaints trustee l publishes: one per sender whose share is missing or wrong."""
    complaints = []
    for sender in sorted(published):
        if sender == recipient:
            continue  # its own share: checked the same way by combine_shares, nobody to blame
        share = received.get(sender)
        if share is None or not verify_share(published[sender], recipient, share):
            complaints.append(Complaint(sender, recipient))
    return tuple(complaints)


@dataclass(frozen=True)
class Qualification:
    """The outcome of key generation, recomputable by anyone from what the trustees published."""

    threshold: Threshold
    election_id: bytes
    qualified: Mapping[int, TrusteeCommitment]
    disqualified: Mapping[int, str]  # trustee -> why

    @property
    def public_key(self) -> Element:
        """The election key prod_i C_i0 over the qualified trustees (its secret is nowhere)."""
        return self._aggregate[0]

    def verification_key(self, trustee: int) -> Element:
        """X_l = G^x_l = prod_i prod_j C_ij^(l^j): what trustee l's decryption shares must match
        (computed once per trustee: a tally checks hundreds of thousands of shares against it)."""
        keys = self._verification_keys
        if trustee not in keys:
            keys[trustee] = _evaluate_in_exponent(self._aggregate, self.threshold.check(trustee))
        return keys[trustee]

    @cached_property
    def _verification_keys(self) -> dict[int, Element]:
        return {}

    @cached_property
    def _aggregate(self) -> tuple[Element, ...]:
        """prod_i C_ij for each j: the commitments of the summed polynomial sum_i f_i."""
        rows = [self.qualified[i].coefficients for i in sorted(self.qualified)]
        if not rows:
            raise ValueError("no trustee qualified: there is no election key")
        total = list(rows[0])
        for row in rows[1:]:
            total = [t + c for t, c in zip(total, row, strict=True)]
        return tuple(total)


def qualify(published: Iterable[TrusteeCommitment], threshold: Threshold, election_id: bytes,
            complaints: Iterable[Complaint] = (),
            answers: Mapping[Complaint, Scalar] | None = None) -> Qualification:
    """Which trustees' polynomials make up the key, and why the others do not.

    Disqualified: a trustee who published nothing, twice, the wrong number of commitments or
    a bad proof of knowledge, and a trustee complained about who did not answer with a share
    that passes verify_share. Complaints by non-trustees are ignored.
    """
    answers = answers or {}
    by_trustee: dict[int, list[TrusteeCommitment]] = {}
    for commitment in published:
        by_trustee.setdefault(commitment.trustee, []).append(commitment)
    qualified: dict[int, TrusteeCommitment] = {}
    disqualified: dict[int, str] = {}
    for trustee, commitments in by_trustee.items():
        if not threshold.is_trustee(trustee):
            continue  # not a trustee of this election; it has nothing to be disqualified from
        if any(c != commitments[0] for c in commitments[1:]):
            disqualified[trustee] = "published more than one set of commitments"
            continue
        problem = commitments[0].problem(threshold, election_id)
        if problem is None:
            qualified[trustee] = commitments[0]
        else:
            disqualified[trustee] = problem
    for trustee in threshold.trustees:
        if trustee not in qualified and trustee not in disqualified:
            disqualified[trustee] = "published no commitments"
    for complaint in complaints:
        sender = complaint.sender
        if sender not in qualified or not threshold.is_trustee(complaint.recipient):
            continue
        answer = answers.get(complaint)
        if answer is None or not verify_share(qualified[sender], complaint.recipient, answer):
            del qualified[sender]
            disqualified[sender] = (f"did not answer trustee {complaint.recipient}'s complaint "
                                    "with a valid share")
    return Qualification(threshold, election_id, MappingProxyType(dict(sorted(qualified.items()))),
                         MappingProxyType(dict(sorted(disqualified.items()))))


def joint_public_key(published: Iterable[TrusteeCommitment], threshold: Threshold,
                     election_id: bytes, complaints: Iterable[Complaint] = (),
                     answers: Mapping[Complaint, Scalar] | None = None) -> Element:
    """The election key, from the published commitments alone: what any voter or auditor checks."""
    return qualify(published, threshold, election_id, complaints, answers).public_key


@dataclass(frozen=True, slots=True)
class TrusteeKeyShare:
    """Trustee l's x_l = sum_i f_i(l) and X_l = G^x_l. Private to the trustee, like a Dealing."""

    trustee: int
    secret: Scalar = field(repr=False)
    public: Element

    def __post_init__(self) -> None:
        if G * self.secret != self.public:
            raise ValueError("the verification key is not G^secret")


def combine_shares(recipient: int, received: Mapping[int, Scalar],
                   qualification: Qualification) -> TrusteeKeyShare:
    """x_l from the shares of the qualified trustees (its own f_l(l) included when qualified).

    Every share must pass verify_share: a bad one should have been complained about (and then
    replaced by the sender's published answer) before this point, so it is an error here.
    """
    qualification.threshold.check(recipient)
    bad = [i for i, commitment in qualification.qualified.items()
           if not verify_share(commitment, recipient, received.get(i))]
    if bad:
        raise ValueError(f"trustee {recipient} has no valid share from trustees {bad}")
    total = None
    for i in qualification.qualified:
        total = received[i] if total is None else total + received[i]
    assert total is not None  # qualification.public_key already needs a qualified trustee
    if total.is_zero():
        raise ValueError("a zero key share: retry the key generation")  # probability ~2^-252
    public = qualification.verification_key(recipient)
    return TrusteeKeyShare(recipient, total, public)


DECRYPTION_SHARE_BYTES = 4 + ELEMENT_BYTES + CHAUM_PEDERSEN_PROOF_BYTES


@dataclass(frozen=True, slots=True)
class DecryptionShare(PickledAsBytes):
    """d_l = a^x_l with a Chaum-Pedersen proof that log_G X_l = log_a d_l; published by trustee l."""

    trustee: int
    share: Element
    proof: ChaumPedersenProof

    def to_bytes(self) -> bytes:
        """l (4 bytes) || d_l || Chaum-Pedersen proof: 132 bytes."""
        return u32(self.trustee) + self.share.to_bytes() + self.proof.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes, *, trusted: bool = False) -> DecryptionShare:
        """Decode 132 published bytes; ValueError if malformed (the proof is checked elsewhere;
        `trusted`: see Element.from_bytes)."""
        data = bytes(data)
        if len(data) != DECRYPTION_SHARE_BYTES:
            raise ValueError(f"a decryption share is {DECRYPTION_SHARE_BYTES} bytes")
        return cls(int.from_bytes(data[:4], "big"),
                   Element.from_bytes(data[4:4 + ELEMENT_BYTES], trusted=trusted),
                   ChaumPedersenProof.from_bytes(data[4 + ELEMENT_BYTES:], trusted=trusted))


def partial_decrypt(key_share: TrusteeKeyShare, ciphertext: Ciphertext,
                    election_id: bytes) -> DecryptionShare:
    """Trustee l's contribution to decrypting a tally, proved so a bad one is caught and named."""
    context = decryption_context(election_id, key_share.trustee, ciphertext)
    share = decryption_share(ciphertext, key_share.secret)
    return DecryptionShare(key_share.trustee, share, ChaumPedersenProof.prove(
        key_share.secret, ciphertext.a, context, public=key_share.public, share=share))


def verify_decryption_share(share: DecryptionShare, ciphertext: Ciphertext,
                            qualification: Qualification) -> bool:
    """The proof holds against X_l recomputed from the commitments (never a trustee's own claim)."""
    if not (isinstance(share, DecryptionShare) and isinstance(share.share, Element)
            and isinstance(share.proof, ChaumPedersenProof)
            and qualification.threshold.is_trustee(share.trustee)):
        return False
    context = decryption_context(qualification.election_id, share.trustee, ciphertext)
    return share.proof.verify(qualification.verification_key(share.trustee), ciphertext.a,
                              share.share, context)


class NotEnoughDecryptionShares(ValueError):
    """Fewer than k valid decryption shares: says who is missing and whose share was rejected."""

    def __init__(self, needed: int, valid: tuple[int, ...], missing: tuple[int, ...],
                 rejected: tuple[int, ...]) -> None:
        self.needed, self.valid, self.missing, self.rejected = needed, valid, missing, rejected
        super().__init__(
            f"{needed} valid decryption shares are needed, {len(valid)} received "
            f"(valid: {list(valid)}; missing: trustees {list(missing)}; "
            f"rejected, proof failed: trustees {list(rejected)})")

    def __reduce__(self) -> tuple:
        """Pickled with its own fields: a worker process raising it reaches the parent intact."""
        return type(self), (self.needed, self.valid, self.missing, self.rejected)


def lagrange_at_zero(index: int, indices: Iterable[int]) -> Scalar:
    """lambda_l = prod_{j in S, j != l} j / (j - l): the weight of f(l) in f(0) over the set S."""
    return _lagrange_at_zero(index, tuple(indices))


@lru_cache(maxsize=256)
def _lagrange_at_zero(index: int, indices: tuple[int, ...]) -> Scalar:
    """Cached: every ciphertext of a tally is combined from the same k trustees (two scalar
    inversions a trustee and a ciphertext spared: 14% of combining 375,321 ciphertexts)."""
    point = Scalar.from_int(index)
    result = Scalar.from_int(1)
    for j in indices:
        if j != index:
            other = Scalar.from_int(j)
            result = result * other * (other - point).invert()
    return result


def combine_decryption_shares(ciphertext: Ciphertext, shares: Iterable[DecryptionShare],
                              qualification: Qualification, *, checked: bool = False) -> Element:
    """G^m = b / prod_l d_l^lambda_l over the k valid shares of the lowest-numbered trustees.

    Every share is checked first (unless `checked`: the caller has just checked each one);
    NotEnoughDecryptionShares if fewer than k hold. A trustee who sent several shares is counted
    once, by its first valid one.
    """
    threshold = qualification.threshold
    valid: dict[int, Element] = {}
    rejected: set[int] = set()
    seen: set[int] = set()
    for share in shares:
        if not (isinstance(share, DecryptionShare) and threshold.is_trustee(share.trustee)):
            continue  # not attributable to a trustee: nobody to name
        trustee = share.trustee
        seen.add(trustee)
        if trustee in valid:
            continue
        if checked or verify_decryption_share(share, ciphertext, qualification):
            valid[trustee] = share.share
            rejected.discard(trustee)
        else:
            rejected.add(trustee)
    if len(valid) < threshold.k:
        missing = tuple(i for i in threshold.trustees if i not in seen)
        raise NotEnoughDecryptionShares(threshold.k, tuple(sorted(valid)), missing,
                                        tuple(sorted(rejected)))
    used = sorted(valid)[: threshold.k]
    return linear_combination([(ONE, ciphertext.b),
                               *((-lagrange_at_zero(trustee, used), valid[trustee]) for trustee in used)])


def threshold_decrypt(ciphertext: Ciphertext, shares: Iterable[DecryptionShare],
                      qualification: Qualification, bound: int) -> int:
    """m in [0, bound] from k valid decryption shares (discrete_log's ValueError beyond it)."""
    return discrete_log(combine_decryption_shares(ciphertext, shares, qualification), bound)
