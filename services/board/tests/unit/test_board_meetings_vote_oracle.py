"""Vote outcomes against a small oracle written here, independently of domain/voting.py:
majorities (simple, two thirds), abstentions, ties, the chair's casting vote, choices among
proposals, and the quorum without recused directors; many generated cases."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from coop_board.domain.texts import LocalizedText
from coop_board.domain.votes import Vote
from coop_board.domain.voting import motion_outcome, quorum

AT = datetime(2027, 3, 1, tzinfo=UTC)
DIRECTORS = [f"d{n}" for n in range(15)]


# -- the oracle --------------------------------------------------------------------------------
def oracle_motion(ballots: dict[str, str], rule: str, chair: str | None, casting_allowed: bool, secret: bool) -> str:
    tally = Counter(ballots.values())
    yes, no = tally["for"], tally["against"]
    if yes + no == 0:
        return "rejected"
    share = Fraction(yes, yes + no)
    if rule == "two_thirds":
        return "adopted" if share >= Fraction(2, 3) else "rejected"
    if share > Fraction(1, 2):
        return "adopted"
    if share == Fraction(1, 2) and casting_allowed and not secret and ballots.get(chair) == "for":
        return "adopted"
    return "rejected"


def oracle_choice(ballots: dict[str, str], rule: str, chair: str | None, casting_allowed: bool, secret: bool) -> str:
    tally = Counter(c for c in ballots.values() if c != "abstain")
    cast = sum(tally.values())
    if not cast:
        return "rejected"
    ranked = tally.most_common()
    best, votes = ranked[0]
    tied = [o for o, n in ranked if n == votes]
    threshold = Fraction(2, 3) if rule == "two_thirds" else Fraction(1, 2)
    share = Fraction(votes, cast)
    if len(tied) == 1 and (share >= threshold if rule == "two_thirds" else share > threshold):
        return f"chosen:{best}"
    if (rule == "simple" and len(tied) == 2 and share == Fraction(1, 2) and casting_allowed and not secret
            and ballots.get(chair) in tied):
        return f"chosen:{ballots[chair]}"
    return "rejected"


def oracle_quorum(sitting: list[str], present: set[str], recused: set[str]) -> tuple[int, bool]:
    eligible = [d for d in sitting if d not in recused]
    here = [d for d in eligible if d in present]
    return len(here), 2 * len(here) > len(eligible)


# -- generated cases ------------------------------------------------------------------------------
motions = st.dictionaries(st.sampled_from(DIRECTORS), st.sampled_from(["for", "against", "abstain"]), max_size=15)
choices = st.dictionaries(st.sampled_from(DIRECTORS), st.sampled_from(["p1", "p2", "p3", "abstain"]), max_size=15)
rules = st.sampled_from(["simple", "two_thirds"])
chairs = st.one_of(st.none(), st.sampled_from(DIRECTORS))


def _closed(vote: Vote, ballots: dict[str, str], chair: str | None, casting: bool) -> str:
    for director, choice in ballots.items():
        vote.cast(director, choice)
    q = quorum(DIRECTORS, dict.fromkeys(DIRECTORS, "present"), ())
    return vote.close(AT, q, chair, casting).outcome


@settings(max_examples=1500)
@given(motions, rules, chairs, st.booleans(), st.booleans())
def test_a_motion_is_decided_as_the_oracle_says(ballots, rule, chair, casting, secret) -> None:
    vote = Vote("v", ("i",), "item", "i", LocalizedText(), rule, secret)
    assert _closed(vote, ballots, chair, casting) == oracle_motion(ballots, rule, chair, casting, secret)


@settings(max_examples=1500)
@given(choices, rules, chairs, st.booleans(), st.booleans())
def test_a_choice_among_proposals_is_decided_as_the_oracle_says(ballots, rule, chair, casting, secret) -> None:
    vote = Vote("v", ("i",), "choice", "i", LocalizedText(), rule, secret, ("p1", "p2", "p3"))
    assert _closed(vote, ballots, chair, casting) == oracle_choice(ballots, rule, chair, casting, secret)


@settings(max_examples=800)
@given(st.lists(st.sampled_from(DIRECTORS), unique=True, min_size=1), st.sets(st.sampled_from(DIRECTORS)),
       st.sets(st.sampled_from(DIRECTORS)))
def test_the_quorum_leaves_recused_directors_out_as_the_oracle_says(sitting, present, recused) -> None:
    q = quorum(sitting, dict.fromkeys(present, "present"), recused)
    assert (q.eligible_present, q.met) == oracle_quorum(sitting, present, recused)


def test_known_cases() -> None:
    assert motion_outcome(3, 3, "simple").outcome == "rejected"  # a tie without casting vote fails
    assert motion_outcome(3, 3, "simple", casting="for").casting_vote_used
    assert motion_outcome(2, 1, "two_thirds").outcome == "adopted"  # exactly two thirds
    assert motion_outcome(5, 3, "two_thirds").outcome == "rejected"
    assert motion_outcome(1, 0, "simple").outcome == "adopted"  # abstentions do not count
    assert motion_outcome(0, 0, "simple").outcome == "rejected"
