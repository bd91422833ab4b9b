"""Verifiable re-encryption shuffle (one mix-net step) with a Terelius-Wikstrom proof of shuffle.

Source followed: Haenni, Locher, Koenig, Dubuis, "Pseudo-Code Algorithms for Verifiable
Re-Encryption Mix-Nets" (Voting'17, FC 2017 workshops), as CHVote's specification numbers them
(GenShuffle, GenPermutation, GenReEncryption, GenShuffleProof, GenPermutationCommitment,
GenCommitmentChain, CheckShuffleProof), and line by line their public Java implementation in
republique-et-canton-de-geneve/chvote-protocol-poc,
src/main/java/ch/ge/ve/protopoc/service/algorithm/MixingAuthorityAlgorithms.java ("Algorithm
7.41" to "7.47"): 0-based indices, output i = re-encryption of input psi(i), the randomness
r'_j indexed by the input j, permutation commitment c_j = G^{r_j} h_{psi^-1(j)}, permuted
challenges u'_i = u_{psi(i)}, commitment chain from c^_{-1} = h.

Adaptation to ristretto255 (written additively: their g^x is our G * x, their products our sums):

* ElGamal's halves are swapped against CHVote (ours: a = G^r, b = G^m pk^r), so their t_4 pair
  (pk-part, g-part) is our (t4_b, t4_a).
* Generators: h = group.H; h_i = hash_to_element(GENERATOR_LABEL, i as 4 bytes big-endian) in
  place of CHVote's GetGenerators (a hash into Z_p*): nobody knows a log of any of them.
* Challenges: u_i = hash_to_scalar(U_LABEL, d, i) with d one SHA-512 over the statement (context,
  N, w, G, H, pk, the inputs, the outputs, the permutation commitments), and the main challenge
  c = hash_to_scalar(C_LABEL, d, c^..., t1, t2, t3, t4..., t^...). CHVote hashes (e, e', c) for u
  and (e, e', c, c^, pk, t) for c; d adds pk, G, H and the caller's context to both, which only
  binds the proof more (docs/elections.md, "Verifiable shuffle", lists every byte).

Width w (a ranked ballot's positions shuffled as one unit): each row is w ciphertexts, all moved by
the same permutation and re-encrypted with independent randomness r'_{j,k}. The permutation
commitment, the challenges u_i (one per row), the chain and t1..t3 are the width-1 ones; only
the re-encryption part is per component: t4_k, s4_k for k < w, each the width-1 equation on
component k. This is the proof over the product group (Verificatum treats wide ciphertexts the
same way): since u is fixed after c is committed, each component's equation
prod_i e'_{i,k}^{u'_i} = prod_j e_{j,k}^{u_j} * Enc(0, r'_k) ties every column to the one
committed permutation, so no column can be moved differently from the others.

A bare Ciphertext and a 1-tuple holding it are the same width-1 row (same hashed bytes).

`verify_shuffle` answers False for any proof that does not hold or is malformed, never raises.
`prove_shuffle` does not re-check its witness (that would cost a second shuffle): a witness
that does not fit the outputs yields a proof that fails verification.

Both cores: `shuffle`, `prove_shuffle` and `verify_shuffle` take a ``mapper`` (``map`` by default,
e.g. ``ProcessPoolExecutor(2).map``) for their per-row work, cut into spans of SPAN_ROWS rows: the
re-encryptions; the permutation commitments; the commitment chain, t^, t3, t4 and the s4 sums;
the verifier's sums and t^ checks. A span travels as the raw encodings of values already checked
here and comes back as partial results that the caller adds up. Group and scalar arithmetic is
exact, so the outputs, the proof's bytes and the verdict are the same for any mapper and any
span size; only the order of the additions changes. The chain is computed in closed form,
c^_i = G^{R_i} h^{U_i} with U_i = u'_0 ... u'_i and R_i = R_{i-1} u'_i + r^_i (the same element as
the recursion, and as many exponentiations), so that no span waits for the one before it. The
prover's spans carry its witness and nonces: give `shuffle` and `prove_shuffle` only a mapper
that runs in the mixer's own processes.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .elgamal import CIPHERTEXT_BYTES, Ciphertext
from .group import (
    ELEMENT_BYTES,
    IDENTITY,
    ONE,
    SCALAR_BYTES,
    Element,
    G,
    H,
    Scalar,
    element_sum,
    hash_to_element,
    hash_to_scalar,
    length_prefixed,
    linear_combination,
    random_scalar,
    u32,
)
from .packed import Packed

GENERATOR_LABEL = b"coopgov/elections/v1/shuffle/generator"
STATEMENT_LABEL = b"coopgov/elections/v1/shuffle/statement"
U_LABEL = b"coopgov/elections/v1/shuffle/u"
C_LABEL = b"coopgov/elections/v1/shuffle/challenge"
PROOF_LABEL = b"coopgov/elections/v1/shuffle/proof"

MAX_ROWS = 2**32 - 1  # N and w travel as 4 bytes big-endian
#: Rows per task handed to a mapper (about 0.5 to 2 s of work each at width 9).
SPAN_ROWS = 500

Row = tuple[Ciphertext, ...]
Ballots = Sequence[Ciphertext] | Sequence[Row]
Mapper = Callable[..., Iterable[Any]]

_generators: list[Element] = []
_generators_lock = threading.Lock()


def generators(n: int) -> tuple[Element, ...]:
    """h_0..h_{n-1}, hashed from their index (cached: a mix of 41,702 rows needs them twice)."""
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_ROWS:
        raise ValueError("n is a row count")
    with _generators_lock:
        for i in range(len(_generators), n):
            _generators.append(hash_to_element(GENERATOR_LABEL, u32(i)))
        return tuple(_generators[:n])


def _decode_row(width: int, data: bytes) -> Row:
    return tuple(Ciphertext.from_bytes(data[k * CIPHERTEXT_BYTES:(k + 1) * CIPHERTEXT_BYTES]) for k in range(width))


def packed_rows(blob: bytes | memoryview, width: int) -> Sequence[Row]:
    """Rows of `width` ciphertexts kept as their published bytes (a mix's outputs as stored),
    each decoded when read: a mix of 41,702 rows of 9 is 23 MiB so, about 100 MiB decoded. The
    shuffle's functions take them as they are and read them a span at a time; they trust their
    encodings (an invalid one fails the check): decode rows from outside first."""
    if width == 0:
        if blob:
            raise ValueError("rows of no ciphertext have no bytes")
        return ()
    return Packed(blob, width * CIPHERTEXT_BYTES, partial(_decode_row, width))


def _rows(ballots: Ballots) -> tuple[Sequence[Row], bool]:
    """The ballots as rows of equal width, and whether they came as bare Ciphertexts; packed
    rows (packed_rows) as they are."""
    if isinstance(ballots, Packed):
        if not ballots:
            raise ValueError("nothing to shuffle")
        if ballots.size % CIPHERTEXT_BYTES or ballots.size // CIPHERTEXT_BYTES > MAX_ROWS or len(ballots) > MAX_ROWS:
            raise ValueError("packed rows are whole ciphertexts, not too many rows or too wide")
        return ballots, False
    if isinstance(ballots, Ciphertext | bytes | str) or not isinstance(ballots, Sequence):
        raise TypeError("a list of ciphertexts or of tuples of ciphertexts is needed")
    if not ballots:
        raise ValueError("nothing to shuffle")
    bare = all(isinstance(x, Ciphertext) for x in ballots)
    rows = tuple((x,) if bare else tuple(x) for x in ballots)  # type: ignore[arg-type]
    width = len(rows[0])
    if width == 0 or any(len(row) != width for row in rows):
        raise ValueError("every ballot has the same number (at least one) of ciphertexts")
    if not all(isinstance(ct, Ciphertext) for row in rows for ct in row):
        raise TypeError("ballots are made of Ciphertexts")
    if len(rows) > MAX_ROWS or width > MAX_ROWS:
        raise ValueError("too many rows or too wide")
    return rows, bare


class _Transcript:
    """SHA-512(enc(label) || enc(p1) || ...) fed part by part: hash_to_scalar without the big join."""

    def __init__(self, label: bytes) -> None:
        self._h = hashlib.sha512()
        self.add(label)

    def add(self, *parts: bytes) -> None:
        for part in parts:
            self._h.update(length_prefixed(part))

    def digest(self) -> bytes:
        return self._h.digest()


def _statement_digest(rows_in: Sequence[Row], rows_out: Sequence[Row], public_key: Element,
                      commitments: Sequence[Element], context: bytes) -> bytes:
    """d: the whole statement and the permutation commitments, hashed once for u and c."""
    t = _Transcript(STATEMENT_LABEL)
    t.add(context, u32(len(rows_in)), u32(len(rows_in[0])), G.to_bytes(), H.to_bytes(),
          public_key.to_bytes())
    for rows in (rows_in, rows_out):
        for ct in _ciphertext_bytes(rows):
            t.add(ct)
    for c in commitments:
        t.add(c.to_bytes())
    return t.digest()


def _u_challenges(d: bytes, n: int) -> list[Scalar]:
    return [hash_to_scalar(U_LABEL, d, u32(i)) for i in range(n)]


def _main_challenge(d: bytes, chain: Sequence[Element], t1: Element, t2: Element, t3: Element,
                    t4: Sequence[tuple[Element, Element]], t_hat: Sequence[Element]) -> Scalar:
    t = _Transcript(C_LABEL)
    t.add(d)
    for x in chain:
        t.add(x.to_bytes())
    t.add(t1.to_bytes(), t2.to_bytes(), t3.to_bytes())
    for ta, tb in t4:
        t.add(ta.to_bytes(), tb.to_bytes())
    for x in t_hat:
        t.add(x.to_bytes())
    return Scalar.from_hash(t.digest())


# A proof of at most this many rows (a ballot's ranking: candidates + 1) keeps tables of its
# generators' multiples, which every ballot of the election uses again.
KEPT_GENERATORS = 32


def _dot(scalars: Sequence[Scalar], elements: Sequence[Element]) -> Element:
    """sum_i s_i * P_i (their prod P_i^s_i): the multi-exponentiations of the proof."""
    return linear_combination(zip(scalars, elements, strict=True))


def _scalar_dot(xs: Sequence[Scalar], ys: Sequence[Scalar]) -> Scalar:
    total = Scalar.from_int(0)
    for x, y in zip(xs, ys, strict=True):
        total = total + x * y
    return total


def _context(context: bytes) -> bytes:
    if not isinstance(context, bytes):
        raise TypeError("the context is bytes (e.g. the election id and the mix step)")
    return context


# --- spans: the per-row work, in pieces a mapper can run anywhere -------------------------------
#
# A span's arguments are the raw encodings of Elements and Scalars this module already holds
# (decoded and checked, or computed by libsodium), so the span wraps them back without decoding
# them again; its results come back the same way.


def _spans(n: int) -> list[tuple[int, int]]:
    return [(a, min(a + SPAN_ROWS, n)) for a in range(0, n, SPAN_ROWS)]


def _pack(values: Iterable[Element | Scalar]) -> bytes:
    return b"".join([x.data for x in values])


def _elements_of(data: bytes) -> list[Element]:
    return [Element._of(data[i:i + ELEMENT_BYTES]) for i in range(0, len(data), ELEMENT_BYTES)]


def _scalars_of(data: bytes) -> list[Scalar]:
    return [Scalar._of(data[i:i + SCALAR_BYTES]) for i in range(0, len(data), SCALAR_BYTES)]


def _pack_rows(rows: Sequence[Row]) -> bytes:
    """Row-major a || b of every ciphertext (each 64 bytes, as Ciphertext.to_bytes)."""
    if isinstance(rows, Packed):
        return bytes(rows.blob)
    return b"".join([ct.a.data + ct.b.data for row in rows for ct in row])


def _ciphertext_bytes(rows: Sequence[Row]) -> Iterator[bytes]:
    """Each ciphertext's 64 bytes, row-major (packed rows without decoding them)."""
    if isinstance(rows, Packed):
        blob = rows.blob
        return (bytes(blob[i:i + CIPHERTEXT_BYTES]) for i in range(0, len(blob), CIPHERTEXT_BYTES))
    return (ct.to_bytes() for row in rows for ct in row)


def _rows_of(data: bytes, width: int) -> list[Row]:
    e = ELEMENT_BYTES
    cts = [Ciphertext(Element._of(data[i:i + e]), Element._of(data[i + e:i + 2 * e]))
           for i in range(0, len(data), 2 * e)]
    return [tuple(cts[i:i + width]) for i in range(0, len(cts), width)]


def _columns(data: bytes, width: int) -> tuple[list[list[Element]], list[list[Element]]]:
    """The a halves and the b halves of packed rows, one list per component k."""
    halves = _elements_of(data)  # a, b of row 0 component 0, a, b of row 0 component 1, ...
    step = 2 * width
    return ([halves[2 * k::step] for k in range(width)], [halves[2 * k + 1::step] for k in range(width)])


def _scalar_sum(values: Sequence[Scalar]) -> Scalar:
    total = values[0]
    for x in values[1:]:
        total = total + x
    return total


def _reencrypt_span(rows: bytes, randomness: bytes, public_key: bytes) -> bytes:
    """(a + G^r', b + pk^r') for each packed ciphertext and its r', packed the same way."""
    pk = Element._of(public_key)
    halves = _elements_of(rows)
    out = []
    for i, r in enumerate(_scalars_of(randomness)):
        out.append(linear_combination([(ONE, halves[2 * i]), (r, G)]).data)
        out.append(linear_combination([(ONE, halves[2 * i + 1]), (r, pk)], reused=(pk,)).data)
    return b"".join(out)


def _commit_span(r: bytes, hs: bytes) -> bytes:
    """c_j = G^{r_j} h_{psi^-1(j)} for the span's j (hs already permuted)."""
    return _pack([linear_combination([(rj, G), (ONE, h)])
                  for rj, h in zip(_scalars_of(r), _elements_of(hs), strict=True)])


def _prove_span(rows_out: bytes, width: int, hs: bytes, omega_prime: bytes, omega_hat: bytes,
                big_r: bytes, big_u: bytes, r_prime: bytes, u: bytes) -> bytes:
    """Rows a..b-1 of the proof: c^_i and t^_i, and the span's parts of t3, t4 and s4's sums.

    big_r, big_u: R_{a-1}..R_{b-1} and U_{a-1}..U_{b-1} (R_{-1} = 0, U_{-1} = 1, c^_{-1} = h), so
    c^_i = G^{R_i} h^{U_i} and t^_i = G^{w^_i} c^_{i-1}^{w'_i} = G^{w^_i + w'_i R_{i-1}} h^{w'_i U_{i-1}}.
    r_prime, u: the span's inputs j (r'_{j,k} row-major, u_j). Returns chain || t^ || t3 part ||
    (t4_a, t4_b parts) per k || s4 sums per k.
    """
    a_cols, b_cols = _columns(rows_out, width)
    op, oh = _scalars_of(omega_prime), _scalars_of(omega_hat)
    rs, us = _scalars_of(big_r), _scalars_of(big_u)
    m = len(op)
    chain = [linear_combination([(rs[i + 1], G), (us[i + 1], H)]) for i in range(m)]
    t_hat = [linear_combination([(oh[i] + op[i] * rs[i], G), (op[i] * us[i], H)]) for i in range(m)]
    t3 = _dot(op, _elements_of(hs))
    t4 = [x for k in range(width) for x in (_dot(op, a_cols[k]), _dot(op, b_cols[k]))]
    rp, uj = _scalars_of(r_prime), _scalars_of(u)
    s4 = [_scalar_dot(rp[k::width], uj) for k in range(width)]
    return _pack(chain) + _pack(t_hat) + t3.data + _pack(t4) + _pack(s4)


def _check_span(rows_in: bytes, rows_out: bytes, width: int, commitments: bytes, hs: bytes,
                u: bytes, s_prime: bytes, s_hat: bytes, chain: bytes, t_hat: bytes,
                c: bytes) -> bytes:
    """The verifier's rows a..b-1: their parts of the sums, and whether each t^_i holds.

    chain: c^_{a-1} (h for a = 0) then c^_a..c^_{b-1}. Returns sum c_i || sum h_i ||
    sum c_i^{u_i} || sum h_i^{s'_i} || (e_a, e_b, e'_a, e'_b) per k || 1 byte, 1 iff every t^_i holds.
    Empty rows_in: the caller has the inputs' sums already (e_a, e_b are then the identity).
    """
    in_a, in_b = _columns(rows_in, width)
    out_a, out_b = _columns(rows_out, width)
    cs, hs_ = _elements_of(commitments), _elements_of(hs)
    us, sp, sh = _scalars_of(u), _scalars_of(s_prime), _scalars_of(s_hat)
    ch, th, cc = _elements_of(chain), _elements_of(t_hat), Scalar._of(c)
    # a ballot's ranking proof has a few rows and the same generators every time: kept tables
    kept = hs_ if len(hs_) <= KEPT_GENERATORS else ()
    sums = [element_sum(cs), element_sum(hs_), _dot(us, cs), linear_combination(zip(sp, hs_, strict=True), reused=kept)]
    for k in range(width):
        inputs = [_dot(us, in_a[k]), _dot(us, in_b[k])] if rows_in else [IDENTITY, IDENTITY]
        sums += [*inputs, _dot(sp, out_a[k]), _dot(sp, out_b[k])]
    holds = all(linear_combination([(sh[i], G), (sp[i], ch[i]), (-cc, ch[i + 1])]) == th[i]
                for i in range(len(th)))
    return _pack(sums) + (b"\x01" if holds else b"\x00")


def random_permutation(n: int) -> tuple[int, ...]:
    """GenPermutation: Knuth's shuffle with the secrets module, psi[i] = the input moved to i."""
    pool = list(range(n))
    psi = []
    for i in range(n):
        k = i + secrets.randbelow(n - i)
        psi.append(pool[k])
        pool[k] = pool[i]
    return tuple(psi)


@dataclass(frozen=True, slots=True)
class ShuffleWitness:
    """The mixer's secret: output i re-encrypts input permutation[i]; randomness[j][k] is r'_{j,k}.

    Whoever holds it can link outputs to inputs: keep it only until the proof is made.
    """

    permutation: tuple[int, ...]
    randomness: tuple[tuple[Scalar, ...], ...] = field(repr=False)


def shuffle(ballots: Ballots, public_key: Element,
            mapper: Mapper = map) -> tuple[list, ShuffleWitness]:
    """GenShuffle: re-encrypt every ballot (fresh r' per ciphertext) and permute them uniformly.

    Returns the outputs in the inputs' shape (Ciphertexts, or tuples of w Ciphertexts) and the
    witness for prove_shuffle. The re-encryptions run through `mapper`, span by span.
    """
    rows, bare = _rows(ballots)
    if not isinstance(public_key, Element) or public_key.is_identity():
        raise ValueError("the identity is not a public key")
    n, w = len(rows), len(rows[0])
    psi = random_permutation(n)
    randomness = tuple(tuple(random_scalar() for _ in row) for row in rows)
    spans = _spans(n)
    done = mapper(_reencrypt_span, [_pack_rows(rows[a:b]) for a, b in spans],
                  [_pack(r for rs in randomness[a:b] for r in rs) for a, b in spans],
                  [public_key.data] * len(spans))
    reencrypted = [row for part in done for row in _rows_of(part, w)]
    outputs = [reencrypted[j] for j in psi]
    shaped: list = [row[0] for row in outputs] if bare else outputs
    return shaped, ShuffleWitness(psi, randomness)


@dataclass(frozen=True, slots=True)
class ShuffleProof:
    """Haenni et al.'s proof pi = (t, s, c, c^): N rows of width w.

    commitments: c_0..c_{N-1}; chain: c^_0..c^_{N-1}; t4 and s4: one per component.
    """

    commitments: tuple[Element, ...]
    chain: tuple[Element, ...]
    t1: Element
    t2: Element
    t3: Element
    t4: tuple[tuple[Element, Element], ...]  # (t4_a, t4_b) per component
    t_hat: tuple[Element, ...]
    s1: Scalar
    s2: Scalar
    s3: Scalar
    s4: tuple[Scalar, ...]
    s_hat: tuple[Scalar, ...]
    s_prime: tuple[Scalar, ...]

    @property
    def size(self) -> int:
        return len(self.commitments)

    @property
    def width(self) -> int:
        return len(self.s4)

    def to_bytes(self) -> bytes:
        """enc(PROOF_LABEL) || N || w (4 bytes each) || the fields in declaration order, fixed size."""
        out = bytearray(length_prefixed(PROOF_LABEL))
        out += u32(self.size) + u32(self.width)
        for x in (*self.commitments, *self.chain, self.t1, self.t2, self.t3):
            out += x.to_bytes()
        for ta, tb in self.t4:
            out += ta.to_bytes() + tb.to_bytes()
        for x in self.t_hat:
            out += x.to_bytes()
        for s in (self.s1, self.s2, self.s3, *self.s4, *self.s_hat, *self.s_prime):
            out += s.to_bytes()
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> ShuffleProof:
        """Decode to_bytes' output; ValueError on any other bytes (length, label, encodings)."""
        data = bytes(data)
        head = length_prefixed(PROOF_LABEL)
        if not data.startswith(head) or len(data) < len(head) + 8:
            raise ValueError("not a shuffle proof")
        pos = len(head)
        n = int.from_bytes(data[pos:pos + 4], "big")
        w = int.from_bytes(data[pos + 4:pos + 8], "big")
        pos += 8
        if n == 0 or w == 0:
            raise ValueError("a shuffle proof has at least one row and one column")
        expected = pos + (3 * n + 3 + 2 * w) * ELEMENT_BYTES + (3 + w + 2 * n) * SCALAR_BYTES
        if len(data) != expected:
            raise ValueError("wrong length for a shuffle proof of this size")

        def elements(count: int) -> tuple[Element, ...]:
            nonlocal pos
            out = tuple(Element.from_bytes(data[pos + i * ELEMENT_BYTES:pos + (i + 1) * ELEMENT_BYTES])
                        for i in range(count))
            pos += count * ELEMENT_BYTES
            return out

        def scalars(count: int) -> tuple[Scalar, ...]:
            nonlocal pos
            out = tuple(Scalar.from_bytes(data[pos + i * SCALAR_BYTES:pos + (i + 1) * SCALAR_BYTES])
                        for i in range(count))
            pos += count * SCALAR_BYTES
            return out

        commitments, chain = elements(n), elements(n)
        t1, t2, t3 = elements(3)
        flat = elements(2 * w)
        t4 = tuple((flat[2 * k], flat[2 * k + 1]) for k in range(w))
        t_hat = elements(n)
        s1, s2, s3 = scalars(3)
        s4, s_hat, s_prime = scalars(w), scalars(n), scalars(n)
        return cls(commitments, chain, t1, t2, t3, t4, t_hat, s1, s2, s3, s4, s_hat, s_prime)


def prove_shuffle(inputs: Ballots, outputs: Ballots, witness: ShuffleWitness, public_key: Element,
                  context: bytes, mapper: Mapper = map) -> ShuffleProof:
    """GenShuffleProof: Fiat-Shamir proof that outputs are inputs permuted and re-encrypted.

    The per-row work runs through `mapper`, span by span (see the module's notes).
    """
    rows_in, _ = _rows(inputs)
    rows_out, _ = _rows(outputs)
    n, w = len(rows_in), len(rows_in[0])
    psi, r_prime = witness.permutation, witness.randomness
    if len(rows_out) != n or len(rows_out[0]) != w:
        raise ValueError("inputs and outputs differ in size")
    if sorted(psi) != list(range(n)) or len(r_prime) != n or any(len(rs) != w for rs in r_prime):
        raise ValueError("the witness does not fit these ballots")
    if not all(isinstance(x, Scalar) for rs in r_prime for x in rs):
        raise TypeError("the witness's randomness is Scalars")
    _context(context)
    hs = generators(n)
    spans = _spans(n)

    # GenPermutationCommitment: c_j = G^{r_j} h_i for the i with psi(i) = j.
    inverse = [0] * n
    for i, j in enumerate(psi):
        inverse[j] = i
    r = [random_scalar() for _ in range(n)]
    done = mapper(_commit_span, [_pack(r[a:b]) for a, b in spans],
                  [_pack(hs[inverse[j]] for j in range(a, b)) for a, b in spans])
    commitments = [x for part in done for x in _elements_of(part)]

    d = _statement_digest(rows_in, rows_out, public_key, commitments, context)
    u = _u_challenges(d, n)
    u_perm = [u[psi[i]] for i in range(n)]

    # GenCommitmentChain from c^_{-1} = h: c^_i = G^{r^_i} c^_{i-1}^{u'_i}, in closed form
    # c^_i = G^{R_i} h^{U_i}; big_r[i + 1] = R_i and big_u[i + 1] = U_i, from R_{-1} = 0, U_{-1} = 1.
    r_hat = [random_scalar() for _ in range(n)]
    big_r, big_u = [Scalar.from_int(0)], [Scalar.from_int(1)]
    for i in range(n):
        big_r.append(big_r[i] * u_perm[i] + r_hat[i])
        big_u.append(big_u[i] * u_perm[i])

    omega1, omega2, omega3 = random_scalar(), random_scalar(), random_scalar()
    omega4 = [random_scalar() for _ in range(w)]
    omega_hat = [random_scalar() for _ in range(n)]
    omega_prime = [random_scalar() for _ in range(n)]

    # Per span: c^_i, t^_i = G^{w^_i} c^_{i-1}^{w'_i}, and the span's parts of
    # t3's sum h_i^{w'_i}, t4's sums e'_{i,k}^{w'_i} and s4's sums r'_{j,k} u_j.
    done = mapper(_prove_span, [_pack_rows(rows_out[a:b]) for a, b in spans], [w] * len(spans),
                  [_pack(hs[a:b]) for a, b in spans], [_pack(omega_prime[a:b]) for a, b in spans],
                  [_pack(omega_hat[a:b]) for a, b in spans], [_pack(big_r[a:b + 1]) for a, b in spans],
                  [_pack(big_u[a:b + 1]) for a, b in spans],
                  [_pack(x for rs in r_prime[a:b] for x in rs) for a, b in spans],
                  [_pack(u[a:b]) for a, b in spans])
    chain: list[Element] = []
    t_hat: list[Element] = []
    t3_parts: list[Element] = []
    t4_parts: list[list[Element]] = []
    s4_parts: list[list[Scalar]] = []
    for (a, b), part in zip(spans, done, strict=True):
        m = b - a
        elements = _elements_of(part[:(2 * m + 1 + 2 * w) * ELEMENT_BYTES])
        chain += elements[:m]
        t_hat += elements[m:2 * m]
        t3_parts.append(elements[2 * m])
        t4_parts.append(elements[2 * m + 1:])
        s4_parts.append(_scalars_of(part[(2 * m + 1 + 2 * w) * ELEMENT_BYTES:]))

    t1 = G * omega1
    t2 = G * omega2
    t3 = G * omega3 + element_sum(t3_parts)
    t4 = tuple(
        (element_sum([p[2 * k] for p in t4_parts]) - G * omega4[k],
         element_sum([p[2 * k + 1] for p in t4_parts]) - public_key * omega4[k])
        for k in range(w))

    c = _main_challenge(d, chain, t1, t2, t3, t4, t_hat)

    # v_i = u'_{i+1} ... u'_{N-1}, so that c^_{N-1} = G^{sum r^_i v_i} h^{prod u'}.
    v = [Scalar.from_int(1)] * n
    for i in range(n - 2, -1, -1):
        v[i] = u_perm[i + 1] * v[i + 1]
    r_bar = r[0]
    for x in r[1:]:
        r_bar = r_bar + x
    s1 = omega1 + c * r_bar
    s2 = omega2 + c * _scalar_dot(r_hat, v)
    s3 = omega3 + c * _scalar_dot(r, u)
    s4 = tuple(omega4[k] + c * _scalar_sum([p[k] for p in s4_parts]) for k in range(w))
    s_hat = tuple(omega_hat[i] + c * r_hat[i] for i in range(n))
    s_prime = tuple(omega_prime[i] + c * u_perm[i] for i in range(n))
    return ShuffleProof(tuple(commitments), tuple(chain), t1, t2, t3, t4, tuple(t_hat),
                        s1, s2, s3, s4, s_hat, s_prime)


def _well_formed(proof: ShuffleProof, n: int, w: int) -> bool:
    if not isinstance(proof, ShuffleProof):
        return False
    element_lists = (proof.commitments, proof.chain, proof.t_hat)
    scalar_lists = (proof.s_hat, proof.s_prime)
    if not all(isinstance(x, tuple) and len(x) == n for x in (*element_lists, *scalar_lists)):
        return False
    if not (isinstance(proof.t4, tuple) and len(proof.t4) == w
            and isinstance(proof.s4, tuple) and len(proof.s4) == w):
        return False
    if not all(isinstance(pair, tuple) and len(pair) == 2 for pair in proof.t4):
        return False
    elements = [proof.t1, proof.t2, proof.t3, *(x for pair in proof.t4 for x in pair)]
    for group in element_lists:
        elements.extend(group)
    scalars = [proof.s1, proof.s2, proof.s3, *proof.s4, *proof.s_hat, *proof.s_prime]
    return (all(isinstance(x, Element) for x in elements)
            and all(isinstance(x, Scalar) for x in scalars))


#: sum_i u_i e_{i,k} for every component k, as (a, b) pairs: a shortcut for inputs whose sums
#: are cheaper in closed form than as N multiplications each (e.g. public slots Enc(v_i; 1)).
InputSums = Callable[[Sequence[Scalar]], Sequence[tuple[Element, Element]]]


def verify_shuffle(proof: ShuffleProof, inputs: Ballots, outputs: Ballots, public_key: Element,
                   context: bytes, mapper: Mapper = map, input_sums: InputSums | None = None) -> bool:
    """CheckShuffleProof: True iff the proof holds for exactly this statement and context.

    The per-row sums and checks run through `mapper`, span by span; the verdict is the same for
    any mapper (a mapper's own failure, e.g. a broken process pool, is raised, not answered).
    `input_sums`, when given, must compute exactly sum_i u_i * inputs[i] per component (the
    caller vouches for it: it replaces that part of the check, whose other sums and the hashed
    statement still use `inputs`).
    """
    try:
        rows_in, _ = _rows(inputs)
        rows_out, _ = _rows(outputs)
        n, w = len(rows_in), len(rows_in[0])  # packed rows decode their first row here
        if len(rows_out) != n or len(rows_out[0]) != w:
            return False
    except (TypeError, ValueError):
        return False
    if not (isinstance(public_key, Element) and not public_key.is_identity()
            and isinstance(context, bytes) and _well_formed(proof, n, w)):
        return False
    try:
        return _check(proof, rows_in, rows_out, public_key, context, mapper, input_sums)
    except (TypeError, ValueError):  # a packed row's ciphertext that is no element
        return False


def _check(proof: ShuffleProof, rows_in: Sequence[Row], rows_out: Sequence[Row],
           public_key: Element, context: bytes, mapper: Mapper,
           input_sums: InputSums | None = None) -> bool:
    n, w = len(rows_in), len(rows_in[0])
    hs = generators(n)
    d = _statement_digest(rows_in, rows_out, public_key, proof.commitments, context)
    u = _u_challenges(d, n)
    c = _main_challenge(d, proof.chain, proof.t1, proof.t2, proof.t3, proof.t4, proof.t_hat)

    spans = _spans(n)
    bases = [H, *proof.chain]  # c^_{i-1} for row i is bases[i], c^_i is bases[i + 1]
    # with input_sums the spans skip the inputs' sums (an empty span of inputs adds nothing)
    done = mapper(_check_span, [b"" if input_sums else _pack_rows(rows_in[a:b]) for a, b in spans],
                  [_pack_rows(rows_out[a:b]) for a, b in spans], [w] * len(spans),
                  [_pack(proof.commitments[a:b]) for a, b in spans], [_pack(hs[a:b]) for a, b in spans],
                  [_pack(u[a:b]) for a, b in spans], [_pack(proof.s_prime[a:b]) for a, b in spans],
                  [_pack(proof.s_hat[a:b]) for a, b in spans], [_pack(bases[a:b + 1]) for a, b in spans],
                  [_pack(proof.t_hat[a:b]) for a, b in spans], [c.data] * len(spans))
    parts = []
    t_hat_holds = True
    for part in done:
        parts.append(_elements_of(part[:-1]))
        t_hat_holds = t_hat_holds and part[-1:] == b"\x01"

    def total(index: int) -> Element:
        return element_sum([p[index] for p in parts])

    c_bar = total(0) - total(1)
    u_prod = u[0]
    for x in u[1:]:
        u_prod = u_prod * x
    c_hat = proof.chain[-1] - H * u_prod
    c_tilde = total(2)

    if linear_combination([(proof.s1, G), (-c, c_bar)]) != proof.t1:
        return False
    if linear_combination([(proof.s2, G), (-c, c_hat)]) != proof.t2:
        return False
    if linear_combination([(proof.s3, G), (ONE, total(3)), (-c, c_tilde)]) != proof.t3:
        return False
    given = input_sums(u) if input_sums else None
    for k in range(w):
        e_a, e_b = given[k] if given else (total(4 + 4 * k), total(5 + 4 * k))
        t4_a = linear_combination([(ONE, total(6 + 4 * k)), (-proof.s4[k], G), (-c, e_a)])
        t4_b = linear_combination([(ONE, total(7 + 4 * k)), (-proof.s4[k], public_key), (-c, e_b)])
        if (t4_a, t4_b) != proof.t4[k]:
            return False
    return t_hat_holds
