"""How the board counts: quorum at the moment of a vote, and the outcome of a vote.

Pure functions of plain values (docs/board.md, Meetings: Votes):
- quorum: more than `num/den` (default one half) of the directors sitting that day who are not
  recused on the item, present or remote (and, where the statutes say so, represented);
- majority: `simple` = more votes for than against (abstentions are not votes cast);
  `two_thirds` = at least two thirds of the votes cast for, and at least one;
- a tie under the simple rule is settled by the chair's casting vote when the setting allows it
  and the chair voted by name (never in a secret vote);
- choosing one among proposals: the option with the most votes wins when it meets the rule
  against the votes cast for options (a two-way tie at half is settled by the casting vote).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAJORITY_RULES = ("simple", "two_thirds")
CHOICES = ("for", "against", "abstain")
PRESENT = ("present", "remote")


@dataclass(frozen=True)
class Quorum:
    sitting: int                # directors sitting that day
    eligible: int               # sitting and not recused on the item
    eligible_present: int       # of those, present or remote (or represented, when counted)
    required: int               # more than num/den of `eligible`
    met: bool
    recused: tuple[str, ...] = ()


def required_for(eligible: int, num: int = 1, den: int = 2) -> int:
    """The smallest count strictly above num/den of `eligible` (1 of 0 or 1)."""
    return eligible * num // den + 1


def quorum(sitting: Iterable[str], attendance: Mapping[str, str], recused: Iterable[str], *,
           proxies: Mapping[str, str] | None = None, count_proxies: bool = False,
           num: int = 1, den: int = 2) -> Quorum:
    """`attendance`: director -> status; `proxies`: giver -> holder (written proxies)."""
    seated = set(sitting)
    out = set(recused) & seated
    eligible = seated - out
    present = {d for d in eligible if attendance.get(d) in PRESENT}
    if count_proxies and proxies:
        present |= {g for g, h in proxies.items() if g in eligible and h in present and g not in present}
    need = required_for(len(eligible), num, den)
    return Quorum(len(seated), len(eligible), len(present), need, len(present) >= need, tuple(sorted(out)))


@dataclass(frozen=True)
class Outcome:
    outcome: str                # "adopted", "rejected", "chosen:<option>"
    casting_vote_used: bool = False

    @property
    def adopted(self) -> bool:
        return self.outcome == "adopted" or self.outcome.startswith("chosen:")

    @property
    def chosen(self) -> str | None:
        return self.outcome.removeprefix("chosen:") if self.outcome.startswith("chosen:") else None


def _meets(votes: int, cast: int, rule: str) -> bool:
    if rule == "simple":
        return 2 * votes > cast
    if rule == "two_thirds":
        return votes > 0 and 3 * votes >= 2 * cast
    raise ValueError(f"unknown majority rule {rule!r}")


def motion_outcome(for_: int, against: int, rule: str, *, casting: str | None = None) -> Outcome:
    """A yes/no vote. `casting`: the chair's own open vote ("for"/"against") when the casting
    vote is allowed, else None."""
    cast = for_ + against
    if cast and _meets(for_, cast, rule):
        return Outcome("adopted")
    if rule == "simple" and cast and for_ == against and casting in ("for", "against"):
        return Outcome("adopted" if casting == "for" else "rejected", casting_vote_used=True)
    return Outcome("rejected")


def choice_outcome(counts: Mapping[str, int], rule: str, *, casting: str | None = None) -> Outcome:
    """Choose one among options: `counts` option -> votes; `casting`: the chair's open choice."""
    cast = sum(counts.values())
    if not cast:
        return Outcome("rejected")
    top = max(counts.values())
    leaders = sorted(o for o, n in counts.items() if n == top)
    if len(leaders) == 1 and _meets(top, cast, rule):
        return Outcome(f"chosen:{leaders[0]}")
    if rule == "simple" and len(leaders) == 2 and 2 * top == cast and casting in leaders:
        return Outcome(f"chosen:{casting}", casting_vote_used=True)
    return Outcome("rejected")
