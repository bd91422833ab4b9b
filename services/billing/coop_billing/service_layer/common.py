"""What several of billing's use cases share: the calendar, the member a call is about, the
request_id of a retryable write, pages, and the rules of dated documents (closed years,
numbers that follow dates)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from coop_billing.domain.budget import ActivityLedger
from coop_billing.domain.checks import parse_uuid
from coop_billing.domain.errors import DatedBeforeSeries, MemberNotYetKnown, YearClosed
from coop_billing.domain.invoice import DocumentNumber
from coop_billing.service_layer.ports import BillingUnitOfWork, Reply
from coop_domain.clock import local_date, utcnow
from coop_domain.errors import InvalidArgument
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal
from coop_platform.idempotency import IdempotentRequest

T = TypeVar("T")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 500
#: Staff who act on anyone's invoices and share fees; readers of anyone's records.
STAFF = ("admin", "teller")
READERS = ("admin", "teller", "board", "service")
#: How long a client waits before retrying a call about a member billing has not heard of yet:
#: membership's member.admitted event normally arrives within milliseconds.
MEMBER_NOT_YET_KNOWN_RETRY_SECONDS = 1.0


def today() -> date:
    """The cooperative's today (Brussels): contribution periods and due dates are its dates."""
    return local_date(utcnow())


def check_year(year: int, field: str = "year") -> int:
    if not 2000 <= year <= today().year + 1:
        raise InvalidArgument(f"year {year} is outside 2000..{today().year + 1}", field=field, reason="YEAR_OUT_OF_RANGE")
    return year


def unknown_member(member_id: str, field: str = "member_id") -> MemberNotYetKnown:
    """Transient: the member may have been admitted a moment ago and their member.admitted event
    not have reached billing yet, so the client retries (UNAVAILABLE + RetryInfo)."""
    return MemberNotYetKnown(
        f"member {member_id} is unknown to billing (no member.admitted event received yet): retry shortly",
        field=field, member_id=member_id, retry_after_seconds=MEMBER_NOT_YET_KNOWN_RETRY_SECONDS)


def known_member(uow: BillingUnitOfWork, member_id: str, *, lock: bool = False) -> Any:
    """The member's projection record, or MemberNotYetKnown."""
    row = uow.members.member(member_id, lock=lock)
    if row is None:
        raise unknown_member(member_id)
    return row


# ------------------------------------------------------------------ request_ids (AIP-155)

def first_answer(uow: BillingUnitOfWork, request: IdempotentRequest | None, reply: Reply[T]) -> T | None:
    """With a request_id: claim it in this unit of work; the first call's answer when this is a
    retry, None when this call is the first (or has no key)."""
    if request is None:
        return None
    stored = uow.request_ids.claim(request)
    return None if stored is None else reply.loads(stored)


def answer(uow: BillingUnitOfWork, request: IdempotentRequest | None, reply: Reply[T], result: Any) -> T:
    """Commit the call's work with its answer stored under its request_id (when it has one)."""
    given = reply.of(result)
    if request is not None:
        uow.request_ids.record(request, reply.dumps(given))
    uow.commit()
    return given


# ------------------------------------------------------------------ pages (coop_domain.paging)

def page_of(size: int) -> int:
    return page_size(size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)


def position(token: str, kind: str, arity: int, *, timed: bool = False) -> tuple[str, ...]:
    """The position a page token holds (() for the first page); `timed`: its first value is a
    creation time."""
    values = decode_page_token(token, kind, arity)
    if values is None:
        return ()
    after = tuple(str(v) for v in values)
    if timed:
        try:
            datetime.fromisoformat(after[0])
        except ValueError:
            raise InvalidArgument("page_token is not a token this service issued", field="page_token",
                                  reason="INVALID_PAGE_TOKEN") from None
    return after


def member_page(uow: BillingUnitOfWork, caller: Principal, member_id: str, token: str, size: int, kind: str,
                fetch: Callable[[BillingUnitOfWork, str, tuple[str, ...], int], list[T]],
                position_of: Callable[[T], tuple[Any, ...]]) -> tuple[list[T], str]:
    """A page of one member's records (list `kind`, in creation order): the member or a reader
    may list them; `fetch(uow, member_id, after, limit)` reads them."""
    caller.require_self_or(member_id, *READERS)
    member_id = parse_uuid(member_id, "member_id")
    size = page_of(size)
    after = position(token, kind, 2, timed=True)
    with uow:
        rows = fetch(uow.read_only(), member_id, after, size + 1)
    return rows[:size], next_token(rows, size, kind, position_of)


def next_token(rows: Sequence[Any], size: int, kind: str, position_of: Callable[[Any], tuple[Any, ...]]) -> str:
    """The token of the page after the first `size` rows: "" when `rows` (size + 1 asked) held
    no more; `position_of` gives a row's position (its sort key)."""
    return encode_page_token(kind, *position_of(rows[size - 1])) if len(rows) > size else ""


# ------------------------------------------------------------------ dated documents

def require_open(years: dict[int, Any], day: date, field: str) -> None:
    """Refuse a date inside a closed year (`years`: records of fiscal_years, held FOR SHARE)."""
    row = years.get(day.year)
    if row is not None and row.closed_at is not None:
        raise YearClosed(f"{day.year} is closed: nothing can be dated {day} any more", field=field, year=day.year)


def open_for(uow: BillingUnitOfWork, day: date, field: str) -> None:
    """`day`'s year is open, and stays open until this unit commits (its row held FOR SHARE)."""
    require_open(uow.years.fiscal_years([day.year]), day, field)


def before_series(series: str, day: date, last_on: date | None, field: str) -> DatedBeforeSeries:
    name = f"{series}-{day.year}" if series else str(day.year)
    return DatedBeforeSeries(
        f"the latest document of series {name} is dated {last_on}: numbers follow dates, so none can be "
        f"dated {day} any more", field=field, last_on=last_on.isoformat() if last_on else "")


def dated_number(uow: BillingUnitOfWork, series: str, day: date, field: str) -> DocumentNumber:
    """The next number of a dated series, refused when `day` is before its latest document."""
    first = uow.years.take_numbers(series, day.year, 1, first_on=day, last_on=day)
    if first is None:
        raise before_series(series, day, uow.years.series_last_on(series, day.year), field)
    return DocumentNumber(series, day.year, first)


def new_entries(ledger: ActivityLedger, before: int) -> list[Any]:
    return list(ledger.entries[before:])
