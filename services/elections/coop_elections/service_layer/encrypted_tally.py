"""Use cases of an encrypted election's tally, after its close (status "tallying").

The service is the bulletin board of the tally, never a party to it: the mixers shuffle on
their own machines and submit their outputs with a proof, the trustees decrypt on theirs and
submit their shares with proofs; the service checks every proof on arrival (nothing that fails
is stored), then combines k trustees' shares, counts with today's methods and publishes. The
pure steps are coop_elections.domain.crypto.tally; the published record is what its audit checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied
from coop_domain.principal import Principal
from coop_elections.domain.canonical import to_jsonable
from coop_elections.domain.crypto.ballots import EncryptedBallot
from coop_elections.domain.crypto.box import BoxChain
from coop_elections.domain.crypto.elgamal import CIPHERTEXT_BYTES, Ciphertext
from coop_elections.domain.crypto.packed import SIZE, Joined, Packed
from coop_elections.domain.crypto.record import MixesSource, RecordSource
from coop_elections.domain.crypto.shuffle import ShuffleProof, packed_rows
from coop_elections.domain.crypto.tally import (
    BoxTotals,
    Mapper,
    Mix,
    Row,
    TallyInput,
    WeightedBallot,
    box_totals,
    count,
    first_bad_share,
    open_all,
    tally_input,
    verify_mix,
)
from coop_elections.domain.crypto.trustees import (
    DECRYPTION_SHARE_BYTES,
    DecryptionShare,
    Qualification,
    Threshold,
    TrusteeCommitment,
    qualify,
)
from coop_elections.domain.election import mandate_dates
from coop_elections.domain.events import ResultsPublished
from coop_elections.domain.model import RANKED_METHODS, ElectionDefinition, Question
from coop_elections.domain.published import encrypted_election_to_json
from coop_elections.domain.stored import StoredElection
from coop_elections.service_layer.common import TIMERS, counting_definition, load, roll_summary_of
from coop_elections.service_layer.ports import ElectionsUnitOfWork
from coop_elections.service_layer.trustees import (
    ENCRYPTED_BALLOT,
    TRUSTEES,
    encryption_of,
    require_key,
    require_trustee,
)
from coop_platform.caching import LastUsed

MIXERS = ("mixer",)


@dataclass(frozen=True)
class QuestionMixes:
    question_id: str
    done_by: tuple[str, ...]
    next_mixer: str
    rows: int


@dataclass(frozen=True)
class TallyState:
    election_id: str
    threshold: int
    mixes: tuple[QuestionMixes, ...]
    decrypted_by: tuple[int, ...]
    missing_trustees: tuple[int, ...]

    @property
    def mixes_complete(self) -> bool:
        return all(not q.next_mixer for q in self.mixes)

    @property
    def ready_to_finish(self) -> bool:
        return self.mixes_complete and len(self.decrypted_by) >= self.threshold


def _ranked(definition: ElectionDefinition) -> list[Question]:
    return [q for q in definition.questions if q.method in RANKED_METHODS]


def _tallying(e: StoredElection) -> None:
    encryption_of(e)
    if e.status != "tallying":
        raise FailedPrecondition("the tally starts when voting is closed" if e.status != "closed"
                                 else "the tally is done: the results are published",
                                 reason="NOT_TALLYING", status=e.status)


def _stored_ballots(uow: ElectionsUnitOfWork, e: StoredElection,
                    chain: BoxChain | None = None) -> Iterator[WeightedBallot]:
    """The accepted ballots in box (tracker) order, decoded one at a time (about 15 KiB each:
    a box of 41,702 is never held whole); `chain` follows them to the box's head."""
    for tracker, weight, content in uow.elections.ballots_in_order(e.election_id):
        raw = _ballot_bytes(content)
        if chain is not None:
            chain.add(tracker, weight, raw)
        yield WeightedBallot(EncryptedBallot.from_bytes(raw), weight)


def _ballot_bytes(content: str) -> bytes:
    return bytes.fromhex(json.loads(content)[ENCRYPTED_BALLOT])


class _StoredStep:
    """A stored mix as the tally reads it: its outputs, packed, read from the database when first
    asked for (the tally asks only the last step's: each step is 24 MiB at the cooperative's
    scale). Its proof was checked on arrival."""

    def __init__(self, uow: ElectionsUnitOfWork, election_id: str, question_id: str, step: int) -> None:
        self._where = (uow, election_id, question_id, step)

    @cached_property
    def outputs(self) -> Sequence[Row]:
        uow, election_id, question_id, step = self._where
        return _outputs(uow.elections.mix(election_id, question_id, step))


