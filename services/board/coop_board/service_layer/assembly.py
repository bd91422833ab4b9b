"""Use cases of the General Assembly (docs/board.md, The General Assembly): the secretary
schedules it, adds workshops and convenes it; the worker sends the convocations in batches;
members register (plenary, interpretation, up to 3 workshops), cancel, read their registration;
the secretary lists a workshop's members, checks members in; figures of attendance.

Access (decided here): the secretary's acts are the secretary's in office or an admin's
(`require_secretary`); members act on their own registration only; any role of the tenant reads
Assemblies and workshops; another tenant's Assemblies and registrations are NOT_FOUND.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from coop_board.domain import roles
from coop_board.domain.assembly import (
    IN_PERSON,
    AgendaItem,
    Assembly,
    AssemblyDocument,
    AssemblyRegistered,
    AssemblyRegistration,
    AssemblyRules,
    AssemblyScheduled,
    AssemblyWorkshopPromoted,
    AttendanceFigures,
    Workshop,
    WorkshopCounts,
    WorkshopPlace,
    check_registration,
    check_schedule,
    check_workshop,
    convocation,
    member_language,
)
from coop_board.domain.observers import hash_code, new_check_in_code, normalize_code
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.board_access import require_owner_or_secretary, require_secretary
from coop_board.service_layer.observers import check_id, check_registration_id
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
)
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal

ASSEMBLY_LIST = "board_assemblies"
WORKSHOP_LIST = "board_assembly_workshops"
ATTENDEE_LIST = "board_assembly_attendees"
READERS = (roles.MEMBER, *roles.BOARD_READERS)


@dataclass(frozen=True)
class AssemblyView:
    assembly: Assembly
    status: str                          # the stored status, or "held" once started
    agenda: tuple[AgendaItem, ...]
    registered: int


@dataclass(frozen=True)
class WorkshopView:
    workshop: Workshop
    counts: WorkshopCounts


@dataclass(frozen=True)
class Attendee:
    place: WorkshopPlace
    member_id: str
    registered_at: datetime


# -- shared -------------------------------------------------------------------------------------

def _assembly(uow: BoardUnitOfWork, caller: Principal, assembly_id: str, *, lock: bool = False) -> Assembly:
    check_id(assembly_id, "assembly_id")
    found = uow.assemblies.get(caller.tenant, assembly_id, lock=lock)
    if found is None:
        raise NotFound(f"no Assembly {assembly_id}", field="assembly_id", reason="ASSEMBLY_NOT_FOUND")
    return found


def _view(uow: BoardUnitOfWork, a: Assembly, now: datetime) -> AssemblyView:
    registered = uow.assemblies.figures(a.tenant, a.assembly_id)[0]
    return AssemblyView(a, a.status_at(now), a.agenda(uow.assemblies.referrals(a.tenant, a.assembly_id)), registered)


def _workshop_views(uow: BoardUnitOfWork, a: Assembly) -> list[WorkshopView]:
    counts = uow.assemblies.workshop_counts(a.tenant, a.assembly_id)
    return [WorkshopView(w, counts.get(w.workshop_id, WorkshopCounts(0, 0)))
            for w in uow.assemblies.workshops(a.tenant, a.assembly_id)]


def _may_register(standing_good: bool | None, status: str | None, rules: AssemblyRules) -> bool:
    if standing_good is None:
        return False  # not a member the board knows
    if rules.registration_all_members:
        return status in (None, "active", "suspended")
    return bool(standing_good) and status in (None, "active", "suspended")


# -- the secretary ---------------------------------------------------------------------------------

def schedule_assembly(uow: BoardUnitOfWork, caller: Principal, title: LocalizedText, starts_at: datetime | None,
                      place: str, deadline: datetime | None, election_id: str,
                      documents: tuple[AssemblyDocument, ...], now: datetime) -> AssemblyView:
    """A new Assembly; its agenda gets the statutory items and the initiatives waiting for it."""
    caller.require(roles.SECRETARY, roles.ADMIN)
    check_schedule(title, starts_at, place, deadline, election_id, documents, now)
    assert starts_at is not None and deadline is not None
    with uow:
        require_secretary(uow, caller, now)
        a = Assembly(str(uuid.uuid4()), caller.tenant, title, starts_at, place.strip(), deadline, election_id.strip(),
                     documents, now, caller.subject)
        uow.assemblies.add(a)
        uow.assemblies.attach_pending(caller.tenant, a.assembly_id)
        uow.publish(AssemblyScheduled(a.tenant, a.assembly_id, title, starts_at, a.place, deadline, a.election_id))
        view = _view(uow, a, now)
        uow.commit()
        return view


def add_workshop(uow: BoardUnitOfWork, caller: Principal, assembly_id: str, title: LocalizedText, capacity: int,
                 language: str, starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> WorkshopView:
    caller.require(roles.SECRETARY, roles.ADMIN)
    check_id(assembly_id, "assembly_id")
    with uow:
        require_secretary(uow, caller, now)
        a = _assembly(uow, caller, assembly_id, lock=True)
        a.require_not_convened("workshops are added")
        check_workshop(a, title, capacity, language, starts_at, ends_at)
        assert starts_at is not None and ends_at is not None
        w = Workshop(str(uuid.uuid4()), a.tenant, a.assembly_id, title, capacity, language, starts_at, ends_at, now)
        uow.assemblies.add_workshop(w)
        uow.commit()
        return WorkshopView(w, WorkshopCounts(0, 0))


def convene_assembly(uow: BoardUnitOfWork, caller: Principal, assembly_id: str, now: datetime,
                     rules: AssemblyRules) -> AssemblyView:
    """Start the convocation (the worker sends it); refused when the notice can no longer be met."""
    caller.require(roles.SECRETARY, roles.ADMIN)
    check_id(assembly_id, "assembly_id")
    with uow:
        require_secretary(uow, caller, now)
        a = _assembly(uow, caller, assembly_id, lock=True)
        total = uow.members.count(a.tenant, good_standing_only=not rules.convene_all_members)
        a.convene(caller.subject, now, rules, total)
        uow.assemblies.save(a)
        view = _view(uow, a, now)
        uow.commit()
        return view


def send_convocations(uow: BoardUnitOfWork, now: datetime, rules: AssemblyRules) -> tuple[str, int] | None:
    """One batch of one Assembly's convocation (the worker's job): up to `convocation_batch`
    members after the cursor, one assembly.convened each, and the cursor moved, in one
    transaction. The Assembly's row is locked (others skipped), so two replicas never send the
    same batch and a batch cut short (a crash) is sent again whole. None: nothing to send."""
    with uow:
        a = uow.assemblies.claim_convening()
        if a is None:
            return None
        agenda = a.agenda(uow.assemblies.referrals(a.tenant, a.assembly_id))
        members = uow.members.page(a.tenant, a.convocation_cursor or None, rules.convocation_batch,
                                   good_standing_only=not a.convene_all_members)
        for m in members:
            uow.publish(convocation(a, agenda, m.member_id, member_language(m.language, rules)))
        a.record_batch(len(members), members[-1].member_id if members else None,
                       len(members) < rules.convocation_batch, now)
        uow.assemblies.save(a)
        uow.commit()
        return a.assembly_id, len(members)


def settle_workshops(uow: BoardUnitOfWork, now: datetime) -> int:
    """The worker's check: a seat left free while members wait (its taker's unit was rolled back
    after others had skipped it) goes to the first member waiting. Members promoted."""
    promoted = 0
    with uow:
        for a in uow.assemblies.registering(now):
            for workshop_id, registration_id, member_id in uow.assemblies.settle(a.tenant, a.assembly_id, now):
                uow.publish(AssemblyWorkshopPromoted(a.tenant, a.assembly_id, workshop_id, registration_id,
                                                     member_id, now))
                promoted += 1
        uow.commit()
    return promoted


def list_workshop_registrations(uow: BoardUnitOfWork, caller: Principal, assembly_id: str, workshop_id: str,
                                requested_size: int, token: str, now: datetime
                                ) -> tuple[WorkshopView, list[Attendee], str]:
    """Seated in arrival order, then the waiting list in order."""
    check_id(assembly_id, "assembly_id")
    check_id(workshop_id, "workshop_id")
    size = page_size(requested_size)
    after = decode_page_token(token, ATTENDEE_LIST, 2, types=(int, int))
    caller.require(roles.SECRETARY, roles.ADMIN)
    with uow:
        uow.read_only()
        require_secretary(uow, caller, now)
        a = _assembly(uow, caller, assembly_id)
        workshop = _workshop_of(uow, a, workshop_id)
        rows = uow.assemblies.workshop_listing(a.tenant, workshop_id, (after[0], after[1]) if after else None, size + 1)
        counts = uow.assemblies.workshop_counts(a.tenant, a.assembly_id).get(workshop_id, WorkshopCounts(0, 0))
    next_token = ""
    if len(rows) > size:
        last = rows[size - 1][0]
        next_token = encode_page_token(ATTENDEE_LIST, 0 if last.seated else 1, last.arrival)
    return WorkshopView(workshop, counts), [Attendee(*r) for r in rows[:size]], next_token


def _workshop_of(uow: BoardUnitOfWork, a: Assembly, workshop_id: str) -> Workshop:
    w = uow.assemblies.workshop(a.tenant, workshop_id)
    if w is None or w.assembly_id != a.assembly_id:
        raise NotFound(f"no workshop {workshop_id} in this Assembly", field="workshop_id",
                       reason="WORKSHOP_NOT_FOUND")
    return w


def check_in(uow: BoardUnitOfWork, caller: Principal, assembly_id: str, code: str,
             now: datetime) -> AssemblyRegistration:
    caller.require(roles.SECRETARY, roles.ADMIN)
    check_id(assembly_id, "assembly_id")
    normalize_code(code)
    with uow:
        require_secretary(uow, caller, now)
        a = _assembly(uow, caller, assembly_id)
        r = uow.assemblies.by_code(a.tenant, a.assembly_id, hash_code(a.tenant, a.assembly_id, code))
        if r is None or not r.active:
            raise NotFound("no member registered in person for this Assembly has that code", field="check_in_code",
                           reason="CHECK_IN_CODE_UNKNOWN")
        r.check_in(caller.subject, now)
        uow.assemblies.save_registration(r)
        uow.commit()
        return r


def attendance_figures(uow: BoardUnitOfWork, caller: Principal, assembly_id: str) -> AttendanceFigures:
    caller.require(*roles.BOARD_READERS)
    with uow:
        uow.read_only()
        a = _assembly(uow, caller, assembly_id)
        registered, in_person, present, remote = uow.assemblies.figures(a.tenant, a.assembly_id)
        per_workshop = tuple((v.workshop, v.counts) for v in _workshop_views(uow, a))
    return AttendanceFigures(registered, in_person, present, remote, per_workshop)


# -- every role of the tenant ------------------------------------------------------------------------

def get_assembly(uow: BoardUnitOfWork, caller: Principal, assembly_id: str, now: datetime) -> AssemblyView:
    caller.require(*READERS)
    with uow:
        uow.read_only()
        return _view(uow, _assembly(uow, caller, assembly_id), now)


def list_assemblies(uow: BoardUnitOfWork, caller: Principal, requested_size: int, token: str,
                    now: datetime) -> tuple[list[AssemblyView], str]:
    caller.require(*READERS)
    size = page_size(requested_size)
    after = decode_page_token(token, ASSEMBLY_LIST, 2, types=(str, str))
    with uow:
        uow.read_only()
        rows = uow.assemblies.page(caller.tenant, (after[0], after[1]) if after else None, size + 1)
        views = [_view(uow, a, now) for a in rows[:size]]
    next_token = ""
    if len(rows) > size:
        last = rows[size - 1]
        next_token = encode_page_token(ASSEMBLY_LIST, last.starts_at.isoformat(), last.assembly_id)
    return views, next_token


def list_workshops(uow: BoardUnitOfWork, caller: Principal, assembly_id: str, requested_size: int,
                   token: str) -> tuple[list[WorkshopView], str]:
    """In time order; a page token is the position after the last one given."""
    caller.require(*READERS)
    size = page_size(requested_size)
    after = decode_page_token(token, WORKSHOP_LIST, 2, types=(str, str))
    with uow:
        uow.read_only()
        views = _workshop_views(uow, _assembly(uow, caller, assembly_id))
    if after is not None:
        views = [v for v in views if (v.workshop.starts_at.isoformat(), v.workshop.workshop_id) > (after[0], after[1])]
    next_token = ""
    if len(views) > size:
        last = views[size - 1].workshop
        next_token = encode_page_token(WORKSHOP_LIST, last.starts_at.isoformat(), last.workshop_id)
    return views[:size], next_token


# -- members ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegistrationRequest:
    """What a member asks for (RegisterForAssembly)."""
    assembly_id: str
    attendance: str
    language: str
    workshop_ids: tuple[str, ...]


@dataclass(frozen=True)
class Registered:
    """A registration made, and its check-in code (in person), to be shown this once."""
    registration: AssemblyRegistration
    check_in_code: str | None


def _already_registered() -> AlreadyExists:
    return AlreadyExists("you are already registered for this Assembly", field="assembly_id",
                         reason="ALREADY_REGISTERED")


def _not_allowed(rules: AssemblyRules) -> FailedPrecondition:
    return FailedPrecondition("only members may register for the Assembly" if rules.registration_all_members else
                              "only members in good standing may register for the Assembly",
                              reason="NOT_IN_GOOD_STANDING")


def register_many(uow: BoardUnitOfWork, calls: Sequence[tuple[Principal, RegistrationRequest]], now: datetime,
                  rules: AssemblyRules) -> list[Registered | DomainError]:
    """Registrations arriving together (the api's group commit), in one unit: one result per
    call, in order, a refusal for its caller only. Each caller registers themself; a full workshop
    puts them on its waiting list. Per Assembly: one read of it and of its workshops, one of the
    callers' standings, one multi-row insert of the registrations, one statement taking the seats
    (earlier calls first), one of the places. Arrival numbers follow the calls' order, so the
    waiting lists keep it."""
    results: list[Registered | DomainError | None] = [None] * len(calls)
    groups: dict[tuple[str, str], list[int]] = {}
    for n, (caller, req) in enumerate(calls):
        try:
            caller.require(roles.MEMBER)
            check_id(req.assembly_id, "assembly_id")
            for i, wid in enumerate(req.workshop_ids):
                check_id(wid, f"workshop_ids[{i}]")
        except DomainError as exc:
            results[n] = exc
            continue
        groups.setdefault((caller.tenant, req.assembly_id), []).append(n)
    with uow:
        standings = uow.members.standings(sorted({calls[n][0].subject for ns in groups.values() for n in ns}))
        for (tenant, assembly_id), ns in groups.items():
            a = uow.assemblies.get(tenant, assembly_id)
            workshops = {w.workshop_id: w for w in uow.assemblies.workshops(tenant, assembly_id)} if a else {}
            new: list[tuple[int, AssemblyRegistration, str | None]] = []
            members: set[str] = set()
            for n in ns:
                caller, req = calls[n]
                try:
                    if a is None:
                        raise NotFound(f"no Assembly {assembly_id}", field="assembly_id", reason="ASSEMBLY_NOT_FOUND")
                    a.require_registration_open(now)
                    standing = standings.get(caller.subject)
                    if not _may_register(None if standing is None else standing.in_good_standing,
                                         None if standing is None else standing.status, rules):
                        raise _not_allowed(rules)
                    check_registration(req.attendance, req.language, list(req.workshop_ids), workshops)
                    if caller.subject in members:
                        raise _already_registered()
                except DomainError as exc:
                    results[n] = exc
                    continue
                members.add(caller.subject)
                code = new_check_in_code() if req.attendance == IN_PERSON else None
                new.append((n, AssemblyRegistration(
                    str(uuid.uuid4()), tenant, assembly_id, caller.subject, req.attendance, req.language, now,
                    code_hash=hash_code(tenant, assembly_id, code) if code else None,
                    code_issued_at=now if code else None), code))
            if not new:
                continue
            arrivals = uow.assemblies.add_registrations([r for _, r, _ in new])
            for n, r, _ in new:
                if r.registration_id not in arrivals:
                    results[n] = _already_registered()
            kept = [(n, r, code) for n, r, code in new if r.registration_id in arrivals]
            chosen = {r.registration_id: list(calls[n][1].workshop_ids) for n, r, _ in kept}
            seated = uow.assemblies.take_seats(tenant, list(chosen.items()))
            places = uow.assemblies.add_places(tenant, assembly_id, [
                (rid, [(wid, wid in seated.get(rid, set())) for wid in wids], arrivals[rid])
                for rid, wids in chosen.items()])
            for n, r, code in kept:
                r.places = places.get(r.registration_id, [])
                uow.publish(AssemblyRegistered(
                    r.tenant, r.assembly_id, r.registration_id, r.member_id, r.attendance, r.interpretation_language,
                    tuple((p.workshop_id, p.seated, p.waiting_position) for p in r.places), now))
                results[n] = Registered(r, code)
        uow.commit()
    return [r for r in results if r is not None]


def register(uow: BoardUnitOfWork, caller: Principal, assembly_id: str, attendance: str, language: str,
             workshop_ids: list[str], now: datetime, rules: AssemblyRules
             ) -> tuple[AssemblyRegistration, str | None]:
    """One registration (register_many of one call): it and its check-in code, or its refusal
    raised."""
    (outcome,) = register_many(uow, [(caller, RegistrationRequest(assembly_id, attendance, language,
                                                                  tuple(workshop_ids)))], now, rules)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome.registration, outcome.check_in_code


def _registration(uow: BoardUnitOfWork, caller: Principal, registration_id: str) -> AssemblyRegistration:
    check_registration_id(registration_id)
    r = uow.assemblies.registration(caller.tenant, registration_id, lock=True)
    if r is None:
        raise NotFound(f"no registration {registration_id}", field="registration_id", reason="REGISTRATION_NOT_FOUND")
    return r


def cancel_registration(uow: BoardUnitOfWork, caller: Principal, registration_id: str, now: datetime
                        ) -> tuple[AssemblyRegistration, list[tuple[str, str]]]:
    """The member's own, or the secretary's for anyone; each freed workshop seat goes to the
    first member waiting. Returns the registration and (workshop id, promoted registration id)."""
    caller.require(roles.MEMBER, roles.SECRETARY, roles.ADMIN)
    with uow:
        r = _registration(uow, caller, registration_id)
        require_owner_or_secretary(uow, caller, r.member_id, now)
        a = _assembly(uow, caller, r.assembly_id)
        held = [p.workshop_id for p in r.places if p.active and p.seated]
        r.cancel(caller.subject, now, a)
        uow.assemblies.save_registration(r)
        promotions = []
        for wid in held:
            promoted = uow.assemblies.hand_over_seat(a.tenant, wid, r.registration_id, now)
            if promoted is not None:
                promotions.append((wid, promoted[0]))
                uow.publish(AssemblyWorkshopPromoted(a.tenant, a.assembly_id, wid, promoted[0], promoted[1], now))
        uow.commit()
        return r, promotions


def my_registration(uow: BoardUnitOfWork, caller: Principal, assembly_id: str) -> AssemblyRegistration:
    caller.require(roles.MEMBER)
    with uow:
        uow.read_only()
        a = _assembly(uow, caller, assembly_id)
        r = uow.assemblies.registration_of(a.tenant, a.assembly_id, caller.subject)
    if r is None:
        raise NotFound("you are not registered for this Assembly", field="assembly_id", reason="NOT_REGISTERED")
    return r


def reissue_code(uow: BoardUnitOfWork, caller: Principal, registration_id: str,
                 now: datetime) -> tuple[AssemblyRegistration, str]:
    caller.require(roles.MEMBER)
    with uow:
        r = _registration(uow, caller, registration_id)
        if r.member_id != caller.subject:
            raise PermissionDenied("you may only get a code for your own registration", reason="NOT_YOUR_REGISTRATION")
        r.require_code_holder()
        code = new_check_in_code()
        r.code_hash, r.code_issued_at = hash_code(r.tenant, r.assembly_id, code), now
        uow.assemblies.save_registration(r)
        uow.commit()
        return r, code
