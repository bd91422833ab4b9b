"""Use cases of open sessions for members (docs/board.md, Observers): the secretary opens a
meeting's open items to observers, members in good standing register for themselves (seat or
waiting list), cancel, get their check-in code again; the secretary lists observers and checks
them in at the door; observers read the open part of the agenda.

Access (decided here, on what each use case reads): the secretary's acts are the secretary's in
office (roster: `officer_on(tenant, "secretary", day)`) or an admin's; members act on their own
registrations only; another tenant's meetings and registrations are NOT_FOUND.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from coop_board.domain import roles
from coop_board.domain.links import MeetingSummary
from coop_board.domain.observers import (
    SEATED,
    WAITING,
    ObserverCancelled,
    ObserverPromoted,
    ObserverRegistered,
    ObserverSession,
    ObserverSessionOpened,
    Registration,
    normalize_code,
)
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.board_access import require_owner_or_secretary, require_secretary
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal

SECRETARY_OFFICE = "secretary"
MY_LIST = "board_my_observer_registrations"
OBSERVER_LIST = "board_observers"


@dataclass(frozen=True)
class RegistrationView:
    registration_id: str
    meeting_id: str
    member_id: str
    status: str
    waiting_position: int
    registered_at: datetime
    promoted_at: datetime | None
    cancelled_at: datetime | None
    checked_in_at: datetime | None
    has_check_in_code: bool
    speaking_slot: bool = False

    @classmethod
    def of(cls, r: Registration, waiting_position: int = 0) -> RegistrationView:
        return cls(r.registration_id, r.meeting_id, r.member_id, r.status,
                   waiting_position if r.status == WAITING else 0, r.registered_at, r.promoted_at, r.cancelled_at,
                   r.checked_in_at, r.code_hash is not None, r.speaking_slot)


@dataclass(frozen=True)
class SessionView:
    meeting_id: str
    seats: int
    seats_taken: int
    waiting: int
    registration_deadline: datetime
    meeting_starts_at: datetime

    @classmethod
    def of(cls, s: ObserverSession) -> SessionView:
        return cls(s.meeting_id, s.seats, len(s.seat_holders()), len(s.waiting()), s.registration_deadline,
                   s.meeting_starts_at)


@dataclass(frozen=True)
class AgendaItemView:
    item_id: str
    position: int
    title: LocalizedText
    source: str


@dataclass(frozen=True)
class ObserverAgenda:
    meeting_id: str
    title: LocalizedText
    starts_at: datetime
    items: tuple[AgendaItemView, ...]


# -- shared checks -----------------------------------------------------------------------------

def check_id(value: str, field: str) -> None:
    if not value or len(value) > 64 or not value.isprintable():
        raise InvalidArgument(f"{field} is required (an id of at most 64 characters)", field=field,
                              reason="INVALID_ID")


def check_registration_id(value: str) -> None:
    try:
        ok = str(uuid.UUID(value)) == value
    except (ValueError, AttributeError, TypeError):
        ok = False
    if not ok:
        raise InvalidArgument("registration_id must be a UUID in canonical form", field="registration_id",
                              reason="INVALID_ID")


def meeting(uow: BoardUnitOfWork, caller: Principal, meeting_id: str) -> MeetingSummary:
    found = uow.meetings.summary(caller.tenant, meeting_id)
    if found is None:
        raise NotFound(f"no meeting {meeting_id}", field="meeting_id", reason="MEETING_NOT_FOUND")
    return found


def _open_for_registration(summary: MeetingSummary) -> None:
    if summary.status != "scheduled":
        raise FailedPrecondition(f"the meeting is {summary.status}", field="meeting_id",
                                 reason="MEETING_NOT_SCHEDULED", status=summary.status)
    if not summary.has_open_items:
        raise FailedPrecondition("the meeting has no open items: there is nothing to observe", field="meeting_id",
                                 reason="NO_OPEN_ITEMS")


def session_of(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, *, lock: bool = False) -> ObserverSession:
    session = uow.observers.session(caller.tenant, meeting_id, lock=lock)
    if session is None:
        raise FailedPrecondition("the meeting is not open to observers", field="meeting_id",
                                 reason="NOT_OPEN_TO_OBSERVERS")
    return session


def _own_registration(uow: BoardUnitOfWork, caller: Principal, registration_id: str) -> Registration:
    check_registration_id(registration_id)
    r = uow.observers.registration(caller.tenant, registration_id)
    if r is None:
        raise NotFound(f"no registration {registration_id}", field="registration_id", reason="REGISTRATION_NOT_FOUND")
    return r


# -- the secretary ------------------------------------------------------------------------------

def open_to_observers(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, seats: int,
                      deadline: datetime | None, now: datetime) -> tuple[SessionView, list[str]]:
    """Open (or change) the meeting's session; the registrations seated by a raised limit."""
    check_id(meeting_id, "meeting_id")
    ObserverSession.check_limit(seats)
    if deadline is None:
        raise InvalidArgument("registration_deadline is required", field="registration_deadline",
                              reason="MISSING_DEADLINE")
    with uow:
        require_secretary(uow, caller, now)
        summary = meeting(uow, caller, meeting_id)
        _open_for_registration(summary)
        if deadline >= summary.starts_at:
            raise InvalidArgument("the registration deadline must come before the meeting starts",
                                  field="registration_deadline", reason="DEADLINE_AFTER_START",
                                  starts_at=summary.starts_at.isoformat())
        session = uow.observers.session(caller.tenant, meeting_id, lock=True)
        promoted: list[Registration] = []
        if (session is None or session.seats == 0) and deadline <= now:  # 0 seats: presenters only so far
            raise InvalidArgument("the registration deadline has passed", field="registration_deadline",
                                  reason="DEADLINE_PASSED")
        if session is None:
            session = ObserverSession(caller.tenant, meeting_id, seats, deadline, summary.starts_at, caller.subject,
                                      now, new=True)
        else:
            promoted = session.change(seats, deadline, summary.starts_at, now)
        uow.observers.save(session)
        uow.publish(ObserverSessionOpened(caller.tenant, meeting_id, seats, deadline, summary.starts_at))
        for r in promoted:
            uow.publish(ObserverPromoted(r.tenant, r.meeting_id, r.registration_id, r.member_id, now))
        view = SessionView.of(session)
        uow.commit()
        return view, [r.registration_id for r in promoted]


