"""The verifier's checks beyond the chain, on format 2 boxes (weights only per class)."""

from __future__ import annotations

import pytest

from coop_elections.domain.ballot_box import publish_box, receipt_hash
from coop_elections.domain.model import ElectionDefinition, Method, Question
from coop_elections.domain.verification import (
    PublicationMismatch,
    RollCommitment,
    check_receipt,
    check_roll,
)

DEF = ElectionDefinition("e-1", (Question("budget", Method.RESOLUTION),), "seed", roll_weight=12)
ROLL = {"size": 4, "total_weight": 12, "sha256": "0" * 64, "min_weight": 1, "max_weight": 9}


def _box(*weights: int):
    return publish_box("e-1", [(f"AAAA-AAAA-AAA{chr(65 + i)}", w, {"budget": "yes"}) for i, w in enumerate(weights)], 0)


def test_weight_classes_within_the_rolls_range_pass():
    check_roll(_box(1, 2, 9), DEF, RollCommitment.from_election_json({"roll": ROLL}))


def test_a_weight_class_heavier_than_its_ballots_can_be_on_this_roll_fails():
    box = _box(1, 1)  # two ballots: at most 2 x 9 on this roll
    forged = publish_box("e-1", [(e.tracker, 10, e.content) for e in box.entries], 0)
    with pytest.raises(PublicationMismatch, match="weight class 0: 2 ballots cannot weigh 20"):
        check_roll(forged, ElectionDefinition("e-1", DEF.questions, "seed", roll_weight=30),
                   RollCommitment.from_election_json({"roll": dict(ROLL, total_weight=30)}))


def test_on_a_roll_where_everyone_weighs_the_same_the_classes_are_exact():
    same = RollCommitment.from_election_json({"roll": dict(ROLL, total_weight=8, min_weight=2, max_weight=2)})
    definition = ElectionDefinition("e-1", DEF.questions, "seed", roll_weight=8)
    check_roll(_box(2, 2), definition, same)
    with pytest.raises(PublicationMismatch, match="cannot weigh 5"):
        check_roll(_box(2, 3), definition, same)


def test_a_receipt_given_before_format_2_verifies_on_a_one_weight_roll():
    box = _box(1, 1)
    entry = box.entries[0]
    old_receipt = receipt_hash("e-1", entry.tracker, 1, entry.content)  # hashed the weight
    one_weight = RollCommitment.from_election_json({"roll": dict(ROLL, min_weight=1, max_weight=1)})
    assert check_receipt(box, entry.tracker, old_receipt, one_weight) == entry
    with pytest.raises(PublicationMismatch, match="receipt's ballot hash"):
        check_receipt(box, entry.tracker, old_receipt, RollCommitment.from_election_json({"roll": ROLL}))
