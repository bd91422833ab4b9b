"""Hash-chained ballot box: re-voting, publication, tamper detection, recount."""

from __future__ import annotations

import dataclasses
import json
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound
from coop_elections.domain.ballot_box import (
    BallotBox,
    PublishedBox,
    build_chain,
    classes_head,
    entry_hash,
    entry_hash_of_key,
    find_tracker,
    genesis_hash,
    recount,
    verify_box,
)
from coop_elections.domain.canonical import canonical_json, sha256_hex
from coop_elections.domain.counting import count_election
from coop_elections.domain.errors import ChainBroken
from coop_elections.domain.model import ElectionDefinition, Method, Question
from coop_elections.domain.trackers import new_tracker, normalise_tracker

DEF = ElectionDefinition(
    "ga-2026",
    (
        Question("board", Method.STV, ("ann", "bob", "cat", "dan"), 2),
        Question("budget", Method.RESOLUTION),
        Question("chair", Method.SCHULZE, ("ann", "bob", "cat"), 1),
    ),
    tie_break_seed="ga-2026-seed",
)


def _rng_bits(seed: int):
    rng = random.Random(seed)
    return rng.getrandbits


def _filled_box(n: int = 60, seed: int = 1) -> BallotBox:
    rng = random.Random(seed)
    box = BallotBox(DEF, randbits=_rng_bits(seed))
    for i in range(n):
        content = {
            "board": rng.sample(["ann", "bob", "cat", "dan"], rng.randint(0, 4)),
            "budget": rng.choice(["yes", "no", "abstain"]),
            "chair": rng.sample(["ann", "bob", "cat"], rng.randint(1, 3)),
        }
        box.cast(f"voter-{i}", content, weight=rng.choice([1, 1, 2]))
    return box


def test_tracker_is_twelve_base32_characters_in_groups_of_four() -> None:
    tracker = new_tracker()
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", tracker)


def test_tracker_typed_by_a_human_is_normalised() -> None:
    assert normalise_tracker(" k7qf 2mxa-p4zd ") == "K7QF-2MXA-P4ZD"
    assert normalise_tracker("O0I1-B8AA-AAAA") == "OOII-BBAA-AAAA"
    with pytest.raises(InvalidArgument):
        normalise_tracker("TOO-SHORT")


def test_entry_hash_is_sha256_over_the_canonical_entry() -> None:
    content = {"budget": "yes", "board": ["ann"]}
    expected = sha256_hex(
        b'{"content":{"board":["ann"],"budget":"yes"},"prev":"p","tracker":"T","weight":2}'
    )
    assert entry_hash("T", 2, content, "p") == expected
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


def test_published_box_verifies_and_recount_equals_the_original_count() -> None:
    box = _filled_box()
    original = count_election(DEF, box.counted())
    published = box.publish()
    verify_box(published)
    assert recount(published, DEF) == original


def test_published_box_survives_a_json_round_trip() -> None:
    published = _filled_box().publish()
    text = json.dumps(published.to_json())
    again = PublishedBox.from_json(json.loads(text))
    verify_box(again)
    assert recount(again, DEF) == recount(published, DEF)


def test_revote_counts_only_the_last_ballot_and_publishes_only_a_count_of_superseded() -> None:
    box = BallotBox(DEF, randbits=_rng_bits(3))
    first = box.cast("alice", {"budget": "no"})
    second = box.cast("alice", {"budget": "yes"})
    box.cast("bob", {"budget": "yes"})
    assert not first.superseded_previous and second.superseded_previous
    published = box.publish()
    assert published.superseded_count == 1
    trackers = {e.tracker for e in published.entries}
    assert second.tracker in trackers and first.tracker not in trackers
    assert recount(published, DEF).question("budget").yes == 2
    assert "alice" not in json.dumps(published.to_json())


def test_published_entries_are_sorted_by_tracker_not_cast_order() -> None:
    published = _filled_box().publish()
    trackers = [e.tracker for e in published.entries]
    assert trackers == sorted(trackers)


def test_box_rejects_ballots_after_publication_and_forgets_voters() -> None:
    box = _filled_box(3)
    box.publish()
    assert not box.has_voted("voter-0")
    with pytest.raises(FailedPrecondition):
        box.cast("late", {"budget": "yes"})


