"""The board's roster: mandates on seats, vacancies, who sat on any day, and the composition rule.

Dates are calendar days. A mandate covers the days from its start date up to, not including, its
end date: the end date is the next Assembly's day, on which the successor elected there takes the
seat (elections' `mandate_dates`). A mandate ended early (resignation, death, exclusion) covers
the days before `ended_on`. Who sat on a day is therefore a function of the mandates' dates
alone, for any past or future day; the timer that records a completed term only publishes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from coop_board.domain.links import CATEGORIES, MemberStanding, SittingDirector
from coop_domain.errors import FailedPrecondition, InvalidArgument

TERM_COMPLETED = "term_completed"
EARLY_END_REASONS = ("resignation", "death", "exclusion")
END_REASONS = (TERM_COMPLETED, *EARLY_END_REASONS)

# Flags on a sitting director (GetRoster): the statutes decide what follows, the roster shows it.
NOT_IN_GOOD_STANDING = "NOT_IN_GOOD_STANDING"
STANDING_UNKNOWN = "STANDING_UNKNOWN"      # membership never told us of this member
CATEGORY_UNKNOWN = "CATEGORY_UNKNOWN"      # counted neither as a user nor against a cap


@dataclass(frozen=True)
class Mandate:
    mandate_id: str
    tenant: str
    director_id: str            # member id
    seat_id: str
    start: date
    end: date                   # exclusive: the successor's first day
    election_id: str | None = None   # None: loaded by an admin (a board that predates the service)
    ended_on: date | None = None     # first day no longer sitting, once ended (term or early)
    end_reason: str | None = None    # one of END_REASONS once ended

    @property
    def last_covered_before(self) -> date:
        """The first day this mandate no longer covers."""
        return min(self.end, self.ended_on) if self.ended_on is not None else self.end

    @property
    def ended(self) -> bool:
        return self.end_reason is not None

    def covers(self, day: date) -> bool:
        return self.start <= day < self.last_covered_before

    def overlaps(self, start: date, end: date) -> bool:
        """Whether this mandate covers any day of [start, end)."""
        return self.start < end and start < self.last_covered_before

    def end_early(self, on: date, reason: str) -> Mandate:
        if reason not in EARLY_END_REASONS:
            raise InvalidArgument(f"a mandate ends early for one of: {', '.join(EARLY_END_REASONS)}",
                                  field="reason", reason="INVALID_END_REASON")
        if self.ended:
            raise FailedPrecondition("this mandate has already ended", field="mandate_id",
                                     reason="MANDATE_ALREADY_ENDED", ended_on=self.ended_on)
        if not self.start <= on < self.end:
            raise InvalidArgument("ended_on must be within the term: from its start date, before its end date",
                                  field="ended_on", reason="ENDED_OUTSIDE_TERM",
                                  start_date=self.start, end_date=self.end)
        return replace(self, ended_on=on, end_reason=reason)

    def complete_term(self, on: date | None = None) -> Mandate:
        """The term completed: on its end date, or on the day of the Assembly that elects the
        successors when that comes a little earlier (see `closed_by_assembly`)."""
        return replace(self, ended_on=on or self.end, end_reason=TERM_COMPLETED)


def closed_by_assembly(mandates: Iterable[Mandate], assembly_day: date, slack_days: int) -> list[Mandate]:
    """The running mandates whose term the Assembly of `assembly_day` completes: their end date
    (the same day, four years after their own Assembly) falls in the `slack_days` after it. An
    Assembly's day moves from year to year; the statutes end a term at the Assembly that elects
    the successors, so these end that day rather than sitting beside them for a few days."""
    return [m for m in mandates if not m.ended and m.start < assembly_day < m.end
            and (m.end - assembly_day).days <= slack_days]


def seat_ids(seats: int) -> tuple[str, ...]:
    """The board's seats: "seat-01" ... (COOP_BOARD_SEATS: 5 mandates of 4 years a year = 20)."""
    return tuple(f"seat-{n:02d}" for n in range(1, seats + 1))


