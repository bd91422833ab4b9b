"""Encrypted ballots: each answer as 0/1 ciphertexts with proofs that it is a valid answer.

The server, the auditors and the voter's own client must all be able to check that an encrypted
ballot says something the question allows, without learning what: otherwise one ciphertext of
an encrypted 5 would add five votes to the tally. So every statement the plaintext validation
(:mod:`..validation`) checks is proven here in zero knowledge, with disjunctive Chaum-Pedersen
proofs over ciphertexts and their homomorphic sums:

* selection questions (plurality, approval, resolution): one ciphertext per option, each 0 or
  1, and their sum within the question's limits;
* ranked questions (STV, Schulze): one ciphertext per candidate, encrypting its position in
  the voter's order, with a proof of shuffle (:mod:`.shuffle`, the mix-net's own proof) that the
  positions and a derived *cut* are a permutation of 1..candidates + 1. The candidates placed
  before the cut are the ranking, in position order; those after it are unranked.

Every proof's context names the election, the ballot (a per-ballot random nonce) and the exact
statement (question, kind, position), so no proof verifies anywhere but where it was made.
A ranking thus costs one proof of shuffle of candidates + 1 rows (about 90 exponentiations to
check for 9 candidates) where a candidates x ranks matrix of 0/1 cells cost 107 disjunctive
proofs (about 700): docs/elections.md, "Ranked ballots", says why both are sound.
docs/elections.md, "Encrypted ballots and their proofs", fixes every byte.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coop_domain.errors import InvalidArgument

from ..model import RANKED_METHODS, RESOLUTION_ANSWERS, ElectionDefinition, Method, Question
from ..validation import validate_answer
from .elgamal import Ciphertext, add_all, decrypt, discrete_log, encrypt
from .group import (
    ELEMENT_BYTES,
    ONE,
    SCALAR_BYTES,
    Element,
    G,
    Scalar,
    length_prefixed,
    linear_combination,
    random_scalar,
    u32,
)
from .proofs import DisjunctiveChaumPedersenProof
from .shuffle import InputSums, ShuffleProof, ShuffleWitness, prove_shuffle, verify_shuffle

BALLOT_LABEL = b"coopgov/elections/v2/ballot"
PROOF_CONTEXT_LABEL = b"coopgov/elections/v2/ballot/proof"
NONCE_BYTES = 32

# Proof kinds: the statement's name in its context and in a verification failure.
OPTION = "option"  # a selection ciphertext encrypts 0 or 1
COUNT = "count"  # a selection row's sum is within the question's limits
PERMUTATION = "permutation"  # a ranking's positions and cut are a permutation of 1..c+1
# Structural failures (no proof to check): wrong election, nonce, question list or shape.
ELECTION = "election"
NONCE = "nonce"
SHAPE = "shape"

BINARY = (0, 1)

SELECTION_METHODS = frozenset({Method.PLURALITY, Method.APPROVAL, Method.RESOLUTION})

Proof = DisjunctiveChaumPedersenProof
_BRANCH_BYTES = 2 * ELEMENT_BYTES + 2 * SCALAR_BYTES  # t1, t2, c, s


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- contexts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BallotContext:
    """What every proof of one ballot is bound to: the election and the ballot's nonce.

    The nonce (32 random bytes drawn by the voter's client) makes each ballot's proofs its own:
    a piece of one ballot does not verify in another, and a whole copied ballot is
    byte-identical (same hash), which the ballot box can refuse as a repeat.
    """

    election_id: str
    nonce: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.election_id, str) or not self.election_id:
            raise ValueError("the election id is a non-empty string")
        if not isinstance(self.nonce, bytes) or len(self.nonce) != NONCE_BYTES:
            raise ValueError(f"a ballot nonce is {NONCE_BYTES} bytes")

    @classmethod
    def fresh(cls, election_id: str) -> BallotContext:
        return cls(election_id, secrets.token_bytes(NONCE_BYTES))

    def proof(self, question_id: str, kind: str, *indices: int) -> bytes:
        """The context bytes of one statement: election, nonce, question, kind, position."""
        return proof_context(self.election_id, self.nonce, question_id, kind, *indices)


def proof_context(election_id: str, nonce: bytes, question_id: str, kind: str,
                  *indices: int) -> bytes:
    """enc(label) || enc(election id) || enc(nonce) || enc(question id) || enc(kind) || enc(i)...

    Strings are UTF-8, each index 4 bytes big-endian (0-based: option, candidate, rank).
    """
    return length_prefixed(PROOF_CONTEXT_LABEL, election_id.encode(), nonce, question_id.encode(),
                           kind.encode(), *(u32(i) for i in indices))


# --- encrypted answers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EncryptedSelection:
    """A plurality, approval or resolution answer: one 0/1 ciphertext per option, in order."""

    question_id: str
    method: Method
    ciphertexts: tuple[Ciphertext, ...]
    option_proofs: tuple[Proof, ...]  # each: ciphertexts[i] encrypts 0 or 1
    count_proof: Proof  # the sum of the ciphertexts encrypts lo..hi


@dataclass(frozen=True, slots=True)
class EncryptedRanking:
    """An STV or Schulze answer: positions[i] encrypts candidate i's position in 1..c+1.

    The cut's ciphertext is not sent: it is :func:`cut_ciphertext` of the positions, so that the
    c + 1 values sum to 1 + ... + (c + 1) by construction. `proof` shows that positions + cut
    re-encrypt and permute the public slots (:func:`ranking_slots`), i.e. hold 1..c+1 once each.
    """

    question_id: str
    method: Method
    positions: tuple[Ciphertext, ...]  # [candidate]
    proof: ShuffleProof  # positions + (cut,) are ranking_slots permuted and re-encrypted


EncryptedAnswer = EncryptedSelection | EncryptedRanking


def _sum_nonce(nonces: Sequence[Scalar]) -> Scalar:
    total = Scalar.from_int(0)
    for r in nonces:
        total = total + r
    return total


def prove_selection(values: Sequence[int], lo: int, hi: int, public_key: Element,
                    context: BallotContext, question_id: str, method: Method,
                    nonces: Sequence[Scalar] | None = None) -> EncryptedSelection:
    """Encrypt a 0/1 vector (with fresh nonces unless given) and prove each entry and the sum
    in lo..hi.

    ValueError (before anything is encrypted) if the vector breaks a rule: such a vector has no
    honest proof, and the error says which rule.
    """
    values = tuple(values)
    if not values:
        raise ValueError("a selection has at least one option")
    if not (_is_int(lo) and _is_int(hi) and 0 <= lo <= hi <= len(values)):
        raise ValueError(f"selection limits must satisfy 0 <= lo <= hi <= {len(values)}")
    for i, v in enumerate(values):
        if not _is_int(v) or v not in BINARY:
            raise ValueError(f"option {i} would encrypt {v!r}, not 0 or 1")
    count = sum(values)
    if not lo <= count <= hi:
        raise ValueError(f"{count} selection(s), the question allows {lo} to {hi}")
    nonces = _nonces(nonces, len(values))
    ciphertexts = tuple(encrypt(v, public_key, r) for v, r in zip(values, nonces, strict=True))
    option_proofs = tuple(
        Proof.prove(ct, v, r, public_key, BINARY, context.proof(question_id, OPTION, i))
        for i, (ct, v, r) in enumerate(zip(ciphertexts, values, nonces, strict=True)))
    count_proof = Proof.prove(add_all(ciphertexts), count, _sum_nonce(nonces), public_key,
                              range(lo, hi + 1), context.proof(question_id, COUNT))
    return EncryptedSelection(question_id, method, ciphertexts, option_proofs, count_proof)


def _nonces(given: Sequence[Scalar] | None, n: int) -> list[Scalar]:
    if given is None:
        return [random_scalar() for _ in range(n)]
    if len(given) != n or not all(isinstance(r, Scalar) and not r.is_zero() for r in given):
        raise ValueError(f"{n} non-zero nonces are needed")
    return list(given)


def _slot_total(n: int) -> int:
    return n * (n + 1) // 2




def ranking_slots(public_key: Element, n: int) -> tuple[Ciphertext, ...]:
    """The public inputs of a ranking's proof: Enc(k; 1) = (G, pk + k G) for k = 1..n.

    Anyone computes them; the randomness 1 is public, so they hide nothing. Kept per key and
    size (a verifier checks thousands of ballots against the same ones).
    """
    return _slots_of(public_key.to_bytes(), n)


@functools.lru_cache(maxsize=64)
def _slots_of(public_key: bytes, n: int) -> tuple[Ciphertext, ...]:
    key = Element.from_bytes(public_key)
    return tuple(encrypt(k, key, ONE) for k in range(1, n + 1))


def slot_sums(public_key: Element) -> InputSums:
    """sum_k u_k S_k for the slots S_k = (G, pk + (k + 1) G), in closed form: (U G, U pk + V G)
    with U = sum u_k and V = sum (k + 1) u_k. Three multiplications instead of two per slot."""

    def sums(u: Sequence[Scalar]) -> list[tuple[Element, Element]]:
        total, weighted = Scalar.from_int(0), Scalar.from_int(0)
        for k, u_k in enumerate(u):
            total = total + u_k
            weighted = weighted + u_k * Scalar.from_int(k + 1)
        return [(G * total, linear_combination([(total, public_key), (weighted, G)], reused=(public_key,)))]

    return sums


def cut_ciphertext(positions: Sequence[Ciphertext]) -> Ciphertext:
    """Enc(T; 0) minus the positions' sum, T = 1 + ... + (c + 1): the cut's encrypted position.

    Its randomness is minus the sum of the positions' randomness, which only the voter knows.
    """
    total_a = add_all(positions)
    t = Scalar.from_int(_slot_total(len(positions) + 1))
    return Ciphertext(-total_a.a, G * t - total_a.b)


def check_positions(values: Sequence[int]) -> int:
    """The cut implied by c candidates' positions; ValueError unless they are distinct in 1..c+1."""
    n = len(values) + 1
    if len(values) < 1:
        raise ValueError("a ranking has at least one candidate")
    for i, v in enumerate(values):
        if not _is_int(v) or not 1 <= v <= n:
            raise ValueError(f"candidate {i} would take position {v!r}, not 1 to {n}")
    if len(set(values)) != len(values):
        raise ValueError("two candidates would take the same position")
    return _slot_total(n) - sum(values)


def ranking_positions(candidates: Sequence[str], ranking: Sequence[str]) -> tuple[int, ...]:
    """Each candidate's position: the ranked ones 1..m in the voter's order, the cut m + 1, the
    unranked ones m + 2.. in candidate order (the order the protocol fixes for them)."""
    positions = {c: k + 1 for k, c in enumerate(ranking)}
    after = len(ranking) + 2
    out = []
    for c in candidates:
        if c not in positions:
            positions[c] = after
            after += 1
        out.append(positions[c])
    return tuple(out)


def ranking_from_positions(candidates: Sequence[str], values: Sequence[int]) -> tuple[str, ...]:
    """The ranking the positions say: the candidates before the cut, by position.

    ValueError if the values are not c distinct positions in 1..c+1 (which a ballot's proof
    rules out: only a wrong decryption or a tampered record gets here).
    """
    if len(values) != len(candidates):
        raise ValueError(f"{len(values)} positions for {len(candidates)} candidates")
    cut = check_positions(values)
    return tuple(c for _, c in sorted((v, c) for v, c in zip(values, candidates, strict=True)
                                      if v < cut))


def prove_ranking(positions: Sequence[int], public_key: Element, context: BallotContext,
                  question_id: str, method: Method, nonces: Sequence[Scalar] | None = None) -> EncryptedRanking:
    """Encrypt the candidates' positions (with fresh nonces unless given) and prove them, with
    their cut, a permutation of 1..c+1.

    ValueError (before anything is encrypted) if the positions are not distinct in 1..c+1.
    """
    values = tuple(positions)
    cut = check_positions(values)
    nonces = _nonces(nonces, len(values))
    cts = tuple(encrypt(v, public_key, r) for v, r in zip(values, nonces, strict=True))
    # Output i re-encrypts slot (value - 1) with r' = r_i - 1 (a slot already has randomness 1).
    everything = (*values, cut)
    randomness = [*nonces, -_sum_nonce(nonces)]
    by_slot: list[tuple[Scalar, ...]] = [()] * len(everything)
    for v, r in zip(everything, randomness, strict=True):
        by_slot[v - 1] = (r - ONE,)
    witness = ShuffleWitness(tuple(v - 1 for v in everything), tuple(by_slot))
    proof = prove_shuffle(ranking_slots(public_key, len(everything)), [*cts, cut_ciphertext(cts)],
                          witness, public_key, context.proof(question_id, PERMUTATION))
    return EncryptedRanking(question_id, method, cts, proof)


# --- the existing questions' shapes -----------------------------------------------------------


def selection_options(question: Question) -> tuple[str, ...]:
    """The options of a selection question, in the order of its ciphertexts."""
    return RESOLUTION_ANSWERS if question.method is Method.RESOLUTION else question.candidates


def selection_limits(question: Question) -> tuple[int, int]:
    """(lo, hi) selections: 0..seats (plurality), 0..candidates (approval), 0..1 (resolution).

    lo is 0 everywhere: the domain accepts an empty list (a blank answer) and an unanswered
    question, which the encrypted form writes as all zeros.
    """
    if question.method is Method.RESOLUTION:
        return 0, 1
    return 0, question.max_choices


def _validated(question: Question, answer: Any) -> Any:
    try:
        return validate_answer(question, answer)
    except InvalidArgument as exc:
        raise ValueError(str(exc)) from exc


def encrypt_answer(question: Question, answer: Any, public_key: Element,
                   context: BallotContext, nonces: Sequence[Scalar] | None = None) -> EncryptedAnswer:
    """Encrypt an answer in the plaintext domain's form; None (unanswered) is all zeros.

    ValueError for any answer validate_answer refuses (unknown or repeated candidate, too many
    choices, not yes/no/abstain).
    """
    qid = question.id
    if question.method in RANKED_METHODS:
        ranking = [] if answer is None else _validated(question, answer)
        return prove_ranking(ranking_positions(question.candidates, ranking), public_key, context,
                             qid, question.method, nonces)
    if answer is None:
        chosen: set[str] = set()
    elif question.method is Method.RESOLUTION:
        chosen = {_validated(question, answer)}
    else:
        chosen = set(_validated(question, answer))
    values = [int(option in chosen) for option in selection_options(question)]
    lo, hi = selection_limits(question)
    return prove_selection(values, lo, hi, public_key, context, qid, question.method, nonces)


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BallotFailure:
    """One thing wrong with an encrypted ballot: which question, which proof, where.

    ``where`` is the 0-based position of the statement (option; candidate, rank; rank), ``()``
    for a question-wide or ballot-wide one; ``message`` says it for people.
    """

    question_id: str | None
    proof: str
    where: tuple[int, ...]
    message: str

    def __str__(self) -> str:
        return self.message


def _holds(proof: object, ciphertext: object, public_key: Element, allowed: Sequence[int],
           context: bytes) -> bool:
    return (isinstance(proof, Proof) and isinstance(ciphertext, Ciphertext)
            and proof.verify(ciphertext, public_key, allowed, context))


def _tuples(*items: object) -> bool:
    return all(isinstance(item, tuple) for item in items)


def _verify_selection(question: Question, public_key: Element, answer: EncryptedSelection,
                      context: BallotContext) -> list[BallotFailure]:
    qid = question.id
    options = selection_options(question)
    n = len(options)
    if not (_tuples(answer.ciphertexts, answer.option_proofs) and len(answer.ciphertexts) == n
            and len(answer.option_proofs) == n
            and all(isinstance(ct, Ciphertext) for ct in answer.ciphertexts)):
        return [BallotFailure(qid, SHAPE, (), f"question {qid!r}: expected {n} ciphertexts and "
                                              f"{n} option proofs")]
    failures = []
    for i, (option, ct, proof) in enumerate(zip(options, answer.ciphertexts,
                                                 answer.option_proofs, strict=True)):
        if not _holds(proof, ct, public_key, BINARY, context.proof(qid, OPTION, i)):
            failures.append(BallotFailure(
                qid, OPTION, (i,), f"question {qid!r}, option {option!r}: the option proof "
                                   "(encrypts 0 or 1) fails"))
    lo, hi = selection_limits(question)
    if not _holds(answer.count_proof, add_all(answer.ciphertexts), public_key, range(lo, hi + 1),
                  context.proof(qid, COUNT)):
        failures.append(BallotFailure(
            qid, COUNT, (), f"question {qid!r}: the count proof ({lo} to {hi} selections) fails"))
    return failures


def _verify_ranking(question: Question, public_key: Element, answer: EncryptedRanking,
                    context: BallotContext) -> list[BallotFailure]:
    qid = question.id
    c = len(question.candidates)
    if not (_tuples(answer.positions) and len(answer.positions) == c
            and all(isinstance(ct, Ciphertext) for ct in answer.positions)
            and isinstance(answer.proof, ShuffleProof) and answer.proof.size == c + 1
            and answer.proof.width == 1):
        return [BallotFailure(qid, SHAPE, (), f"question {qid!r}: expected {c} position "
                                              f"ciphertexts and a proof of {c + 1} rows")]
    outputs = [*answer.positions, cut_ciphertext(answer.positions)]
    if verify_shuffle(answer.proof, ranking_slots(public_key, c + 1), outputs, public_key,
                      context.proof(qid, PERMUTATION), input_sums=slot_sums(public_key)):
        return []
    return [BallotFailure(qid, PERMUTATION, (), f"question {qid!r}: the ranking proof (the "
                                                f"positions and the cut are 1 to {c + 1}, each "
                                                "once) fails")]


def verify_answer(question: Question, public_key: Element, answer: object,
                  context: BallotContext) -> list[BallotFailure]:
    """Every failed statement of one encrypted answer (empty when it is a valid answer)."""
    qid = question.id
    ranked = question.method in RANKED_METHODS
    expected = EncryptedRanking if ranked else EncryptedSelection
    if not isinstance(answer, expected) or answer.method is not question.method:
        return [BallotFailure(qid, SHAPE, (), f"question {qid!r}: expected an encrypted "
                                              f"{question.method.value} answer")]
    if isinstance(answer, EncryptedRanking):
        return _verify_ranking(question, public_key, answer, context)
    return _verify_selection(question, public_key, answer, context)


# --- the ballot -------------------------------------------------------------------------------


def _proof_to_bytes(proof: Proof) -> bytes:
    return b"".join(t1.to_bytes() + t2.to_bytes() + c.to_bytes() + s.to_bytes()
                    for (t1, t2), c, s in zip(proof.commitments, proof.challenges,
                                              proof.responses, strict=True))


def _proof_from_bytes(data: bytes) -> Proof:
    if not data or len(data) % _BRANCH_BYTES:
        raise ValueError(f"a proof is a positive multiple of {_BRANCH_BYTES} bytes")
    commitments, challenges, responses = [], [], []
    for k in range(0, len(data), _BRANCH_BYTES):
        branch = data[k:k + _BRANCH_BYTES]
        commitments.append((Element.from_bytes(branch[0:32]), Element.from_bytes(branch[32:64])))
        challenges.append(Scalar.from_bytes(branch[64:96]))
        responses.append(Scalar.from_bytes(branch[96:128]))
    return Proof(tuple(commitments), tuple(challenges), tuple(responses))


def _split(data: bytes) -> list[bytes]:
    """The items of a length_prefixed concatenation; ValueError if it is not exactly one."""
    items, k = [], 0
    while k < len(data):
        if len(data) - k < 8:
            raise ValueError("truncated length prefix")
        n = int.from_bytes(data[k:k + 8], "big")
        k += 8
        if n > len(data) - k:
            raise ValueError("an item runs past the end")
        items.append(data[k:k + n])
        k += n
    return items


def _answer_to_bytes(answer: EncryptedAnswer) -> bytes:
    head = [answer.question_id.encode(), answer.method.value.encode()]
    if isinstance(answer, EncryptedSelection):
        body = [x for ct, proof in zip(answer.ciphertexts, answer.option_proofs, strict=True)
                for x in (ct.to_bytes(), _proof_to_bytes(proof))]
        return length_prefixed(*head, *body, _proof_to_bytes(answer.count_proof))
    return length_prefixed(*head, *(ct.to_bytes() for ct in answer.positions),
                           answer.proof.to_bytes())


def _answer_from_bytes(data: bytes) -> EncryptedAnswer:
    items = _split(data)
    if len(items) < 3:
        raise ValueError("an answer has a question id, a method and a body")
    qid, method = items[0].decode("utf-8"), Method(items[1].decode("ascii"))
    if not qid:
        raise ValueError("empty question id")
    body = items[2:]
    if method in SELECTION_METHODS:
        if len(body) < 3 or len(body) % 2 == 0:
            raise ValueError("a selection is (ciphertext, proof) pairs and a count proof")
        pairs = body[:-1]
        return EncryptedSelection(
            qid, method, tuple(Ciphertext.from_bytes(x) for x in pairs[0::2]),
            tuple(_proof_from_bytes(x) for x in pairs[1::2]), _proof_from_bytes(body[-1]))
    if len(body) < 2:
        raise ValueError("a ranking is its position ciphertexts and a proof")
    return EncryptedRanking(qid, method, tuple(Ciphertext.from_bytes(x) for x in body[:-1]),
                            ShuffleProof.from_bytes(body[-1]))


@dataclass(frozen=True, slots=True)
class EncryptedBallot:
    """Every question's encrypted answer, in the election's question order, under one nonce."""

    election_id: str
    nonce: bytes
    answers: tuple[EncryptedAnswer, ...]

    @property
    def context(self) -> BallotContext:
        return BallotContext(self.election_id, self.nonce)

    def answer(self, question_id: str) -> EncryptedAnswer:
        for answer in self.answers:
            if answer.question_id == question_id:
                return answer
        raise KeyError(question_id)

    def to_bytes(self) -> bytes:
        """enc(label) || enc(election id) || enc(nonce) || enc(answer)...: one encoding per ballot."""
        return length_prefixed(BALLOT_LABEL, self.election_id.encode(), self.nonce,
                               *(_answer_to_bytes(a) for a in self.answers))

    @classmethod
    def from_bytes(cls, data: bytes) -> EncryptedBallot:
        """Decode canonical bytes; ValueError for anything else (so equal ballots, equal bytes)."""
        data = bytes(data)
        items = _split(data)
        if len(items) < 4 or items[0] != BALLOT_LABEL:
            raise ValueError("not an encrypted ballot")
        election_id = items[1].decode("utf-8")
        if not election_id or len(items[2]) != NONCE_BYTES:
            raise ValueError("a ballot has an election id and a 32-byte nonce")
        ballot = cls(election_id, items[2], tuple(_answer_from_bytes(x) for x in items[3:]))
        if ballot.to_bytes() != data:  # guards canonicity: one byte string per ballot
            raise ValueError("not the canonical encoding of this ballot")
        return ballot

    def hash(self) -> str:
        """Lower-case hex SHA-256 of the canonical bytes: the ballot's name in the box."""
        return hashlib.sha256(self.to_bytes()).hexdigest()


BallotOpening = Mapping[str, tuple[Scalar, ...]]  # question id -> its ciphertexts' nonces


def encrypt_ballot(definition: ElectionDefinition, content: Mapping[str, Any],
                   public_key: Element, nonce: bytes | None = None) -> EncryptedBallot:
    """Encrypt a plaintext ballot (content keyed by question id); every question gets an answer.

    An unanswered question is encrypted as all zeros, so the ballot's shape never says which
    questions the voter skipped. ValueError for an unknown question or an invalid answer.
    """
    return encrypt_ballot_opened(definition, content, public_key, nonce)[0]


def encrypt_ballot_opened(definition: ElectionDefinition, content: Mapping[str, Any], public_key: Element,
                          nonce: bytes | None = None) -> tuple[EncryptedBallot, BallotOpening]:
    """encrypt_ballot, and the opening that proves what it holds: every ciphertext's nonce.

    The voter's device keeps the opening until the voter either casts the ballot (the opening is
    then destroyed: it would reveal the vote) or challenges it (Benaloh): the opening is published
    with the ballot, which is spoiled, never cast, and any other device checks it (open_ballot).
    """
    if not isinstance(content, Mapping):
        raise ValueError("ballot content is keyed by question id")
    known = {q.id for q in definition.questions}
    unknown = sorted(set(content) - known)
    if unknown:
        raise ValueError(f"ballot answers unknown question {unknown[0]!r}")
    context = (BallotContext.fresh(definition.id) if nonce is None
               else BallotContext(definition.id, nonce))
    opening = {q.id: tuple(random_scalar() for _ in range(_width(q))) for q in definition.questions}
    answers = tuple(encrypt_answer(q, content.get(q.id), public_key, context, opening[q.id])
                    for q in definition.questions)
    return EncryptedBallot(definition.id, context.nonce, answers), opening


def _width(question: Question) -> int:
    """How many ciphertexts a question's answer has: a position per candidate, or a bit per option."""
    return len(question.candidates) if question.method in RANKED_METHODS else len(selection_options(question))


def open_ballot(definition: ElectionDefinition, public_key: Element, ballot: EncryptedBallot,
                opening: BallotOpening) -> dict[str, Any]:
    """What a challenged (spoiled) ballot holds, read with its opening instead of a key: the
    content in decrypt_ballot's form. ValueError naming the first thing wrong: a proof that
    fails, a nonce missing, or a ciphertext that is no encryption of an allowed value with its
    nonce (a device that lied about what it encrypted is caught here)."""
    failures = verify_ballot(definition, public_key, ballot)
    if failures:
        raise ValueError(f"the ballot's proofs fail: {failures[0]}")

    def opened(question: Question, ciphertexts: tuple[Ciphertext, ...]) -> list[Element]:
        nonces = opening.get(question.id)
        if nonces is None or len(nonces) != len(ciphertexts):
            raise ValueError(f"question {question.id!r}: the opening has no nonce for each of its "
                             f"{len(ciphertexts)} ciphertexts")
        plains = []
        for i, (ct, r) in enumerate(zip(ciphertexts, nonces, strict=True)):
            if not isinstance(r, Scalar) or ct.a != G * r:
                raise ValueError(f"question {question.id!r}, ciphertext {i}: not encrypted with "
                                 "the opening's nonce")
            plains.append(ct.b - public_key * r)
        return plains

    return _content(definition, ballot, opened)


def verify_ballot(definition: ElectionDefinition, public_key: Element,
                  ballot: EncryptedBallot) -> list[BallotFailure]:
    """Every failure of a ballot against its election (empty when valid), in a fixed order.

    Proofs are checked against the definition's election id, never the one the ballot states,
    so a ballot made for another election fails at every proof even if relabelled.
    """
    if not isinstance(ballot, EncryptedBallot):
        return [BallotFailure(None, SHAPE, (), "not an encrypted ballot")]
    failures: list[BallotFailure] = []
    if ballot.election_id != definition.id:
        failures.append(BallotFailure(None, ELECTION, (), f"ballot is for election "
                                                          f"{ballot.election_id!r}, not "
                                                          f"{definition.id!r}"))
    if not isinstance(ballot.nonce, bytes) or len(ballot.nonce) != NONCE_BYTES:
        return [*failures, BallotFailure(None, NONCE, (), f"a ballot nonce is {NONCE_BYTES} bytes")]
    context = BallotContext(definition.id, ballot.nonce)
    expected = [q.id for q in definition.questions]
    given = [getattr(a, "question_id", None) for a in ballot.answers]
    if given != expected:
        failures.append(BallotFailure(None, SHAPE, (), f"ballot answers {given!r}, the election "
                                                       f"asks {expected!r} in this order"))
    for question in definition.questions:
        matching = [a for a in ballot.answers if getattr(a, "question_id", None) == question.id]
        if len(matching) != 1:
            failures.append(BallotFailure(question.id, SHAPE, (), f"question {question.id!r}: "
                                                                  f"{len(matching)} answers"))
            continue
        failures += verify_answer(question, public_key, matching[0], context)
    return failures


def ballot_verdict(definition: ElectionDefinition, public_key: Element,
                   data: bytes) -> tuple[str | None, list[BallotFailure]]:
    """A cast ballot's bytes judged in one call that a worker process can run (its arguments and
    answer pickle small): (why the bytes are not a ballot, or None; the failures of its proofs,
    as verify_ballot gives them)."""
    try:
        ballot = EncryptedBallot.from_bytes(data)
    except ValueError as exc:
        return str(exc), []
    return None, verify_ballot(definition, public_key, ballot)


# --- decryption (tests, and a trustee-less demo; real tallies decrypt only sums) ----------------


def _ciphertexts_of(answer: EncryptedAnswer) -> tuple[Ciphertext, ...]:
    return answer.positions if isinstance(answer, EncryptedRanking) else answer.ciphertexts


def _content(definition: ElectionDefinition, ballot: EncryptedBallot,
             plains_of: Callable[[Question, tuple[Ciphertext, ...]], Sequence[Element]]) -> dict[str, Any]:
    """The ballot's content from G^m of each answer's ciphertexts (by key or by opening);
    unanswered resolutions are left out, candidate questions give []."""
    content = {}
    for question in definition.questions:
        answer = ballot.answer(question.id)
        value = _answer_from(question, answer, plains_of(question, _ciphertexts_of(answer)))
        if value is not None:
            content[question.id] = value
    return content


def _answer_from(question: Question, answer: EncryptedAnswer, plains: Sequence[Element]) -> Any:
    """The answer in the domain's form from G^m of each of its ciphertexts."""
    if isinstance(answer, EncryptedRanking):
        n = len(answer.positions) + 1
        values = [discrete_log(plain, n) for plain in plains]
        return _validated(question, list(ranking_from_positions(question.candidates, values)))
    options = selection_options(question)
    chosen = [o for o, plain in zip(options, plains, strict=True) if discrete_log(plain, 1)]
    if question.method is Method.RESOLUTION:
        if len(chosen) > 1:
            raise ValueError("a resolution answer has at most one option")
        return chosen[0] if chosen else None
    return _validated(question, chosen)


def decrypt_answer(question: Question, answer: EncryptedAnswer, secret: Scalar) -> Any:
    """The plaintext answer in the domain's form (None: an unanswered resolution).

    A selection comes back in the question's candidate order, whatever order it was given in.

    For checking the encoding only: an election decrypts sums, never single ballots.
    ValueError if a selection is not 0 or 1, a ranking's positions are not distinct in 1..c+1,
    or the result is not a valid answer.
    """
    return _answer_from(question, answer, [decrypt(ct, secret) for ct in _ciphertexts_of(answer)])


def decrypt_ballot(definition: ElectionDefinition, ballot: EncryptedBallot,
                   secret: Scalar) -> dict[str, Any]:
    """The plaintext content; unanswered resolutions are left out, candidate questions give []."""
    return _content(definition, ballot, lambda _, ciphertexts: [decrypt(ct, secret) for ct in ciphertexts])
