"""Members, their lifecycle and their shares: pure domain, no framework imports.

Good standing = status active AND the current year's share paid, with a grace
period (the year's ``grace_days``) at the start of each year for members who
paid the previous year, and after admission for new members.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from coop_domain.clock import local_date, utcnow
from coop_domain.errors import FailedPrecondition, InvalidArgument
from coop_membership.domain.reference import DEFAULT_LANGUAGES, ISO_COUNTRIES

DEFAULT_SHARE_CENTS = 3000
DEFAULT_GRACE_DAYS = 90
MAX_SHARE_CENTS = 10_000_000  # EUR 100,000: anything above is a typo, not a share


class Status(enum.StrEnum):
    APPLICANT = "applicant"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    RESIGNED = "resigned"
    EXCLUDED = "excluded"


class Category(enum.StrEnum):
    USER = "user"
    PERMANENT_STAFF = "permanent_staff"
    EXTERNAL_PARTNER = "external_partner"


class ShareState(enum.StrEnum):
    SUBSCRIBED = "subscribed"
    PAID = "paid"
    REFUNDED = "refunded"


#: Allowed lifecycle moves. Resigned/excluded members may be re-admitted.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.APPLICANT: frozenset({Status.ACTIVE, Status.RESIGNED}),
    Status.ACTIVE: frozenset({Status.SUSPENDED, Status.RESIGNED, Status.EXCLUDED}),
    Status.SUSPENDED: frozenset({Status.ACTIVE, Status.RESIGNED, Status.EXCLUDED}),
    Status.RESIGNED: frozenset({Status.ACTIVE}),
    Status.EXCLUDED: frozenset({Status.ACTIVE}),
}

EDITABLE_FIELDS = (
    "given_name", "family_name", "email", "phone", "address", "country_of_residence",
    "preferred_language", "category",
)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-/]{6,25}$")
NUMBER_PREFIX = "M"
#: The request field that holds a member's details (RegisterMember, UpdateMember, ImportMembers
#: rows): errors about those details name their path under it, e.g. "member.email".
DETAILS_FIELD = "member"


DEFAULT_LANGUAGE_SET = frozenset(DEFAULT_LANGUAGES)


def languages_with(extra: Iterable[str] = ()) -> frozenset[str]:
    """The languages members may choose: the defaults and the service's configured extras."""
    return DEFAULT_LANGUAGE_SET | {x.strip().lower() for x in extra if x.strip()}


def _at(name: str) -> str:
    return f"{DETAILS_FIELD}.{name}"


def format_member_number(member_no: int) -> str:
    return f"{NUMBER_PREFIX}{member_no:06d}"


def parse_member_number(number: str) -> int:
    text = number.strip().upper()
    if not text.startswith(NUMBER_PREFIX) or not (text[1:].isascii() and text[1:].isdigit()) or len(text) > 12:
        raise InvalidArgument(f"member number {number!r} is not of the form M000123", field="member_number",
                              reason="INVALID_MEMBER_NUMBER")
    return int(text[1:])


@dataclass
class Address:
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""


@dataclass
class MemberDetails:
    """The fields a person gives us; validated as a whole before anything is written."""

    given_name: str
    family_name: str
    email: str
    phone: str = ""
    address: Address = field(default_factory=Address)
    country_of_residence: str = ""
    preferred_language: str = "fr"
    category: Category = Category.USER
    joined_on: date | None = None

    def normalised(self, languages: frozenset[str] = DEFAULT_LANGUAGE_SET) -> MemberDetails:
        """Trim, lowercase the email, uppercase countries; raise InvalidArgument on the first bad
        field. `languages`: those this cooperative addresses members in (a setting handed in)."""
        d = MemberDetails(
            given_name=_clean(self.given_name, "given_name", 100),
            family_name=_clean(self.family_name, "family_name", 100),
            email=self.email.strip().lower(),
            phone=self.phone.strip(),
            address=Address(
                street=_clean(self.address.street, "address.street", 200, required=False),
                postal_code=_clean(self.address.postal_code, "address.postal_code", 20, required=False),
                city=_clean(self.address.city, "address.city", 100, required=False),
                country=self.address.country.strip().upper(),
            ),
            country_of_residence=self.country_of_residence.strip().upper(),
            preferred_language=self.preferred_language.strip().lower(),
            category=self.category,
            joined_on=self.joined_on,
        )
        d._check(self, languages)
        return d

    def _check(self, given: MemberDetails, languages: frozenset[str]) -> None:
        """The rules on normalised details (`given`: as sent, for the messages)."""
        if not self.email:
            raise InvalidArgument("email is required", field=_at("email"), reason="FIELD_REQUIRED")
        if len(self.email) > 254 or not _EMAIL.match(self.email):
            raise InvalidArgument(f"email {given.email!r} is not a valid address", field=_at("email"),
                                  reason="INVALID_EMAIL")
        if self.phone and not _PHONE.match(self.phone):
            raise InvalidArgument(f"phone {given.phone!r} is not a valid number", field=_at("phone"),
                                  reason="INVALID_PHONE")
        if not self.country_of_residence:
            raise InvalidArgument("country_of_residence is required (ISO 3166-1 alpha-2)",
                                  field=_at("country_of_residence"), reason="FIELD_REQUIRED")
        if self.country_of_residence not in ISO_COUNTRIES:
            raise InvalidArgument(
                f"country_of_residence {given.country_of_residence!r} is not an ISO 3166-1 alpha-2 code",
                field=_at("country_of_residence"), reason="INVALID_COUNTRY")
        if self.address.country and self.address.country not in ISO_COUNTRIES:
            raise InvalidArgument(f"address.country {given.address.country!r} is not an ISO 3166-1 alpha-2 code",
                                  field=_at("address.country"), reason="INVALID_COUNTRY")
        if self.preferred_language not in languages:
            raise InvalidArgument(
                f"preferred_language {given.preferred_language!r} is not one of {', '.join(sorted(languages))}",
                field=_at("preferred_language"), reason="UNSUPPORTED_LANGUAGE", supported=sorted(languages))
        if not isinstance(self.category, Category):
            raise InvalidArgument("category is required (user, permanent_staff, external_partner)",
                                  field=_at("category"), reason="FIELD_REQUIRED")
        if self.joined_on and self.joined_on > local_date(utcnow()) + timedelta(days=1):
            raise InvalidArgument("joined_on cannot be in the future", field=_at("joined_on"),
                                  reason="DATE_IN_FUTURE")