def check_new_mandate(director_id: str, seat_id: str, start: date, end: date, seats: Sequence[str],
                      existing: Iterable[Mandate]) -> None:
    """Refuse a mandate that is malformed or overlaps another on its seat, or another of the same
    director (INVALID_ARGUMENT / FAILED_PRECONDITION naming the field and the rule)."""
    if not director_id.strip():
        raise InvalidArgument("a mandate needs the director's member id", field="director_id",
                              reason="DIRECTOR_REQUIRED")
    if seat_id not in seats:
        raise InvalidArgument(f"no seat {seat_id!r} on this board (seats {seats[0] if seats else '-'}"
                              f"..{seats[-1] if seats else '-'})", field="seat_id", reason="UNKNOWN_SEAT")
    if not start < end:
        raise InvalidArgument("a mandate's end date comes after its start date", field="end_date",
                              reason="END_BEFORE_START")
    for m in existing:
        if m.seat_id == seat_id and m.overlaps(start, end):
            raise FailedPrecondition(f"seat {seat_id} is held by mandate {m.mandate_id} during these dates",
                                     field="seat_id", reason="OVERLAPPING_MANDATE_ON_SEAT",
                                     mandate_id=m.mandate_id, start_date=m.start, end_date=m.last_covered_before)
        if m.director_id == director_id and m.overlaps(start, end):
            raise FailedPrecondition("this director already holds a mandate during these dates",
                                     field="director_id", reason="DIRECTOR_ALREADY_SITTING",
                                     mandate_id=m.mandate_id)


def free_seat(seats: Sequence[str], start: date, end: date, existing: Iterable[Mandate]) -> str:
    """The first seat (in seat order) no mandate holds on any day of [start, end)."""
    held = {m.seat_id for m in existing if m.overlaps(start, end)}
    for seat in seats:
        if seat not in held:
            return seat
    raise FailedPrecondition(f"no seat is vacant for the whole term {start}..{end}", field="seat_id",
                             reason="NO_VACANT_SEAT")


# --- the composition rule ------------------------------------------------------------------

USERS_NOT_MAJORITY = "USERS_NOT_MAJORITY"
TOO_MANY_PERMANENT_STAFF = "TOO_MANY_PERMANENT_STAFF"
TOO_MANY_EXTERNAL_PARTNERS = "TOO_MANY_EXTERNAL_PARTNERS"


@dataclass(frozen=True)
class CompositionRule:
    """COOP_BOARD_COMPOSITION, e.g. "users_majority=true,max_permanent_staff=4,max_external_partners=4"
    (these are the defaults; a cap of "none" means no cap)."""

    users_majority: bool = True
    max_permanent_staff: int | None = 4
    max_external_partners: int | None = 4

    @classmethod
    def parse(cls, text: str | None) -> CompositionRule:
        rule = cls()
        for part in (p.strip() for p in (text or "").replace(";", ",").split(",")):
            if not part:
                continue
            key, sep, value = (s.strip().lower() for s in part.partition("="))
            if not sep:
                raise ValueError(f"COOP_BOARD_COMPOSITION: {part!r} is not key=value")
            if key == "users_majority":
                if value not in ("true", "false", "yes", "no", "1", "0"):
                    raise ValueError(f"COOP_BOARD_COMPOSITION: users_majority={value!r} is not a boolean")
                rule = replace(rule, users_majority=value in ("true", "yes", "1"))
            elif key in ("max_permanent_staff", "max_external_partners"):
                if value == "none":
                    cap = None
                elif value.isdigit():
                    cap = int(value)
                else:
                    raise ValueError(f"COOP_BOARD_COMPOSITION: {key}={value!r} is not a count or none")
                rule = replace(rule, **{key: cap})
            else:
                raise ValueError(f"COOP_BOARD_COMPOSITION: unknown rule {key!r}")
        return rule

    def check(self, categories: Sequence[str | None]) -> CompositionCheck:
        """The rule applied to the categories of the directors sitting on one day. A director whose
        category is unknown counts neither as a user nor against a cap (flagged apart)."""
        users = sum(1 for c in categories if c == "user")
        staff = sum(1 for c in categories if c == "permanent_staff")
        partners = sum(1 for c in categories if c == "external_partner")
        unknown = sum(1 for c in categories if c not in CATEGORIES)
        violations: list[tuple[str, str]] = []
        if self.users_majority and categories and not 2 * users > len(categories):
            violations.append((USERS_NOT_MAJORITY,
                               f"{users} users of the cooperative among {len(categories)} sitting directors "
                               f"is not a majority"))
        if self.max_permanent_staff is not None and staff > self.max_permanent_staff:
            violations.append((TOO_MANY_PERMANENT_STAFF,
                               f"{staff} permanent staff sit; at most {self.max_permanent_staff}"))
        if self.max_external_partners is not None and partners > self.max_external_partners:
            violations.append((TOO_MANY_EXTERNAL_PARTNERS,
                               f"{partners} external partners sit; at most {self.max_external_partners}"))
        return CompositionCheck(not violations, tuple(violations), len(categories), users, staff, partners, unknown)


