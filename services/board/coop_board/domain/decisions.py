"""A decision of the board on one item, and the follow-up actions it sets (owners from the
delegated administration, due dates; overdue ones are listed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from coop_board.domain.texts import LocalizedText
from coop_domain.errors import FailedPrecondition, InvalidArgument

KINDS = ("adopted", "sent_back")


@dataclass
class Action:
    action_id: str
    tenant: str
    decision_id: str
    meeting_id: str
    description: LocalizedText
    owner_id: str
    due_on: date
    done_on: date | None = None
    closed: bool = False                # the decision's item is closed

    def overdue(self, today: date) -> bool:
        return self.done_on is None and today > self.due_on

    def mark_done(self, on: date) -> None:
        if self.done_on is not None:
            raise FailedPrecondition("the action was done already", field="action_id", reason="ACTION_DONE")
        self.done_on = on


@dataclass
class Decision:
    decision_id: str
    tenant: str
    meeting_id: str
    item_id: str
    item_kind: str
    kind: str                           # one of KINDS
    title: LocalizedText
    adopted_text: LocalizedText
    closed: bool
    vote_id: str | None
    proposal_id: str | None
    dossier_id: str | None
    counts: dict[str, int]
    ballots: dict[str, str]             # empty for a secret vote
    recused: tuple[str, ...]
    effective_on: date | None
    decided_at: datetime
    actions: list[Action] = field(default_factory=list)
    send_back_reasons: LocalizedText | None = None
    send_back_due_on: date | None = None

    @property
    def adopted(self) -> bool:
        return self.kind == "adopted"


def check_action(description: LocalizedText, owner_id: str, due_on: date | None, n: int) -> None:
    where = f"actions[{n}]"
    if description.empty:
        raise InvalidArgument("an action says what is to be done", field=f"{where}.description",
                              reason="ACTION_DESCRIPTION_MISSING")
    if not owner_id or len(owner_id) > 100:
        raise InvalidArgument("an action has an owner", field=f"{where}.owner_id", reason="ACTION_OWNER_MISSING")
    if due_on is None:
        raise InvalidArgument("an action has a due date", field=f"{where}.due_date", reason="ACTION_DUE_MISSING")