def _outputs(row: Any) -> Sequence[Row]:
    return packed_rows(bytes(row.outputs), row.width)


def _published_step(row: Any) -> tuple[str, Iterator[Row], bytes]:
    """A stored step as the record writes it: mixer, outputs, proof."""
    return row.mixer, iter(_outputs(row)), bytes(row.proof)


def _steps_done(uow: ElectionsUnitOfWork, e: StoredElection, question_id: str) -> int:
    return len(uow.elections.mix_steps(e.election_id).get(question_id, ()))


def _state(uow: ElectionsUnitOfWork, e: StoredElection, definition: ElectionDefinition) -> TallyState:
    encryption = encryption_of(e)
    done = uow.elections.mix_steps(e.election_id)
    _, total_weight = uow.elections.ballot_totals(e.election_id)
    mixes = []
    for q in _ranked(definition):
        by = tuple(done.get(q.id, ()))
        mixes.append(QuestionMixes(q.id, by, encryption.mixers[len(by)] if len(by) < len(encryption.mixers) else "",
                                   total_weight))
    decrypted = tuple(uow.elections.decrypted_by(e.election_id))
    missing = tuple(i for i in range(1, len(encryption.trustees) + 1) if i not in decrypted)
    return TallyState(e.election_id, encryption.threshold, tuple(mixes), decrypted, missing)


def tally_state(uow: ElectionsUnitOfWork, caller: Principal, election_id: str) -> TallyState:
    """Any role of the tenant: where the tally stands."""
    with uow:
        uow.read_only()
        e = load(uow, caller, election_id)
        encryption_of(e)
        return _state(uow, e, counting_definition(uow, e))


def _question(definition: ElectionDefinition, question_id: str) -> Question:
    for q in _ranked(definition):
        if q.id == question_id:
            return q
    raise InvalidArgument(f"no ranked question {question_id!r} in this election: only STV and Schulze "
                          "questions are mixed", field="question_id", reason="NOT_A_RANKED_QUESTION")


def _current_rows(uow: ElectionsUnitOfWork, e: StoredElection, definition: ElectionDefinition,
                  question: Question, steps: int) -> Sequence[Row]:
    """What step `steps` shuffles: the last stored step's outputs, or the box's rows."""
    if steps:
        return _outputs(uow.elections.mix(e.election_id, question.id, steps - 1))
    return box_totals(definition, _stored_ballots(uow, e), mix_inputs_of=(question.id,)).mix_inputs(question.id)


def mix_input(uow: ElectionsUnitOfWork, caller: Principal, election_id: str,
              question_id: str) -> tuple[int, str, Sequence[Row]]:
    """(step, who mixes it, the rows to shuffle) of one ranked question."""
    with uow:
        uow.read_only()
        e = load(uow, caller, election_id)
        _tallying(e)
        definition = counting_definition(uow, e)
        question = _question(definition, question_id)
        step = _steps_done(uow, e, question.id)
        rows = _current_rows(uow, e, definition, question, step)
        mixers = encryption_of(e).mixers
        return step, mixers[step] if step < len(mixers) else "", rows


