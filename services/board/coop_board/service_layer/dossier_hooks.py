"""What the meetings side asks of dossiers (owned by the dossiers family; the meetings family
calls these from its vote and decision use cases, inside its own unit of work, no commit).

Texts, proposals, amendments and versions belong to the dossier; votes, quorum and decisions
to the meeting. A proposal is voted after its pending amendments (deepest first):
`proposals_for_vote` lists them in that order, and `record_outcome` refuses an outcome on a
proposal or amendment that still has open amendments (FAILED_PRECONDITION AMENDMENTS_PENDING).

These functions neither enter nor commit the unit: the caller's unit is open, and its commit
writes the dossier's changes and events with the meeting's. They check no role: the meetings
family has checked the caller's (a system or board act), and the tenant is given."""

from __future__ import annotations

from datetime import date, datetime

from coop_board.domain.dossiers import OPEN, SUBMITTED, Dossier
from coop_board.domain.dossiers_events import DossierSentBack
from coop_board.domain.links import ProposalRef
from coop_board.domain.record import AmendmentLine
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.errors import FailedPrecondition, NotFound


def _dossier(uow: BoardUnitOfWork, tenant: str, dossier_id: str, *, lock: bool = False) -> Dossier:
    dossier = uow.dossiers.get(tenant, dossier_id, lock=lock) if dossier_id else None
    if dossier is None:
        raise NotFound(f"no dossier {dossier_id!r}", field="dossier_id", reason="DOSSIER_NOT_FOUND")
    return dossier


def _holding(uow: BoardUnitOfWork, tenant: str, subject_id: str, *, lock: bool = False) -> Dossier:
    dossier_id = uow.dossiers.dossier_of(tenant, subject_id) if subject_id else None
    if dossier_id is None:
        raise NotFound(f"no proposal or amendment {subject_id!r}", field="subject_id", reason="SUBJECT_NOT_FOUND")
    return _dossier(uow, tenant, dossier_id, lock=lock)


def proposals_for_vote(uow: BoardUnitOfWork, tenant: str, dossier_id: str, version: int) -> list[ProposalRef]:
    """Every proposal of that version and every amendment to them (NotFound if absent), in voting
    order: per proposal in submitted order, its amendments deepest first, then the proposal. The
    statuses tell what is still open; a ref's `text` is the text to vote on."""
    return _dossier(uow, tenant, dossier_id).voting_order(version)


def subject(uow: BoardUnitOfWork, tenant: str, subject_id: str) -> ProposalRef:
    """One proposal or amendment (NotFound if absent or another tenant's)."""
    return _holding(uow, tenant, subject_id).ref(subject_id)


def record_outcome(uow: BoardUnitOfWork, tenant: str, subject_id: str, outcome: str, decision_id: str | None,
                   at: datetime) -> None:
    """"adopted" or "rejected" for a proposal or amendment; an adopted amendment's text becomes
    its parent's text to vote on. FailedPrecondition if it is not open (SUBJECT_NOT_OPEN), if
    amendments to it are still open (AMENDMENTS_PENDING), if its version is not the one before
    the board (VERSION_NOT_BEFORE_BOARD), or if another proposal was adopted
    (ANOTHER_PROPOSAL_ADOPTED). An adopted proposal decides the dossier."""
    dossier = _holding(uow, tenant, subject_id, lock=True)
    dossier.record_outcome(subject_id, outcome, decision_id, at)
    uow.dossiers.save(dossier)


def send_back(uow: BoardUnitOfWork, tenant: str, dossier_id: str, version: int, reasons: LocalizedText,
              due_on: date, meeting_id: str, item_id: str, decision_id: str, at: datetime, *,
              closed: bool = False) -> None:
    """The board rejected every proposal of that version: the dossier returns to management,
    who submit the next version by `due_on` (publishes dossier.sent_back). Open proposals and
    amendments of the version become rejected. `closed`: the item was closed (personnel,
    contracts, legal): the event then leaves the reasons out (they stay readable here, by the
    board and management)."""
    dossier = _dossier(uow, tenant, dossier_id, lock=True)
    sent = dossier.send_back(version, reasons, due_on, meeting_id, item_id, decision_id, at)
    uow.dossiers.save(dossier)
    uow.publish(DossierSentBack(dossier, sent, closed))


# --- reads beyond the contract, for the agenda and the meeting's record -------------------------

def version_before_board(uow: BoardUnitOfWork, tenant: str, dossier_id: str) -> tuple[int, LocalizedText]:
    """The version the board has to work on and the dossier's title (to put it on an agenda).
    NotFound if absent; FailedPrecondition DOSSIER_NOT_BEFORE_BOARD when it is a draft, sent back
    (management owes the next version) or decided."""
    dossier = _dossier(uow, tenant, dossier_id)
    if dossier.status != SUBMITTED:
        raise FailedPrecondition(f"dossier {dossier_id} is {dossier.status}: no version is before the board",
                                 field="dossier_id", reason="DOSSIER_NOT_BEFORE_BOARD", status=dossier.status)
    return dossier.latest, dossier.title


def amendment_lines(uow: BoardUnitOfWork, tenant: str, dossier_id: str, version: int) -> list[AmendmentLine]:
    """The amendments of a version as the minutes record them (author, level, text, diff per
    language, outcome "pending" while open), in proposed order."""
    dossier = _dossier(uow, tenant, dossier_id)
    dossier.version(version)
    return [AmendmentLine(a.amendment_id, a.proposal_id, a.parent_id, a.author_id, a.level, a.text, a.diff,
                          "pending" if a.status == OPEN else a.status)
            for a in dossier.amendments_of(version)]
