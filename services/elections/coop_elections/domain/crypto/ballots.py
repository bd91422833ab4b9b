"""Encrypted ballots: each answer as 0/1 ciphertexts with proofs that it is a valid answer.

The server, the auditors and the voter's own client must all be able to check that an encrypted
ballot says something the question allows, without learning what: otherwise one ciphertext of
an encrypted 5 would add five votes to the tally. So every statement the plaintext validation
(:mod:`..validation`) checks is proven here in zero knowledge, with disjunctive Chaum-Pedersen
proofs over ciphertexts and their homomorphic sums:

* selection questions (plurality, approval, resolution): one ciphertext per option, each 0 or
  1, and their sum within the question's limits;
* ranked questions (STV, Schulze): a candidates x ranks matrix of 0/1 ciphertexts forming a
  partial permutation whose ranks are used from the first without gaps.

Every proof's context names the election, the ballot (a per-ballot random nonce) and the exact
statement (question, kind, position), so no proof verifies anywhere but where it was made.
docs/elections.md, "Encrypted ballots and their proofs", fixes every byte.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coop_domain.errors import InvalidArgument

from ..model import RANKED_METHODS, RESOLUTION_ANSWERS, ElectionDefinition, Method, Question
from ..validation import validate_answer
from .elgamal import Ciphertext, add_all, decrypt, discrete_log, encrypt
from .group import ELEMENT_BYTES, SCALAR_BYTES, Element, Scalar, length_prefixed, random_scalar, u32
from .proofs import DisjunctiveChaumPedersenProof

BALLOT_LABEL = b"coopgov/elections/v1/ballot"
PROOF_CONTEXT_LABEL = b"coopgov/elections/v1/ballot/proof"
NONCE_BYTES = 32

# Proof kinds: the statement's name in its context and in a verification failure.
OPTION = "option"  # a selection ciphertext encrypts 0 or 1
COUNT = "count"  # a selection row's sum is within the question's limits
CELL = "cell"  # a ranking cell encrypts 0 or 1
CANDIDATE = "candidate"  # a candidate is ranked at most once (row sum 0 or 1)
RANK = "rank"  # a rank holds at most one candidate (column sum 0 or 1)
CONTIGUITY = "contiguity"  # rank j+1 used only if rank j is: 2 S_j + S_{j+1} in {0, 2, 3}
# Structural failures (no proof to check): wrong election, nonce, question list or shape.
ELECTION = "election"
NONCE = "nonce"
SHAPE = "shape"

BINARY = (0, 1)
CONTIGUOUS = (0, 2, 3)  # 2 S_j + S_{j+1} for (S_j, S_{j+1}) = (0, 0), (1, 0), (1, 1); (0, 1) gives 1

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
    """An STV or Schulze answer: cells[i][j] encrypts 1 iff candidate i is at rank j + 1."""

    question_id: str
    method: Method
    cells: tuple[tuple[Ciphertext, ...], ...]  # [candidate][rank]
    cell_proofs: tuple[tuple[Proof, ...], ...]  # each cell encrypts 0 or 1
    candidate_proofs: tuple[Proof, ...]  # each row sums to 0 or 1
    rank_proofs: tuple[Proof, ...]  # each column sums to 0 or 1
    contiguity_proofs: tuple[Proof, ...]  # 2 * column j + column j+1 encrypts 0, 2 or 3

    def rank_sums(self) -> tuple[Ciphertext, ...]:
        return tuple(add_all(row[j] for row in self.cells) for j in range(len(self.cells[0])))


EncryptedAnswer = EncryptedSelection | EncryptedRanking


def _sum_nonce(nonces: Sequence[Scalar]) -> Scalar:
    total = Scalar.from_int(0)
    for r in nonces:
        total = total + r
    return total


def prove_selection(values: Sequence[int], lo: int, hi: int, public_key: Element,
                    context: BallotContext, question_id: str, method: Method) -> EncryptedSelection:
    """Encrypt a 0/1 vector with fresh nonces and prove each entry and the sum in lo..hi.

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
    nonces = [random_scalar() for _ in values]
    ciphertexts = tuple(encrypt(v, public_key, r) for v, r in zip(values, nonces, strict=True))
    option_proofs = tuple(
        Proof.prove(ct, v, r, public_key, BINARY, context.proof(question_id, OPTION, i))
        for i, (ct, v, r) in enumerate(zip(ciphertexts, values, nonces, strict=True)))
    count_proof = Proof.prove(add_all(ciphertexts), count, _sum_nonce(nonces), public_key,
                              range(lo, hi + 1), context.proof(question_id, COUNT))
    return EncryptedSelection(question_id, method, ciphertexts, option_proofs, count_proof)