def list_observers(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, include_cancelled: bool,
                   requested_size: int, token: str, now: datetime
                   ) -> tuple[SessionView, list[RegistrationView], str]:
    """Seat holders in registration order, then the waiting list in order (then cancelled)."""
    check_id(meeting_id, "meeting_id")
    size = page_size(requested_size)
    after = decode_page_token(token, OBSERVER_LIST, 2, types=(int, int))
    with uow:
        uow.read_only()
        require_secretary(uow, caller, now)
        meeting(uow, caller, meeting_id)
        session = session_of(uow, caller, meeting_id)
        rows = uow.observers.listing(caller.tenant, meeting_id, include_cancelled,
                                     (after[0], after[1]) if after else None, size + 1)
        views = [RegistrationView.of(r, session.waiting_position(r.registration_id)) for r in rows[:size]]
        next_token = ""
        if len(rows) > size:
            last = rows[size - 1]
            next_token = encode_page_token(OBSERVER_LIST, _rank(last.status), last.sequence)
        return SessionView.of(session), views, next_token


def _rank(status: str) -> int:
    return {SEATED: 0, WAITING: 1}.get(status, 2)


def check_in(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, code: str, now: datetime) -> RegistrationView:
    check_id(meeting_id, "meeting_id")
    normalize_code(code)
    with uow:
        require_secretary(uow, caller, now)
        summary = meeting(uow, caller, meeting_id)
        if summary.status == "cancelled":
            raise FailedPrecondition("the meeting is cancelled", field="meeting_id", reason="MEETING_NOT_SCHEDULED",
                                     status=summary.status)
        session = session_of(uow, caller, meeting_id, lock=True)
        r = session.check_in(code, caller.subject, now)
        uow.observers.save(session)
        view = RegistrationView.of(r)
        uow.commit()
        return view


