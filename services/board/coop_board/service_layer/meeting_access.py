"""Who may do what with a meeting (docs/board.md, Access), decided on what was read.

- secretary (the director elected to that office on the day) and admin run meetings;
- directors (sitting on the meeting's day) vote, declare, pull items and read everything;
- management reads open items and the closed items of its dossiers, and owns actions;
- members read only the open items of a published agenda.
A meeting of another tenant is NOT_FOUND, never revealed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coop_board.domain import roles
from coop_board.domain.meetings import AgendaItem, Meeting
from coop_board.service_layer.board_access import (  # noqa: F401 - the meetings family's access vocabulary
    require_board_reader,
    require_secretary,
    require_sitting_director,
    seated,
)
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.clock import local_date
from coop_domain.errors import NotFound, PermissionDenied
from coop_domain.principal import Principal

FULL_READERS = (roles.DIRECTOR, roles.SECRETARY, roles.ADMIN)


def not_found(meeting_id: str) -> NotFound:
    return NotFound(f"no meeting {meeting_id}", field="meeting_id", reason="MEETING_NOT_FOUND")


def load(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, *, for_update: bool = False) -> Meeting:
    m = uow.meetings.get(caller.tenant, meeting_id, for_update=for_update) if meeting_id else None
    if m is None or m.tenant != caller.tenant:
        raise not_found(meeting_id)
    return m


#: Who runs a meeting: the secretary in office, or an admin (board_access.require_secretary).
require_runner = require_secretary


def sitting_ids(uow: BoardUnitOfWork, m: Meeting) -> tuple[str, ...]:
    ids = tuple(sorted(d.director_id for d in uow.roster.sitting_on(m.tenant, local_date(m.starts_at))))
    m.sitting = ids
    return ids


@dataclass(frozen=True)
class ItemView:
    item: AgendaItem
    redacted: bool                      # title only


@dataclass(frozen=True)
class MeetingView:
    meeting: Meeting
    items: tuple[ItemView, ...]
    full: bool                          # the board's view: link, attendance, votes, declarations
    frozen: bool


def visible(caller: Principal, m: Meeting, now: datetime) -> MeetingView:
    """The meeting as this caller may read it (NotFound when they may not read it at all)."""
    frozen = m.is_frozen(now)
    if caller.has(*FULL_READERS):
        return MeetingView(m, tuple(ItemView(it, False) for it in m.items), True, frozen)
    if caller.has(roles.MANAGEMENT):
        return MeetingView(m, tuple(ItemView(it, it.closed and it.source != "dossier") for it in m.items),
                           False, frozen)
    if caller.has(roles.MEMBER) and m.agenda_published and m.status != "cancelled":
        return MeetingView(m, tuple(ItemView(it, False) for it in m.items if not it.closed), False, frozen)
    if caller.has(roles.MEMBER):
        raise not_found(m.meeting_id)
    raise PermissionDenied("this call needs a board role or a published agenda", reason="ROLE_REQUIRED")
