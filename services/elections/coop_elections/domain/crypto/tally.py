"""The encrypted tally: from accepted ballots to results, every step a published, checkable fact.

Nobody ever decrypts a single voter's ballot. What is decrypted, by k of the n trustees each
proving their share, is:

* for a selection question (plurality, approval, resolution): one homomorphic sum per option,
  each ballot's ciphertexts multiplied by its weight (so weights are exact and public: anyone
  recomputes the sums from the published ballots and weights);
* for a ranked question (STV, Schulze): the ballots' *ranking rows* after at least two verifiable
  shuffles by independent mixers. A ranking row is the ballot's position ciphertexts as cast,
  one per candidate (:class:`.ballots.EncryptedRanking`): the decrypted positions say the
  ranking (the candidates before the missing value, the cut, in position order). Nine
  ciphertexts per 9-candidate ballot: this is what makes shuffling and decrypting 41,702
  ballots take minutes. A ballot of weight w enters the first shuffle as w
  identical rows, so the decrypted rankings are counted with their weight and no ranking is
  singled out by a weight class of its own.

Then today's counting (:mod:`..plurality`, :mod:`..resolution`, :mod:`..stv`,
:mod:`..schulze`) runs over the decrypted totals and rankings, with the election's seed.

Everything here is pure and deterministic given its inputs; the heavy loops take a ``mapper``
(``map`` by default) so an adapter can spread them over processes without changing a result.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any, Protocol

from ..counting import ElectionResult, QuestionResult
from ..model import RANKED_METHODS, ElectionDefinition, Method, Question
from ..plurality import choice_result
from ..resolution import count_resolution
from ..schulze import count_schulze
from ..stv import count_stv
from .ballots import (
    EncryptedBallot,
    EncryptedRanking,
    EncryptedSelection,
    ranking_from_positions,
    selection_options,
)
from .elgamal import CIPHERTEXT_BYTES, NEUTRAL, Ciphertext
from .group import Element, length_prefixed, u32
from .packed import Packed
from .shuffle import Mapper, ShuffleProof, packed_rows, prove_shuffle, shuffle, verify_shuffle
from .trustees import (
    DecryptionShare,
    NotEnoughDecryptionShares,
    Qualification,
    TrusteeKeyShare,
    combine_decryption_shares,
    partial_decrypt,
    verify_decryption_share,
)

MIX_CONTEXT_LABEL = b"coopgov/elections/v1/mix"
#: The fewest shuffles a ranked question's rows go through: one honest mixer among them hides
#: which ranking came from which ballot (the issue's "at least two independent parties").
MIN_MIXES = 2

Row = tuple[Ciphertext, ...]


@dataclass(frozen=True, slots=True)
class WeightedBallot:
    """An accepted encrypted ballot with the weight the roll (or a proxy) gives it."""

    ballot: EncryptedBallot
    weight: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.weight, int) or isinstance(self.weight, bool) or self.weight < 1:
            raise ValueError("a ballot's weight is a positive integer")


# --- selection questions: homomorphic sums ------------------------------------------------------


class _WeightedSum:
    """sum of weight * ciphertext, one term at a time, grouping equal weights so that most terms
    are additions (a scalar multiplication per distinct weight, at the end)."""

    __slots__ = ("by_weight",)

    def __init__(self) -> None:
        self.by_weight: dict[int, Ciphertext] = {}

    def add(self, ciphertext: Ciphertext, weight: int) -> None:
        self.by_weight[weight] = self.by_weight.get(weight, NEUTRAL) + ciphertext

    def total(self) -> Ciphertext:
        total = NEUTRAL
        for weight, subtotal in sorted(self.by_weight.items()):
            total = total + (subtotal if weight == 1 else subtotal * weight)
        return total


def _add_selection(sums: Sequence[_WeightedSum], ballot: WeightedBallot, question_id: str) -> None:
    answer = ballot.ballot.answer(question_id)
    if not isinstance(answer, EncryptedSelection) or len(answer.ciphertexts) != len(sums):
        raise ValueError(f"question {question_id!r} takes a selection of {len(sums)} options")
    for total, ciphertext in zip(sums, answer.ciphertexts, strict=True):
        total.add(ciphertext, ballot.weight)


def selection_totals(question: Question, ballots: Iterable[WeightedBallot]) -> Row:
    """One ciphertext per option: the weighted sum of every ballot's ciphertext for it."""
    sums = [_WeightedSum() for _ in selection_options(question)]
    for ballot in ballots:
        _add_selection(sums, ballot, question.id)
    return tuple(s.total() for s in sums)


# --- ranked questions: ranking rows and mixes -------------------------------------------------


def ranking_row(answer: EncryptedRanking) -> Row:
    """The ciphertexts a ranked answer enters the first shuffle with: its positions, as cast."""
    return answer.positions