# -- presenters (a member initiative's promoters; called by service_layer/member_items.py) ----------

#: Who "opened" a session that holds presenters only (until the secretary opens it to members).
PRESENTERS_ONLY = "member_initiative"


def invite_presenters(uow: BoardUnitOfWork, tenant: str, meeting_id: str, starts_at: datetime,
                      member_ids: tuple[str, ...], now: datetime) -> list[RegistrationView]:
    """Inside the caller's unit: each promoter is seated with a speaking slot, outside the seat
    limit. A meeting not open to observers gets a session of 0 seats (presenters only), which the
    secretary's open_to_observers later opens to members; the presenters keep their places. A
    presenter gets their check-in code with ReissueCheckInCode (ObserverRegistered tells them)."""
    session = uow.observers.session(tenant, meeting_id, lock=True)
    if session is None:
        session = ObserverSession(tenant, meeting_id, 0, starts_at, starts_at, PRESENTERS_ONLY, now, new=True)
    session.meeting_starts_at = starts_at
    invited: list[RegistrationView] = []
    for member_id in dict.fromkeys(member_ids):
        check_id(member_id, "promoter_ids")
        r, promoted = session.invite_presenter(str(uuid.uuid4()), member_id, now)
        if r is None:
            continue
        uow.publish(ObserverRegistered(tenant, meeting_id, r.registration_id, member_id, True, 0, now,
                                       speaking_slot=True))
        if promoted is not None:
            uow.publish(ObserverPromoted(tenant, meeting_id, promoted.registration_id, promoted.member_id, now))
        invited.append(RegistrationView.of(r))
    uow.observers.save(session)
    return invited


# -- members ---------------------------------------------------------------------------------------

def register_as_observer(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, now: datetime,
                         registration_id: str | None = None) -> tuple[RegistrationView, str | None]:
    """The caller registers themself: seated (with the code, shown this once) or waiting."""
    caller.require(roles.MEMBER)
    check_id(meeting_id, "meeting_id")
    with uow:
        summary = meeting(uow, caller, meeting_id)
        _open_for_registration(summary)
        session = session_of(uow, caller, meeting_id, lock=True)
        standing = uow.members.standing(caller.subject)
        if standing is None or not standing.in_good_standing:
            raise FailedPrecondition("only members in good standing may register as observers",
                                     reason="NOT_IN_GOOD_STANDING")
        session.meeting_starts_at = summary.starts_at
        r = session.register(registration_id or str(uuid.uuid4()), caller.subject, now)
        code = session.issue_code(r.registration_id, now) if r.status == SEATED else None
        uow.observers.save(session)
        position = session.waiting_position(r.registration_id)
        uow.publish(ObserverRegistered(r.tenant, r.meeting_id, r.registration_id, r.member_id, r.status == SEATED,
                                       position, now))
        view = RegistrationView.of(r, position)
        uow.commit()
        return view, code