def check_ranking_matrix(matrix: Sequence[Sequence[int]]) -> None:
    """ValueError naming the first rule a candidates x ranks 0/1 matrix breaks, if any."""
    if not matrix or not matrix[0]:
        raise ValueError("a ranking has at least one candidate and one rank")
    ranks = len(matrix[0])
    if any(len(row) != ranks for row in matrix):
        raise ValueError("every candidate has the same number of rank cells")
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            if not _is_int(v) or v not in BINARY:
                raise ValueError(f"candidate {i}, rank {j + 1} would encrypt {v!r}, not 0 or 1")
    for i, row in enumerate(matrix):
        if sum(row) > 1:
            raise ValueError(f"candidate {i} is ranked {sum(row)} times")
    used = [sum(row[j] for row in matrix) for j in range(ranks)]
    for j, n in enumerate(used):
        if n > 1:
            raise ValueError(f"rank {j + 1} holds {n} candidates")
    for j in range(ranks - 1):
        if used[j + 1] and not used[j]:
            raise ValueError(f"rank {j + 2} is used but rank {j + 1} is not")


def prove_ranking(matrix: Sequence[Sequence[int]], public_key: Element, context: BallotContext,
                  question_id: str, method: Method) -> EncryptedRanking:
    """Encrypt a candidates x ranks 0/1 matrix and prove it a gap-free partial permutation.

    ValueError (before anything is encrypted) if the matrix breaks a rule.
    """
    check_ranking_matrix(matrix)
    rows = tuple(tuple(row) for row in matrix)
    ranks = len(rows[0])
    nonces = [[random_scalar() for _ in row] for row in rows]
    cells = tuple(tuple(encrypt(v, public_key, r) for v, r in zip(row, rn, strict=True))
                  for row, rn in zip(rows, nonces, strict=True))
    cell_proofs = tuple(
        tuple(Proof.prove(cells[i][j], rows[i][j], nonces[i][j], public_key, BINARY,
                          context.proof(question_id, CELL, i, j)) for j in range(ranks))
        for i in range(len(rows)))
    candidate_proofs = tuple(
        Proof.prove(add_all(cells[i]), sum(rows[i]), _sum_nonce(nonces[i]), public_key, BINARY,
                    context.proof(question_id, CANDIDATE, i)) for i in range(len(rows)))
    column = [add_all(row[j] for row in cells) for j in range(ranks)]
    column_nonce = [_sum_nonce([rn[j] for rn in nonces]) for j in range(ranks)]
    used = [sum(row[j] for row in rows) for j in range(ranks)]
    rank_proofs = tuple(
        Proof.prove(column[j], used[j], column_nonce[j], public_key, BINARY,
                    context.proof(question_id, RANK, j)) for j in range(ranks))
    contiguity_proofs = tuple(
        Proof.prove(2 * column[j] + column[j + 1], 2 * used[j] + used[j + 1],
                    column_nonce[j] + column_nonce[j] + column_nonce[j + 1], public_key,
                    CONTIGUOUS, context.proof(question_id, CONTIGUITY, j))
        for j in range(ranks - 1))
    return EncryptedRanking(question_id, method, cells, cell_proofs, candidate_proofs,
                            rank_proofs, contiguity_proofs)


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


def ranking_size(question: Question) -> tuple[int, int]:
    """(candidates, ranks): the domain lets a ranking name every candidate, so ranks = candidates."""
    return len(question.candidates), question.max_choices