def test_cast_validates_the_ballot() -> None:
    box = BallotBox(DEF)
    with pytest.raises(InvalidArgument):
        box.cast("v", {"board": ["ann", "ann"]})
    with pytest.raises(InvalidArgument):
        box.cast("v", {"budget": "yes"}, weight=0)
    assert box.cast_count == 0


def test_tracker_collision_is_retried() -> None:
    values = iter([5, 5, 6])
    box = BallotBox(DEF, randbits=lambda _bits: next(values))
    a = box.cast("a", {})
    b = box.cast("b", {})
    assert a.tracker != b.tracker


def test_live_chain_head_advances_with_each_cast() -> None:
    box = BallotBox(DEF)
    head0 = box.head_hash
    assert head0 == genesis_hash("ga-2026")
    receipt = box.cast("v", {"budget": "yes"})
    assert box.head_hash == receipt.entry_hash != head0


def _replace_entry(box: PublishedBox, i: int, **changes) -> PublishedBox:
    entries = list(box.entries)
    entries[i] = dataclasses.replace(entries[i], **changes)
    return dataclasses.replace(box, entries=tuple(entries))


def test_changing_a_ballot_is_detected() -> None:
    box = _filled_box().publish()
    entry = box.entries[10]
    forged = dict(entry.content, budget="no" if entry.content["budget"] != "no" else "yes")
    with pytest.raises(ChainBroken, match="entry 10: entry hash") as info:
        verify_box(_replace_entry(box, 10, content=forged))
    assert info.value.index == 10


def test_changing_a_weight_is_detected() -> None:
    box = _filled_box().publish()
    classes = list(box.weight_classes)
    classes[3] = dataclasses.replace(classes[3], weight=classes[3].weight + 1)
    with pytest.raises(ChainBroken, match="head hash"):
        verify_box(dataclasses.replace(box, weight_classes=tuple(classes)))
    with pytest.raises(ChainBroken, match="entry 5: a format 2 entry carries no weight"):
        verify_box(_replace_entry(box, 5, weight=1))


def test_published_box_prints_no_weight_beside_a_ballot() -> None:
    """A voter with a rare weight (shares held) is not found by looking for it in the box."""
    box = BallotBox(DEF, randbits=_rng_bits(4))
    for i in range(6):
        box.cast(f"v{i}", {"budget": "yes"}, weight=1)
    rare = box.cast("big-shareholder", {"budget": "yes"}, weight=7)
    published = box.publish().to_json()
    assert all("weight" not in e for e in published["entries"])
    assert published["weight_classes"] == [{"content": {"budget": "yes"}, "ballots": 7, "weight": 13}]
    assert [e["tracker"] for e in published["entries"]].count(rare.tracker) == 1


def test_recount_from_weight_classes_equals_the_count_of_every_ballot_with_its_weight() -> None:
    rng = random.Random(11)
    box = BallotBox(DEF, randbits=_rng_bits(11))
    for i in range(300):
        box.cast(f"v{i}", {
            "board": rng.sample(["ann", "bob", "cat", "dan"], rng.randint(0, 2)),
            "budget": rng.choice(["yes", "no", "abstain"]),
            "chair": rng.sample(["ann", "bob", "cat"], rng.randint(1, 2)),
        }, weight=rng.choice([1, 1, 1, 2, 3, 17, 250]))
    expected = count_election(DEF, box.counted())
    published = box.publish()
    assert len(published.weight_classes) < len(published.entries)  # identical ballots share a class
    assert recount(published, DEF) == expected


def test_a_weight_class_that_does_not_hold_the_boxs_ballots_is_detected() -> None:
    box = _filled_box().publish()
    classes = list(box.weight_classes)
    classes[0] = dataclasses.replace(classes[0], ballots=classes[0].ballots + 1, weight=classes[0].weight + 1)
    last = box.entries[-1].entry_hash
    forged = dataclasses.replace(box, weight_classes=tuple(classes), head_hash=classes_head(last, classes))
    with pytest.raises(ChainBroken, match="weight class 0: the box has another number of ballots"):
        verify_box(forged)


def test_a_format_1_box_with_a_weight_on_every_entry_still_verifies() -> None:
    items = [("AAAA-AAAA-AAAA", 2, {"budget": "yes"}), ("BBBB-AAAA-AAAA", 1, {"budget": "no"})]
    entries, head = build_chain(DEF.id, items)
    again = PublishedBox.from_json(json.loads(json.dumps(PublishedBox(DEF.id, entries, head, 0).to_json())))
    assert again.weight_classes is None and [e.weight for e in again.entries] == [2, 1]
    assert recount(again, DEF).question("budget").yes == 2