_CONTROL = re.compile(r"[\x00-\x1f]")


def _clean(value: str, name: str, max_len: int, *, required: bool = True) -> str:
    text = " ".join(value.split())
    if required and not text:
        raise InvalidArgument(f"{name} is required", field=_at(name), reason="FIELD_REQUIRED")
    if len(text) > max_len:
        raise InvalidArgument(f"{name} is longer than {max_len} characters", field=_at(name),
                              reason="FIELD_TOO_LONG", max_length=max_len)
    if _CONTROL.search(text):
        raise InvalidArgument(f"{name} contains control characters", field=_at(name),
                              reason="CONTROL_CHARACTERS")
    return text


@dataclass
class StatusChange:
    from_status: Status | None
    to_status: Status
    reason: str
    actor: str
    at: datetime
    member_no: int | None = None
    id: int | None = None


@dataclass
class ShareYear:
    year: int
    amount_cents: int = DEFAULT_SHARE_CENTS
    grace_days: int = DEFAULT_GRACE_DAYS

    def __post_init__(self) -> None:
        if not 1900 <= self.year <= 2200:
            raise InvalidArgument(f"year {self.year} is out of range", field="year", reason="YEAR_OUT_OF_RANGE")
        if not 0 < self.amount_cents <= MAX_SHARE_CENTS:
            raise InvalidArgument("amount_cents must be positive and at most 10,000,000",
                                  field="amount_cents", reason="AMOUNT_OUT_OF_RANGE", maximum=MAX_SHARE_CENTS)
        if not 0 <= self.grace_days <= 366:
            raise InvalidArgument("grace_days must be between 0 and 366", field="grace_days",
                                  reason="GRACE_DAYS_OUT_OF_RANGE")


@dataclass
class Share:
    share_id: str
    member_no: int
    year: int
    amount_cents: int
    state: ShareState = ShareState.SUBSCRIBED
    payment_reference: str | None = None
    paid_at: datetime | None = None
    refunded_at: datetime | None = None

    def pay(self, amount_cents: int, reference: str, at: datetime) -> bool:
        """Record a payment; False when the same payment was already recorded (idempotent)."""
        if self.state == ShareState.PAID and self.payment_reference == reference:
            return False
        if self.state != ShareState.SUBSCRIBED:
            raise FailedPrecondition(f"the {self.year} share is already {ShareState(self.state).value}",
                                     reason="SHARE_NOT_PAYABLE", year=self.year, state=ShareState(self.state).value)
        if amount_cents != self.amount_cents:
            raise InvalidArgument(
                f"the {self.year} share is {self.amount_cents} cents; a payment of {amount_cents} cents does not match",
                field="amount_cents", reason="AMOUNT_MISMATCH", expected_cents=self.amount_cents)
        self.state, self.payment_reference, self.paid_at = ShareState.PAID, reference, at
        return True

    def refund(self, at: datetime) -> None:
        if self.state != ShareState.PAID:
            raise FailedPrecondition(f"the {self.year} share is {ShareState(self.state).value}, not paid",
                                     reason="SHARE_NOT_PAID", year=self.year)
        self.state, self.refunded_at = ShareState.REFUNDED, at


