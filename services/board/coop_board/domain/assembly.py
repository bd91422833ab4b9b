"""The General Assembly as a meeting (docs/board.md, The General Assembly): scheduling, the
agenda with its statutory items, the convocation of every member, registrations with workshop
seats and waiting lists, check-in and attendance figures.

Rules held here, whatever the storage:
- the agenda always carries the statutory items (approve the accounts, discharge the directors,
  the board election linked by its election id), then the initiatives referred to the Assembly
  in the order they were referred;
- an Assembly is convened once, and only while the statutory notice can still be met;
- the convocation goes to each member once, in their language (the fallback language when theirs
  is unknown), with the texts of that language only;
- registration: before the deadline, at most one active registration per member, up to 3
  distinct workshops of the Assembly; a full workshop puts the member on its waiting list, in
  arrival order; no workshop ever seats more than its capacity (the storage holds one row per
  seat, see adapters/repository_assembly.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from coop_board.domain.dossiers import require_complete
from coop_board.domain.texts import LANGUAGES, LocalizedText
from coop_domain.clock import local_date
from coop_domain.errors import FailedPrecondition, InvalidArgument

SCHEDULED, CONVENING, CONVENED, HELD, CANCELLED = "scheduled", "convening", "convened", "held", "cancelled"
IN_PERSON, REMOTE = "in_person", "remote"
ATTENDANCES = (IN_PERSON, REMOTE)

APPROVE_ACCOUNTS, DISCHARGE_DIRECTORS, BOARD_ELECTION, INITIATIVE = (
    "approve_accounts", "discharge_directors", "board_election", "initiative")
ITEM_KINDS = (APPROVE_ACCOUNTS, DISCHARGE_DIRECTORS, BOARD_ELECTION, INITIATIVE)

MAX_WORKSHOP_CHOICES = 3
MAX_WORKSHOP_CAPACITY = 10_000
MAX_DOCUMENTS = 50
MAX_PLACE_CHARS = 500
MAX_REFERENCE_CHARS = 2_000
MAX_TITLE_CHARS = 500

STATUTORY_TITLES = {
    APPROVE_ACCOUNTS: LocalizedText(fr="Approbation des comptes annuels", nl="Goedkeuring van de jaarrekening",
                                    en="Approval of the annual accounts"),
    DISCHARGE_DIRECTORS: LocalizedText(fr="Décharge aux administrateurs", nl="Kwijting aan de bestuurders",
                                       en="Discharge of the directors"),
    BOARD_ELECTION: LocalizedText(fr="Élection du conseil d'administration", nl="Verkiezing van de raad van bestuur",
                                  en="Election of the board of directors"),
}


@dataclass(frozen=True)
class AssemblyRules:
    """Settings (entrypoints/settings_assembly.py; docs/board.md, Settings)."""

    notice_days: int = 15                 # statutory notice: convocations sent at least this long before
    convene_all_members: bool = True      # False: members in good standing only
    registration_all_members: bool = False  # False: members in good standing only
    fallback_language: str = "fr"         # a member's language unknown (or not fr/nl/en)
    convocation_batch: int = 1_000        # members per transaction of the convocation job


@dataclass(frozen=True)
class AgendaItem:
    kind: str                 # one of ITEM_KINDS
    title: LocalizedText
    ref: str = ""             # election id, initiative id


@dataclass(frozen=True)
class AssemblyDocument:
    title: LocalizedText
    reference: LocalizedText  # URL or document reference, per language


@dataclass(frozen=True)
class Referral:
    """An initiative referred to the General Assembly by the board (assembly_id None: waiting for
    the next Assembly to be scheduled)."""

    tenant: str
    initiative_id: str
    title: LocalizedText
    referred_at: datetime
    assembly_id: str | None = None


@dataclass
class Assembly:
    assembly_id: str
    tenant: str
    title: LocalizedText
    starts_at: datetime
    place: str
    registration_deadline: datetime
    election_id: str
    documents: tuple[AssemblyDocument, ...]
    scheduled_at: datetime
    scheduled_by: str
    status: str = SCHEDULED
    convened_at: datetime | None = None
    convened_by: str | None = None
    convene_all_members: bool = True
    convocation_total: int = 0
    convocation_sent: int = 0
    convocation_cursor: str = ""          # the last member id convened (keyset over the members)
    convocation_completed_at: datetime | None = None

    def status_at(self, now: datetime) -> str:
        """The stored status, or "held" once the Assembly has started."""
        if self.status != CANCELLED and now >= self.starts_at:
            return HELD
        return self.status

    def agenda(self, referrals: list[Referral] | tuple[Referral, ...] = ()) -> tuple[AgendaItem, ...]:
        """The statutory items, then the referred initiatives in referral order."""
        items = [AgendaItem(APPROVE_ACCOUNTS, STATUTORY_TITLES[APPROVE_ACCOUNTS]),
                 AgendaItem(DISCHARGE_DIRECTORS, STATUTORY_TITLES[DISCHARGE_DIRECTORS]),
                 AgendaItem(BOARD_ELECTION, STATUTORY_TITLES[BOARD_ELECTION], self.election_id)]
        items += [AgendaItem(INITIATIVE, r.title, r.initiative_id)
                  for r in sorted(referrals, key=lambda r: (r.referred_at, r.initiative_id))]
        return tuple(items)

    @property
    def convened(self) -> bool:
        return self.convened_at is not None

    def require_not_convened(self, what: str) -> None:
        if self.convened:
            raise FailedPrecondition(f"the Assembly is convened: {what} no longer", field="assembly_id",
                                     reason="ASSEMBLY_ALREADY_CONVENED")

    def convene(self, by: str, now: datetime, rules: AssemblyRules, total: int) -> None:
        """Start the convocation. Refused when the notice can no longer be met: the convocations
        must all be out `notice_days` before the Assembly starts."""
        if self.status == CANCELLED:
            raise FailedPrecondition("the Assembly is cancelled", field="assembly_id", reason="ASSEMBLY_CANCELLED")
        self.require_not_convened("convening it again changes nothing")
        latest = self.starts_at - timedelta(days=rules.notice_days)
        if now > latest:
            raise FailedPrecondition(
                f"the statutory notice of {rules.notice_days} days can no longer be met (convene by {latest.isoformat()})",
                field="assembly_id", reason="NOTICE_PERIOD_TOO_SHORT", notice_days=rules.notice_days,
                latest=latest.isoformat())
        self.status, self.convened_at, self.convened_by = CONVENING, now, by
        self.convene_all_members, self.convocation_total = rules.convene_all_members, total
        self.convocation_sent, self.convocation_cursor = 0, ""

    def record_batch(self, sent: int, last_member_id: str | None, complete: bool, now: datetime) -> None:
        """A batch of convocations went out (in the transaction of their events)."""
        self.convocation_sent += sent
        if last_member_id is not None:
            self.convocation_cursor = last_member_id
        if complete:
            self.status, self.convocation_completed_at = CONVENED, now
            self.convocation_total = max(self.convocation_total, self.convocation_sent)

    def require_registration_open(self, now: datetime) -> None:
        if self.status == CANCELLED:
            raise FailedPrecondition("the Assembly is cancelled", field="assembly_id", reason="ASSEMBLY_CANCELLED")
        if now > self.registration_deadline or now >= self.starts_at:
            raise FailedPrecondition("registration closed at the deadline", field="assembly_id",
                                     reason="REGISTRATION_CLOSED",
                                     registration_deadline=self.registration_deadline.isoformat())


def check_language(value: str, field_name: str) -> str:
    if value not in LANGUAGES:
        raise InvalidArgument(f"{field_name} is fr, nl or en", field=field_name, reason="UNKNOWN_LANGUAGE")
    return value


def _check_title(title: LocalizedText, path: str, what: str) -> None:
    require_complete(title, path, what)
    for lang, value in title.as_dict().items():
        if len(value) > MAX_TITLE_CHARS:
            raise InvalidArgument(f"{what} is longer than {MAX_TITLE_CHARS} characters", field=f"{path}.{lang}",
                                  reason="TEXT_TOO_LONG", max_chars=MAX_TITLE_CHARS)


def check_schedule(title: LocalizedText, starts_at: datetime | None, place: str, deadline: datetime | None,
                   election_id: str, documents: tuple[AssemblyDocument, ...], now: datetime) -> None:
    """INVALID_ARGUMENT naming the first field at fault."""
    _check_title(title, "title", "the Assembly's title")
    if starts_at is None:
        raise InvalidArgument("starts_at is required", field="starts_at", reason="FIELD_REQUIRED")
    if starts_at <= now:
        raise InvalidArgument("the Assembly must start in the future", field="starts_at", reason="IN_THE_PAST")
    if not place.strip() or len(place) > MAX_PLACE_CHARS:
        raise InvalidArgument(f"place is required (at most {MAX_PLACE_CHARS} characters)", field="place",
                              reason="INVALID_PLACE")
    if deadline is None:
        raise InvalidArgument("registration_deadline is required", field="registration_deadline",
                              reason="FIELD_REQUIRED")
    if deadline >= starts_at:
        raise InvalidArgument("the registration deadline must come before the Assembly starts",
                              field="registration_deadline", reason="DEADLINE_AFTER_START")
    if deadline <= now:
        raise InvalidArgument("the registration deadline has passed", field="registration_deadline",
                              reason="DEADLINE_PASSED")
    if not election_id.strip() or len(election_id) > 64 or not election_id.isprintable():
        raise InvalidArgument("election_id is required: the board election's id in the elections service",
                              field="election_id", reason="INVALID_ID")
    if len(documents) > MAX_DOCUMENTS:
        raise InvalidArgument(f"at most {MAX_DOCUMENTS} documents", field="documents", reason="TOO_MANY_DOCUMENTS")
    for n, doc in enumerate(documents):
        _check_title(doc.title, f"documents[{n}].title", "a document's title")
        require_complete(doc.reference, f"documents[{n}].reference", "a document's reference")
        for lang, value in doc.reference.as_dict().items():
            if len(value) > MAX_REFERENCE_CHARS:
                raise InvalidArgument(f"a reference is at most {MAX_REFERENCE_CHARS} characters",
                                      field=f"documents[{n}].reference.{lang}", reason="TEXT_TOO_LONG")


@dataclass(frozen=True)
class Workshop:
    workshop_id: str
    tenant: str
    assembly_id: str
    title: LocalizedText
    capacity: int
    language: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime


def check_workshop(assembly: Assembly, title: LocalizedText, capacity: int, language: str,
                   starts_at: datetime | None, ends_at: datetime | None) -> None:
    _check_title(title, "title", "the workshop's title")
    if not 1 <= capacity <= MAX_WORKSHOP_CAPACITY:
        raise InvalidArgument(f"capacity must be between 1 and {MAX_WORKSHOP_CAPACITY}", field="capacity",
                              reason="INVALID_CAPACITY")
    check_language(language, "language")
    if starts_at is None or ends_at is None:
        raise InvalidArgument("starts_at and ends_at are required", field="starts_at" if starts_at is None else "ends_at",
                              reason="FIELD_REQUIRED")
    if starts_at < assembly.starts_at or local_date(starts_at) != local_date(assembly.starts_at):
        raise InvalidArgument("a workshop takes place on the Assembly's day, after it starts", field="starts_at",
                              reason="WORKSHOP_OUTSIDE_ASSEMBLY")
    if ends_at <= starts_at:
        raise InvalidArgument("a workshop ends after it starts", field="ends_at", reason="ENDS_BEFORE_START")


@dataclass
class WorkshopPlace:
    """One workshop choice of a registration: seated (it holds one of the workshop's seats) or
    waiting, in arrival order (`arrival`: a number that only grows, shared by the Assembly)."""

    registration_id: str
    workshop_id: str
    choice: int               # 1..3, the member's order of preference
    arrival: int
    seated: bool
    active: bool = True
    promoted_at: datetime | None = None
    waiting_position: int = 0  # filled on read (1 = next), 0 when seated


@dataclass
class AssemblyRegistration:
    registration_id: str
    tenant: str
    assembly_id: str
    member_id: str
    attendance: str
    interpretation_language: str
    registered_at: datetime
    places: list[WorkshopPlace] = field(default_factory=list)
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    code_hash: str | None = None
    code_issued_at: datetime | None = None
    checked_in_at: datetime | None = None
    checked_in_by: str | None = None

    @property
    def active(self) -> bool:
        return self.cancelled_at is None

    def cancel(self, by: str, now: datetime, assembly: Assembly) -> None:
        if not self.active:
            raise FailedPrecondition("this registration is already cancelled", field="registration_id",
                                     reason="ALREADY_CANCELLED")
        if now >= assembly.starts_at:
            raise FailedPrecondition("the Assembly has started", field="registration_id", reason="ASSEMBLY_STARTED")
        self.cancelled_at, self.cancelled_by, self.code_hash = now, by, None
        for p in self.places:
            p.active = False

    def require_code_holder(self) -> None:
        if not self.active or self.attendance != IN_PERSON:
            raise FailedPrecondition("only an active in-person registration has a check-in code",
                                     field="registration_id", reason="NOT_IN_PERSON")
        if self.checked_in_at is not None:
            raise FailedPrecondition("this member is already checked in", field="registration_id",
                                     reason="ALREADY_CHECKED_IN")

    def check_in(self, by: str, now: datetime) -> None:
        if self.checked_in_at is not None:
            raise FailedPrecondition("this code was already used to check in", field="check_in_code",
                                     reason="ALREADY_CHECKED_IN", checked_in_at=self.checked_in_at.isoformat())
        self.checked_in_at, self.checked_in_by = now, by


def check_registration(attendance: str, interpretation_language: str, workshop_ids: list[str],
                       workshops: dict[str, Workshop]) -> None:
    """The member's choices: an attendance, a language, up to 3 distinct workshops of the Assembly
    (`workshops`: the Assembly's, by id)."""
    if attendance not in ATTENDANCES:
        raise InvalidArgument("attendance is in person or remote", field="attendance", reason="INVALID_ATTENDANCE")
    check_language(interpretation_language, "interpretation_language")
    if len(workshop_ids) > MAX_WORKSHOP_CHOICES:
        raise InvalidArgument(f"at most {MAX_WORKSHOP_CHOICES} workshops", field="workshop_ids",
                              reason="TOO_MANY_WORKSHOPS")
    if len(set(workshop_ids)) != len(workshop_ids):
        raise InvalidArgument("a workshop is chosen once", field="workshop_ids", reason="DUPLICATE_WORKSHOP")
    for n, wid in enumerate(workshop_ids):
        if wid not in workshops:
            raise InvalidArgument(f"no workshop {wid} in this Assembly", field=f"workshop_ids[{n}]",
                                  reason="WORKSHOP_NOT_FOUND")


@dataclass(frozen=True)
class WorkshopCounts:
    seated: int
    waiting: int
    present: int = 0


@dataclass(frozen=True)
class AttendanceFigures:
    registered: int
    in_person_registered: int
    in_person_present: int
    remote: int
    workshops: tuple[tuple[Workshop, WorkshopCounts], ...]


def member_language(language: str | None, rules: AssemblyRules) -> str:
    """The member's language when the board knows it (fr, nl, en), else the fallback."""
    value = (language or "").strip().lower()[:2]
    return value if value in LANGUAGES else rules.fallback_language


# -- events (pseudonymous member ids only: never names or contact data) -------------------------

@dataclass(frozen=True)
class AssemblyScheduled:
    tenant: str
    assembly_id: str
    title: LocalizedText
    starts_at: datetime
    place: str
    registration_deadline: datetime
    election_id: str


@dataclass(frozen=True)
class AssemblyConvened:
    """One member's convocation, in one language."""

    tenant: str
    assembly_id: str
    member_id: str
    language: str
    title: str
    starts_at: datetime
    place: str
    registration_deadline: datetime
    agenda: tuple[str, ...]
    documents: tuple[tuple[str, str], ...]   # (title, reference)
    election_id: str


def convocation(assembly: Assembly, agenda: tuple[AgendaItem, ...], member_id: str, language: str
                ) -> AssemblyConvened:
    """The convocation of one member, with the texts of `language` only."""
    return AssemblyConvened(
        assembly.tenant, assembly.assembly_id, member_id, language, assembly.title.get(language), assembly.starts_at,
        assembly.place, assembly.registration_deadline, tuple(i.title.get(language) for i in agenda),
        tuple((d.title.get(language), d.reference.get(language)) for d in assembly.documents), assembly.election_id)


@dataclass(frozen=True)
class AssemblyRegistered:
    tenant: str
    assembly_id: str
    registration_id: str
    member_id: str
    attendance: str
    interpretation_language: str
    workshops: tuple[tuple[str, bool, int], ...]  # (workshop id, seated, waiting position)
    registered_at: datetime


@dataclass(frozen=True)
class AssemblyWorkshopPromoted:
    tenant: str
    assembly_id: str
    workshop_id: str
    registration_id: str
    member_id: str
    promoted_at: datetime
