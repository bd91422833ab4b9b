"""Verifiable ballot box: a SHA-256 hash chain of anonymous ballots.

Entry hash = SHA-256 over the canonical JSON (:mod:`.canonical`) of
``{"content", "prev", "tracker"}`` (format 1 also had ``"weight"``); the first
entry's ``prev`` is a genesis hash bound to the election id (so a box cannot be
passed off as another election's). The head hash is SHA-256 over the canonical
``{"entries_head": <last entry's hash>, "weight_classes": [...]}`` (format 1:
the last entry's hash). Changing, reordering, inserting or dropping any entry
or class changes the head or breaks a link.

Each ballot gets a *tracker* (:mod:`.trackers`) that the voter keeps to find their ballot in
the published box.

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
4. Weights are not published per ballot (format 2): the box lists the
   ballots without weights and, per identical content, one *weight class*:
   the number of ballots and their total weight. Every counting method is
   linear in the weights (identical ballots count as one parcel of their
   summed weight), so the recount from the classes is exact, while a voter
   with a rare weight (partner cooperatives voting by shares) is no longer
   found by looking for their weight. What remains: a class's total minus
   its number of ballots can single out a rare weight when few ballots share
   its content (docs/elections.md, "Secrecy"). A format 1 box (a weight on
   every entry, before this change) still verifies. Tracker randomness comes
   from :mod:`secrets`.

Limits, stated plainly: the server sees voter and ballot together at cast
time (trust in the operator, as in any non-cryptographic e-voting), and a
tracker is a receipt: a voter can show it to a coercer. Re-voting lets the
voter change the counted ballot, but a coercer holding the old tracker will
see it missing from the published box; this design gives secrecy towards
the public, not full coercion resistance.

One module on purpose (about 500 lines): the chain, its publication in weight classes, its
verification and the recount are the one algorithm the independent verifier reruns; a reader
checking the secrecy argument above should find all of it here.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound

from .canonical import canonical_json, sha256_hex
from .counting import ElectionResult, count_election
from .errors import ChainBroken
from .model import CastBallot, ElectionDefinition
from .trackers import RandBits, new_tracker, normalise_tracker
from .validation import MAX_WEIGHT, validate_ballot, validate_weight


def genesis_hash(election_id: str) -> str:
    """The ``prev`` of the first entry: binds the chain to one election."""
    return sha256_hex(canonical_json({"coopgov-ballot-box": 1, "election": election_id}))


def entry_hash(tracker: str, weight: int | None, content: Mapping[str, Any], prev_hash: str) -> str:
    """Hash of one entry over its canonical form; a format 2 entry has no weight (``None``)."""
    return entry_hash_of_key(tracker, weight, canonical_json(content), prev_hash)


def entry_hash_of_key(tracker: str, weight: int | None, content_key: bytes, prev_hash: str) -> str:
    """entry_hash from the content's canonical bytes: the canonical form of
    {"content", "prev", "tracker", ["weight"]} is those bytes between the other members, keys being
    sorted, so a box's contents are each serialised once (a close or a verifier run hashes,
    classifies and checks every ballot). A test holds this equal to canonical_json of the dict."""
    tail = (b',"prev":' + _json_text(prev_hash) + b',"tracker":' + _json_text(tracker)
            + (b',"weight":' + (str(weight).encode() if type(weight) is int else canonical_json(weight))
               if weight is not None else b"") + b"}")
    return sha256_hex(b'{"content":' + content_key + tail)


_PLAIN_TEXT = re.compile(r"[A-Za-z0-9-]*")


def _json_text(value: Any) -> bytes:
    """canonical_json of a hash or a tracker, without json.dumps where nothing needs escaping."""
    if type(value) is str and _PLAIN_TEXT.fullmatch(value):
        return b'"' + value.encode() + b'"'
    return canonical_json(value)


def receipt_hash(election_id: str, tracker: str, weight: int | None, content: Mapping[str, Any]) -> str:
    """The ``ballot_hash`` of a voter's receipt: the hash of that ballot alone, chained to the
    genesis (not to the previous cast, which would record the cast order). Receipts given since
    format 2 hash no weight (``None``): the published box has none per ballot."""
    return entry_hash(tracker, weight, content, genesis_hash(election_id))


@dataclass(frozen=True)
class BoxEntry:
    """One link of the chain; ``weight`` is None in format 2 (weights are in the classes)."""

    tracker: str
    weight: int | None
    content: Mapping[str, Any]
    prev_hash: str
    entry_hash: str

    __hash__ = None  # type: ignore[assignment]  # content is a dict

    def to_json(self) -> dict[str, Any]:
        """Published JSON form."""
        data = {"tracker": self.tracker, "content": self.content, "prev_hash": self.prev_hash,
                "entry_hash": self.entry_hash}
        if self.weight is not None:
            data["weight"] = self.weight
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, weighted: bool = True) -> BoxEntry:
        """Parse a published entry (shape only; :func:`verify_box` checks the rest)."""
        try:
            return cls(
                tracker=data["tracker"],
                weight=data["weight"] if weighted else data.get("weight"),
                content=data["content"],
                prev_hash=data["prev_hash"],
                entry_hash=data["entry_hash"],
            )
        except (KeyError, TypeError) as exc:
            raise InvalidArgument(f"malformed box entry: {exc}") from exc


@dataclass(frozen=True)
class WeightClass:
    """Format 2: every counted ballot with this content, as one number of ballots and their total
    weight. The recount needs no more (every method is linear in the weights), and a voter's
    weight is no longer printed beside their ballot."""

    content: Mapping[str, Any]
    ballots: int
    weight: int

    __hash__ = None  # type: ignore[assignment]  # content is a dict

    def to_json(self) -> dict[str, Any]:
        return {"content": self.content, "ballots": self.ballots, "weight": self.weight}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WeightClass:
        try:
            return cls(content=data["content"], ballots=data["ballots"], weight=data["weight"])
        except (KeyError, TypeError) as exc:
            raise InvalidArgument(f"malformed weight class: {exc}") from exc


def _content_key(content: Any) -> bytes:
    try:
        return canonical_json(content)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument("ballot content is not canonical JSON data") from exc


def weight_classes(items: Iterable[tuple[Mapping[str, Any], int]],
                   keys: Iterable[bytes] | None = None) -> tuple[WeightClass, ...]:
    """``(content, weight)`` ballots aggregated per identical content, sorted by canonical content;
    `keys`, when given, are the contents' canonical bytes, in the same order."""
    classes: dict[bytes, list[Any]] = {}
    keys = iter(keys) if keys is not None else None
    for content, weight in items:
        key = next(keys) if keys is not None else _content_key(content)
        found = classes.setdefault(key, [content, 0, 0])
        found[1] += 1
        found[2] += weight
    return tuple(WeightClass(c, n, w) for _, (c, n, w) in sorted(classes.items()))