@dataclass
class Member:
    """The member aggregate: identity, contact details, lifecycle and paid-through year."""

    member_id: str
    given_name: str
    family_name: str
    email: str | None
    phone: str | None
    street: str | None
    postal_code: str | None
    city: str | None
    address_country: str | None
    country_of_residence: str
    preferred_language: str
    category: Category
    status: Status = Status.APPLICANT
    joined_on: date | None = None
    paid_through_year: int | None = None
    erased: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    member_no: int | None = None

    @classmethod
    def apply(cls, details: MemberDetails, now: datetime,
              languages: frozenset[str] = DEFAULT_LANGUAGE_SET) -> Member:
        d = details.normalised(languages)
        # built in one go: every attribute set on a mapped class goes through the ORM's
        # instrumentation, and registration is the hottest write
        return cls(member_id=str(uuid.uuid4()), given_name=d.given_name, family_name=d.family_name,
                   email=d.email, phone=d.phone or None, street=d.address.street or None,
                   postal_code=d.address.postal_code or None, city=d.address.city or None,
                   address_country=d.address.country or None,
                   country_of_residence=d.country_of_residence, preferred_language=d.preferred_language,
                   category=d.category, joined_on=d.joined_on, created_at=now, updated_at=now)

    @property
    def member_number(self) -> str:
        return format_member_number(self.member_no) if self.member_no else ""

    def _set_details(self, d: MemberDetails) -> None:
        self.given_name, self.family_name, self.email = d.given_name, d.family_name, d.email
        self.phone = d.phone or None
        self.street, self.postal_code = d.address.street or None, d.address.postal_code or None
        self.city, self.address_country = d.address.city or None, d.address.country or None
        self.country_of_residence, self.preferred_language = d.country_of_residence, d.preferred_language
        self.category = d.category

    def details(self) -> MemberDetails:
        return MemberDetails(
            given_name=self.given_name, family_name=self.family_name, email=self.email or "",
            phone=self.phone or "",
            address=Address(self.street or "", self.postal_code or "", self.city or "",
                            self.address_country or ""),
            country_of_residence=self.country_of_residence,
            preferred_language=self.preferred_language, category=self.category,
            joined_on=self.joined_on,
        )

    def update(self, changes: MemberDetails, paths: list[str], now: datetime,
               languages: frozenset[str] = DEFAULT_LANGUAGE_SET) -> list[str]:
        """Apply the named fields of `changes`; returns the fields that really changed."""
        if self.erased:
            raise FailedPrecondition("this member's personal data was erased", reason="MEMBER_ERASED")
        unknown = [p for p in paths if p not in EDITABLE_FIELDS]
        if unknown:
            raise InvalidArgument(
                f"cannot update {', '.join(unknown)}; updatable fields: {', '.join(EDITABLE_FIELDS)}",
                field="update_paths", reason="FIELD_NOT_UPDATABLE", updatable=EDITABLE_FIELDS)
        if not paths:
            raise InvalidArgument("update_paths is empty: name the fields to change", field="update_paths",
                                  reason="EMPTY_UPDATE_MASK")
        current = self.details()
        for path in paths:
            setattr(current, path, getattr(changes, path))
        before = self.details().normalised(languages)
        after = current.normalised(languages)
        self._set_details(after)
        changed = [p for p in paths if before is None or getattr(before, p) != getattr(after, p)]
        if changed:
            self.updated_at = now
        return changed

    def change_status(self, target: Status, reason: str, actor: str, now: datetime) -> StatusChange:
        if target not in TRANSITIONS[self.status]:
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[self.status]))
            raise FailedPrecondition(
                f"a member who is {Status(self.status).value} cannot become {target.value} (allowed: {allowed})",
                reason="ILLEGAL_TRANSITION", from_status=Status(self.status).value, to_status=target.value,
                allowed=sorted(s.value for s in TRANSITIONS[self.status]))
        if self.erased:
            raise FailedPrecondition("this member's personal data was erased; the record is closed",
                                     reason="MEMBER_ERASED")
        reason = " ".join(reason.split())
        if len(reason) > 500:
            raise InvalidArgument("reason is longer than 500 characters", field="reason", reason="FIELD_TOO_LONG",
                                  max_length=500)
        if target in (Status.SUSPENDED, Status.EXCLUDED) and not reason:
            raise InvalidArgument(f"a reason is required to make a member {target.value}", field="reason",
                                  reason="FIELD_REQUIRED")
        change = StatusChange(self.status, target, reason, actor, now, member_no=self.member_no)
        if target == Status.ACTIVE and self.joined_on is None:
            self.joined_on = local_date(now)
        self.status = target
        self.updated_at = now
        return change

    def in_good_standing(self, today: date, year_policy: ShareYear) -> bool:
        return good_standing(self.status, self.paid_through_year, self.joined_on, today, year_policy)

    def erase(self, now: datetime) -> None:
        """Pseudonymise: the member number, shares and history stay; who the person was does not."""
        self.given_name, self.family_name = "erased", "erased"
        self.email = self.phone = self.street = self.postal_code = self.city = None
        self.address_country = None
        self.erased = True
        self.updated_at = now


def good_standing(status: Status, paid_through_year: int | None, joined_on: date | None,
                  today: date, policy: ShareYear) -> bool:
    """The rule in one place (the SQL filter in the repository mirrors it; a test keeps them equal)."""
    if status != Status.ACTIVE:
        return False
    paid = paid_through_year or 0
    if paid >= today.year:
        return True
    grace = timedelta(days=policy.grace_days)
    if paid >= today.year - 1 and today <= date(today.year, 1, 1) + grace:
        return True
    return bool(joined_on and today <= joined_on + grace)
