"""ristretto255 (RFC 9496): the prime-order group of the encrypted ballots.

A prime-order group means no cofactor to clear and one canonical 32-byte encoding per element, so
two implementations (the server, a browser, an auditor's verifier) agree on every byte that is
hashed or published. All arithmetic is libsodium's (see _sodium.py); this module only checks
encodings and handles the two cases libsodium refuses: a zero scalar and the identity element,
which exponential ElGamal needs (an encrypted 0 is G^0 = identity). A whole sum of multiples,
`linear_combination`, goes to libdecaf when it is installed (see _decaf.py), 2-4 times faster;
without it libsodium answers the same sum term by term.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from . import _decaf, _sodium

# L, the order of the group: 2^252 + 27742317777372353535851937790883648493.
ORDER = 2**252 + 27742317777372353535851937790883648493
SCALAR_BYTES = 32
ELEMENT_BYTES = 32
HASH_BYTES = 64  # input of the one-way map (RFC 9496, section 4.3.4)

# Domain-separation label of the second generator H (never reuse it for anything else).
H_LABEL = b"coopgov/elections/v1/generator-H"

_ZERO32 = bytes(32)


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("bytes are needed")
    return bytes(data)


class PickledAsBytes:
    """Mixin: a value pickles as its published bytes and unpickles without checking them again.

    The tally's heavy steps send hundreds of thousands of ciphertexts and shares to a process
    pool and back; the default pickle of these nested dataclasses took 25 us a decryption share
    (198 bytes), this takes 6 us (141 bytes). Pickles travel only between this platform's own
    processes (a pool's parent and workers); published values from anyone else are decoded by
    ``from_bytes``, which checks them.
    """

    __slots__ = ()

    def to_bytes(self) -> bytes:
        raise NotImplementedError

    def __reduce__(self) -> tuple:
        return _unpickled, (type(self), self.to_bytes())


def _unpickled(cls: type, data: bytes) -> object:
    return cls.from_bytes(data, trusted=True)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True, repr=False)
class Scalar(PickledAsBytes):
    """An integer modulo L, kept as its canonical 32-byte little-endian encoding (< L)."""

    data: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes) or len(self.data) != SCALAR_BYTES:
            raise ValueError(f"a scalar is {SCALAR_BYTES} bytes")
        # Canonical iff reducing it (zero-extended to 64 bytes) changes nothing.
        if _sodium.scalar_reduce(self.data + _ZERO32) != self.data:
            raise ValueError("non-canonical scalar: its value is not below the group order")

    @classmethod
    def _of(cls, data: bytes) -> Scalar:
        """Wrap a result libsodium just produced (already canonical), skipping the check."""
        scalar = object.__new__(cls)
        object.__setattr__(scalar, "data", data)
        return scalar

    @classmethod
    def from_bytes(cls, data: bytes, *, trusted: bool = False) -> Scalar:
        """Decode a published scalar; ValueError unless it is 32 canonical bytes. `trusted` skips
        the check, for bytes a Scalar of this platform's own process just gave (a pickle)."""
        return cls._of(bytes(data)) if trusted else cls(_as_bytes(data))

    @classmethod
    def from_int(cls, n: int) -> Scalar:
        """n mod L, for small integers (votes, weights, allowed values); |n| < 2^512."""
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError("an int is needed")
        if n < 0:
            return -cls.from_int(-n)
        if n >= 1 << 512:
            raise ValueError("too large an integer for a scalar")
        return cls._of(_sodium.scalar_reduce(n.to_bytes(64, "little")))

    @classmethod
    def from_hash(cls, digest: bytes) -> Scalar:
        """A 64-byte hash output, read little-endian, reduced mod L (bias below 2^-250)."""
        if not isinstance(digest, bytes) or len(digest) != HASH_BYTES:
            raise ValueError(f"{HASH_BYTES} bytes are needed")
        return cls._of(_sodium.scalar_reduce(digest))

    def to_bytes(self) -> bytes:
        return self.data

    def is_zero(self) -> bool:
        return self.data == _ZERO32

    def __add__(self, other: Scalar) -> Scalar:
        if not isinstance(other, Scalar):
            return NotImplemented
        return Scalar._of(_sodium.scalar_add(self.data, other.data))

    def __sub__(self, other: Scalar) -> Scalar:
        if not isinstance(other, Scalar):
            return NotImplemented
        return Scalar._of(_sodium.scalar_sub(self.data, other.data))

    def __mul__(self, other: Scalar) -> Scalar:
        if not isinstance(other, Scalar):
            return NotImplemented  # Scalar * Element is handled by Element.__rmul__
        return Scalar._of(_sodium.scalar_mul(self.data, other.data))

    def __neg__(self) -> Scalar:
        return Scalar._of(_sodium.scalar_negate(self.data))

    def invert(self) -> Scalar:
        """1/s mod L; zero has no inverse (ValueError rather than libsodium's silent failure)."""
        if self.is_zero():
            raise ValueError("zero has no inverse")
        return Scalar._of(_sodium.scalar_invert(self.data))

    def __repr__(self) -> str:
        return f"Scalar({self.data.hex()})"


@dataclass(frozen=True, slots=True, repr=False)
class Element(PickledAsBytes):
    """A ristretto255 element, kept as its canonical 32-byte encoding (equal bytes = equal elements)."""

    data: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes) or len(self.data) != ELEMENT_BYTES:
            raise ValueError(f"an element is {ELEMENT_BYTES} bytes")
        # libsodium's decoder: rejects non-canonical and invalid encodings, accepts the identity.
        if not _sodium.is_valid_point(self.data):
            raise ValueError("not the canonical encoding of a ristretto255 element")

    @classmethod
    def _of(cls, data: bytes) -> Element:
        """Wrap a result libsodium just produced from valid inputs, skipping the decode."""
        element = object.__new__(cls)
        object.__setattr__(element, "data", data)
        return element

    @classmethod
    def from_bytes(cls, data: bytes, *, trusted: bool = False) -> Element:
        """Decode a published element; ValueError on anything RFC 9496 section 4.3.1 rejects.
        `trusted` skips the decode, for bytes an Element of this platform's own process gave."""
        return cls._of(bytes(data)) if trusted else cls(_as_bytes(data))

    @classmethod
    def from_hash(cls, digest: bytes) -> Element:
        """RFC 9496's one-way map (section 4.3.4) of 64 uniform bytes: an element of unknown log."""
        if not isinstance(digest, bytes) or len(digest) != HASH_BYTES:
            raise ValueError(f"{HASH_BYTES} bytes are needed")
        return cls._of(_sodium.point_from_hash(digest))

    def to_bytes(self) -> bytes:
        return self.data

    def is_identity(self) -> bool:
        return self.data == _ZERO32

    def __add__(self, other: Element) -> Element:
        if not isinstance(other, Element):
            return NotImplemented
        return Element._of(_sodium.point_add(self.data, other.data))

    def __sub__(self, other: Element) -> Element:
        if not isinstance(other, Element):
            return NotImplemented
        return Element._of(_sodium.point_sub(self.data, other.data))

    def __neg__(self) -> Element:
        return Element._of(_sodium.point_sub(_ZERO32, self.data))

    def __mul__(self, k: Scalar) -> Element:
        """k * self (written multiplicatively elsewhere: self^k).

        libsodium refuses a result equal to the identity; in a prime-order group that happens
        exactly when k = 0 or self is the identity, so both are answered here.
        """
        if not isinstance(k, Scalar):
            return NotImplemented
        if k.is_zero() or self.is_identity():
            return IDENTITY
        if self.data == _GENERATOR_BYTES:
            return Element._of(_sodium.scalarmult_base(k.data))
        return Element._of(_sodium.scalarmult(k.data, self.data))

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"Element({self.data.hex()})"