@dataclass(frozen=True)
class CompositionCheck:
    ok: bool
    violations: tuple[tuple[str, str], ...]   # (rule, description)
    sitting: int
    users: int
    permanent_staff: int
    external_partners: int
    unknown_category: int

    @property
    def rules_broken(self) -> tuple[str, ...]:
        return tuple(rule for rule, _ in self.violations)


# --- the roster on one day -------------------------------------------------------------------

@dataclass(frozen=True)
class SittingLine:
    director: SittingDirector
    mandate: Mandate
    flags: tuple[str, ...]


@dataclass(frozen=True)
class Vacancy:
    seat_id: str
    since: date | None     # the first day without a director (None: never filled)


@dataclass(frozen=True)
class RosterDay:
    day: date
    sitting: tuple[SittingLine, ...]
    vacancies: tuple[Vacancy, ...]
    composition: CompositionCheck


def standing_flags(standing: MemberStanding | None) -> tuple[str, ...]:
    if standing is None:
        return (STANDING_UNKNOWN, CATEGORY_UNKNOWN)
    flags = [] if standing.in_good_standing else [NOT_IN_GOOD_STANDING]
    if standing.category not in CATEGORIES:
        flags.append(CATEGORY_UNKNOWN)
    return tuple(flags)


def roster_on(day: date, mandates: Iterable[Mandate], standings: dict[str, MemberStanding],
              seats: Sequence[str], rule: CompositionRule) -> RosterDay:
    """Who sat on `day` (in seat order), the vacant seats, and the composition rule's verdict."""
    mandates = list(mandates)
    covering = sorted((m for m in mandates if m.covers(day)), key=lambda m: (m.seat_id, m.start))
    lines = []
    for m in covering:
        standing = standings.get(m.director_id)
        category = standing.category if standing is not None and standing.category in CATEGORIES else None
        lines.append(SittingLine(SittingDirector(m.director_id, m.mandate_id, m.seat_id, category), m,
                                 standing_flags(standing)))
    held = {m.seat_id for m in covering}
    vacancies = []
    for seat in seats:
        if seat in held:
            continue
        before = [m.last_covered_before for m in mandates if m.seat_id == seat and m.last_covered_before <= day
                  and m.start < m.last_covered_before]
        vacancies.append(Vacancy(seat, max(before) if before else None))
    check = rule.check([line.director.category for line in lines])
    return RosterDay(day, tuple(lines), tuple(vacancies), check)


@dataclass(frozen=True)
class RosterSettings:
    """The board's settings, read by the entrypoints (entrypoints/roster_settings.py)."""

    seats: tuple[str, ...] = seat_ids(20)
    rule: CompositionRule = CompositionRule()
    election_tenants: tuple[str, ...] = ("coop",)   # whose election.results_published make mandates
    assembly_slack_days: int = 31    # an Assembly this many days before a term's end date completes it


@dataclass(frozen=True)
class ElectedGroup:
    """One question of an election: the members elected, in order, and their mandate dates."""

    question_id: str
    member_ids: tuple[str, ...]
    start: date
    end: date


@dataclass(frozen=True)
class ElectionResults:
    """elections' election.results_published as the roster reads it (typed at the worker's edge)."""

    election_id: str
    tenant: str
    groups: tuple[ElectedGroup, ...]
