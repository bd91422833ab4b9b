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

from ..ballot_box import chain_head, receipt_hash

#: the key of the stored content
STORED_KEY = "encrypted_ballot"


def stored_content(ballot_bytes: bytes) -> dict[str, str]:
    return {STORED_KEY: ballot_bytes.hex()}


def _content_key(ballot_bytes: bytes) -> bytes:
    """canonical_json(stored_content(b)), without building the 73 kB string twice."""
    return b'{"' + STORED_KEY.encode() + b'":"' + ballot_bytes.hex().encode() + b'"}'


def box_head(election_id: str, entries: Iterable[tuple[str, int, bytes]]) -> str:
    """The head over ``(tracker, weight, ballot bytes)`` entries given in tracker order, one at a
    time (a box of 41,702 ballots is gigabytes)."""
    return chain_head(election_id, ((tracker, weight, _content_key(raw)) for tracker, weight, raw in entries))


def receipt_of(election_id: str, tracker: str, ballot_bytes: bytes) -> str:
    """The receipt's ``ballot_hash`` of this ballot cast under this tracker."""
    return receipt_hash(election_id, tracker, None, stored_content(ballot_bytes))
