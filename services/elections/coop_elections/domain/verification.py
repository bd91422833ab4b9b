"""What the independent verifier checks besides the hash chain: that the published documents
agree with each other, with the commitments made before voting and with a voter's receipt.

A chain that verifies proves only that nobody changed the box *after* its head was computed.
An operator who changes ballots, stuffs the box or swaps the tie-break seed can rebuild the
chain and the results so that they agree again. What such a rebuild cannot fix:

* a voter's receipt (tracker and ``ballot_hash``, given at cast time): the ballot behind the
  tracker must still hash to the receipt's value (:func:`check_receipt`);
* the roll's size and total weight (published with the roll's SHA-256 when it froze, before
  voting): there can be no more ballots, and no more weight, than the roll has voters and
  weight; the count must use the roll's total for fractional quorums (:func:`check_roll`);
* the tie-break seed's SHA-256, shown from the creation of the election on
  (:func:`check_seed`);
* the results must be the recount of the box, always (:func:`compare_results`).

Each check raises :class:`PublicationMismatch` with a message that names what disagrees.
Pure stdlib, like the rest of the domain: a partner runs the verifier alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coop_domain.errors import InvalidArgument

from .ballot_box import BoxEntry, PublishedBox, counted_weight, find_tracker, receipt_hashes
from .canonical import sha256_hex
from .model import ElectionDefinition

HEX64 = re.compile(r"^[0-9a-f]{64}$")


class PublicationMismatch(InvalidArgument):
    """The published documents disagree with each other, a commitment or a receipt."""


def seed_commitment(seed: str) -> str:
    """SHA-256 of the tie-break seed: shown from the creation of an election on, before any
    ballot; the seed itself is published only with the results."""
    return sha256_hex(seed.encode())


def _hex64(value: Any, what: str) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if not HEX64.match(text):
        raise PublicationMismatch(f"{what} must be 64 hexadecimal characters")
    return text


def _count(data: Mapping[str, Any], key: str, *, required: bool = True) -> int | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PublicationMismatch(f"roll {key} must be a non-negative integer")
    return value


@dataclass(frozen=True)
class RollCommitment:
    """The frozen roll as published: size, total weight, SHA-256, and (from format 2 on) the
    smallest and largest weight on it."""

    size: int
    total_weight: int
    sha256: str
    min_weight: int | None = None
    max_weight: int | None = None

    @classmethod
    def from_election_json(cls, doc: Mapping[str, Any]) -> RollCommitment:
        roll = doc.get("roll")
        if not isinstance(roll, Mapping):
            raise PublicationMismatch("election.json has no roll block (size, total_weight, sha256)")
        return cls(
            size=_count(roll, "size"),  # type: ignore[arg-type]
            total_weight=_count(roll, "total_weight"),  # type: ignore[arg-type]
            sha256=_hex64(roll.get("sha256"), "roll sha256"),
            min_weight=_count(roll, "min_weight", required=False),
            max_weight=_count(roll, "max_weight", required=False),
        )


def check_seed(definition: ElectionDefinition, published_commitment: str = "",
               recorded_commitment: str = "") -> str:
    """The seed must hash to its commitment: the one inside election.json and, when given, the
    one a voter or observer recorded before voting (GetElection, election.opened). Returns
    which commitment(s) it was checked against."""
    actual = seed_commitment(definition.tie_break_seed)
    checked = []
    for value, what in ((published_commitment, "election.json's tie_break_seed_sha256"),
                        (recorded_commitment, "the commitment recorded before voting")):
        if not value:
            continue
        if actual != _hex64(value, what):
            raise PublicationMismatch(f"the tie-break seed does not match {what}")
        checked.append(what)
    if not checked:
        raise PublicationMismatch("no commitment to check the tie-break seed against: election.json has no "
                                  "tie_break_seed_sha256; give the one shown before voting (--seed-sha256)")
    return " and ".join(checked)


def check_roll(box: PublishedBox, definition: ElectionDefinition, roll: RollCommitment,
               recorded_sha256: str = "") -> None:
    """Ballots, weights and the roll agree: no more ballots than voters on the roll, no more
    weight than the roll's total, every weight within the roll's range, and the count's roll
    weight (fractional quorums) is the roll's total."""
    if recorded_sha256 and _hex64(recorded_sha256, "the recorded roll sha256") != roll.sha256:
        raise PublicationMismatch("the roll's SHA-256 in election.json is not the one recorded before voting")
    if roll.total_weight < roll.size:
        raise PublicationMismatch(f"the roll's total weight {roll.total_weight} is below its size {roll.size}: "
                                  "every weight is at least 1")
    low, high = roll.min_weight, roll.max_weight
    if low is not None and high is not None and roll.size and (
            not 1 <= low <= high or not roll.size * low <= roll.total_weight <= roll.size * high):
        raise PublicationMismatch("the roll's weights (smallest, largest) do not fit its size and total")
    if definition.roll_weight != max(roll.total_weight, 1):
        raise PublicationMismatch(f"the count used a roll weight of {definition.roll_weight}, "
                                  f"the roll's total is {roll.total_weight}")
    if len(box.entries) > roll.size:
        raise PublicationMismatch(f"{len(box.entries)} ballots counted, the roll has {roll.size} voters")
    weight = counted_weight(box)
    if weight > roll.total_weight:
        raise PublicationMismatch(f"ballots weigh {weight} in total, the roll {roll.total_weight}")
    low, high = low or 1, high or weight
    if box.weight_classes is None:
        for i, entry in enumerate(box.entries):
            if not low <= (entry.weight or 0) <= high:
                raise PublicationMismatch(f"entry {i} ({entry.tracker}): weight {entry.weight} is not on the roll")
    for i, c in enumerate(box.weight_classes or ()):
        if not c.ballots * low <= c.weight <= c.ballots * high:
            raise PublicationMismatch(f"weight class {i}: {c.ballots} ballots cannot weigh {c.weight} "
                                      f"on a roll of weights {low} to {high}")


def check_receipt(box: PublishedBox, tracker: str, ballot_hash: str,
                  roll: RollCommitment | None = None) -> BoxEntry:
    """The voter's receipt against the box: the tracker is there and its ballot still hashes to
    the ``ballot_hash`` the voter was given when casting. Returns the entry (its content is
    what the voter should recognise)."""
    entry = find_tracker(box, tracker)
    given = _hex64(ballot_hash, "the receipt's ballot hash")
    if given not in receipt_hashes(box, entry, roll.min_weight if roll and roll.min_weight == roll.max_weight
                                   else None):
        raise PublicationMismatch(f"tracker {entry.tracker} is in the box, but its ballot is not the one "
                                  "your receipt's ballot hash commits to")
    return entry


def compare_results(published: Any, recount_json: Mapping[str, Any], box: PublishedBox) -> None:
    """The published results are the recount of this box, nothing else."""
    if not isinstance(published, Mapping):
        raise PublicationMismatch("results.json must hold a JSON object")
    differences = [name for name, theirs, ours in (
        ("election id", published.get("election_id"), box.election_id),
        ("head hash", published.get("head_hash"), box.head_hash),
        ("superseded count", published.get("superseded_count"), box.superseded_count),
        ("count", published.get("count"), recount_json),
    ) if theirs != ours]
    if differences:
        raise PublicationMismatch("the published results differ from the recount of the box: "
                                  + ", ".join(differences))


__all__ = ["PublicationMismatch", "RollCommitment", "check_receipt", "check_roll", "check_seed",
           "compare_results", "seed_commitment"]
