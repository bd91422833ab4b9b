"""One vote of a meeting: on a proposal, an amendment, an item's motion, the consent block, a
choice among proposals, or sending a dossier back. Directors vote by name, except in a secret
vote (counts and who took part only, never who voted what)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from coop_board.domain.texts import LocalizedText
from coop_board.domain.voting import CHOICES, Outcome, Quorum, choice_outcome, motion_outcome
from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument

SUBJECTS = ("proposal", "amendment", "item", "consent", "choice", "send_back")


@dataclass
class Vote:
    vote_id: str
    item_ids: tuple[str, ...]           # one item, or the consent block's items
    subject: str                        # one of SUBJECTS
    subject_id: str                     # proposal / amendment id, or the item id
    subject_title: LocalizedText
    majority: str
    secret: bool = False
    options: tuple[str, ...] = ()       # "choice": the proposals to choose from
    status: str = "open"
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)   # "for"/"against"/"abstain"/option -> votes
    ballots: dict[str, str] = field(default_factory=dict)  # director -> choice (open votes only)
    voters: set[str] = field(default_factory=set)          # who took part (both kinds)
    quorum: Quorum | None = None        # at the close
    outcome: str = ""
    casting_vote_used: bool = False

    @property
    def choices(self) -> tuple[str, ...]:
        return (*self.options, "abstain") if self.subject == "choice" else CHOICES

    def check_choice(self, choice: str, field_name: str = "choice") -> None:
        if choice not in self.choices:
            raise InvalidArgument(f"choice is one of {', '.join(self.choices)}", field=field_name,
                                  reason="INVALID_CHOICE")

    def require_open(self) -> None:
        if self.status != "open":
            raise FailedPrecondition("the vote is closed", field="vote_id", reason="VOTE_CLOSED")

    def cast(self, director_id: str, choice: str) -> None:
        self.require_open()
        self.check_choice(choice)
        if director_id in self.voters:
            raise AlreadyExists("this director has voted already", field="vote_id", reason="ALREADY_VOTED")
        self.voters.add(director_id)
        self.counts[choice] = self.counts.get(choice, 0) + 1
        if not self.secret:
            self.ballots[director_id] = choice

    def add_counts(self, counts: dict[str, int], eligible: int) -> None:
        """A secret vote counted on paper: counts only, added once."""
        self.require_open()
        if not self.secret:
            raise FailedPrecondition("an open vote is recorded by name", field="counts", reason="VOTE_BY_NAME")
        if self.counts or self.voters:
            raise FailedPrecondition("counts were recorded already", field="counts", reason="ALREADY_VOTED")
        for choice, n in counts.items():
            self.check_choice(choice, "counts")
            if n < 0:
                raise InvalidArgument("counts are not negative", field="counts", reason="NEGATIVE_COUNT")
        if sum(counts.values()) > eligible:
            raise InvalidArgument("more votes than directors who may vote", field="counts", reason="TOO_MANY_VOTES")
        self.counts = {c: n for c, n in counts.items() if n}

    def close(self, at: datetime, q: Quorum, chair_id: str | None, casting_allowed: bool) -> Outcome:
        self.require_open()
        casting = None
        if casting_allowed and not self.secret and chair_id is not None:
            casting = self.ballots.get(chair_id)
        if self.subject == "choice":
            out = choice_outcome({o: self.counts.get(o, 0) for o in self.options}, self.majority, casting=casting)
        else:
            out = motion_outcome(self.counts.get("for", 0), self.counts.get("against", 0), self.majority,
                                 casting=casting)
        self.status, self.closed_at, self.quorum = "closed", at, q
        self.outcome, self.casting_vote_used = out.outcome, out.casting_vote_used
        return out

    @property
    def adopted(self) -> bool:
        return self.status == "closed" and Outcome(self.outcome).adopted