def _ranking_rows(ballot: WeightedBallot, question_id: str) -> list[Row]:
    answer = ballot.ballot.answer(question_id)
    if not isinstance(answer, EncryptedRanking):
        raise ValueError(f"question {question_id!r} takes a ranking")
    return [ranking_row(answer)] * ballot.weight


def mix_inputs(question: Question, ballots: Sequence[WeightedBallot],
               mapper: Mapper = map) -> tuple[Row, ...]:
    """The rows the first mixer shuffles: each ballot's ranking row, weight times, in box order."""
    rows: list[Row] = []
    for part in mapper(_ranking_rows, ballots, [question.id] * len(ballots)):
        rows.extend(part)
    return tuple(rows)


class BoxTotals:
    """What the tally needs of the accepted ballots, gathered one ballot at a time: a box of
    41,702 encrypted 9-candidate ballots is about 600 MiB decoded (14.8 KiB each), so nothing
    holds it whole. The option totals of every selection question, the number of ballots and their
    weight, and the first mix input (:func:`mix_inputs`) of the ranked questions asked for, kept
    as packed rows (23 MiB for 41,702 rows of 9 ciphertexts, about 100 MiB decoded)."""

    def __init__(self, definition: ElectionDefinition, mix_inputs_of: Collection[str] = ()) -> None:
        self.ballots = 0
        self.total_weight = 0
        self._sums = {q.id: [_WeightedSum() for _ in selection_options(q)]
                      for q in definition.questions if q.method not in RANKED_METHODS}
        self._rows: dict[str, bytearray] = {q.id: bytearray() for q in definition.questions
                                            if q.id in mix_inputs_of and q.method in RANKED_METHODS}
        self._widths: dict[str, int] = {}

    def add(self, ballot: WeightedBallot) -> None:
        for question_id, sums in self._sums.items():
            _add_selection(sums, ballot, question_id)
        for question_id, rows in self._rows.items():
            for row in _ranking_rows(ballot, question_id):
                if self._widths.setdefault(question_id, len(row)) != len(row):
                    raise ValueError(f"question {question_id!r}: ranking rows of different widths")
                rows += b"".join(ct.to_bytes() for ct in row)
        self.ballots += 1
        self.total_weight += ballot.weight

    def selection_totals(self, question_id: str) -> Row:
        return tuple(s.total() for s in self._sums[question_id])

    def mix_inputs(self, question_id: str) -> Sequence[Row]:
        return packed_rows(bytes(self._rows[question_id]), self._widths.get(question_id, 0))


def box_totals(definition: ElectionDefinition, ballots: Iterable[WeightedBallot],
               mix_inputs_of: Collection[str] = ()) -> BoxTotals:
    """BoxTotals over `ballots`, read once, in box order."""
    totals = BoxTotals(definition, mix_inputs_of)
    for ballot in ballots:
        totals.add(ballot)
    return totals


def mix_context(election_id: str, question_id: str, step: int, mixer: str) -> bytes:
    """Binds a shuffle proof to its election, question, place in the chain and mixer."""
    return length_prefixed(MIX_CONTEXT_LABEL, election_id.encode(), question_id.encode(), u32(step),
                           mixer.encode())


@dataclass(frozen=True, slots=True)
class Mix:
    """One mixer's published step: the shuffled rows and the proof they are the previous rows
    re-encrypted and permuted. The permutation and randomness stay with the mixer (and should be
    destroyed: whoever keeps them can link rankings to ballots)."""

    mixer: str
    outputs: Sequence[Row]  # a tuple of rows, or packed_rows of their bytes as stored
    proof: ShuffleProof


def mix(rows: Sequence[Row], public_key: Element, election_id: str, question_id: str, step: int,
        mixer: str, mapper: Mapper = map) -> Mix:
    """Shuffle and prove: what each mixer runs on the previous step's outputs. `mapper` must run
    in the mixer's own processes: the work it spreads carries the mixer's secret witness."""
    if not mixer:
        raise ValueError("a mixer names itself")
    outputs, witness = shuffle(list(rows), public_key, mapper=mapper)
    proof = prove_shuffle(list(rows), outputs, witness, public_key,
                          mix_context(election_id, question_id, step, mixer), mapper=mapper)
    return Mix(mixer, tuple(tuple(r) for r in outputs), proof)


def verify_mix(rows: Sequence[Row], step_mix: Mix, public_key: Element, election_id: str,
               question_id: str, step: int, mapper: Mapper = map) -> bool:
    """Packed rows (packed_rows) stay packed: the check reads them a span at a time."""
    return verify_shuffle(step_mix.proof, rows, step_mix.outputs, public_key,
                          mix_context(election_id, question_id, step, step_mix.mixer), mapper=mapper)