def classes_head(entries_head: str, classes: Iterable[WeightClass]) -> str:
    """Format 2 head: the last entry's hash together with every weight class."""
    return sha256_hex(canonical_json({"entries_head": entries_head,
                                      "weight_classes": [c.to_json() for c in classes]}))


def build_chain(
    election_id: str, items: Iterable[tuple[str, int | None, Mapping[str, Any]]],
    keys: Iterable[bytes] | None = None,
) -> tuple[tuple[BoxEntry, ...], str]:
    """Chain ``(tracker, weight, content)`` items in the given order; return entries and head.
    `keys`, when given, are the contents' canonical bytes, in the same order."""
    prev = genesis_hash(election_id)
    entries: list[BoxEntry] = []
    keys = iter(keys) if keys is not None else None
    for tracker, weight, content in items:
        key = next(keys) if keys is not None else _content_key(content)
        h = entry_hash_of_key(tracker, weight, key, prev)
        entries.append(BoxEntry(tracker, weight, content, prev, h))
        prev = h
    return tuple(entries), prev


#: The published box's format since weights went into classes; a box without "format" is format 1
#: (a weight on every entry), which the verifier still reads.
BOX_FORMAT = "coopgov-box/2"


@dataclass(frozen=True)
class PublishedBox:
    """What is published at close: counted ballots (sorted by tracker), head, superseded count,
    and (format 2) the weight classes; ``weight_classes`` is None for a format 1 box."""

    election_id: str
    entries: tuple[BoxEntry, ...]
    head_hash: str
    superseded_count: int
    weight_classes: tuple[WeightClass, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """Published JSON document."""
        data: dict[str, Any] = {
            "election_id": self.election_id,
            "head_hash": self.head_hash,
            "superseded_count": self.superseded_count,
            "entries": [e.to_json() for e in self.entries],
        }
        if self.weight_classes is not None:
            data["format"] = BOX_FORMAT
            data["weight_classes"] = [c.to_json() for c in self.weight_classes]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PublishedBox:
        """Parse a published document (verify it with :func:`verify_box`)."""
        try:
            version = data.get("format")
            if version not in (None, BOX_FORMAT):
                raise InvalidArgument(f"unknown box format {version!r}")
            classes = None if version is None else tuple(WeightClass.from_json(c) for c in data["weight_classes"])
            return cls(
                election_id=data["election_id"],
                entries=tuple(BoxEntry.from_json(e, weighted=classes is None) for e in data["entries"]),
                head_hash=data["head_hash"],
                superseded_count=data["superseded_count"],
                weight_classes=classes,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidArgument(f"malformed published box: {exc}") from exc


def publish_box(election_id: str, items: Iterable[tuple[str, int, Mapping[str, Any]]],
                superseded_count: int) -> PublishedBox:
    """The published box (format 2) over the counted ``(tracker, weight, content)`` ballots:
    entries sorted by tracker (random, so the order says nothing about when or by whom) and
    chained in that order, without weights; the weights only in the classes."""
    items = sorted(items, key=lambda item: item[0])
    keys = [_content_key(content) for _, _, content in items]
    entries, last = build_chain(election_id, ((tracker, None, content) for tracker, _, content in items), keys)
    classes = weight_classes(((content, weight) for _, weight, content in items), keys)
    return PublishedBox(election_id, entries, classes_head(last, classes), superseded_count, classes)


def _verify_classes(box: PublishedBox, classes: tuple[WeightClass, ...], entry_keys: list[bytes]) -> None:
    """Format 2: the classes are sorted, well formed and hold exactly the entries' ballots
    (`entry_keys`: the entries' contents' canonical bytes)."""
    per_content: dict[bytes, int] = {}
    for key in entry_keys:
        per_content[key] = per_content.get(key, 0) + 1
    last = b""
    for i, c in enumerate(classes):
        key = _content_key(c.content)
        if key <= last:
            raise ChainBroken(f"weight class {i}: classes out of order or duplicated")
        last = key
        for name, value in (("ballots", c.ballots), ("weight", c.weight)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ChainBroken(f"weight class {i}: {name} must be an integer")
        if not 1 <= c.ballots <= c.weight <= c.ballots * MAX_WEIGHT:
            raise ChainBroken(f"weight class {i}: {c.ballots} ballots cannot weigh {c.weight}")
        if per_content.pop(key, 0) != c.ballots:
            raise ChainBroken(f"weight class {i}: the box has another number of ballots with this content")
    if per_content:
        raise ChainBroken("a ballot of the box has no weight class")


def verify_box(box: PublishedBox) -> None:
    """Check a published box end to end; raise :class:`ChainBroken` at the first fault.

    Checks: tracker format, strictly increasing tracker order (the publication
    order, so duplicates are caught too), weights (format 1: on every entry;
    format 2: none on entries, classes that hold exactly the entries' ballots),
    every link and every hash, and the head.
    """
    if isinstance(box.superseded_count, bool) or not isinstance(box.superseded_count, int):
        raise ChainBroken("superseded count must be an integer")
    if box.superseded_count < 0:
        raise ChainBroken("superseded count must not be negative")
    classes = box.weight_classes
    prev = genesis_hash(box.election_id)
    last_tracker = ""
    keys: list[bytes] = []
    for i, e in enumerate(box.entries):
        try:
            tracker = normalise_tracker(e.tracker)
            if classes is None:
                validate_weight(e.weight)
            elif e.weight is not None:
                raise InvalidArgument("a format 2 entry carries no weight (weights are in the classes)")
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
            keys.append(canonical_json(e.content))
            recomputed = entry_hash_of_key(e.tracker, e.weight, keys[-1], e.prev_hash)
        except (TypeError, ValueError) as exc:
            raise ChainBroken(f"entry {i}: content is not canonical JSON data", i) from exc
        if recomputed != e.entry_hash:
            raise ChainBroken(f"entry {i}: entry hash does not match its content", i)
        prev = e.entry_hash
    if classes is not None:
        try:
            _verify_classes(box, classes, keys)
            prev = classes_head(prev, classes)
        except InvalidArgument as exc:
            raise ChainBroken(str(exc)) from exc
    if box.head_hash != prev:
        raise ChainBroken("head hash does not match the last entry" if classes is None
                          else "head hash does not match the last entry and the weight classes")


def counted_ballots(box: PublishedBox, definition: ElectionDefinition) -> list[CastBallot]:
    """What a recount counts, every ballot re-validated: format 1 one ballot per entry, format 2
    one per weight class (identical contents with their summed weight, which every method counts
    alike)."""
    if box.weight_classes is not None:
        # the classes hold exactly the entries' contents (verify_box), so validating each class
        # validates every entry of it; the entry found is named
        ballots = []
        for c in box.weight_classes:
            try:
                ballots.append(CastBallot(validate_ballot(definition, c.content), c.weight))
            except InvalidArgument as exc:
                key = canonical_json(c.content)
                found = next(((i, e) for i, e in enumerate(box.entries) if canonical_json(e.content) == key), None)
                where = f"published entry {found[0]} ({found[1].tracker})" if found else "a weight class"
                raise InvalidArgument(f"{where}: {exc}") from exc
        return ballots
    ballots = []
    for i, e in enumerate(box.entries):
        try:
            ballots.append(CastBallot(validate_ballot(definition, e.content), e.weight or 0))
        except InvalidArgument as exc:
            raise InvalidArgument(f"published entry {i} ({e.tracker}): {exc}") from exc
    return ballots


def counted_weight(box: PublishedBox) -> int:
    """Total weight of the counted ballots."""
    if box.weight_classes is None:
        return sum(e.weight or 0 for e in box.entries)
    return sum(c.weight for c in box.weight_classes)


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
    """The receipt hashes that the ballot of ``entry`` may have been given at cast time: format 1
    hashed the entry's weight; format 2 hashes none, and, where every voter on the roll has the
    same ``roll_weight``, a receipt given before format 2 (with that weight) is accepted too."""
    if box.weight_classes is None:
        return {receipt_hash(box.election_id, entry.tracker, entry.weight, entry.content)}
    hashes = {receipt_hash(box.election_id, entry.tracker, None, entry.content)}
    if roll_weight is not None:
        hashes.add(receipt_hash(box.election_id, entry.tracker, roll_weight, entry.content))
    return hashes


def recount(box: PublishedBox, definition: ElectionDefinition) -> ElectionResult:
    """Recompute the results from the published box and definition alone."""
    if box.election_id != definition.id:
        raise InvalidArgument(
            f"box is for election {box.election_id!r}, definition for {definition.id!r}"
        )
    verify_box(box)
    return count_box(box, definition)


def count_box(box: PublishedBox, definition: ElectionDefinition) -> ElectionResult:
    """The results of a box whose chain is known to hold (verify_box passed, or publish_box just
    built it): the counting half of recount, the same code for the close and the verifier."""
    result = count_election(definition, counted_ballots(box, definition))
    return dataclasses.replace(result, ballots=len(box.entries))


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
