"""The independent check of an encrypted election: from its published record alone.

Anyone (a member, a partner, a court's expert) recomputes every step and names each element that
does not hold, rather than stopping at the first: the key from the trustees' commitments, the
box's hash chain (trackers in order, the head), every ballot's proofs, every shuffle in the
chain, every decryption share, and the count itself; and a voter checks their receipt. The
record holds no secret; the same code serves the service's own self-check before it publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coop_domain.errors import DomainError

from ..canonical import to_jsonable
from ..counting import ElectionResult
from ..model import RANKED_METHODS, ElectionDefinition
from ..trackers import normalise_tracker
from .ballots import verify_ballot
from .box import box_head, receipt_of
from .group import Element
from .tally import (
    MIN_MIXES,
    Mapper,
    Mix,
    WeightedBallot,
    box_totals,
    count,
    first_bad_share,
    mix_inputs,
    open_all,
    tally_input,
    verify_mix,
)
from .trustees import (
    DecryptionShare,
    NotEnoughDecryptionShares,
    Threshold,
    TrusteeCommitment,
    qualify,
)

# What a finding is about: one per kind of published element.
KEY, BOX, BALLOT, MIX, DECRYPTION, RESULT = "key", "box", "ballot", "mix", "decryption", "result"
RECEIPT = "receipt"  # a voter's receipt against the record (check_receipt)


@dataclass(frozen=True)
class EncryptedElectionRecord:
    """Everything an encrypted election publishes: no secret in it, all of it checkable."""

    definition: ElectionDefinition
    threshold: Threshold
    commitments: tuple[TrusteeCommitment, ...]
    public_key: Element  # the key the voters' clients encrypted under
    ballots: tuple[WeightedBallot, ...]  # accepted ballots, in box order
    mixes: Mapping[str, tuple[Mix, ...]]  # ranked question id -> the shuffles, in order
    decryptions: Mapping[int, tuple[DecryptionShare, ...]]  # trustee -> shares, tally order
    result: ElectionResult | Mapping[str, Any]  # the result, or its published JSON
    trackers: tuple[str, ...]  # each ballot's tracker: box order is tracker order
    head_hash: str  # the box's chain head, as published with the results (box.py)


@dataclass(frozen=True)
class Finding:
    """One published element that does not hold: what kind, which one, and why."""

    element: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.element} ({self.where}): {self.message}"


def _ballot_failures(record_definition: ElectionDefinition, public_key: Element,
                     ballot: WeightedBallot) -> list[str]:
    return [str(f) for f in verify_ballot(record_definition, public_key, ballot.ballot)]


def _check_box(record: EncryptedElectionRecord) -> list[Finding]:
    """The trackers (well formed, strictly increasing: the publication order, so no ballot
    twice) and the head recomputed over the ballots and their weights."""
    if len(record.trackers) != len(record.ballots):
        return [Finding(BOX, "trackers", f"{len(record.trackers)} trackers for {len(record.ballots)} ballots")]
    findings, previous = [], ""
    for n, tracker in enumerate(record.trackers):
        try:
            well_formed = normalise_tracker(tracker) == tracker
        except DomainError:
            well_formed = False
        if not well_formed:
            findings.append(Finding(BOX, f"ballot {n}", f"{tracker!r} is not a tracker"))
        elif tracker <= previous:
            findings.append(Finding(BOX, f"ballot {n}", f"tracker {tracker} out of order or repeated"))
        previous = max(previous, tracker)
    head = box_head(record.definition.id, ((t, b.weight, b.ballot.to_bytes())
                                           for t, b in zip(record.trackers, record.ballots, strict=True)))
    if head != record.head_hash:
        findings.append(Finding(BOX, "head", "the chain over the ballots, their trackers and weights does not "
                                             "end in the published head"))
    return findings


def check_receipt(record: EncryptedElectionRecord, tracker: str, ballot_hash: str) -> str | None:
    """What is wrong with a voter's receipt against the record, or None when their ballot is in
    the box under its tracker and still hashes to the receipt."""
    try:
        tracker = normalise_tracker(tracker)
    except DomainError as exc:
        return str(exc)
    if tracker not in record.trackers:
        return f"no ballot under tracker {tracker} in the published box"
    ballot = record.ballots[record.trackers.index(tracker)]
    if receipt_of(record.definition.id, tracker, ballot.ballot.to_bytes()) != ballot_hash.strip().lower():
        return f"the ballot under tracker {tracker} does not hash to the receipt's ballot hash"
    return None


def audit(record: EncryptedElectionRecord, mapper: Mapper = map,
          min_mixes: int = MIN_MIXES) -> list[Finding]:
    """Every element of the record that fails, named; an empty list means the election holds."""
    findings: list[Finding] = []
    definition = record.definition
    eid = definition.id
    qualification = qualify(record.commitments, record.threshold, eid.encode())
    for trustee, why in qualification.disqualified.items():
        findings.append(Finding(KEY, f"trustee {trustee}", why))
    try:
        key = qualification.public_key
    except ValueError as exc:
        return [*findings, Finding(KEY, "election key", str(exc))]
    if key != record.public_key:
        findings.append(Finding(KEY, "election key", "the ballots' key is not the one the trustees' "
                                                     "commitments give"))

    findings += _check_box(record)
    seen: dict[str, int] = {}
    for n, ballot in enumerate(record.ballots):
        digest = ballot.ballot.hash()
        if digest in seen:
            findings.append(Finding(BALLOT, f"ballot {n}", f"a copy of ballot {seen[digest]}"))
        seen.setdefault(digest, n)
    failures = mapper(_ballot_failures, [definition] * len(record.ballots),
                      [record.public_key] * len(record.ballots), record.ballots)
    for n, failed in enumerate(failures):
        for message in failed:
            findings.append(Finding(BALLOT, f"ballot {n}", message))

    for question in definition.questions:
        if question.method not in RANKED_METHODS:
            continue
        steps = record.mixes.get(question.id, ())
        if len(steps) < min_mixes:
            findings.append(Finding(MIX, f"question {question.id!r}",
                                    f"{len(steps)} shuffles, at least {min_mixes} required"))
        mixers = [m.mixer for m in steps]
        if len(set(mixers)) != len(mixers):
            findings.append(Finding(MIX, f"question {question.id!r}",
                                    f"a mixer shuffled twice: {mixers}"))
        rows = mix_inputs(question, record.ballots, mapper)
        for step, step_mix in enumerate(steps):
            if not verify_mix(rows, step_mix, record.public_key, eid, question.id, step):
                findings.append(Finding(MIX, f"question {question.id!r}, shuffle {step} "
                                             f"by {step_mix.mixer!r}", "the proof of shuffle fails"))
            rows = step_mix.outputs
    if findings:
        return findings  # decrypting what does not hold would only add noise

    totals = box_totals(definition, record.ballots)
    tally = tally_input(definition, totals, record.mixes)
    ciphertexts = tally.ciphertexts
    valid: dict[int, tuple[DecryptionShare, ...]] = {}
    for trustee, shares in sorted(record.decryptions.items()):
        if len(shares) != len(ciphertexts):
            findings.append(Finding(DECRYPTION, f"trustee {trustee}",
                                    f"{len(shares)} shares for {len(ciphertexts)} ciphertexts"))
            continue
        bad = first_bad_share(shares, ciphertexts, qualification, trustee, mapper)
        if bad is None:
            valid[trustee] = shares
        else:
            findings.append(Finding(DECRYPTION, f"trustee {trustee}, ciphertext {bad}",
                                    "the proof of correct decryption fails"))
    try:
        plaintexts = open_all(ciphertexts, valid, qualification, mapper, checked=True)  # checked above
    except NotEnoughDecryptionShares as exc:
        return [*findings, Finding(DECRYPTION, "tally", str(exc))]
    try:
        recount = count(definition, totals, tally, plaintexts)
    except ValueError as exc:
        return [*findings, Finding(RESULT, "recount", str(exc))]
    published = record.result if isinstance(record.result, Mapping) else to_jsonable(record.result)
    if to_jsonable(recount) != published:
        findings.append(Finding(RESULT, "published result", "the recount from the decrypted tally "
                                                            "differs from the published result"))
    return findings
