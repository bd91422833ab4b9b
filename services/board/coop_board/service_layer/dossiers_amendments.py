"""Use cases of amendments: a director proposes a new text for an open proposal (or for an
open amendment: two levels at most) of the version before the board, and may withdraw it.
The board's readers list them. Votes on them are the meetings family's (dossier_hooks)."""

from __future__ import annotations

from datetime import date, datetime

from coop_board.domain import roles
from coop_board.domain.dossiers import Amendment
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.board_access import require_sitting_director, seated
from coop_board.service_layer.dossiers import load, new_id, require_reader
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.clock import local_date
from coop_domain.errors import NotFound
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal


def _dossier_of(uow: BoardUnitOfWork, caller: Principal, subject_id: str, field: str) -> str:
    dossier_id = uow.dossiers.dossier_of(caller.tenant, subject_id) if subject_id else None
    if dossier_id is None:
        raise NotFound(f"no proposal or amendment {subject_id!r}", field=field, reason="SUBJECT_NOT_FOUND")
    return dossier_id


def propose_amendment(uow: BoardUnitOfWork, caller: Principal, parent_id: str, text: LocalizedText,
                      at: datetime) -> tuple[str, Amendment]:
    """A director sitting on the board that day amends a proposal or an amendment (level 1 or 2;
    a third level is refused)."""
    caller.require(roles.DIRECTOR)
    with uow:
        sitting = tuple(d.director_id for d in uow.roster.sitting_on(caller.tenant, local_date(at)))
        require_sitting_director(caller, sitting, field="parent_id")
        dossier = load(uow, caller, _dossier_of(uow, caller, parent_id, "parent_id"), lock=True, field="parent_id")
        amendment = dossier.propose_amendment(new_id(), parent_id, text, caller.subject, at)
        uow.dossiers.save(dossier)
        uow.commit()
    return dossier.dossier_id, amendment


def withdraw_amendment(uow: BoardUnitOfWork, caller: Principal, amendment_id: str,
                       at: datetime) -> tuple[str, Amendment]:
    """Its author withdraws an open amendment (and the open amendments to it)."""
    caller.require(roles.DIRECTOR)
    with uow:
        dossier = load(uow, caller, _dossier_of(uow, caller, amendment_id, "amendment_id"), lock=True,
                       field="amendment_id")
        if amendment_id not in dossier.amendments:
            raise NotFound(f"{amendment_id} is a proposal, not an amendment", field="amendment_id",
                           reason="AMENDMENT_NOT_FOUND")
        amendment = dossier.withdraw_amendment(amendment_id, caller.subject, at)
        uow.dossiers.save(dossier)
        uow.commit()
    return dossier.dossier_id, amendment


def list_amendments(uow: BoardUnitOfWork, caller: Principal, dossier_id: str, version: int, proposal_id: str,
                    requested_size: int, token: str, *, today: date | None = None) -> tuple[list[Amendment], str]:
    """Amendments of one version (0: the latest), optionally of one proposal, in proposed order."""
    require_reader(caller)
    size = page_size(requested_size)
    kind = f"amendments:{dossier_id}:{version}:{proposal_id}"
    position = decode_page_token(token, kind, 1)
    start = int(position[0]) if position and str(position[0]).isdigit() else 0
    with uow:
        uow.read_only()
        require_reader(seated(uow, caller, today))  # a director sitting today
        dossier = load(uow, caller, dossier_id)
    if not dossier.versions and version == 0:
        return [], ""
    chosen = dossier.version(version)
    if proposal_id and dossier.proposal(proposal_id) is None:
        raise NotFound(f"no proposal {proposal_id!r} in this dossier", field="proposal_id",
                       reason="PROPOSAL_NOT_FOUND")
    found = [a for a in dossier.amendments_of(chosen.number) if not proposal_id or a.proposal_id == proposal_id]
    page = found[start:start + size]
    return page, encode_page_token(kind, start + size) if start + size < len(found) else ""