def _validated(question: Question, answer: Any) -> Any:
    try:
        return validate_answer(question, answer)
    except InvalidArgument as exc:
        raise ValueError(str(exc)) from exc


def encrypt_answer(question: Question, answer: Any, public_key: Element,
                   context: BallotContext) -> EncryptedAnswer:
    """Encrypt an answer in the plaintext domain's form; None (unanswered) is all zeros.

    ValueError for any answer validate_answer refuses (unknown or repeated candidate, too many
    choices, not yes/no/abstain).
    """
    qid = question.id
    if question.method in RANKED_METHODS:
        ranking = [] if answer is None else _validated(question, answer)
        _, ranks = ranking_size(question)
        matrix = [[int(j < len(ranking) and ranking[j] == c) for j in range(ranks)]
                  for c in question.candidates]
        return prove_ranking(matrix, public_key, context, qid, question.method)
    if answer is None:
        chosen: set[str] = set()
    elif question.method is Method.RESOLUTION:
        chosen = {_validated(question, answer)}
    else:
        chosen = set(_validated(question, answer))
    values = [int(option in chosen) for option in selection_options(question)]
    lo, hi = selection_limits(question)
    return prove_selection(values, lo, hi, public_key, context, qid, question.method)


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
    c, r = ranking_size(question)
    shape_ok = (
        _tuples(answer.cells, answer.cell_proofs, answer.candidate_proofs, answer.rank_proofs,
                answer.contiguity_proofs)
        and len(answer.cells) == len(answer.cell_proofs) == len(answer.candidate_proofs) == c
        and all(_tuples(row, prow) and len(row) == len(prow) == r
                for row, prow in zip(answer.cells, answer.cell_proofs, strict=True))
        and all(isinstance(ct, Ciphertext) for row in answer.cells for ct in row)
        and len(answer.rank_proofs) == r and len(answer.contiguity_proofs) == r - 1)
    if not shape_ok:
        return [BallotFailure(qid, SHAPE, (), f"question {qid!r}: expected a {c} x {r} matrix "
                                              f"with {c} candidate, {r} rank and {r - 1} "
                                              "contiguity proofs")]
    names = question.candidates
    failures = []
    for i in range(c):
        for j in range(r):
            if not _holds(answer.cell_proofs[i][j], answer.cells[i][j], public_key, BINARY,
                          context.proof(qid, CELL, i, j)):
                failures.append(BallotFailure(
                    qid, CELL, (i, j), f"question {qid!r}, candidate {names[i]!r}, rank {j + 1}: "
                                       "the cell proof (encrypts 0 or 1) fails"))
    for i in range(c):
        if not _holds(answer.candidate_proofs[i], add_all(answer.cells[i]), public_key, BINARY,
                      context.proof(qid, CANDIDATE, i)):
            failures.append(BallotFailure(
                qid, CANDIDATE, (i,), f"question {qid!r}, candidate {names[i]!r}: the candidate "
                                      "proof (ranked at most once) fails"))
    column = answer.rank_sums()
    for j in range(r):
        if not _holds(answer.rank_proofs[j], column[j], public_key, BINARY,
                      context.proof(qid, RANK, j)):
            failures.append(BallotFailure(
                qid, RANK, (j,), f"question {qid!r}, rank {j + 1}: the rank proof (at most one "
                                 "candidate) fails"))
    for j in range(r - 1):
        if not _holds(answer.contiguity_proofs[j], 2 * column[j] + column[j + 1], public_key,
                      CONTIGUOUS, context.proof(qid, CONTIGUITY, j)):
            failures.append(BallotFailure(
                qid, CONTIGUITY, (j,), f"question {qid!r}, ranks {j + 1} and {j + 2}: the "
                                       f"contiguity proof (rank {j + 2} used only if rank {j + 1} "
                                       "is) fails"))
    return failures


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
    c, r = len(answer.cells), len(answer.cells[0])
    cells = [x for row, prow in zip(answer.cells, answer.cell_proofs, strict=True)
             for ct, proof in zip(row, prow, strict=True)
             for x in (ct.to_bytes(), _proof_to_bytes(proof))]
    proofs = [_proof_to_bytes(p) for p in (*answer.candidate_proofs, *answer.rank_proofs,
                                           *answer.contiguity_proofs)]
    return length_prefixed(*head, u32(c), u32(r), *cells, *proofs)


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
    if len(body) < 2 or len(body[0]) != 4 or len(body[1]) != 4:
        raise ValueError("a ranking starts with its 4-byte sizes")
    c, r = int.from_bytes(body[0], "big"), int.from_bytes(body[1], "big")
    if c < 1 or r < 1 or len(body) != 2 + 2 * c * r + c + r + (r - 1):
        raise ValueError("a ranking's item count does not match its sizes")
    flat = body[2:2 + 2 * c * r]
    cts = [Ciphertext.from_bytes(x) for x in flat[0::2]]
    pfs = [_proof_from_bytes(x) for x in flat[1::2]]
    rest = [_proof_from_bytes(x) for x in body[2 + 2 * c * r:]]
    return EncryptedRanking(
        qid, method, tuple(tuple(cts[i * r:(i + 1) * r]) for i in range(c)),
        tuple(tuple(pfs[i * r:(i + 1) * r]) for i in range(c)), tuple(rest[:c]),
        tuple(rest[c:c + r]), tuple(rest[c + r:]))


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


