"""The independent check of an encrypted election: from its published record alone.

Anyone (a member, a partner, a court's expert) recomputes every step and names each element that
does not hold, rather than stopping at the first: the key from the trustees' commitments, every
ballot's proofs, every shuffle in the chain, every decryption share, and the count itself. The
record holds no secret; the same code serves the service's own self-check before it publishes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..canonical import to_jsonable
from ..counting import ElectionResult
from ..model import RANKED_METHODS, ElectionDefinition
from .ballots import verify_ballot
from .elgamal import Ciphertext
from .group import Element
from .tally import (
    MIN_MIXES,
    Mapper,
    Mix,
    WeightedBallot,
    count,
    mix_inputs,
    open_all,
    portable,
    rebuilt,
    tally_input,
    verify_mix,
)
from .trustees import (
    DecryptionShare,
    NotEnoughDecryptionShares,
    Qualification,
    Threshold,
    TrusteeCommitment,
    qualify,
    verify_decryption_share,
)

# What a finding is about: one per kind of published element.
KEY, BALLOT, MIX, DECRYPTION, RESULT = "key", "ballot", "mix", "decryption", "result"


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


def _first_bad_share(shares: Sequence[DecryptionShare], ciphertexts: Sequence[Ciphertext],
                     qualification: tuple, trustee: int, offset: int) -> int | None:
    """The index of the first of these shares of `trustee` that fails, or None if all hold."""
    q = rebuilt(qualification)
    for i, (share, ct) in enumerate(zip(shares, ciphertexts, strict=True)):
        if share.trustee != trustee or not verify_decryption_share(share, ct, q):
            return offset + i
    return None


def _check_trustee(shares: Sequence[DecryptionShare], ciphertexts: Sequence[Ciphertext],
                   qualification: Qualification, trustee: int, mapper: Mapper,
                   chunk: int = 2_000) -> int | None:
    starts = range(0, len(ciphertexts), chunk)
    bad = mapper(_first_bad_share, [shares[i:i + chunk] for i in starts],
                 [ciphertexts[i:i + chunk] for i in starts], [portable(qualification)] * len(starts),
                 [trustee] * len(starts), list(starts))
    return next((i for i in bad if i is not None), None)


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

    tally = tally_input(definition, record.ballots, record.mixes)
    ciphertexts = tally.ciphertexts
    valid: dict[int, tuple[DecryptionShare, ...]] = {}
    for trustee, shares in sorted(record.decryptions.items()):
        if len(shares) != len(ciphertexts):
            findings.append(Finding(DECRYPTION, f"trustee {trustee}",
                                    f"{len(shares)} shares for {len(ciphertexts)} ciphertexts"))
            continue
        bad = _check_trustee(shares, ciphertexts, qualification, trustee, mapper)
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
        recount = count(definition, record.ballots, tally, plaintexts)
    except ValueError as exc:
        return [*findings, Finding(RESULT, "recount", str(exc))]
    published = record.result if isinstance(record.result, Mapping) else to_jsonable(record.result)
    if to_jsonable(recount) != published:
        findings.append(Finding(RESULT, "published result", "the recount from the decrypted tally "
                                                            "differs from the published result"))
    return findings