def submit_mix(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, question_id: str, step: int,
               outputs: Iterable[Sequence[bytes]] | Joined, proof: bytes, now: datetime,
               mapper: Mapper = map) -> TallyState:
    """A mixer's shuffle of one question at `step`, its proof checked against the current rows
    (over `mapper`: the api's process pool spreads a 41,702-row check over the cores).
    `outputs`: rows of ciphertext bytes, or rows Joined as the api's stream brought them."""
    caller.require(*MIXERS)
    received = outputs if isinstance(outputs, Joined) else Joined.of_rows(outputs, CIPHERTEXT_BYTES)
    with uow:
        e = load(uow, caller, election_id, lock="update")  # one mix at a time per election
        _tallying(e)
        encryption = encryption_of(e)
        definition = counting_definition(uow, e)
        question = _question(definition, question_id)
        if not 0 <= step < len(encryption.mixers):
            raise InvalidArgument(f"step is 0 to {len(encryption.mixers) - 1}", field="step", reason="STEP_OUT_OF_RANGE")
        if encryption.mixers[step] != caller.subject:
            raise PermissionDenied(f"step {step} is {encryption.mixers[step]!r}'s to shuffle, not yours", field="step",
                                   reason="NOT_THIS_MIXER")
        done = _steps_done(uow, e, question.id)
        blob = received.blob()
        if step < done:
            first = uow.elections.mix(e.election_id, question.id, step)
            if (bytes(first.outputs), bytes(first.proof)) == (blob, proof):
                return _state(uow, e, definition)  # a retry
            raise AlreadyExists(f"step {step} of {question.id!r} is shuffled already", field="step",
                                reason="MIX_SUBMITTED")
        if step != done:
            raise FailedPrecondition(f"step {done} of {question.id!r} comes first", field="step",
                                     reason="MIX_OUT_OF_ORDER", expected=done)
        rows = _current_rows(uow, e, definition, question, step)
        width = len(rows[0]) if rows else 0
        if received.problem is not None and received.problem.kind == SIZE:
            raise InvalidArgument(f"rows: ciphertext {received.problem.position} (row-major) is not "
                                  f"{CIPHERTEXT_BYTES} bytes", field="rows", reason="MALFORMED_CIPHERTEXT",
                                  position=received.problem.position)
        if received.problem is not None or received.rows != len(rows) or received.width not in (width, None):
            raise InvalidArgument(f"a shuffle of {len(rows)} rows of {width} ciphertexts is expected", field="rows",
                                  reason="MIX_SHAPE")
        try:  # every ciphertext decodes; kept as the blob (41,702 decoded rows are about 100 MiB)
            for start in range(0, len(blob), CIPHERTEXT_BYTES):
                Ciphertext.from_bytes(blob[start:start + CIPHERTEXT_BYTES])
        except ValueError as exc:
            raise InvalidArgument(f"rows: {exc}", field="rows", reason="MALFORMED_CIPHERTEXT") from None
        try:
            shuffle_proof = ShuffleProof.from_bytes(proof)
        except ValueError as exc:
            raise InvalidArgument(f"proof: {exc}", field="proof", reason="MALFORMED_PROOF") from None
        submitted = Mix(caller.subject, packed_rows(blob, width), shuffle_proof)
        if not verify_mix(rows, submitted, require_key(e), e.election_id, question.id, step, mapper):
            raise InvalidArgument(f"the proof of shuffle of step {step} of {question.id!r} fails", field="proof",
                                  reason="SHUFFLE_PROOF_FAILED")
        uow.elections.add_mix(e.election_id, question.id, step, caller.subject, width, blob, proof, now)
        state = _state(uow, e, definition)
        uow.commit()
        return state


def _mixes(uow: ElectionsUnitOfWork, e: StoredElection, state: TallyState) -> dict[str, tuple[_StoredStep, ...]]:
    """Every ranked question's stored steps (the state says who shuffled each), none read yet."""
    return {q.question_id: tuple(_StoredStep(uow, e.election_id, q.question_id, step) for step in range(len(q.done_by)))
            for q in state.mixes}


def _require_mixes(state: TallyState) -> TallyState:
    if not state.mixes_complete:
        pending = [q.question_id for q in state.mixes if q.next_mixer]
        raise FailedPrecondition(f"questions {pending} still wait for their mixes", reason="MIXES_INCOMPLETE",
                                 pending=",".join(pending))
    return state


class _CountedBoxes:
    """The totals and chain head of tallying elections' boxes, read once per process. A box no
    longer changes once its election is tallying, and reading it decodes every ballot (6.3 ms
    each: 4.4 minutes of a core at 41,702), which each trustee's two calls and the finish would
    otherwise repeat. A few sums per election: the last KEPT elections are kept."""

    KEPT = 16

    def __init__(self) -> None:
        self._boxes: LastUsed[str, tuple[BoxTotals, str]] = LastUsed(self.KEPT)

    def of(self, uow: ElectionsUnitOfWork, e: StoredElection, definition: ElectionDefinition) -> tuple[BoxTotals, str]:
        kept = self._boxes.get(e.election_id)
        if kept is not None:
            return kept
        chain = BoxChain(e.election_id)  # one pass over the ballots: the totals and the chain's head
        box = box_totals(definition, _stored_ballots(uow, e, chain)), chain.head
        self._boxes.put(e.election_id, box)
        return box


counted_boxes = _CountedBoxes()


def _tally_of(uow: ElectionsUnitOfWork, e: StoredElection, definition: ElectionDefinition, state: TallyState,
              totals: BoxTotals) -> TallyInput:
    """What the trustees decrypt, once every mix is in (the caller checks: _require_mixes); its
    ciphertexts packed, decoded a chunk at a time where they are used (a full tally's decoded
    mixes and shares would not fit the worker's 512 MiB: bench/README.md)."""
    return tally_input(definition, totals, _mixes(uow, e, state))


