"""Use cases of the roster: the board on a day, mandates (from elections or loaded by an admin),
early ends, completed terms. Access: every board role and members read (members the public
roster: no standing flags, no early end reasons); writes are the admin's; mandates from an
election are the worker's (system principal)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date

from coop_board.domain import roles
from coop_board.domain.officers import OfficerTerm
from coop_board.domain.roster import (
    CompositionCheck,
    ElectionResults,
    Mandate,
    RosterDay,
    RosterSettings,
    check_new_mandate,
    closed_by_assembly,
    free_seat,
    roster_on,
)
from coop_board.domain.roster_events import MandateEnded, MandateStarted
from coop_board.service_layer.board_access import seated
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.errors import InvalidArgument, NotFound
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal

log = logging.getLogger(__name__)
READERS = (roles.DIRECTOR, roles.SECRETARY, roles.MANAGEMENT, roles.ADMIN, roles.MEMBER)
MANDATES_LIST = "mandates"


def require_reader(caller: Principal) -> None:
    caller.require(*READERS)


def public_view(uow: BoardUnitOfWork, caller: Principal, today: date) -> bool:
    """Inside an open unit: check the caller may read the roster; True when they read only its
    public part. Admins and management read it all; a director or the secretary only while the
    token's subject sits on the board today (a role is necessary, not sufficient); members and
    former directors read the public part."""
    require_reader(caller)
    return not seated(uow, caller, today).has(roles.ADMIN, roles.MANAGEMENT, roles.DIRECTOR, roles.SECRETARY)


@dataclass(frozen=True)
class RosterView:
    roster: RosterDay
    officers: tuple[OfficerTerm, ...]     # the terms covering the day, held by sitting directors
    public: bool
    seats: int


def roster_of(uow: BoardUnitOfWork, tenant: str, day: date, settings: RosterSettings) -> RosterDay:
    """Inside an open unit: the roster of `day` from the stored mandates and the projection."""
    mandates = uow.roster.mandates(tenant)
    standings = uow.members.standings(sorted({m.director_id for m in mandates if m.covers(day)}))
    return roster_on(day, mandates, standings, settings.seats, settings.rule)


def get_roster(uow: BoardUnitOfWork, caller: Principal, day: date, settings: RosterSettings, *,
               today: date) -> RosterView:
    require_reader(caller)
    with uow:
        reader = uow.read_only()
        public = public_view(reader, caller, today)
        roster = roster_of(reader, caller.tenant, day, settings)
        sitting = {line.director.director_id for line in roster.sitting}
        officers = tuple(t for t in reader.roster.officer_terms(caller.tenant)
                         if t.covers(day) and t.director_id in sitting)
    return RosterView(roster, tuple(sorted(officers, key=lambda t: t.office)), public, len(settings.seats))


def list_mandates(uow: BoardUnitOfWork, caller: Principal, requested: int, token: str, *, today: date,
                  director_id: str | None = None, seat_id: str | None = None,
                  covering: date | None = None) -> tuple[list[Mandate], str, bool]:
    require_reader(caller)
    size = page_size(requested)
    position = decode_page_token(token, MANDATES_LIST, 2)
    with uow:
        reader = uow.read_only()
        public = public_view(reader, caller, today)
        found = reader.roster.page(caller.tenant, director_id=director_id, seat_id=seat_id,
                                            covering=covering, after=tuple(position) if position else None,
                                            limit=size + 1)
    more = len(found) > size
    found = found[:size]
    next_token = encode_page_token(MANDATES_LIST, found[-1].start.isoformat(), found[-1].mandate_id) if more else ""
    return found, next_token, public


def _composition_on_term(uow: BoardUnitOfWork, tenant: str, start: date, end: date,
                         settings: RosterSettings) -> CompositionCheck:
    """The rule on every day of [start, end) where the board changes: the first breach, or the
    verdict on the start day."""
    mandates = uow.roster.mandates(tenant)
    days = sorted({start} | {d for m in mandates for d in (m.start, m.last_covered_before) if start < d < end})
    standings = uow.members.standings(sorted({m.director_id for m in mandates}))
    first = None
    for day in days:
        check = roster_on(day, mandates, standings, settings.seats, settings.rule).composition
        first = first or check
        if not check.ok:
            return check
    assert first is not None
    return first


def _create(uow: BoardUnitOfWork, tenant: str, director_id: str, seat_id: str | None, start: date, end: date,
            election_id: str | None, settings: RosterSettings) -> Mandate:
    existing = uow.roster.mandates(tenant)
    seat = seat_id or free_seat(settings.seats, start, end, existing)
    check_new_mandate(director_id, seat, start, end, settings.seats, existing)
    mandate = Mandate(str(uuid.uuid4()), tenant, director_id, seat, start, end, election_id)
    uow.roster.add(mandate)
    uow.publish(MandateStarted(mandate))
    return mandate


def create_mandate(uow: BoardUnitOfWork, caller: Principal, settings: RosterSettings, *, director_id: str,
                   seat_id: str | None, start: date | None, end: date | None,
                   election_id: str | None = None) -> tuple[Mandate, CompositionCheck]:
    """An admin loads a mandate (a board that predates the service, or a correction): refused when
    it overlaps another on its seat; a composition it breaks is answered (and flagged on the
    roster), not refused: the Assembly elected the board."""
    caller.require(roles.ADMIN)
    if start is None:
        raise InvalidArgument("a mandate needs its start date", field="start_date", reason="START_DATE_REQUIRED")
    if end is None:
        raise InvalidArgument("a mandate needs its end date", field="end_date", reason="END_DATE_REQUIRED")
    with uow:
        uow.roster.lock(caller.tenant)
        mandate = _create(uow, caller.tenant, director_id.strip(), seat_id, start, end, election_id, settings)
        check = _composition_on_term(uow, caller.tenant, start, end, settings)
        if not check.ok:
            log.warning("board composition rule broken by mandate %s: %s", mandate.mandate_id,
                        ",".join(check.rules_broken))
        uow.commit()
    return mandate, check


def end_mandate(uow: BoardUnitOfWork, caller: Principal, mandate_id: str, on: date | None,
                reason: str) -> Mandate:
    """Resignation, death or exclusion: the mandate covers the days before `on`; the seat is
    vacant from then until an election fills it."""
    caller.require(roles.ADMIN)
    if on is None:
        raise InvalidArgument("the day the mandate ends is required", field="ended_on", reason="ENDED_ON_REQUIRED")
    with uow:
        uow.roster.lock(caller.tenant)
        mandate = uow.roster.get(caller.tenant, mandate_id)
        if mandate is None:
            raise NotFound("no such mandate", field="mandate_id", reason="MANDATE_NOT_FOUND")
        ended = mandate.end_early(on, reason)
        uow.roster.save(ended)
        uow.publish(MandateEnded(ended))
        uow.commit()
    return ended


def mandates_from_election(uow: BoardUnitOfWork, caller: Principal, results: ElectionResults,
                           settings: RosterSettings) -> list[Mandate]:
    """election.results_published, in the inbox's transaction (no commit here): one mandate per
    elected member on the first seat vacant for the whole term. The terms this Assembly completes
    (an end date within `assembly_slack_days` after it) end on its day, with mandate.ended. The
    natural key (tenant, election, member) makes a second copy of the event (another event id)
    create nothing."""
    caller.require("system")
    if results.tenant not in settings.election_tenants:
        log.info("election %s of tenant %s elects no board of ours", results.election_id, results.tenant)
        return []
    created = []
    uow.roster.lock(results.tenant)
    for group in results.groups:
        todo = [m for m in group.member_ids
                if uow.roster.of_election(results.tenant, results.election_id, m) is None]
        if not todo:
            continue
        for closing in closed_by_assembly(uow.roster.mandates(results.tenant), group.start,
                                          settings.assembly_slack_days):
            ended = closing.complete_term(group.start)
            uow.roster.save(ended)
            uow.publish(MandateEnded(ended))
        for member_id in todo:
            created.append(_create(uow, results.tenant, member_id, None, group.start, group.end,
                                   results.election_id, settings))
    if created:
        check = _composition_on_term(uow, results.tenant, created[0].start, created[0].end, settings)
        if not check.ok:
            log.warning("board composition rule broken after election %s: %s", results.election_id,
                        ",".join(check.rules_broken))
    return created


def complete_terms(uow: BoardUnitOfWork, today: date, limit: int = 500) -> int:
    """The timer: every mandate whose end date has come is recorded as ended (TERM_COMPLETED) and
    mandate.ended is published. Who sat on which day never depended on it."""
    with uow:
        due = uow.roster.due_to_complete(today, limit)
        for mandate in due:
            ended = mandate.complete_term()
            uow.roster.save(ended)
            uow.publish(MandateEnded(ended))
        uow.commit()
    return len(due)
