"""Access rules every family of the board shares, decided on what the roster says: a role in the
token is necessary, never sufficient (docs/board.md, Access). Inside the caller's unit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from coop_board.domain import roles
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.clock import local_date, utcnow
from coop_domain.errors import FailedPrecondition, PermissionDenied
from coop_domain.principal import Principal


def require_secretary(uow: BoardUnitOfWork, caller: Principal, when: date | datetime) -> None:
    """An admin, or the director holding the secretary's office that day (the role in the token
    is necessary, not sufficient). Inside the caller's unit. The minutes and observers families
    check the secretary's acts with it too."""
    if caller.has(roles.ADMIN):
        return
    caller.require(roles.SECRETARY, roles.ADMIN)
    day = local_date(when) if isinstance(when, datetime) else when
    if uow.roster.officer_on(caller.tenant, "secretary", day) != caller.subject:
        raise PermissionDenied("only the board's secretary in office (or an admin) does this",
                               reason="NOT_THE_SECRETARY")


def require_sitting_director(caller: Principal, sitting: tuple[str, ...], field: str = "meeting_id") -> None:
    caller.require(roles.DIRECTOR)
    if caller.subject not in sitting:
        raise FailedPrecondition("a director votes and declares only while sitting on the board",
                                 field=field, reason="NOT_A_SITTING_DIRECTOR")


def seated(uow: BoardUnitOfWork, caller: Principal, day: date | None = None) -> Principal:
    """The caller as the roster sees them on `day` (today): a `director` or `secretary` token
    whose subject does not sit on the board that day loses those two roles and keeps its others
    (a former director's token reads what a member reads). The identity provider should withdraw
    the roles when a mandate ends; this holds even when it does not. Inside the caller's unit."""
    board_roles = caller.roles & {roles.DIRECTOR, roles.SECRETARY}
    if not board_roles:
        return caller
    sitting = {d.director_id for d in uow.roster.sitting_on(caller.tenant, day or local_date(utcnow()))}
    return caller if caller.subject in sitting else replace(caller, roles=caller.roles - board_roles)


def require_board_reader(caller: Principal) -> None:
    caller.require(*roles.BOARD_READERS)


def require_owner_or_secretary(uow: BoardUnitOfWork, caller: Principal, owner: str, when: date | datetime) -> None:
    """A member acting on their own registration, or the secretary in office (or an admin) on
    anyone's (observers, the General Assembly). Inside the caller's unit."""
    if caller.has(roles.MEMBER) and owner == caller.subject:
        return
    if not caller.has(roles.SECRETARY, roles.ADMIN):
        raise PermissionDenied("you may cancel only your own registration", reason="NOT_YOUR_REGISTRATION")
    require_secretary(uow, caller, when)