def _mixed_tally(uow: ElectionsUnitOfWork, e: StoredElection, definition: ElectionDefinition) -> TallyInput:
    """What the trustees decrypt; MIXES_INCOMPLETE until every mix is in."""
    state = _require_mixes(_state(uow, e, definition))
    totals, _ = counted_boxes.of(uow, e, definition)
    return _tally_of(uow, e, definition, state, totals)


def tally_ciphertexts(uow: ElectionsUnitOfWork, caller: Principal, election_id: str) -> Sequence[Ciphertext]:
    """What every trustee decrypts, in the documented order."""
    with uow:
        uow.read_only()
        e = load(uow, caller, election_id)
        _tallying(e)
        return _mixed_tally(uow, e, counting_definition(uow, e)).ciphertexts


def _qualification(uow: ElectionsUnitOfWork, e: StoredElection) -> Qualification:
    encryption = encryption_of(e)
    commitments = [TrusteeCommitment.from_bytes(bytes.fromhex(r.commitment))
                   for r in uow.elections.trustee_keys(e.election_id)]
    return qualify(commitments, Threshold(encryption.threshold, len(encryption.trustees)), e.election_id.encode())


def _packed_shares(blob: bytes) -> Packed[DecryptionShare]:
    """A trustee's shares as stored (48 MiB at the cooperative's scale; 200 MiB decoded)."""
    return Packed(blob, DECRYPTION_SHARE_BYTES, DecryptionShare.from_bytes)


def submit_decryption_shares(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, trustee: int,
                             shares: Iterable[bytes] | Joined, now: datetime, mapper: Mapper = map) -> TallyState:
    """A trustee's shares of every tally ciphertext, each proof checked before any is stored
    (over `mapper`, as submit_mix). `shares`: their bytes, or Joined as the api's stream brought them."""
    caller.require(*TRUSTEES)
    received = shares if isinstance(shares, Joined) else Joined.of(shares, DECRYPTION_SHARE_BYTES)
    with uow:
        e = load(uow, caller, election_id, lock="share")
        _tallying(e)
        require_trustee(caller, e, trustee)
        definition = counting_definition(uow, e)
        blob = received.blob()
        stored = uow.elections.decryption_shares(e.election_id, [trustee])
        if trustee in stored:
            if stored[trustee] == blob:
                return _state(uow, e, definition)  # a retry
            raise AlreadyExists(f"trustee {trustee} has submitted its shares already", field="shares",
                                reason="SHARES_SUBMITTED")
        ciphertexts = _mixed_tally(uow, e, definition).ciphertexts
        if received.problem is not None:
            position = received.problem.position
            raise InvalidArgument(f"share {position}: a decryption share is {DECRYPTION_SHARE_BYTES} bytes",
                                  field="shares", reason="MALFORMED_SHARE", position=position)
        if received.count != len(ciphertexts):
            raise InvalidArgument(f"{len(ciphertexts)} shares expected, one per ciphertext; {received.count} given",
                                  field="shares", reason="SHARE_COUNT")
        # the blob, not 375,321 decoded shares: each chunk is decoded where it is checked
        position = first_bad_share(_packed_shares(blob), ciphertexts, _qualification(uow, e), trustee, mapper)
        if position is not None:
            _reject_share(blob, position)
        uow.elections.add_decryption_shares(e.election_id, trustee, blob, now)
        state = _state(uow, e, definition)
        uow.commit()
        return state


def _reject_share(blob: bytes, position: int) -> None:
    """The refusal of the first bad share: malformed, or its proof fails."""
    try:
        _packed_shares(blob)[position]
    except ValueError as exc:
        raise InvalidArgument(f"share {position}: {exc}", field="shares", reason="MALFORMED_SHARE",
                              position=position) from None
    raise InvalidArgument(f"share {position}: the proof of correct decryption fails", field="shares",
                          reason="DECRYPTION_PROOF_FAILED", position=position)


ENCRYPTED_BOX_FORMAT = "coopgov-encrypted-box/1"


def _box_summary(election_id: str, totals: BoxTotals, head: str) -> dict[str, Any]:
    """GetPublishedBox's box.json for an encrypted election: the ballots themselves (gigabytes at
    the cooperative's size) are in the record's ballots.json, which StreamEncryptedRecord streams;
    this says how many there are and which chain head they must end on."""
    return {"format": ENCRYPTED_BOX_FORMAT, "election_id": election_id, "ballots": totals.ballots,
            "total_weight": totals.total_weight, "head_hash": head,
            "ballots_in": "StreamEncryptedRecord: ballots.json"}


