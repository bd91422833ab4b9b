"""Exponential ElGamal on ristretto255: ciphertexts that add up to an encrypted tally.

A vote m is encrypted as (G^r, G^m * pk^r). Multiplying ciphertexts adds the votes under them, so
a question's encrypted count is the product of its ballots' ciphertexts, and only that total is
ever decrypted. The price is that decryption yields G^m, not m: m is recovered by a bounded
discrete-log search, which is cheap because a tally is at most the roll's total weight.

The group is written additively in the code (a + b, k * P), multiplicatively in the comments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from math import isqrt

from .group import (
    ELEMENT_BYTES,
    IDENTITY,
    Element,
    G,
    PickledAsBytes,
    Scalar,
    element_sum,
    linear_combination,
    random_scalar,
)


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A secret x and its public key G^x (a single key; trustees' shares come later)."""

    public: Element
    secret: Scalar = field(repr=False)

    def __post_init__(self) -> None:
        if self.secret.is_zero():
            raise ValueError("a zero secret key gives the identity public key")
        if G * self.secret != self.public:
            raise ValueError("the public key is not G^secret")

    @classmethod
    def generate(cls) -> KeyPair:
        secret = random_scalar()
        return cls(G * secret, secret)

    @classmethod
    def from_secret(cls, secret: Scalar) -> KeyPair:
        return cls(G * secret, secret)


CIPHERTEXT_BYTES = 2 * ELEMENT_BYTES


@dataclass(frozen=True, slots=True)
class Ciphertext(PickledAsBytes):
    """(a, b) = (G^r, G^m * pk^r); published as a || b, 64 bytes."""

    a: Element
    b: Element

    def __add__(self, other: Ciphertext) -> Ciphertext:
        """The encryption of the sum of the two plaintexts (randomness adds up too)."""
        if not isinstance(other, Ciphertext):
            return NotImplemented
        return Ciphertext(self.a + other.a, self.b + other.b)

    def __mul__(self, weight: int) -> Ciphertext:
        """The encryption of weight * m: a voter's weight applied to their encrypted selection."""
        if not isinstance(weight, int) or isinstance(weight, bool):
            return NotImplemented
        if weight < 0:
            raise ValueError("a weight is not negative")
        k = Scalar.from_int(weight)
        return Ciphertext(self.a * k, self.b * k)

    __rmul__ = __mul__

    def reencrypt(self, public_key: Element, r: Scalar) -> Ciphertext:
        """Same plaintext, fresh look: multiply by an encryption of 0 with randomness r."""
        zero = encrypt(0, public_key, r)
        return self + zero

    def to_bytes(self) -> bytes:
        return self.a.to_bytes() + self.b.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes, *, trusted: bool = False) -> Ciphertext:
        """Decode 64 published bytes; ValueError unless both halves are valid elements
        (`trusted`: see Element.from_bytes)."""
        data = bytes(data)
        if len(data) != CIPHERTEXT_BYTES:
            raise ValueError(f"a ciphertext is {CIPHERTEXT_BYTES} bytes")
        return cls(Element.from_bytes(data[:ELEMENT_BYTES], trusted=trusted),
                   Element.from_bytes(data[ELEMENT_BYTES:], trusted=trusted))


# The neutral ciphertext (identity, identity): the start of a homomorphic sum.
NEUTRAL = Ciphertext(IDENTITY, IDENTITY)


def encrypt(m: int, public_key: Element, r: Scalar) -> Ciphertext:
    """(G^r, G^m * pk^r). r must be fresh, secret and nonzero (it is what hides m)."""
    if not isinstance(m, int) or isinstance(m, bool) or m < 0:
        raise ValueError("the plaintext is a non-negative integer")
    if public_key.is_identity():
        raise ValueError("the identity is not a public key: b would be G^m in the clear")
    if r.is_zero():
        raise ValueError("a zero nonce would publish G^m in the clear")
    # the key encrypts every answer of the election: a kept table makes its term cheap
    return Ciphertext(G * r, linear_combination([(Scalar.from_int(m), G), (r, public_key)], reused=(public_key,)))


def decryption_share(ciphertext: Ciphertext, secret: Scalar) -> Element:
    """a^x: what the holder of x contributes to a decryption (proved by a Chaum-Pedersen proof)."""
    return ciphertext.a * secret


def decrypt(ciphertext: Ciphertext, secret: Scalar) -> Element:
    """G^m = b / a^x. Turning G^m into m is discrete_log's job, with a bound."""
    return ciphertext.b - decryption_share(ciphertext, secret)


def add_all(ciphertexts: Iterable[Ciphertext]) -> Ciphertext:
    """The homomorphic sum of many ciphertexts (NEUTRAL for none)."""
    listed = list(ciphertexts)
    return Ciphertext(element_sum(c.a for c in listed), element_sum(c.b for c in listed))


@lru_cache(maxsize=4)
def _baby_steps(m: int) -> dict[bytes, int]:
    """{encoding of G^j: j} for 0 <= j < m, kept for the next searches of the same size."""
    table: dict[bytes, int] = {}
    point = IDENTITY
    for j in range(m):
        table[point.to_bytes()] = j
        point = point + G
    return table


def discrete_log(element: Element, bound: int) -> int:
    """The m in [0, bound] with G^m = element, by baby-step giant-step in O(sqrt(bound)).

    ValueError if there is none: the plaintext is beyond the bound (or not a small integer at
    all, e.g. a tampered ciphertext), which a tally must report rather than guess.
    """
    if not isinstance(bound, int) or isinstance(bound, bool) or bound < 0:
        raise ValueError("the bound is a non-negative integer")
    m = isqrt(bound) + 1  # m * m > bound: i * m + j with i, j < m covers [0, bound]
    baby = _baby_steps(m)
    giant = -(G * Scalar.from_int(m))
    current = element
    for i in range(m):
        j = baby.get(current.to_bytes())
        if j is not None:
            found = i * m + j  # the unique log below m * m, since m * m is far below L
            if found <= bound:
                return found
            break
        current = current + giant
    raise ValueError(f"not G^m for any 0 <= m <= {bound}")
