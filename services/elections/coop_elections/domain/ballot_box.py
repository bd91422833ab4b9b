"""Verifiable ballot box: a SHA-256 hash chain of anonymous ballots.

Entry hash = SHA-256 over the canonical JSON (:mod:`.canonical`) of
``{"content", "prev", "tracker", "weight"}``; the first entry's ``prev`` is a
genesis hash bound to the election id (so a box cannot be passed off as
another election's); the head hash is the last entry's hash. Changing,
reordering, inserting or dropping any entry changes the head or breaks a link.

Each ballot gets a *tracker*: 60 random bits written as 12 RFC 4648 base32
characters in groups of four (``K7QF-2MXA-P4ZD``), short enough to read out
and compare by eye, long enough that guessing a live tracker is hopeless.
The voter keeps it to find their ballot in the published box.

Secrecy argument (why no voter id is ever published, re-voting included):

1. Entries never contain a voter id. The only link voter -> ballot is the
   live box's private ``voter key -> current tracker`` map, needed solely to
   enforce "last vote counts". It lives in memory / its own table, is never
   hashed or published, and :meth:`BallotBox.publish` discards it.
2. The live box chains ballots in cast order (a running head hash that can be
   announced during voting as a commitment). That order is *not* published,
   because cast order joined with anyone's knowledge of when a member voted
   would identify ballots.
3. The published box holds only the counted ballots, sorted by tracker
   (random, so the order carries no information) and re-chained, plus the
   *number* of superseded ballots. Which trackers were superseded, and by
   which, is not published: a "superseded by" link would tell the world that
   two ballots came from one voter. A voter who re-voted can still check the
   box: their latest tracker is present and their older ones are absent.
4. Weights are published (recount needs them). Where weights differ between
   voters (partner cooperatives), a rare weight narrows the set a ballot could
   come from; such partners should use few weight classes. Tracker randomness
   comes from :mod:`secrets`.

Limits, stated plainly: the server sees voter and ballot together at cast
time (trust in the operator, as in any non-cryptographic e-voting), and a
tracker is a receipt: a voter can show it to a coercer. Re-voting lets the
voter change the counted ballot, but a coercer holding the old tracker will
see it missing from the published box; this design gives secrecy towards
the public, not full coercion resistance.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .canonical import canonical_json, sha256_hex
from .counting import ElectionResult, count_election
from .errors import ChainBroken, FailedPrecondition, InvalidArgument, NotFound
from .model import CastBallot, ElectionDefinition
from .validation import validate_ballot, validate_weight

TRACKER_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
TRACKER_CHARS = 12
_CONFUSABLE = str.maketrans({"0": "O", "1": "I", "8": "B"})

RandBits = Callable[[int], int]


def new_tracker(randbits: RandBits = secrets.randbits) -> str:
    """A fresh random tracker, grouped ``XXXX-XXXX-XXXX``."""
    value = randbits(5 * TRACKER_CHARS)
    chars = [TRACKER_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(TRACKER_CHARS))]
    raw = "".join(chars)
    return "-".join(raw[i : i + 4] for i in range(0, TRACKER_CHARS, 4))


def normalise_tracker(text: str) -> str:
    """Canonical grouped form of a tracker typed by a human (case, spaces, 0/O, 1/I, 8/B)."""
    if not isinstance(text, str):
        raise InvalidArgument("a tracker is a string")
    raw = "".join(ch for ch in text.upper() if ch not in " -").translate(_CONFUSABLE)
    if len(raw) != TRACKER_CHARS or any(ch not in TRACKER_ALPHABET for ch in raw):
        raise InvalidArgument("a tracker is 12 characters from A-Z and 2-7, e.g. K7QF-2MXA-P4ZD")
    return "-".join(raw[i : i + 4] for i in range(0, TRACKER_CHARS, 4))


def genesis_hash(election_id: str) -> str:
    """The ``prev`` of the first entry: binds the chain to one election."""
    return sha256_hex(canonical_json({"coopgov-ballot-box": 1, "election": election_id}))


def entry_hash(tracker: str, weight: int, content: Mapping[str, Any], prev_hash: str) -> str:
    """Hash of one entry over its canonical form."""
    return sha256_hex(
        canonical_json(
            {"content": content, "prev": prev_hash, "tracker": tracker, "weight": weight}
        )
    )


def receipt_hash(election_id: str, tracker: str, weight: int, content: Mapping[str, Any]) -> str:
    """The ``ballot_hash`` of a voter's receipt: the hash of that ballot alone, chained to the
    genesis (not to the previous cast, which would record the cast order)."""
    return entry_hash(tracker, weight, content, genesis_hash(election_id))


@dataclass(frozen=True)
class BoxEntry:
    """One link of the chain."""

    tracker: str
    weight: int
    content: Mapping[str, Any]
    prev_hash: str
    entry_hash: str

    __hash__ = None  # type: ignore[assignment]  # content is a dict

    def to_json(self) -> dict[str, Any]:
        """Published JSON form."""
        return {
            "tracker": self.tracker,
            "weight": self.weight,
            "content": self.content,
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BoxEntry:
        """Parse a published entry (shape only; :func:`verify_box` checks the rest)."""
        try:
            return cls(
                tracker=data["tracker"],
                weight=data["weight"],
                content=data["content"],
                prev_hash=data["prev_hash"],
                entry_hash=data["entry_hash"],
            )
        except (KeyError, TypeError) as exc:
            raise InvalidArgument(f"malformed box entry: {exc}") from exc


def build_chain(
    election_id: str, items: Iterable[tuple[str, int, Mapping[str, Any]]]
) -> tuple[tuple[BoxEntry, ...], str]:
    """Chain ``(tracker, weight, content)`` items in the given order; return entries and head."""
    prev = genesis_hash(election_id)
    entries: list[BoxEntry] = []
    for tracker, weight, content in items:
        h = entry_hash(tracker, weight, content, prev)
        entries.append(BoxEntry(tracker, weight, content, prev, h))
        prev = h
    return tuple(entries), prev


@dataclass(frozen=True)
class PublishedBox:
    """What is published at close: counted ballots (sorted by tracker), head, superseded count."""

    election_id: str
    entries: tuple[BoxEntry, ...]
    head_hash: str
    superseded_count: int

    def to_json(self) -> dict[str, Any]:
        """Published JSON document."""
        return {
            "election_id": self.election_id,
            "head_hash": self.head_hash,
            "superseded_count": self.superseded_count,
            "entries": [e.to_json() for e in self.entries],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PublishedBox:
        """Parse a published document (verify it with :func:`verify_box`)."""
        try:
            return cls(
                election_id=data["election_id"],
                entries=tuple(BoxEntry.from_json(e) for e in data["entries"]),
                head_hash=data["head_hash"],
                superseded_count=data["superseded_count"],
            )
        except (KeyError, TypeError) as exc:
            raise InvalidArgument(f"malformed published box: {exc}") from exc


def publish_box(election_id: str, items: Iterable[tuple[str, int, Mapping[str, Any]]],
                superseded_count: int) -> PublishedBox:
    """The published box over the counted ``(tracker, weight, content)`` ballots: sorted by
    tracker (random, so the order says nothing about when or by whom) and chained in that order."""
    entries, head = build_chain(election_id, sorted(items, key=lambda item: item[0]))
    return PublishedBox(election_id, entries, head, superseded_count)


def verify_box(box: PublishedBox) -> None:
    """Check a published box end to end; raise :class:`ChainBroken` at the first fault.

    Checks: tracker format, strictly increasing tracker order (the publication
    order, so duplicates are caught too), weights, every link and every hash,
    and the head.
    """
    if isinstance(box.superseded_count, bool) or not isinstance(box.superseded_count, int):
        raise ChainBroken("superseded count must be an integer")
    if box.superseded_count < 0:
        raise ChainBroken("superseded count must not be negative")
    prev = genesis_hash(box.election_id)
    last_tracker = ""
    for i, e in enumerate(box.entries):
        try:
            tracker = normalise_tracker(e.tracker)
            validate_weight(e.weight)
        except InvalidArgument as exc:
            raise ChainBroken(f"entry {i}: {exc}", i) from exc
        if tracker != e.tracker:
            raise ChainBroken(f"entry {i}: tracker not in canonical form", i)
        if tracker <= last_tracker:
            raise ChainBroken(f"entry {i}: trackers out of order or duplicated", i)
        last_tracker = tracker
        if e.prev_hash != prev:
            raise ChainBroken(f"entry {i}: previous hash does not match the chain", i)
        try:
            recomputed = entry_hash(e.tracker, e.weight, e.content, e.prev_hash)
        except (TypeError, ValueError) as exc:
            raise ChainBroken(f"entry {i}: content is not canonical JSON data", i) from exc
        if recomputed != e.entry_hash:
            raise ChainBroken(f"entry {i}: entry hash does not match its content", i)
        prev = e.entry_hash
    if box.head_hash != prev:
        raise ChainBroken("head hash does not match the last entry")


def find_tracker(box: PublishedBox, tracker: str) -> BoxEntry:
    """The entry with this tracker (binary search: entries are sorted by tracker)."""
    wanted = normalise_tracker(tracker)
    lo, hi = 0, len(box.entries)
    while lo < hi:
        mid = (lo + hi) // 2
        if box.entries[mid].tracker < wanted:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(box.entries) and box.entries[lo].tracker == wanted:
        return box.entries[lo]
    raise NotFound(f"tracker {wanted} is not in the published box")


def receipt_hashes(box: PublishedBox, entry: BoxEntry, roll_weight: int | None = None) -> set[str]:
    """The receipt hashes that the ballot of ``entry`` may have been given at cast time."""
    return {receipt_hash(box.election_id, entry.tracker, entry.weight, entry.content)}


def recount(box: PublishedBox, definition: ElectionDefinition) -> ElectionResult:
    """Recompute the results from the published box and definition alone."""
    if box.election_id != definition.id:
        raise InvalidArgument(
            f"box is for election {box.election_id!r}, definition for {definition.id!r}"
        )
    verify_box(box)
    ballots = []
    for i, e in enumerate(box.entries):
        try:
            content = validate_ballot(definition, e.content)
        except InvalidArgument as exc:
            raise InvalidArgument(f"published entry {i} ({e.tracker}): {exc}") from exc
        ballots.append(CastBallot(content, e.weight))
    return count_election(definition, ballots)


@dataclass(frozen=True)
class Receipt:
    """Given to the voter after casting: the tracker, and the live head it extended."""

    tracker: str
    entry_hash: str
    superseded_previous: bool


class BallotBox:
    """The live box during voting (cast-order chain, last vote counts).

    ``voter_key`` is an opaque per-voter key chosen by the caller (e.g. an
    HMAC of the member id); a proxy ballot is cast under the *giver's* key so
    that the giver voting later supersedes it.
    """

    def __init__(self, definition: ElectionDefinition, randbits: RandBits = secrets.randbits):
        self.definition = definition
        self._randbits = randbits
        self._entries: list[BoxEntry] = []
        self._head = genesis_hash(definition.id)
        self._current: dict[str, str] = {}  # voter key -> current tracker (private)
        self._superseded: set[str] = set()
        self._used: set[str] = set()
        self.closed = False

    @property
    def head_hash(self) -> str:
        """Running head of the cast-order chain (publishable as a commitment)."""
        return self._head

    @property
    def cast_count(self) -> int:
        """Ballots cast, superseded ones included."""
        return len(self._entries)

    @property
    def superseded_count(self) -> int:
        """Ballots replaced by a later ballot of the same voter."""
        return len(self._superseded)

    def has_voted(self, voter_key: str) -> bool:
        """Whether a ballot currently counts for this voter."""
        return voter_key in self._current

    def cast(self, voter_key: str, content: Any, weight: int = 1) -> Receipt:
        """Validate and append a ballot; an earlier ballot of the same voter stops counting."""
        if self.closed:
            raise FailedPrecondition("the ballot box is closed")
        if not isinstance(voter_key, str) or not voter_key:
            raise InvalidArgument("voter key must be a non-empty string")
        normalised = validate_ballot(self.definition, content)
        validate_weight(weight)
        tracker = new_tracker(self._randbits)
        while tracker in self._used:
            tracker = new_tracker(self._randbits)
        h = entry_hash(tracker, weight, normalised, self._head)
        entry = BoxEntry(tracker, weight, normalised, self._head, h)
        self._entries.append(entry)
        self._used.add(tracker)
        self._head = h
        previous = self._current.get(voter_key)
        if previous is not None:
            self._superseded.add(previous)
        self._current[voter_key] = tracker
        return Receipt(tracker, h, previous is not None)

    def counted(self) -> list[CastBallot]:
        """The ballots that count (latest per voter), in cast order."""
        return [
            CastBallot(e.content, e.weight)
            for e in self._entries
            if e.tracker not in self._superseded
        ]

    def publish(self) -> PublishedBox:
        """Close the box, forget voter keys, and build the published box."""
        self.closed = True
        self._current.clear()
        return publish_box(
            self.definition.id,
            ((e.tracker, e.weight, e.content) for e in self._entries if e.tracker not in self._superseded),
            len(self._superseded),
        )