def decode_ranking(question: Question, values: Sequence[int]) -> tuple[str, ...]:
    """A decrypted row's positions back to the ranking (candidate ids before the cut, in order);
    ValueError if they are no valid positions (which the ballots' proofs rule out: only a wrong
    decryption or a tampered record gets here)."""
    try:
        return ranking_from_positions(question.candidates, values)
    except ValueError as exc:
        raise ValueError(f"question {question.id!r}: {list(values)} is not a ranking: {exc}") from exc


# --- what is decrypted, in which order ----------------------------------------------------------


@dataclass(frozen=True)
class TallyInput:
    """The ciphertexts the trustees decrypt, in the one order every party uses.

    ``rows[q]`` is, per question in definition order, the option totals (one row) of a selection
    question or the last mix's outputs of a ranked one.
    """

    questions: tuple[Question, ...]
    rows: tuple[Sequence[Row], ...]

    @cached_property
    def ciphertexts(self) -> Sequence[Ciphertext]:
        """Every ciphertext, rows in order. Packed (bytes, decoded on access) when a mix's outputs
        are (packed_rows): then nothing here decodes the 375,321 ciphertexts of a full tally."""
        if not any(isinstance(rows, Packed) for rows in self.rows):
            return tuple(ct for rows in self.rows for row in rows for ct in row)
        blob = b"".join(rows.blob if isinstance(rows, Packed) else
                        b"".join(ct.to_bytes() for row in rows for ct in row) for rows in self.rows)
        return Packed(blob, CIPHERTEXT_BYTES, Ciphertext.from_bytes)


class MixStep(Protocol):
    """What the tally needs of a mix: its outputs (a Mix, or a stored step's packed rows)."""

    @property
    def outputs(self) -> Sequence[Row]: ...


def tally_input(definition: ElectionDefinition, totals: BoxTotals,
                mixes: Mapping[str, Sequence[MixStep]]) -> TallyInput:
    """From the published ballots (their totals) and mixes: recomputed by the service and by
    every verifier."""
    rows = []
    for question in definition.questions:
        if question.method in RANKED_METHODS:
            steps = mixes.get(question.id, ())
            if len(steps) < MIN_MIXES:
                raise ValueError(f"question {question.id!r}: {len(steps)} mixes, at least "
                                 f"{MIN_MIXES} needed")
            rows.append(steps[-1].outputs)
        else:
            rows.append((totals.selection_totals(question.id),))
    return TallyInput(definition.questions, tuple(rows))