def cancel_registration(uow: BoardUnitOfWork, caller: Principal, registration_id: str,
                        now: datetime) -> tuple[RegistrationView, str | None]:
    """The member cancels their own registration, or the secretary anyone's; a freed seat goes to
    the first member waiting. Returns the cancelled registration and the promoted one's id."""
    caller.require(roles.MEMBER, roles.SECRETARY, roles.ADMIN)
    with uow:
        found = _own_registration(uow, caller, registration_id)
        require_owner_or_secretary(uow, caller, found.member_id, now)
        session = session_of(uow, caller, found.meeting_id, lock=True)
        summary = uow.meetings.summary(caller.tenant, found.meeting_id)
        if summary is not None:
            session.meeting_starts_at = summary.starts_at
        if registration_id not in session.registrations:  # cancelled before (only active ones load)
            session.registrations[registration_id] = found
        was_seated = session.registrations[registration_id].holds_seat
        r, promoted = session.cancel(registration_id, caller.subject, now)
        uow.observers.save(session)
        if promoted is not None:
            uow.publish(ObserverPromoted(promoted.tenant, promoted.meeting_id, promoted.registration_id,
                                         promoted.member_id, now))
        uow.publish(ObserverCancelled(r.tenant, r.meeting_id, r.registration_id, r.member_id,
                                      was_seated,
                                      promoted.registration_id if promoted else None, now))
        view = RegistrationView.of(r)
        uow.commit()
        return view, promoted.registration_id if promoted else None


def reissue_code(uow: BoardUnitOfWork, caller: Principal, registration_id: str,
                 now: datetime) -> tuple[RegistrationView, str]:
    """A seated member's new check-in code (the previous one stops working)."""
    caller.require(roles.MEMBER)
    with uow:
        found = _own_registration(uow, caller, registration_id)
        if found.member_id != caller.subject:
            raise PermissionDenied("you may only get a code for your own registration", reason="NOT_YOUR_REGISTRATION")
        session = session_of(uow, caller, found.meeting_id, lock=True)
        if registration_id not in session.registrations:
            session.registrations[registration_id] = found
        code = session.issue_code(registration_id, now)
        uow.observers.save(session)
        view = RegistrationView.of(session.registrations[registration_id])
        uow.commit()
        return view, code


def list_my_registrations(uow: BoardUnitOfWork, caller: Principal, requested_size: int,
                          token: str) -> tuple[list[RegistrationView], str]:
    caller.require(roles.MEMBER)
    size = page_size(requested_size)
    after = decode_page_token(token, MY_LIST, 2, types=(str, str))
    with uow:
        uow.read_only()
        rows = uow.observers.of_member(caller.tenant, caller.subject, (after[0], after[1]) if after else None,
                                       size + 1)
        views = [RegistrationView.of(r, uow.observers.waiting_position(r.tenant, r.meeting_id, r.sequence)
                                     if r.status == WAITING else 0) for r in rows[:size]]
    next_token = ""
    if len(rows) > size:
        last = rows[size - 1]
        next_token = encode_page_token(MY_LIST, last.registered_at.isoformat(), last.registration_id)
    return views, next_token


# -- observers' view of the agenda ---------------------------------------------------------------------

def observer_agenda(uow: BoardUnitOfWork, caller: Principal, meeting_id: str) -> ObserverAgenda:
    """Open items only (title, position, source): a closed item never reaches an observer."""
    check_id(meeting_id, "meeting_id")
    board = caller.has(*roles.BOARD_READERS)
    if not board:
        caller.require(roles.MEMBER, *roles.BOARD_READERS)
    with uow:
        uow.read_only()
        summary = meeting(uow, caller, meeting_id)
        if not board:
            session = uow.observers.session(caller.tenant, meeting_id)
            if session is None or session.active_of(caller.subject) is None:
                raise PermissionDenied("only the meeting's registered observers may read its agenda here",
                                       reason="NOT_AN_OBSERVER")
        record = uow.meetings.record(caller.tenant, meeting_id)
        if not board and not summary.agenda_published:
            record = None  # the secretary's draft agenda is not yet the members'
        items = () if record is None else tuple(
            AgendaItemView(i.item_id, i.position, i.title, i.source)
            for i in sorted(record.items, key=lambda i: i.position) if i.visibility == "open")
        return ObserverAgenda(meeting_id, summary.title, summary.starts_at, items)