def u32(n: int) -> bytes:
    """A small count or index (a trustee, a question's place, a size) as 4 bytes big-endian."""
    return n.to_bytes(4, "big")


def length_prefixed(*items: bytes) -> bytes:
    """Each item as an 8-byte big-endian length then its bytes: an unambiguous concatenation."""
    out = bytearray()
    for item in items:
        if not isinstance(item, bytes):
            raise TypeError("hashed items are bytes")
        out += len(item).to_bytes(8, "big")
        out += item
    return bytes(out)


def hash_to_scalar(label: bytes, *parts: bytes) -> Scalar:
    """SHA-512(length_prefixed(label, *parts)) reduced mod L: Fiat-Shamir challenges."""
    return Scalar.from_hash(hashlib.sha512(length_prefixed(label, *parts)).digest())


def hash_to_element(label: bytes, *parts: bytes) -> Element:
    """Element.from_hash(SHA-512(length_prefixed(label, *parts))): generators nobody knows a log of."""
    return Element.from_hash(hashlib.sha512(length_prefixed(label, *parts)).digest())


def random_scalar() -> Scalar:
    """Uniform in [1, L-1] from libsodium's CSPRNG (never zero: a zero nonce would leak)."""
    return Scalar._of(_sodium.scalar_random())


_GENERATOR_BYTES = bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")

IDENTITY = Element(_ZERO32)
G = Element(_GENERATOR_BYTES)  # RFC 9496's generator: G * 1 by libsodium, checked in the tests
H = hash_to_element(H_LABEL)


_DECAF = _decaf.load({"G": G.data, "H": H.data, "2G+3H": (G * Scalar.from_int(2) + H * Scalar.from_int(3)).data})
ACCELERATED = _DECAF is not None  # the platform installs libdecaf0; a client may run without it


def _merged(terms: Iterable[tuple[Scalar, Element]]) -> dict[bytes, Scalar]:
    """{element's encoding: its summed scalar}, without the terms that add nothing."""
    merged: dict[bytes, Scalar] = {}
    for k, p in terms:
        if not (isinstance(k, Scalar) and isinstance(p, Element)):
            raise TypeError("a term is a (Scalar, Element) pair")
        if k.is_zero() or p.is_identity():
            continue
        before = merged.get(p.data)
        merged[p.data] = k if before is None else before + k
    return {p: k for p, k in merged.items() if not k.is_zero()}


def _term_by_term(merged: dict[bytes, Scalar]) -> Element:
    total = IDENTITY
    for p, k in merged.items():
        total = total + Element._of(p) * k
    return total


def linear_combination(terms: Iterable[tuple[Scalar, Element]], *,
                       reused: Collection[Element] = ()) -> Element:
    """sum_i k_i * P_i over the (k_i, P_i) terms (their product P_i^k_i, written multiplicatively).

    A proof check is such sums: `G*s == t + X*c` is `linear_combination([(s, G), (-c, X)]) == t`.
    Terms of the same element are merged first. `reused` names elements the caller will combine
    again soon (an election's public key, a trustee's key): they get a kept table of multiples,
    which makes their next terms about 3 times cheaper. Constant-time in the scalars.
    """
    merged = _merged(terms)
    if not merged:
        return IDENTITY
    if _DECAF is None:
        return _term_by_term(merged)
    keep = frozenset(e.data for e in reused)
    return Element._of(_DECAF.combine([k.data for k in merged.values()], list(merged), keep))


ONE = Scalar.from_int(1)


def element_sum(elements: Iterable[Element]) -> Element:
    """P_1 + ... + P_n (their product), IDENTITY for none."""
    return linear_combination((ONE, e) for e in elements)