def encrypt_ballot(definition: ElectionDefinition, content: Mapping[str, Any],
                   public_key: Element, nonce: bytes | None = None) -> EncryptedBallot:
    """Encrypt a plaintext ballot (content keyed by question id); every question gets an answer.

    An unanswered question is encrypted as all zeros, so the ballot's shape never says which
    questions the voter skipped. ValueError for an unknown question or an invalid answer.
    """
    if not isinstance(content, Mapping):
        raise ValueError("ballot content is keyed by question id")
    known = {q.id for q in definition.questions}
    unknown = sorted(set(content) - known)
    if unknown:
        raise ValueError(f"ballot answers unknown question {unknown[0]!r}")
    context = (BallotContext.fresh(definition.id) if nonce is None
               else BallotContext(definition.id, nonce))
    answers = tuple(encrypt_answer(q, content.get(q.id), public_key, context)
                    for q in definition.questions)
    return EncryptedBallot(definition.id, context.nonce, answers)


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


# --- decryption (tests, and a trustee-less demo; real tallies decrypt only sums) ----------------


def _bit(ciphertext: Ciphertext, secret: Scalar) -> int:
    return discrete_log(decrypt(ciphertext, secret), 1)


def decrypt_answer(question: Question, answer: EncryptedAnswer, secret: Scalar) -> Any:
    """The plaintext answer in the domain's form (None: an unanswered resolution).

    A selection comes back in the question's candidate order, whatever order it was given in.

    For checking the encoding only: an election decrypts sums, never single ballots.
    ValueError if a cell is not 0 or 1 or the result is not a valid answer.
    """
    if isinstance(answer, EncryptedRanking):
        matrix = [[_bit(ct, secret) for ct in row] for row in answer.cells]
        check_ranking_matrix(matrix)
        ranking = []
        for j in range(len(matrix[0])):
            at_rank = [question.candidates[i] for i, row in enumerate(matrix) if row[j]]
            ranking += at_rank
        return _validated(question, ranking)
    options = selection_options(question)
    chosen = [o for o, ct in zip(options, answer.ciphertexts, strict=True) if _bit(ct, secret)]
    if question.method is Method.RESOLUTION:
        if len(chosen) > 1:
            raise ValueError("a resolution answer has at most one option")
        return chosen[0] if chosen else None
    return _validated(question, chosen)


def decrypt_ballot(definition: ElectionDefinition, ballot: EncryptedBallot,
                   secret: Scalar) -> dict[str, Any]:
    """The plaintext content; unanswered resolutions are left out, candidate questions give []."""
    content = {}
    for question in definition.questions:
        value = decrypt_answer(question, ballot.answer(question.id), secret)
        if value is not None:
            content[question.id] = value
    return content