def _decrypt_chunk(key_share: TrusteeKeyShare, ciphertexts: Sequence[Ciphertext],
                   election_id: bytes) -> list[DecryptionShare]:
    return [partial_decrypt(key_share, ct, election_id) for ct in ciphertexts]


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Slices of `items` (a Packed one's slices stay packed: a worker decodes only its own)."""
    return [items[i:i + size] for i in range(0, len(items), size)] or [items[:0]]


def decrypt_all(key_share: TrusteeKeyShare, ciphertexts: Sequence[Ciphertext], election_id: bytes,
                mapper: Mapper = map, chunk: int = 2_000) -> tuple[DecryptionShare, ...]:
    """A trustee's shares, with proofs, of every ciphertext of the tally, in order."""
    parts = _chunks(ciphertexts, chunk)
    done = mapper(_decrypt_chunk, [key_share] * len(parts), parts, [election_id] * len(parts))
    return tuple(share for part in done for share in part)


def portable(qualification: Qualification) -> tuple[Any, ...]:
    """A Qualification as plain values a worker process can receive (its mappings are read-only
    proxies, which do not pickle)."""
    q = qualification
    return q.threshold, q.election_id, dict(q.qualified), dict(q.disqualified)


def rebuilt(parts: tuple[Any, ...] | Qualification) -> Qualification:
    if isinstance(parts, Qualification):
        return parts
    threshold, election_id, qualified, disqualified = parts
    return Qualification(threshold, election_id, MappingProxyType(qualified), MappingProxyType(disqualified))


def _first_bad_in_chunk(shares: Sequence[DecryptionShare], ciphertexts: Sequence[Ciphertext],
                        qualification: tuple[Any, ...], trustee: int, offset: int) -> int | None:
    q = rebuilt(qualification)
    for i, ct in enumerate(ciphertexts):  # first_bad_share slices both alike
        try:
            share = shares[i]
        except ValueError:  # a packed share that does not decode
            return offset + i
        if share.trustee != trustee or not verify_decryption_share(share, ct, q):
            return offset + i
    return None


def first_bad_share(shares: Sequence[DecryptionShare], ciphertexts: Sequence[Ciphertext],
                    qualification: Qualification, trustee: int, mapper: Mapper = map,
                    chunk: int = 2_000) -> int | None:
    """The position of the first of `trustee`'s shares (one per ciphertext, in order) that is not
    its own, does not decode (Packed shares) or whose proof fails, or None if every one holds;
    checked chunk by chunk over `mapper` (the api's and the verifier's process pools)."""
    if len(shares) != len(ciphertexts):
        raise ValueError(f"{len(shares)} shares for {len(ciphertexts)} ciphertexts")
    starts = range(0, len(ciphertexts), chunk)
    bad = mapper(_first_bad_in_chunk, [shares[i:i + chunk] for i in starts],
                 [ciphertexts[i:i + chunk] for i in starts], [portable(qualification)] * len(starts),
                 [trustee] * len(starts), list(starts))
    return next((i for i in bad if i is not None), None)


def _open_chunk(ciphertexts: Sequence[Ciphertext], shares: Sequence[Sequence[DecryptionShare]],
                qualification: tuple[Any, ...], checked: bool = False) -> list[Element]:
    """`shares`: each trustee's shares of these ciphertexts, one sequence a trustee."""
    q = rebuilt(qualification)
    return [combine_decryption_shares(ct, share_set, q, checked=checked)
            for ct, share_set in zip(ciphertexts, zip(*shares, strict=True), strict=True)]


def open_all(ciphertexts: Sequence[Ciphertext], shares: Mapping[int, Sequence[DecryptionShare]],
             qualification: Qualification, mapper: Mapper = map,
             chunk: int = 2_000, *, checked: bool = False) -> tuple[Element, ...]:
    """G^m of every ciphertext from the trustees' shares (each share's proof checked, unless the
    caller has just checked every one of them: `checked`).

    NotEnoughDecryptionShares, naming the missing and rejected trustees, if fewer than k hold.
    """
    threshold = qualification.threshold
    if len(shares) < threshold.k:  # say it here, before any work is spread over processes
        given = tuple(sorted(shares))
        raise NotEnoughDecryptionShares(threshold.k, given, tuple(i for i in threshold.trustees if i not in given), ())
    for trustee, given in shares.items():
        if len(given) != len(ciphertexts):
            raise ValueError(f"trustee {trustee} sent {len(given)} shares for {len(ciphertexts)} "
                             "ciphertexts")
    parts = _chunks(ciphertexts, chunk)
    share_parts = list(zip(*(_chunks(given, chunk) for given in shares.values()), strict=True))
    done = mapper(_open_chunk, parts, share_parts, [portable(qualification)] * len(parts), [checked] * len(parts))
    return tuple(e for part in done for e in part)


# --- the count ------------------------------------------------------------------------------------


def _small(plain: Element, bound: int, what: str) -> int:
    from .elgamal import discrete_log  # noqa: PLC0415 - the table is built on first use

    try:
        return discrete_log(plain, bound)
    except ValueError as exc:
        raise ValueError(f"{what}: the decryption is no number up to {bound}") from exc


def count(definition: ElectionDefinition, box: BoxTotals, tally: TallyInput,
          plaintexts: Sequence[Element]) -> ElectionResult:
    """Today's counting over the decrypted totals and rankings: the published result (of the
    box, only its number of ballots and their weight)."""
    total_weight = box.total_weight
    expected = len(tally.ciphertexts)
    if len(plaintexts) != expected:
        raise ValueError(f"{len(plaintexts)} decryptions for {expected} ciphertexts")
    results: list[QuestionResult] = []
    position = 0
    seed = definition.tie_break_seed
    for question, rows in zip(tally.questions, tally.rows, strict=True):
        width = len(rows[0]) if rows else 0
        if question.method in RANKED_METHODS:
            rankings = []
            for n in range(len(rows)):
                values = [_small(plaintexts[position + k], len(question.candidates) + 1,
                                 f"question {question.id!r}, row {n}") for k in range(width)]
                rankings.append((decode_ranking(question, values), 1))
                position += width
            counter = count_stv if question.method is Method.STV else count_schulze
            results.append(counter(question, rankings, seed))
            continue
        options = selection_options(question)
        totals = [_small(plaintexts[position + k], total_weight, f"question {question.id!r}, "
                         f"option {options[k]!r}") for k in range(width)]
        position += width
        if question.method is Method.RESOLUTION:
            results.append(count_resolution(question, list(zip(options, totals, strict=True)),
                                            definition.roll_weight))
            continue
        # An unanswered candidate question is a blank one under encryption (all zeros); with one
        # choice a ballot, blank = the weight that chose nobody. With more, the sums hide it.
        blank = total_weight - sum(totals) if question.max_choices == 1 else None
        results.append(choice_result(question, dict(zip(options, totals, strict=True)), total_weight,
                                     blank, seed))
    return ElectionResult(election_id=definition.id, tie_break_seed=seed, ballots=box.ballots,
                          total_weight=total_weight, questions=tuple(results))
