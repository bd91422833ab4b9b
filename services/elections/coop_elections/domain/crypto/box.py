"""The box of an encrypted election: every accepted ballot under its tracker, chained like a
plaintext box (:mod:`..ballot_box`), so that a voter's receipt and the box's head are checked
the same way in both modes.

* **Content.** What the service stores and chains for a ballot: ``{"encrypted_ballot": hex}``,
  the hex of the ballot's canonical bytes; its canonical JSON is the entry's content.
* **Receipt.** The ``ballot_hash`` a voter gets at cast time: the entry hash of their ballot
  alone over the genesis, without weight (:func:`..ballot_box.receipt_hash`).
* **Head.** The chain over the ballots in tracker order, each entry with its ballot's weight
  (the record publishes weights per ballot; the mixes hide which ranking a weight went with).
  It is published as the results' ``head_hash`` and in ballots.json.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..ballot_box import entry_hash_of_key, genesis_hash, receipt_hash

#: the key of the stored content
STORED_KEY = "encrypted_ballot"


def stored_content(ballot_bytes: bytes) -> dict[str, str]:
    return {STORED_KEY: ballot_bytes.hex()}


def _content_key(ballot_bytes: bytes) -> bytes:
    """canonical_json(stored_content(b)), without building the string twice."""
    return b'{"' + STORED_KEY.encode() + b'":"' + ballot_bytes.hex().encode() + b'"}'


class BoxChain:
    """The head, one ballot at a time, in tracker order (a box of 41,702 ballots is gigabytes):
    what a caller that reads the ballots for something else computes on the way."""

    def __init__(self, election_id: str) -> None:
        self.head = genesis_hash(election_id)

    def add(self, tracker: str, weight: int, ballot_bytes: bytes) -> None:
        self.head = entry_hash_of_key(tracker, weight, _content_key(ballot_bytes), self.head)


def box_head(election_id: str, entries: Iterable[tuple[str, int, bytes]]) -> str:
    """The head over ``(tracker, weight, ballot bytes)`` entries given in tracker order."""
    chain = BoxChain(election_id)
    for tracker, weight, raw in entries:
        chain.add(tracker, weight, raw)
    return chain.head


def receipt_of(election_id: str, tracker: str, ballot_bytes: bytes) -> str:
    """The receipt's ``ballot_hash`` of this ballot cast under this tracker."""
    return receipt_hash(election_id, tracker, None, stored_content(ballot_bytes))
