"""Open sessions for members (docs/board.md, Observers): one meeting's observer seats, its
registrations and its waiting list, as one aggregate (`ObserverSession`).

Rules held here, whatever the storage:
- at most `seats` registrations are seated; the others wait, in registration order;
- a member has at most one active (seated or waiting) registration per meeting;
- a cancelled seat goes to the first member of the waiting list, and so do seats added by
  raising the limit; the limit never goes below the seats taken;
- no registration after the deadline;
- a seated observer has a personal check-in code: random, shown once, stored as a hash; checked
  in once;
- the promoters of a member initiative on the agenda are presenters: seated with a speaking slot,
  outside the seat limit, whatever the deadline. A meeting carrying an initiative's item but not
  yet opened by the secretary has a session with 0 seats (presenters only: members cannot
  register until the secretary opens it with a seat limit).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime

from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound

SEATED, WAITING, CANCELLED = "seated", "waiting", "cancelled"
STATUSES = (SEATED, WAITING, CANCELLED)
MAX_SEATS = 10_000

#: Crockford's base 32 (no I, L, O, U): easy to read out at a door.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 60 random bits
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_check_in_code() -> str:
    """A fresh random code, as shown to the member: XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalize_code(text: str) -> str:
    """The code's 12 symbols: case, spaces and dashes ignored, I/L read as 1 and O as 0.
    INVALID_ARGUMENT when it cannot be a code."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -").translate(_CONFUSABLE)
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        raise InvalidArgument(f"a check-in code is {CODE_LENGTH} letters and digits (XXXX-XXXX-XXXX)",
                              field="check_in_code", reason="INVALID_CHECK_IN_CODE")
    return cleaned


def hash_code(tenant: str, meeting_id: str, code: str) -> str:
    """What is stored of a code: sha256 over the meeting and the normalized code (60 random bits
    make it unguessable; the meeting in the hash keeps equal codes of two meetings apart)."""
    return hashlib.sha256(f"{tenant}\x1f{meeting_id}\x1f{normalize_code(code)}".encode()).hexdigest()


@dataclass
class Registration:
    registration_id: str
    tenant: str
    meeting_id: str
    member_id: str
    sequence: int                    # registration order within the meeting (1, 2, ...)
    status: str                      # one of STATUSES
    registered_at: datetime
    promoted_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    code_hash: str | None = None
    code_issued_at: datetime | None = None
    checked_in_at: datetime | None = None
    checked_in_by: str | None = None
    speaking_slot: bool = False      # a presenter (an initiative's promoter): seated outside the limit

    @property
    def active(self) -> bool:
        return self.status != CANCELLED

    @property
    def holds_seat(self) -> bool:
        return self.status == SEATED and not self.speaking_slot


@dataclass
class ObserverSession:
    """A meeting open to observers, with its active registrations (and those changed in this
    unit). `changed` names the registrations a repository must write."""

    tenant: str
    meeting_id: str
    seats: int
    registration_deadline: datetime
    meeting_starts_at: datetime
    opened_by: str
    opened_at: datetime
    next_sequence: int = 1
    registrations: dict[str, Registration] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    new: bool = False

    # -- reads
    def seated(self) -> list[Registration]:
        return sorted((r for r in self.registrations.values() if r.status == SEATED), key=lambda r: r.sequence)

    def seat_holders(self) -> list[Registration]:
        """The seated observers counted against the limit (presenters are not)."""
        return [r for r in self.seated() if not r.speaking_slot]

    def waiting(self) -> list[Registration]:
        return sorted((r for r in self.registrations.values() if r.status == WAITING), key=lambda r: r.sequence)

    def waiting_position(self, registration_id: str) -> int:
        for n, r in enumerate(self.waiting(), start=1):
            if r.registration_id == registration_id:
                return n
        return 0

    def active_of(self, member_id: str) -> Registration | None:
        for r in self.registrations.values():
            if r.member_id == member_id and r.active:
                return r
        return None

    # -- rules
    @staticmethod
    def check_limit(seats: int) -> None:
        if not 1 <= seats <= MAX_SEATS:
            raise InvalidArgument(f"seats must be between 1 and {MAX_SEATS}", field="seats",
                                  reason="INVALID_SEAT_LIMIT")

    def change(self, seats: int, deadline: datetime, starts_at: datetime, now: datetime) -> list[Registration]:
        """A new limit and deadline; the members seated from the waiting list by a raised limit."""
        self.check_limit(seats)
        taken = len(self.seat_holders())
        if seats < taken:
            raise FailedPrecondition(f"{taken} seats are taken: the limit cannot go below that", field="seats",
                                     reason="SEATS_BELOW_TAKEN", seats_taken=taken)
        self.seats, self.registration_deadline, self.meeting_starts_at = seats, deadline, starts_at
        return self._fill(now)

    def _fill(self, now: datetime) -> list[Registration]:
        promoted = []
        free = self.seats - len(self.seat_holders())
        for r in self.waiting()[:max(free, 0)]:
            r.status, r.promoted_at = SEATED, now
            self.changed.add(r.registration_id)
            promoted.append(r)
        return promoted

    def register(self, registration_id: str, member_id: str, now: datetime) -> Registration:
        """Seated while seats are left, else waiting. The caller checked the member's standing."""
        if self.seats == 0:
            raise FailedPrecondition("the meeting is not open to observers (its presenters only)", field="meeting_id",
                                     reason="NOT_OPEN_TO_OBSERVERS")
        if now > self.registration_deadline or now >= self.meeting_starts_at:
            raise FailedPrecondition("registration closed at the deadline", field="meeting_id",
                                     reason="REGISTRATION_CLOSED",
                                     registration_deadline=self.registration_deadline.isoformat())
        if self.active_of(member_id) is not None:
            raise AlreadyExists("you are already registered as an observer of this meeting", field="meeting_id",
                                reason="ALREADY_REGISTERED")
        status = SEATED if len(self.seat_holders()) < self.seats else WAITING
        r = Registration(registration_id, self.tenant, self.meeting_id, member_id, self.next_sequence, status, now)
        self.next_sequence += 1
        self.registrations[registration_id] = r
        self.changed.add(registration_id)
        return r

    def invite_presenter(self, registration_id: str, member_id: str, now: datetime
                         ) -> tuple[Registration | None, Registration | None]:
        """Seat a promoter with a speaking slot (no deadline, no limit). An observer already
        registered becomes the presenter (their seat, if they held one, goes to the first waiting).
        Returns the presenter's registration (None when already a presenter) and the one promoted."""
        r = self.active_of(member_id)
        if r is not None and r.speaking_slot:
            return None, None
        if r is None:
            r = Registration(registration_id, self.tenant, self.meeting_id, member_id, self.next_sequence, SEATED, now)
            self.next_sequence += 1
            self.registrations[r.registration_id] = r
        elif r.status == WAITING:
            r.status, r.promoted_at = SEATED, now
        r.speaking_slot = True
        self.changed.add(r.registration_id)
        promoted = self._fill(now)
        return r, (promoted[0] if promoted else None)

    def get(self, registration_id: str) -> Registration:
        r = self.registrations.get(registration_id)
        if r is None:
            raise NotFound(f"no registration {registration_id}", field="registration_id",
                           reason="REGISTRATION_NOT_FOUND")
        return r

    def cancel(self, registration_id: str, by: str, now: datetime) -> tuple[Registration, Registration | None]:
        """The cancelled registration and the one given its seat (if it held one and someone waits)."""
        r = self.get(registration_id)
        if not r.active:
            raise FailedPrecondition("this registration is already cancelled", field="registration_id",
                                     reason="ALREADY_CANCELLED")
        if now >= self.meeting_starts_at:
            raise FailedPrecondition("the meeting has started", field="registration_id", reason="MEETING_STARTED")
        was_seated = r.holds_seat
        r.status, r.cancelled_at, r.cancelled_by, r.code_hash = CANCELLED, now, by, None
        self.changed.add(registration_id)
        promoted = self._fill(now) if was_seated else []
        return r, (promoted[0] if promoted else None)

    def issue_code(self, registration_id: str, now: datetime, code: str | None = None) -> str:
        """A new code for a seated registration (the previous one stops working); returns it."""
        r = self.get(registration_id)
        if r.status != SEATED:
            raise FailedPrecondition("only a seated observer has a check-in code", field="registration_id",
                                     reason="NOT_SEATED", status=r.status)
        if r.checked_in_at is not None:
            raise FailedPrecondition("this observer is already checked in", field="registration_id",
                                     reason="ALREADY_CHECKED_IN")
        taken = {x.code_hash for x in self.registrations.values() if x.code_hash}
        while True:
            code = code or new_check_in_code()
            digest = hash_code(self.tenant, self.meeting_id, code)
            if digest not in taken:
                break
            code = None  # a collision (2^-60): draw again
        r.code_hash, r.code_issued_at = digest, now
        self.changed.add(registration_id)
        return code

    def check_in(self, code: str, by: str, now: datetime) -> Registration:
        digest = hash_code(self.tenant, self.meeting_id, code)
        for r in self.registrations.values():
            if r.code_hash == digest and r.status == SEATED:
                if r.checked_in_at is not None:
                    raise FailedPrecondition("this code was already used to check in", field="check_in_code",
                                             reason="ALREADY_CHECKED_IN", checked_in_at=r.checked_in_at.isoformat())
                r.checked_in_at, r.checked_in_by = now, by
                self.changed.add(r.registration_id)
                return r
        raise NotFound("no seated observer of this meeting has that code", field="check_in_code",
                       reason="CHECK_IN_CODE_UNKNOWN")


def copy_registration(r: Registration) -> Registration:
    return replace(r)


# -- events (ids only: never names, contact data or item content) ---------------------------------

@dataclass(frozen=True)
class ObserverSessionOpened:
    tenant: str
    meeting_id: str
    seats: int
    registration_deadline: datetime
    meeting_starts_at: datetime


@dataclass(frozen=True)
class ObserverRegistered:
    tenant: str
    meeting_id: str
    registration_id: str
    member_id: str
    seated: bool
    waiting_position: int
    registered_at: datetime
    speaking_slot: bool = False      # invited to present (a member initiative's promoter)


@dataclass(frozen=True)
class ObserverPromoted:
    tenant: str
    meeting_id: str
    registration_id: str
    member_id: str
    promoted_at: datetime


@dataclass(frozen=True)
class ObserverCancelled:
    tenant: str
    meeting_id: str
    registration_id: str
    member_id: str
    was_seated: bool
    promoted_registration_id: str | None
    cancelled_at: datetime
