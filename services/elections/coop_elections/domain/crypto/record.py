"""The published record of an encrypted election as its files are written from it: the small
parts as they are, the big ones read a piece at a time when written (see RecordSource). The
files themselves are coop_elections.adapters.encrypted_record's business."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..canonical import to_jsonable
from ..model import ElectionDefinition
from .audit import EncryptedElectionRecord
from .group import Element
from .tally import Row
from .trustees import DecryptionShare, Threshold, TrusteeCommitment

#: (question id, its shuffles in order: (mixer, output rows, the proof's canonical bytes))
MixesSource = Iterable[tuple[str, Iterable[tuple[str, Iterable[Row], bytes]]]]


@dataclass(frozen=True)
class RecordSource:
    """What the record's files are written from. The big parts are read when written, a piece at
    a time: the service streams them from its database (41,702 ballots are 3 GB of hex, each mix
    and each trustee's shares tens of megabytes), a test from an EncryptedElectionRecord."""

    definition: ElectionDefinition
    threshold: Threshold
    public_key: Element
    commitments: tuple[TrusteeCommitment, ...]
    transport_keys: Mapping[int, bytes]
    result: Mapping[str, Any]
    head_hash: str
    ballots: Callable[[], Iterable[tuple[str, int, str]]]  # (tracker, weight, ballot hex), tracker order
    mixes: Callable[[], MixesSource]
    decryptions: Mapping[int, Callable[[], Iterable[DecryptionShare]]]  # trustee -> shares, tally order


def source_of(record: EncryptedElectionRecord, transport_keys: Mapping[int, bytes]) -> RecordSource:
    """The source of a record held in memory."""
    return RecordSource(
        record.definition, record.threshold, record.public_key, record.commitments, transport_keys,
        record.result if isinstance(record.result, Mapping) else to_jsonable(record.result), record.head_hash,
        lambda: ((t, b.weight, b.ballot.to_bytes().hex()) for t, b in zip(record.trackers, record.ballots, strict=True)),
        lambda: ((qid, ((m.mixer, m.outputs, m.proof.to_bytes()) for m in steps)) for qid, steps in record.mixes.items()),
        {t: (lambda shares=shares: shares) for t, shares in record.decryptions.items()})
