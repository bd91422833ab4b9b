"""Use cases of member initiatives before and after the signatures (docs/board.md, Member
initiatives): a member drafts, invites co-promoters who answer, submits; the secretary or
management decides admissibility; members and the board read; the secretary publishes the
board's outcome. The signatures, the count and the timers are in initiatives_collection.py.

Access (decided here): tenant "coop" only (another tenant's initiative is NOT_FOUND); a draft is
visible to its committee only (author and invitees), a submitted initiative also to the board's
roles, every other status to every member; the author alone changes and submits the draft.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from coop_board.domain import roles
from coop_board.domain.initiatives import (
    DRAFT,
    REFERRED_TO_ASSEMBLY,
    STATUSES,
    SUBMITTED,
    TENANT,
    Initiative,
    InitiativeRules,
    require_eligible,
)
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import assembly_hooks
from coop_board.service_layer.board_access import require_secretary, seated
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.errors import InvalidArgument, NotFound, PermissionDenied
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal

LIST = "board_initiatives"
READERS = (roles.MEMBER, *roles.BOARD_READERS)


@dataclass(frozen=True)
class InitiativeView:
    """An initiative as one reader sees it: `full_committee` shows every invitation (the
    committee and the board), otherwise only the author and those who accepted."""

    initiative: Initiative
    signature_count: int
    full_committee: bool


# -- shared checks -------------------------------------------------------------------------------

def check_initiative_id(value: str) -> None:
    try:
        ok = str(uuid.UUID(value)) == value
    except (ValueError, AttributeError, TypeError):
        ok = False
    if not ok:
        raise InvalidArgument("initiative_id must be a UUID in canonical form", field="initiative_id",
                              reason="INVALID_ID")


def not_found(initiative_id: str) -> NotFound:
    return NotFound(f"no initiative {initiative_id}", field="initiative_id", reason="INITIATIVE_NOT_FOUND")


def is_board(uow: BoardUnitOfWork, caller: Principal) -> bool:
    """A board reader as the roster sees them today (a former director reads as a member)."""
    return seated(uow, caller).has(*roles.BOARD_READERS)


def readable(uow: BoardUnitOfWork, caller: Principal, initiative_id: str, *, lock: bool = False
             ) -> tuple[Initiative, bool]:
    """The initiative if the caller may read it (else NOT_FOUND: a draft's existence is private),
    and whether they see the whole committee. Inside the caller's unit."""
    caller.require(*READERS)
    check_initiative_id(initiative_id)
    found = uow.initiatives.get(caller.tenant, initiative_id, lock=lock)
    if found is None:
        raise not_found(initiative_id)
    committee = caller.has(roles.MEMBER) and found.committee_member(caller.subject)
    if committee:
        return found, True
    if found.status == DRAFT:
        raise not_found(initiative_id)
    board = is_board(uow, caller)
    if found.status == SUBMITTED and not board:
        raise not_found(initiative_id)
    return found, board


def _own_draft(uow: BoardUnitOfWork, caller: Principal, initiative_id: str) -> Initiative:
    caller.require(roles.MEMBER)
    found, _ = readable(uow, caller, initiative_id, lock=True)
    return found


def _view(uow: BoardUnitOfWork, found: Initiative, full: bool) -> InitiativeView:
    count = uow.initiatives.count(found.tenant, found.initiative_id) if found.opens_at else 0
    return InitiativeView(found, count, full)


def _member_of_the_cooperative(caller: Principal) -> None:
    caller.require(roles.MEMBER)
    if caller.tenant != TENANT:
        raise PermissionDenied("initiatives are the cooperative's members' own", reason="NOT_THE_COOPERATIVE")


# -- the author and the committee ----------------------------------------------------------------

def draft_initiative(uow: BoardUnitOfWork, caller: Principal, language: str, title: LocalizedText,
                     text: LocalizedText, question: LocalizedText, now: datetime, rules: InitiativeRules,
                     initiative_id: str | None = None) -> InitiativeView:
    _member_of_the_cooperative(caller)
    draft = Initiative.draft(initiative_id or str(uuid.uuid4()), caller.tenant, caller.subject, language, title,
                             text, question, now, rules)
    with uow:
        require_eligible(uow.members.standing(caller.subject), "draft an initiative")
        uow.initiatives.save(draft)
        view = InitiativeView(draft, 0, True)
        uow.commit()
        return view


def update_draft(uow: BoardUnitOfWork, caller: Principal, initiative_id: str, language: str,
                 title: LocalizedText, text: LocalizedText, question: LocalizedText) -> InitiativeView:
    with uow:
        found = _own_draft(uow, caller, initiative_id)
        found.update_draft(caller.subject, language, title, text, question)
        uow.initiatives.save(found)
        uow.commit()
        return InitiativeView(found, 0, True)


def invite_promoters(uow: BoardUnitOfWork, caller: Principal, initiative_id: str, member_ids: list[str],
                     now: datetime) -> InitiativeView:
    with uow:
        found = _own_draft(uow, caller, initiative_id)
        found.invite(caller.subject, member_ids, now)
        uow.initiatives.save(found)
        uow.commit()
        return InitiativeView(found, 0, True)


def answer_invitation(uow: BoardUnitOfWork, caller: Principal, initiative_id: str, accept: bool,
                      now: datetime) -> InitiativeView:
    with uow:
        found = _own_draft(uow, caller, initiative_id)
        found.answer(caller.subject, accept, uow.members.standing(caller.subject), now)
        uow.initiatives.save(found)
        uow.commit()
        return InitiativeView(found, 0, True)


def submit_initiative(uow: BoardUnitOfWork, caller: Principal, initiative_id: str, now: datetime,
                      rules: InitiativeRules) -> InitiativeView:
    with uow:
        found = _own_draft(uow, caller, initiative_id)
        uow.publish(found.submit(caller.subject, now, rules))
        uow.initiatives.save(found)
        uow.commit()
        return InitiativeView(found, 0, True)


# -- admissibility ---------------------------------------------------------------------------------

def require_admissibility_judge(uow: BoardUnitOfWork, caller: Principal, now: datetime) -> None:
    """Management (the delegated administration, by its role, as for dossiers), or the
    secretary in office (or an admin)."""
    if caller.has(roles.MANAGEMENT):
        return
    require_secretary(uow, caller, now)


def decide_admissibility(uow: BoardUnitOfWork, caller: Principal, initiative_id: str, admissible: bool,
                         reason: LocalizedText, now: datetime, rules: InitiativeRules) -> InitiativeView:
    check_initiative_id(initiative_id)
    with uow:
        require_admissibility_judge(uow, caller, now)
        found = uow.initiatives.get(caller.tenant, initiative_id, lock=True)
        if found is None or found.status == DRAFT:
            raise not_found(initiative_id)
        if admissible:
            if not reason.empty:
                raise InvalidArgument("an admissible initiative takes no refusal reason", field="refusal_reason",
                                      reason="REASON_WITHOUT_REFUSAL")
            for event in found.admit(caller.subject, now, rules, uow.members.count_in_good_standing(found.tenant)):
                uow.publish(event)
        else:
            uow.publish(found.refuse(caller.subject, reason, now))
        uow.initiatives.save(found)
        uow.commit()
        return InitiativeView(found, 0, True)


def default_admissibility(uow: BoardUnitOfWork, tenant: str, initiative_id: str, now: datetime,
                          rules: InitiativeRules) -> bool:
    """The timer: nobody decided within the delay, so the initiative is admissible by default
    (recorded). Skips an initiative another replica holds; False when there was nothing to do."""
    with uow:
        found = uow.initiatives.get(tenant, initiative_id, lock=True, skip_locked=True)
        if found is None or not found.admissibility_lapsed(now):
            return False
        for event in found.admit(None, now, rules, uow.members.count_in_good_standing(tenant)):
            uow.publish(event)
        uow.initiatives.save(found)
        uow.commit()
        return True


# -- reading ---------------------------------------------------------------------------------------

def get_initiative(uow: BoardUnitOfWork, caller: Principal, initiative_id: str) -> InitiativeView:
    with uow:
        uow.read_only()
        found, full = readable(uow, caller, initiative_id)
        return _view(uow, found, full)


def list_initiatives(uow: BoardUnitOfWork, caller: Principal, status: str | None, mine: bool,
                     requested_size: int, token: str) -> tuple[list[InitiativeView], str]:
    """Newest first; drafts only to their committee, submitted ones also to the board."""
    caller.require(*READERS)
    if status is not None and status not in STATUSES:
        raise InvalidArgument("status is not an initiative status", field="status", reason="INVALID_STATUS")
    size = page_size(requested_size)
    after = decode_page_token(token, LIST, 2, types=(str, str))
    with uow:
        uow.read_only()
        board = is_board(uow, caller)
        member = caller.subject if caller.has(roles.MEMBER) else ""
        rows = uow.initiatives.listing(caller.tenant, member, board, mine, status,
                                       (after[0], after[1]) if after else None, size + 1)
        page = rows[:size]
        counted = uow.initiatives.counts(caller.tenant, [r.initiative_id for r in page if r.opens_at])
        views = [InitiativeView(r, counted.get(r.initiative_id, 0), board or r.committee_member(member))
                 for r in page]
    next_token = ""
    if len(rows) > size:
        last = rows[size - 1]
        next_token = encode_page_token(LIST, last.created_at.isoformat(), last.initiative_id)
    return views, next_token


# -- the board's outcome ---------------------------------------------------------------------------

def publish_outcome(uow: BoardUnitOfWork, caller: Principal, initiative_id: str, kind: str, text: LocalizedText,
                    now: datetime) -> InitiativeView:
    """Once the meeting that carried the item was held; "referred" puts the initiative before the
    next General Assembly. Publishing closes the initiative."""
    check_initiative_id(initiative_id)
    with uow:
        require_secretary(uow, caller, now)
        found = uow.initiatives.get(caller.tenant, initiative_id, lock=True)
        if found is None or found.status == DRAFT:
            raise not_found(initiative_id)
        found.check_outcome(kind, text)
        assembly_id = None
        if kind == REFERRED_TO_ASSEMBLY:
            assembly_id = assembly_hooks.refer_initiative_to_assembly(uow, found.tenant, initiative_id, found.title,
                                                                      now)
        uow.publish(found.publish_outcome(kind, text, caller.subject, now, assembly_id))
        uow.initiatives.save(found)
        view = _view(uow, found, True)
        uow.commit()
        return view
