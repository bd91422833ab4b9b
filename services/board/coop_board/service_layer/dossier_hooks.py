"""What the meetings side asks of dossiers (owned by the dossiers family; the meetings family
calls these from its vote and decision use cases, inside its own unit of work, no commit).

Texts, proposals, amendments and versions belong to the dossier; votes, quorum and decisions
to the meeting. A proposal is voted after its pending amendments (deepest first)."""

from __future__ import annotations

from datetime import date, datetime

from coop_board.domain.links import ProposalRef
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.ports import BoardUnitOfWork


def proposals_for_vote(uow: BoardUnitOfWork, tenant: str, dossier_id: str, version: int) -> list[ProposalRef]:
    """Every proposal of that version and every amendment to them (NotFound if absent)."""
    raise NotImplementedError("the dossiers family implements it")


def subject(uow: BoardUnitOfWork, tenant: str, subject_id: str) -> ProposalRef:
    """One proposal or amendment (NotFound if absent or another tenant's)."""
    raise NotImplementedError("the dossiers family implements it")


def record_outcome(uow: BoardUnitOfWork, tenant: str, subject_id: str, outcome: str, decision_id: str | None,
                   at: datetime) -> None:
    """"adopted" or "rejected" for a proposal or amendment; an adopted amendment's text becomes
    its parent's text to vote on. FailedPrecondition if it is not open."""
    raise NotImplementedError("the dossiers family implements it")


def send_back(uow: BoardUnitOfWork, tenant: str, dossier_id: str, version: int, reasons: LocalizedText,
              due_on: date, meeting_id: str, item_id: str, decision_id: str, at: datetime) -> None:
    """The board rejected every proposal of that version: the dossier returns to management,
    who submit the next version by `due_on` (publishes dossier.sent_back)."""
    raise NotImplementedError("the dossiers family implements it")
