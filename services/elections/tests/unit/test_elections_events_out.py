"""election.roll_frozen's parts: the whole roll, each voter once, in voter id order, in parts of
at most ROLL_PART_SIZE; an empty roll still says so in one (empty) part."""

from __future__ import annotations

import random

from coop_elections.domain.events import ROLL_PART_SIZE, roll_parts

ELECTION = object()  # the parts carry the election through untouched


def test_a_roll_of_41702_voters_goes_out_in_9_ordered_parts_covering_it_once() -> None:
    voters = [f"m{i:06d}" for i in range(41_702)]
    parts = roll_parts(ELECTION, random.Random(7).sample(voters, len(voters)))
    assert [p.part for p in parts] == list(range(1, 10)) and {p.parts for p in parts} == {9}
    assert all(len(p.voter_ids) <= ROLL_PART_SIZE for p in parts)
    assert [v for p in parts for v in p.voter_ids] == voters
    assert {p.roll_size for p in parts} == {41_702} and all(p.election is ELECTION for p in parts)


def test_an_empty_roll_is_one_empty_part() -> None:
    [part] = roll_parts(ELECTION, [])
    assert (part.part, part.parts, part.voter_ids, part.roll_size) == (1, 1, (), 0)


def test_a_roll_of_exactly_one_part_size_is_one_part() -> None:
    assert len(roll_parts(ELECTION, [f"v{i}" for i in range(ROLL_PART_SIZE)])) == 1
    assert len(roll_parts(ELECTION, [f"v{i}" for i in range(ROLL_PART_SIZE + 1)])) == 2