def _results(e: StoredElection, result: Any, head: str, now: datetime) -> dict[str, Any]:
    mandates = {q.question_id: [d.isoformat() for d in mandate_dates(e.spec.window.assembly_day, q.mandate_years)]
                for q in e.spec.questions if q.mandate_years}
    return {"election_id": e.election_id, "head_hash": head, "superseded_count": 0, "published_at": now.isoformat(),
            "mandates": mandates, "count": to_jsonable(result), "encrypted": True}


def finish_tally(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, now: datetime,
                 mapper: Mapper = map) -> dict[str, Any]:
    """Decrypt with the k lowest-numbered trustees' shares, count, publish; idempotent."""
    caller.require(*TIMERS)
    with uow:
        e = load(uow, caller, election_id, lock="update")
        encryption = encryption_of(e)
        if e.status == "closed":
            return json.loads(uow.elections.results(e.election_id).results_json)
        _tallying(e)
        summary = roll_summary_of(uow, e)
        definition = counting_definition(uow, e, summary.total_weight)
        state = _require_mixes(_state(uow, e, definition))
        if len(state.decrypted_by) < state.threshold:
            raise FailedPrecondition(
                f"{state.threshold} trustees must decrypt; {len(state.decrypted_by)} have "
                f"(missing: trustees {list(state.missing_trustees)})", reason="DECRYPTION_INCOMPLETE",
                missing=",".join(map(str, state.missing_trustees)))
        totals, head = counted_boxes.of(uow, e, definition)
        tally = _tally_of(uow, e, definition, state, totals)
        used = state.decrypted_by[:state.threshold]
        shares = {t: _packed_shares(blob) for t, blob in uow.elections.decryption_shares(e.election_id, used).items()}
        # every share's proof was checked when it was submitted
        plaintexts = open_all(tally.ciphertexts, shares, _qualification(uow, e), mapper, checked=True)
        result = count(definition, totals, tally, plaintexts)
        results = _results(e, result, head, now)
        election_doc = encrypted_election_to_json(definition, require_key(e).to_bytes(), encryption.threshold,
                                                  len(encryption.trustees))
        uow.elections.save_results(e.election_id, json.dumps(results, sort_keys=True),
                                   json.dumps(_box_summary(e.election_id, totals, head), sort_keys=True),
                                   json.dumps(election_doc, ensure_ascii=False, sort_keys=True), head, now)
        uow.elections.update_election(e.election_id, status="closed")
        uow.publish(ResultsPublished(e, results))
        uow.commit()
        return results


@contextmanager
def published_record(uow: ElectionsUnitOfWork, caller: Principal, election_id: str) -> Iterator[RecordSource]:
    """Everything the audit checks, with the trustees' transport keys (their public files carry
    them), after the tally is published. The ballots, mixes and shares are read from the
    database while the record is written, a page or one stored blob at a time: the record of
    41,702 voters is gigabytes, and the caller holds the transaction open meanwhile."""
    with uow:
        uow.read_only()
        e = load(uow, caller, election_id)
        encryption = encryption_of(e)
        if e.status != "closed":
            raise FailedPrecondition("the record is published with the results", reason="TALLY_PENDING")
        eid = e.election_id
        summary = roll_summary_of(uow, e)
        definition = counting_definition(uow, e, summary.total_weight)
        keys = uow.elections.trustee_keys(eid)
        published = uow.elections.results(eid)

        def mixes() -> MixesSource:
            done = uow.elections.mix_steps(eid)
            return ((q.id, (_published_step(uow.elections.mix(eid, q.id, step))
                            for step in range(len(done.get(q.id, ()))))) for q in _ranked(definition))

        def shares(trustee: int) -> Iterator[DecryptionShare]:
            return iter(_packed_shares(uow.elections.decryption_shares(eid, [trustee])[trustee]))

        yield RecordSource(
            definition, Threshold(encryption.threshold, len(encryption.trustees)),
            require_key(e), tuple(TrusteeCommitment.from_bytes(bytes.fromhex(r.commitment)) for r in keys),
            {r.trustee: bytes.fromhex(r.transport_key) for r in keys}, json.loads(published.results_json)["count"],
            published.head_hash,
            lambda: ((t, w, json.loads(content)[ENCRYPTED_BALLOT]) for t, w, content in uow.elections.ballots_in_order(eid)),
            mixes, {t: (lambda t=t: shares(t)) for t in uow.elections.decrypted_by(eid)})
