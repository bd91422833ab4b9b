"""Other services' events become the roster's typed facts at the worker's edge
(adapters/events_in_roster.py); what cannot be read is refused as malformed (dead-lettered)."""

from __future__ import annotations

from datetime import date

import pytest

from coop_board.adapters.events_in_roster import election_results
from coop_board.domain.roster import ElectedGroup, ElectionResults
from coop_platform.envelope import make_envelope
from coop_platform.membership_facts import MalformedEvent


def _results(data: dict) -> dict:
    return make_envelope("elections", "election.results_published", data)


def test_each_elected_question_becomes_a_group_with_its_mandate_dates() -> None:
    fact = election_results(_results({"electionId": "e1", "tenant": "coop", "laterField": 3, "seats": [
        {"questionId": "board", "electedMemberIds": ["a", "b"], "mandateStart": "2027-05-15",
         "mandateEnd": "2031-05-15"},
        {"questionId": "nobody", "electedMemberIds": [], "mandateStart": "2027-05-15", "mandateEnd": "2031-05-15"}]}))
    assert fact == ElectionResults("e1", "coop", (ElectedGroup("board", ("a", "b"), date(2027, 5, 15),
                                                               date(2031, 5, 15)),))


@pytest.mark.parametrize("data", [
    {"tenant": "coop", "seats": []},
    {"electionId": "e1", "seats": []},
    {"electionId": "e1", "tenant": "coop", "seats": [{"electedMemberIds": ["a"], "mandateStart": "2027-5-15",
                                                      "mandateEnd": "2031-05-15"}]},
    {"electionId": "e1", "tenant": "coop", "seats": [{"electedMemberIds": ["a"], "mandateStart": "2027-05-15"}]},
    {"electionId": "e1", "tenant": "coop", "ballots": "many"},
])
def test_results_that_cannot_be_read_are_refused_as_malformed(data: dict) -> None:
    with pytest.raises(MalformedEvent):
        election_results(_results(data))