def test_rehashing_a_changed_entry_still_breaks_the_next_link() -> None:
    box = _filled_box().publish()
    e = box.entries[10]
    content = dict(e.content, budget="abstain" if e.content["budget"] != "abstain" else "no")
    new_hash = entry_hash(e.tracker, e.weight, content, e.prev_hash)
    with pytest.raises(ChainBroken, match="entry 11: previous hash"):
        verify_box(_replace_entry(box, 10, content=content, entry_hash=new_hash))


def test_reordering_entries_is_detected() -> None:
    box = _filled_box().publish()
    entries = list(box.entries)
    entries[3], entries[4] = entries[4], entries[3]
    with pytest.raises(ChainBroken):
        verify_box(dataclasses.replace(box, entries=tuple(entries)))


def test_dropping_an_entry_is_detected() -> None:
    box = _filled_box().publish()
    middle = box.entries[:20] + box.entries[21:]
    with pytest.raises(ChainBroken, match="entry 20: previous hash"):
        verify_box(dataclasses.replace(box, entries=middle))
    with pytest.raises(ChainBroken, match="weight class .*: the box has another number of ballots"):
        verify_box(dataclasses.replace(box, entries=box.entries[:-1]))


def test_box_of_another_election_does_not_verify_against_this_one() -> None:
    box = _filled_box().publish()
    with pytest.raises(ChainBroken, match="entry 0"):
        verify_box(dataclasses.replace(box, election_id="other"))
    with pytest.raises(InvalidArgument, match="definition"):
        recount(box, dataclasses.replace(DEF, id="other"))


def test_recount_rejects_a_consistently_rehashed_but_invalid_ballot() -> None:
    items = [("AAAA-AAAA-AAAA", 1, {"board": ["zed"]})]
    entries, head = build_chain(DEF.id, items)
    with pytest.raises(InvalidArgument, match="unknown candidate"):
        recount(PublishedBox(DEF.id, entries, head, 0), DEF)


def test_duplicate_tracker_in_a_published_box_is_detected() -> None:
    items = [("AAAA-AAAA-AAAA", 1, {}), ("AAAA-AAAA-AAAA", 1, {})]
    entries, head = build_chain(DEF.id, items)
    with pytest.raises(ChainBroken, match="duplicated"):
        verify_box(PublishedBox(DEF.id, entries, head, 0))


def test_empty_box_verifies_with_the_genesis_head() -> None:
    published = BallotBox(DEF).publish()
    assert published.head_hash == classes_head(genesis_hash(DEF.id), ())
    verify_box(published)


def test_voter_finds_their_ballot_by_tracker() -> None:
    box = BallotBox(DEF, randbits=_rng_bits(9))
    receipts = [box.cast(f"v{i}", {"budget": "yes" if i % 2 else "no"}) for i in range(25)]
    published = box.publish()
    for i, receipt in enumerate(receipts):
        found = find_tracker(published, receipt.tracker.lower().replace("-", " "))
        assert found.content == {"budget": "yes" if i % 2 else "no"}
    with pytest.raises(NotFound):
        find_tracker(published, "ZZZZ-ZZZZ-ZZZZ")


_json_leaf = st.one_of(st.integers(-(2**53), 2**53), st.text(max_size=12), st.booleans(), st.none())
_contents = st.dictionaries(st.text(max_size=8), st.recursive(
    _json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12), max_size=5)


@given(content=_contents, weight=st.one_of(st.none(), st.integers(1, 10**6)),
       tracker=st.one_of(st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ234567-", min_size=1, max_size=14),
                         st.text(max_size=14)),
       prev=st.one_of(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64), st.text(max_size=8)))
def test_an_entry_hash_composed_from_its_contents_canonical_bytes_equals_the_hash_of_the_whole_entry(
        content, weight, tracker, prev):
    """The close and the verifier serialise each ballot once and compose the entry's canonical
    form around it; the published hashes must stay those of the whole entry's canonical JSON."""
    entry = {"content": content, "prev": prev, "tracker": tracker}
    if weight is not None:
        entry["weight"] = weight
    assert entry_hash_of_key(tracker, weight, canonical_json(content), prev) == sha256_hex(canonical_json(entry))
