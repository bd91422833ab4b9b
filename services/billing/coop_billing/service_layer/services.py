"""Use cases of the billing service. Each runs in one unit of work: rows, ledger entries
and outbox events commit together, or nothing does."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from coop.billing.v1 import billing_pb2 as pb
from coop_billing.adapters import messages as msg
from coop_billing.adapters.repository import BillingUnitOfWork, utcnow
from coop_billing.domain import events
from coop_billing.domain import redistribution as rd
from coop_billing.domain.budget import ActivityLedger
from coop_billing.domain.contract import ContractTerms, EmploymentContract, StoredContract
from coop_billing.domain.contribution import RateChange, RateKind
from coop_billing.domain.errors import (
    DatedBeforeSeries,
    MemberNotYetKnown,
    NotInGoodStanding,
    YearClosed,
)
from coop_billing.domain.invoice import (
    CREDIT_NOTE_SERIES,
    INVOICE_SERIES,
    DocumentNumber,
    Invoice,
    InvoiceLine,
    StoredInvoice,
)
from coop_billing.domain.postings import issue_contribution, post_credit_note, post_payment
from coop_billing.domain.statement import LANGUAGES, MemberStatement, render_html, render_text
from coop_billing.domain.vat import Client
from coop_domain.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from coop_platform import idempotency
from coop_platform.batching import run_alone
from coop_platform.idempotency import IdempotentRequest
from coop_platform.logs import get_correlation_id

log = logging.getLogger(__name__)
M = TypeVar("M")  # a protobuf answer
UowFactory = Callable[[], BillingUnitOfWork]
MAX_PAGE_SIZE = 500
DEFAULT_SHARE_FEE_CENTS = 3000
SHARE_FEE_SERIES = "SH"
MAX_LINES = 500
_NACE = re.compile(r"\d{2}(?:\.\d{1,2}(?:\.\d)?)?\Z")


def today() -> date:
    return utcnow().date()


def _first_answer(uow: BillingUnitOfWork, request: IdempotentRequest | None, answer_type: type[M]) -> M | None:
    """With a request_id: claim it in this unit of work (module coop_platform.idempotency); the
    first call's answer when this is a retry, None when this call is the first (or has no key)."""
    if request is None:
        return None
    stored = idempotency.claim(uow.session, request)
    return None if stored is None else answer_type.FromString(stored)


def _answer(uow: BillingUnitOfWork, request: IdempotentRequest | None, answer: M) -> M:
    """Commit the call's work with its answer stored under its request_id (when it has one)."""
    if request is not None:
        idempotency.record(uow.session, request, answer.SerializeToString())
    uow.commit()
    return answer


def check_page_size(size: int) -> int:
    size = size or 50
    if not 0 < size <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE_SIZE}", {"field": "page_size"})
    return size


def check_year(year: int) -> int:
    if not 2000 <= year <= today().year + 1:
        raise InvalidArgument(f"year {year} is outside 2000..{today().year + 1}", {"field": "year"})
    return year


def _member(uow: BillingUnitOfWork, member_id: str, *, lock: bool = False) -> Any:
    row = uow.billing.member(member_id, lock=lock)
    if row is None:
        raise _unknown_member(member_id)
    return row


#: How long a client waits before retrying a call about a member billing has not heard of yet:
#: membership's member.admitted event normally arrives within milliseconds.
MEMBER_NOT_YET_KNOWN_RETRY_SECONDS = 1.0


def _unknown_member(member_id: str, field: str = "member_id") -> MemberNotYetKnown:
    """Transient: the member may have been admitted a moment ago and their member.admitted event
    not have reached billing yet, so the client retries (UNAVAILABLE + RetryInfo)."""
    return MemberNotYetKnown(
        f"member {member_id} is unknown to billing (no member.admitted event received yet): retry shortly",
        field=field, member_id=member_id, retry_after_seconds=MEMBER_NOT_YET_KNOWN_RETRY_SECONDS)


# ------------------------------------------------------------------ clients and activities

def create_client(uow_factory: UowFactory, name: str, country: str, address: str, vat_number: str, *,
                  owner_member_id: str | None = None, verified_by: str | None = None) -> tuple[Any, bool]:
    """A client: (its row, already existed). A member's (owner_member_id) is theirs and unverified
    until the back office verifies it; the back office's (verified_by) is verified at once. With a
    VAT number, the verified client holding it (the real company) is returned to anyone, and a
    member's own unverified one to that member; another member's unverified record is never
    returned, nor does it keep the back office from creating the real company's."""
    if (owner_member_id is None) == (verified_by is None):
        raise ValueError("a client is created by a member (owner) or verified by the back office, not both")
    client = Client(msg.check_text(name, "name", limit=200), country,
                    msg.check_text(address, "address"), vat_number or None)
    vat = client.vat_number

    def existing(uow: BillingUnitOfWork) -> Any:
        if vat is None:
            return None
        return uow.billing.verified_client_by_vat(vat) or (
            uow.billing.own_client_by_vat(owner_member_id, vat) if owner_member_id else None)

    with uow_factory() as uow:
        found = existing(uow)
        if found is not None:
            return found, True
        client_id = str(uuid.uuid4())
        if not uow.billing.insert_client_if_absent(client_id, client, owner_member_id=owner_member_id,
                                                   verified_by=verified_by):  # lost a race on the VAT number
            uow.rollback()
            return existing(uow), True
        row = uow.billing.client(client_id)
        uow.commit()
    return row, False


def get_client(uow_factory: UowFactory, client_id: str) -> Any:
    with uow_factory() as uow:
        row = uow.read_only().billing.client(msg.parse_uuid(client_id, "client_id"))
        if row is None:
            raise NotFound(f"no client {client_id}")
        return row


def client_usable_by(row: Any, member_id: str) -> bool:
    """Whether a member may read and invoice this client: one they created, or a verified one that
    is a company (VAT number) or the back office's own record. Never another member's."""
    return row.owner_member_id == member_id or (
        row.verified_at is not None and (row.vat_number is not None or row.owner_member_id is None))


def verify_client(uow_factory: UowFactory, client_id: str, actor: str) -> Any:
    """The back office verifies a client (a member's, after checking it is the real company): it
    becomes the record every member creating that VAT number gets. ALREADY_EXISTS when another
    verified client holds the VAT number. Verifying a verified client changes nothing."""
    with uow_factory() as uow:
        row = uow.billing.client(msg.parse_uuid(client_id, "client_id"))
        if row is None:
            raise NotFound(f"no client {client_id}")
        if row.verified_at is None:
            if not uow.billing.verify_client(row.client_id, actor):
                holder = uow.billing.verified_client_by_vat(row.vat_number)
                raise AlreadyExists(f"client {holder.client_id} is the verified record of VAT number "
                                    f"{row.vat_number}: invoice that one", {"field": "client_id"})
            row = uow.billing.client(row.client_id)
            uow.commit()
        return row


def create_activity(uow_factory: UowFactory, member_id: str, name: str, sector_code: str) -> Any:
    member_id = msg.parse_uuid(member_id, "member_id")
    name = msg.check_text(name, "name", limit=200)
    sector = (sector_code or "").strip()
    if not _NACE.match(sector):
        raise InvalidArgument(f"sector_code {sector_code!r} is not a NACE code like 90 or 90.01",
                              {"field": "sector_code"})
    activity_id = str(uuid.uuid4())
    with uow_factory() as uow:
        _member(uow, member_id)
        uow.billing.add_activity(activity_id=activity_id, member_id=member_id, name=name, sector_code=sector)
        row = uow.billing.activity(activity_id)
        uow.commit()
        return row


def get_activity(uow_factory: UowFactory, activity_id: str) -> Any:
    with uow_factory() as uow:
        row = uow.read_only().billing.activity(msg.parse_uuid(activity_id, "activity_id"))
        if row is None:
            raise NotFound(f"no activity {activity_id}")
        return row


def list_activities(uow_factory: UowFactory, member_id: str, token: str, size: int) -> tuple[list[Any], str]:
    member_id = msg.parse_uuid(member_id, "member_id")
    size = check_page_size(size)
    after = msg.decode_token(token, 2)
    with uow_factory() as uow:
        rows = uow.read_only().billing.activities_of(member_id, after, size + 1)
    page = rows[:size]
    nxt = msg.encode_token(page[-1].created_at.isoformat(), page[-1].activity_id) if len(rows) > size else ""
    return page, nxt


@dataclass
class BudgetView:
    activity: Any
    balance_cents: int
    reserved_cents: int
    entries: list[Any]
    next_token: str


def get_budget(uow_factory: UowFactory, activity_id: str, token: str, size: int) -> BudgetView:
    activity_id = msg.parse_uuid(activity_id, "activity_id")
    size = check_page_size(size)
    after = msg.decode_token(token, 1)
    if after and not after[0].isdigit():
        raise InvalidArgument("page_token is not a token this service issued", {"field": "page_token"})
    with uow_factory() as uow:
        activity = uow.read_only().billing.activity(activity_id)
        if activity is None:
            raise NotFound(f"no activity {activity_id}")
        balance, reserved = uow.billing.balances(activity_id)
        rows = uow.billing.entries_page(activity_id, int(after[0]) if after else 0, size + 1)
    page = rows[:size]
    return BudgetView(activity, balance, reserved, page,
                      msg.encode_token(page[-1].entry_id) if len(rows) > size else "")


# ------------------------------------------------------------------ invoices

def _invoice(uow: BillingUnitOfWork, invoice_id: str, *, lock: bool = False) -> StoredInvoice:
    stored = uow.billing.invoice(msg.parse_uuid(invoice_id, "invoice_id"), lock=lock)
    if stored is None:
        raise NotFound(f"no invoice {invoice_id}")
    return stored


def get_invoice(uow_factory: UowFactory, invoice_id: str) -> StoredInvoice:
    with uow_factory() as uow:
        return _invoice(uow.read_only(), invoice_id)


def invoice_member_id(uow_factory: UowFactory, invoice_id: str) -> str:
    """Whose invoice this is (one column; for access checks before a command)."""
    with uow_factory() as uow:
        member_id = uow.read_only().billing.invoice_member_id(msg.parse_uuid(invoice_id, "invoice_id"))
    if member_id is None:
        raise NotFound(f"no invoice {invoice_id}")
    return member_id


@dataclass(frozen=True)
class NewInvoice:
    """A checked request for a new invoice: a draft, or (issued_on set) issued at once."""

    member_id: str
    activity_id: str
    client_id: str
    lines: tuple[InvoiceLine, ...]
    issued_on: date | None = None
    due_on: date | None = None
    # the request's correlation id, kept for its events when another thread commits the batch
    correlation_id: str | None = field(default_factory=get_correlation_id)
    request: IdempotentRequest | None = None  # its request_id: a retry gets the first answer


def new_invoice(member_id: str, activity_id: str, client_id: str, lines: list[InvoiceLine], *,
                issue: bool = False, issued_on: date | None = None, due_on: date | None = None,
                request: IdempotentRequest | None = None) -> NewInvoice:
    """Check what can be checked without the database."""
    if len(lines) > MAX_LINES:
        raise InvalidArgument(f"at most {MAX_LINES} lines", {"field": "lines"})
    if issue:
        issued_on = _issue_date(issued_on)
    elif issued_on or due_on:
        raise InvalidArgument("issued_on and due_on are set when issuing", {"field": "issue"})
    return NewInvoice(msg.parse_uuid(member_id, "member_id"), msg.parse_uuid(activity_id, "activity_id"),
                      msg.parse_uuid(client_id, "client_id"), tuple(lines), issued_on, due_on, request=request)


def create_invoice(uow_factory: UowFactory, request: NewInvoice) -> pb.Invoice:
    """A draft, or the complete invoice in one transaction: numbered, its contribution fixed and
    published (the portal's "create and send"; nothing is written if any step refuses)."""
    return run_alone(partial(create_invoices, uow_factory), request)


@dataclass
class _Issuing:
    """One invoice of a batch that passed every check and is about to take its number."""

    position: int  # in the batch
    stored: StoredInvoice
    issued_on: date
    due_on: date | None
    correlation_id: str | None


def create_invoices(uow_factory: UowFactory, requests: Sequence[NewInvoice]) -> list[pb.Invoice | Exception]:
    """Create (and issue) several invoices in one transaction: one answer per request, a
    refusal for the requests that are refused, which write nothing. Every check that can refuse
    runs per request (standing, lines, closed year, rate of the date), so one caller's refusal
    never fails the batch. Issued ones take consecutive numbers, in date order, under one hold of
    the numbering lock, so concurrent callers batched together (coop_platform.batching) share
    one lock hold and one commit. A request with a request_id that was answered before gets that
    answer back and does nothing; the keys are claimed first, in one statement."""
    results: list[pb.Invoice | Exception | None] = [None] * len(requests)
    with uow_factory() as uow:
        same_as = _claim_invoice_keys(uow, requests, results)
        todo = [n for n, r in enumerate(requests) if results[n] is None and n not in same_as]
        activities = uow.billing.activities_with_standing(requests[n].activity_id for n in todo)
        clients = uow.billing.clients(requests[n].client_id for n in todo)
        dated = {requests[n].issued_on.year for n in todo if requests[n].issued_on is not None}
        years = uow.billing.fiscal_years(dated) if dated else {}
        schedule = uow.billing.schedule() if dated else None
        accepted: list[tuple[int, StoredInvoice]] = []
        issuing: list[_Issuing] = []
        for n in todo:
            request = requests[n]
            try:
                stored = _draft(request, activities.get(request.activity_id), clients.get(request.client_id))
                if request.issued_on is not None:
                    activity = activities[request.activity_id]
                    _require_good_standing(request.member_id, activity.member_status, activity.in_good_standing,
                                           activity.member_number)
                    issuing.append(_checked_issue(n, stored, years, schedule, request.issued_on, request.due_on,
                                                  request.correlation_id))
                accepted.append((n, stored))
            except DomainError as refused:
                results[n] = refused
        if issuing:
            for n, refused in _number_and_issue(uow, issuing).items():
                results[n] = refused
            accepted = [(n, stored) for n, stored in accepted if results[n] is None]
        if accepted:
            uow.billing.add_invoices([stored for _, stored in accepted])
            answers = [(n, stored.issued_message or msg.invoice_to_pb(stored)) for n, stored in accepted]
            idempotency.record_many(uow.session, [(requests[n].request, answer.SerializeToString())
                                                  for n, answer in answers if requests[n].request])
            idempotency.release_many(uow.session, [requests[n].request for n in todo
                                                   if requests[n].request and isinstance(results[n], Exception)])
            uow.commit()
            for n, answer in answers:
                results[n] = answer
    for n, first in same_as.items():
        results[n] = results[first]
    return results  # type: ignore[return-value]


def _claim_invoice_keys(uow: BillingUnitOfWork, requests: Sequence[NewInvoice],
                        results: list[pb.Invoice | Exception | None]) -> dict[int, int]:
    """Claim the batch's request_ids: a replayed or refused key fills its result; returns the
    requests answered as an earlier one of the batch (the same key and request): position -> first."""
    keyed = [(n, r.request) for n, r in enumerate(requests) if r.request is not None]
    same_as: dict[int, int] = {}
    for (n, _key), claimed in zip(keyed, idempotency.claim_many(uow.session, [k for _, k in keyed]), strict=True):
        if isinstance(claimed, idempotency.Replay):
            results[n] = pb.Invoice.FromString(claimed.response)
        elif isinstance(claimed, idempotency.SameAs):
            same_as[n] = keyed[claimed.index][0]
        elif isinstance(claimed, Exception):
            results[n] = claimed
    return same_as


def _checked_issue(position: int, stored: StoredInvoice, years: dict[int, Any], schedule: Any, issued_on: date,
                   due_on: date | None, correlation_id: str | None) -> _Issuing:
    """Every reason issuing would refuse, before a number is taken; the contribution is fixed."""
    stored.invoice.check_issuable(issued_on, due_on)
    _require_open(years, issued_on, "issued_on")
    stored.contribution_cents, stored.contribution_rate_bp = issue_contribution(stored.invoice, schedule, issued_on)
    return _Issuing(position, stored, issued_on, due_on, correlation_id)


def _draft(request: NewInvoice, activity: Any, client_row: Any) -> StoredInvoice:
    if activity is None:
        raise NotFound(f"no activity {request.activity_id}")
    if activity.member_id != request.member_id:
        raise FailedPrecondition("the activity belongs to another member", {"field": "activity_id"})
    if client_row is None:
        raise NotFound(f"no client {request.client_id}")
    if not client_usable_by(client_row, request.member_id):
        raise PermissionDenied("this client is another member's record: create your own, or use the "
                               "verified one", {"field": "client_id"})
    invoice = Invoice(str(uuid.uuid4()), request.member_id, request.activity_id,
                      Client(client_row.name, client_row.country, client_row.address, client_row.vat_number))
    for line in request.lines:
        invoice.add_line(line)
    return StoredInvoice(invoice, request.client_id)


def add_invoice_lines(uow_factory: UowFactory, invoice_id: str, lines: list[InvoiceLine]) -> StoredInvoice:
    if not lines:
        raise InvalidArgument("give at least one line", {"field": "lines"})
    with uow_factory() as uow:
        stored = _invoice(uow, invoice_id, lock=True)
        before = len(stored.invoice.lines)
        if before + len(lines) > MAX_LINES:
            raise InvalidArgument(f"at most {MAX_LINES} lines", {"field": "lines"})
        for line in lines:
            stored.invoice.add_line(line)
        uow.billing.save_invoice(stored, new_lines_from=before)
        uow.commit()
        return stored


def issue_invoice(uow_factory: UowFactory, invoice_id: str, issued_on: date | None = None,
                  due_on: date | None = None) -> StoredInvoice:
    """Give the invoice its gapless yearly number and fix its contribution (payments reach the budget)."""
    issued_on = _issue_date(issued_on)
    with uow_factory() as uow:
        stored = _invoice(uow, invoice_id, lock=True)
        member = _member(uow, stored.invoice.member_id)
        _require_good_standing(stored.invoice.member_id, member.status, member.in_good_standing,
                               member.member_number)
        issuing = _checked_issue(0, stored, uow.billing.fiscal_years([issued_on.year]), uow.billing.schedule(),
                                 issued_on, due_on, None)
        refused = _number_and_issue(uow, [issuing])
        if refused:
            raise refused[0]
        uow.billing.save_invoice(stored)
        uow.commit()
        return stored


#: How far back an invoice may be dated (its issue date is normally today).
MAX_BACKDATE_DAYS = 31


def _issue_date(issued_on: date | None) -> date:
    issued_on = issued_on or today()
    if issued_on > today():
        raise InvalidArgument("an invoice cannot be issued in the future", {"field": "issued_on"})
    if issued_on < today() - timedelta(days=MAX_BACKDATE_DAYS):
        raise InvalidArgument(f"an invoice is dated at most {MAX_BACKDATE_DAYS} days back "
                              f"(on or after {today() - timedelta(days=MAX_BACKDATE_DAYS)})", {"field": "issued_on"})
    return issued_on


def _require_open(years: dict[int, Any], day: date, field: str) -> None:
    """Refuse a date inside a closed year (`years`: rows of fiscal_years, held FOR SHARE)."""
    row = years.get(day.year)
    if row is not None and row.closed_at is not None:
        raise YearClosed(f"{day.year} is closed: nothing can be dated {day} any more",
                                 {"field": field, "year": day.year})


def _open_for(uow: BillingUnitOfWork, day: date, field: str) -> None:
    """`day`'s year is open, and stays open until this unit commits (its row held FOR SHARE)."""
    _require_open(uow.billing.fiscal_years([day.year]), day, field)


def _before_series(series: str, day: date, last_on: date | None, field: str) -> DatedBeforeSeries:
    name = f"{series}-{day.year}" if series else str(day.year)
    return DatedBeforeSeries(
        f"the latest document of series {name} is dated {last_on}: numbers follow dates, so none can be "
        f"dated {day} any more", {"field": field, "last_on": last_on.isoformat() if last_on else ""})


def _dated_number(uow: BillingUnitOfWork, series: str, day: date, field: str) -> DocumentNumber:
    """The next number of a dated series, refused when `day` is before its latest document."""
    first = uow.billing.take_numbers(series, day.year, 1, first_on=day, last_on=day)
    if first is None:
        raise _before_series(series, day, uow.billing.series_last_on(series, day.year), field)
    return DocumentNumber(series, day.year, first)


def _require_good_standing(member_id: str, status: str | None, in_good_standing: bool | None,
                           member_number: str | None) -> None:
    if status is None:
        raise _unknown_member(member_id)
    if not in_good_standing or status != "active":
        raise NotInGoodStanding(
            f"member {member_number or member_id} is not in good standing "
            "(annual share unpaid, or not an active member): invoices cannot be issued",
            {"member_id": member_id})


def _number_and_issue(uow: BillingUnitOfWork, issuing: list[_Issuing]) -> dict[int, DomainError]:
    """Number checked invoices, consecutive per year in date order (then arrival order), and queue
    their invoice.issued events; returns the refusals by batch position: an invoice dated before
    its series' latest one (another caller issued a later date meanwhile) is refused alone, the
    others are numbered. Nothing reaches the budget yet: payments credit it (record_payment). The
    counter rows stay locked until commit, so the callers check every other refusal before."""
    refused: dict[int, DomainError] = {}
    by_year: dict[int, list[_Issuing]] = {}
    for item in sorted(issuing, key=lambda i: (i.issued_on, i.position)):
        by_year.setdefault(item.issued_on.year, []).append(item)
    for year in sorted(by_year):  # one lock order: no deadlock
        group = by_year[year]
        first = uow.billing.take_numbers(INVOICE_SERIES, year, len(group), first_on=group[0].issued_on,
                                         last_on=group[-1].issued_on)
        if first is None:  # some are dated before the series' latest invoice
            last_on = uow.billing.series_last_on(INVOICE_SERIES, year)
            refused.update({i.position: _before_series(INVOICE_SERIES, i.issued_on, last_on, "issued_on")
                            for i in group if last_on and i.issued_on < last_on})
            group = [i for i in group if i.position not in refused]
            if not group:
                continue
            first = uow.billing.take_numbers(INVOICE_SERIES, year, len(group), first_on=group[0].issued_on,
                                             last_on=group[-1].issued_on)
            assert first is not None  # the lock is held and every date left is on or after last_on
        for offset, item in enumerate(group):
            invoice = item.stored.invoice
            invoice.issue(DocumentNumber(INVOICE_SERIES, year, first + offset), item.issued_on, item.due_on)
            uow.publish(events.InvoiceIssued(item.stored), correlation_id=item.correlation_id)
    return refused


def record_payment(uow_factory: UowFactory, invoice_id: str, payment_id: str, amount_cents: int,
                   paid_on: date | None = None, *, request: IdempotentRequest | None = None) -> pb.Invoice:
    """Record money received on an invoice and credit its activity budget with the paid part of
    the invoice's amount excl. VAT, less the same part of its contribution (postings.post_payment),
    dated on the payment day. The bank reference (payment_id) is unique per payer (the invoice's
    client) and year: the same payment recorded twice on this invoice changes nothing, on another
    invoice of the client it is ALREADY_EXISTS. With a request_id, a retry gets the first answer."""
    payment_id = msg.check_text(payment_id, "payment_id", limit=100)
    msg.check_cents(amount_cents, "amount_cents")
    paid_on = paid_on or today()
    if paid_on > today():
        raise InvalidArgument("a payment cannot be dated in the future", {"field": "paid_on"})
    with uow_factory() as uow:
        first = _first_answer(uow, request, pb.Invoice)
        if first is not None:
            return first
        stored = _invoice(uow, invoice_id, lock=True)
        previous = next((p for p in stored.invoice.payments if p.payment_id == payment_id), None)
        if previous is not None:
            if previous.amount_cents != amount_cents or previous.paid_on != paid_on:
                raise AlreadyExists(f"payment {payment_id} was recorded with other figures",
                                    {"field": "payment_id"})
            return _answer(uow, request, msg.invoice_to_pb(stored))
        _open_for(uow, paid_on, "paid_on")  # its ledger entries are dated paid_on
        payment = stored.invoice.record_payment(payment_id, amount_cents, paid_on)
        if not uow.billing.add_payment_reference(stored.client_id, paid_on.year, payment_id,
                                                 stored.invoice.invoice_id):
            raise AlreadyExists(f"bank reference {payment_id} was already used for a payment of this client in "
                                f"{paid_on.year}: one transfer is recorded once", {"field": "payment_id"})
        ledger = uow.billing.ledger(stored.invoice.activity_id, reference=str(stored.invoice.number))
        before = len(ledger.entries)
        post_payment(ledger, stored.invoice, stored.contribution_cents, paid_on)
        uow.billing.add_entries(stored.invoice.activity_id, _new_entries(ledger, before))
        uow.billing.save_invoice(stored, new_payments=[payment])
        return _answer(uow, request, msg.invoice_to_pb(stored))


def cancel_invoice(uow_factory: UowFactory, invoice_id: str, reason: str,
                   on: date | None = None) -> StoredInvoice:
    """Cancel an issued invoice by a credit note dated `on` (today by default), in the credit-note
    series of that year: it reverses what the invoice's payments credited, and counts in its own
    year. Refused in a closed year, and before the series' latest credit note (numbers follow dates)."""
    reason = msg.check_text(reason, "reason")
    on = on or today()
    if on > today():
        raise InvalidArgument("a credit note cannot be dated in the future", {"field": "on"})
    with uow_factory() as uow:
        stored = _invoice(uow, invoice_id, lock=True)
        invoice = stored.invoice
        if invoice.state.value == "draft":
            raise FailedPrecondition("a draft is discarded, not credited", {"state": "draft"})
        if invoice.state.value == "cancelled":
            raise FailedPrecondition("invoice is already cancelled", {"state": "cancelled"})
        if invoice.issued_on and on < invoice.issued_on:
            raise InvalidArgument("credit note is dated before the invoice", {"field": "on"})
        _open_for(uow, on, "on")
        number = _dated_number(uow, CREDIT_NOTE_SERIES, on, "on")
        invoice.cancel(number, on, reason)
        ledger = uow.billing.ledger(invoice.activity_id, reference=str(invoice.number))
        before = len(ledger.entries)
        post_credit_note(ledger, invoice)
        uow.billing.add_entries(invoice.activity_id, _new_entries(ledger, before))
        uow.billing.save_invoice(stored)
        uow.publish(events.InvoiceCancelled(stored))
        uow.commit()
        return stored


def list_invoices(uow_factory: UowFactory, member_id: str, year: int, token: str,
                  size: int) -> tuple[list[StoredInvoice], str]:
    member_id = msg.parse_uuid(member_id, "member_id")
    if year:
        check_year(year)
    size = check_page_size(size)
    after = msg.decode_token(token, 2)
    _check_time_token(after)
    with uow_factory() as uow:
        rows = uow.read_only().billing.invoices_of(member_id, year, after, size + 1)
    page = rows[:size]
    nxt = ""
    if len(rows) > size:
        nxt = msg.encode_token(page[-1].created_at.isoformat(), page[-1].invoice.invoice_id)
    return page, nxt


def _check_time_token(after: tuple[str, ...]) -> None:
    if after:
        try:
            datetime.fromisoformat(after[0])
        except ValueError:
            raise InvalidArgument("page_token is not a token this service issued", {"field": "page_token"}) from None


# ------------------------------------------------------------------ rates

def set_rate(uow_factory: UowFactory, kind: str, effective_from: date, basis_points: int) -> RateChange:
    """A rate change taking effect on `effective_from`: today or later (never retroactive), and
    never inside a closed year."""
    try:
        rate_kind = RateKind(kind)
    except ValueError:
        raise InvalidArgument(f"kind must be one of {[k.value for k in RateKind]}", {"field": "kind"}) from None
    change = RateChange(rate_kind, effective_from, basis_points)
    if effective_from < today():
        raise InvalidArgument(f"a rate changes today ({today()}) or later, never retroactively: every "
                              "contribution already fixed keeps its rate", {"field": "effective_from"})
    with uow_factory() as uow:
        _open_for(uow, effective_from, "effective_from")
        if not uow.billing.add_rate(change):
            raise AlreadyExists(f"a {kind} rate already takes effect on {effective_from}")
        uow.commit()
    return change


def list_rates(uow_factory: UowFactory) -> list[RateChange]:
    with uow_factory() as uow:
        schedule = uow.read_only().billing.schedule()
    return [c for kind in RateKind for c in schedule.changes(kind)]


def purge_idempotency_keys(uow_factory: UowFactory) -> int:
    """Delete the request_ids older than the retention (the worker runs it every hour)."""
    with uow_factory() as uow:
        purged = idempotency.purge(uow.session)
        uow.commit()
    return purged


# ------------------------------------------------------------------ closed years

def close_year(uow_factory: UowFactory, year: int, actor: str) -> tuple[Any, bool]:
    """Close a year that has ended: (its fiscal_years row, closed before). From then on nothing is
    dated inside it, so its statements never change; waits for the writes still dated in it."""
    check_year(year)
    if year >= today().year:
        raise FailedPrecondition(f"{year} has not ended: a year is closed once it is over", {"field": "year"})
    with uow_factory() as uow:
        row, already = uow.billing.close_year(year, actor, utcnow())
        uow.commit()
    return row, already


# ------------------------------------------------------------------ contracts

def _new_entries(ledger: ActivityLedger, before: int) -> list[Any]:
    return list(ledger.entries[before:])


def request_contract(uow_factory: UowFactory, member_id: str, activity_id: str, terms: ContractTerms, *,
                     request: IdempotentRequest | None = None) -> pb.Contract:
    """Reserve the contract's full cost on the activity budget, under a lock on the activity row.
    With a request_id, a retry gets the first answer (one contract, one reservation)."""
    member_id = msg.parse_uuid(member_id, "member_id")
    activity_id = msg.parse_uuid(activity_id, "activity_id")
    with uow_factory() as uow:
        first = _first_answer(uow, request, pb.Contract)
        if first is not None:
            return first
        member = _member(uow, member_id)
        activity = uow.billing.activity(activity_id, lock=True)  # serialises reservations per budget
        if activity is None:
            raise NotFound(f"no activity {activity_id}")
        if activity.member_id != member_id:
            raise FailedPrecondition("the activity belongs to another member", {"field": "activity_id"})
        ledger = uow.billing.ledger(activity_id)
        before = len(ledger.entries)
        contract = EmploymentContract(str(uuid.uuid4()), member_id, activity_id, terms)
        contract.reserve(ledger, uow.billing.schedule(), today())
        uow.billing.add_entries(activity_id, _new_entries(ledger, before))
        now = utcnow()
        stored = StoredContract(contract, 1, now, now)
        uow.billing.add_contract(stored)
        uow.publish(events.ContractCreated(stored, member))
        return _answer(uow, request, msg.contract_to_pb(stored))


def _locked_contract(uow: BillingUnitOfWork, contract_id: str) -> tuple[StoredContract, ActivityLedger]:
    contract_id = msg.parse_uuid(contract_id, "contract_id")
    found = uow.billing.contract(contract_id)
    if found is None:
        raise NotFound(f"no contract {contract_id}")
    uow.billing.activity(found.contract.activity_id, lock=True)  # same lock order as request_contract
    stored = uow.billing.contract(contract_id, lock=True)
    assert stored is not None
    return stored, uow.billing.ledger(stored.contract.activity_id)


def amend_contract(uow_factory: UowFactory, contract_id: str, terms: ContractTerms) -> StoredContract:
    with uow_factory() as uow:
        stored, ledger = _locked_contract(uow, contract_id)
        member = _member(uow, stored.contract.member_id)
        previous = stored.contract.terms
        before = len(ledger.entries)
        changes = {f: getattr(terms, f) for f in ContractTerms.__dataclass_fields__}
        delta = stored.contract.amend(ledger, uow.billing.schedule(), today(), **changes)
        uow.billing.add_entries(stored.contract.activity_id, _new_entries(ledger, before))
        stored.revision += 1
        stored.updated_at = utcnow()
        uow.billing.save_contract(stored)
        uow.publish(events.ContractAmended(stored, member, previous, delta))
        uow.commit()
        return stored


def cancel_contract(uow_factory: UowFactory, contract_id: str, reason: str) -> StoredContract:
    reason = msg.check_text(reason, "reason")
    with uow_factory() as uow:
        stored, ledger = _locked_contract(uow, contract_id)
        member = _member(uow, stored.contract.member_id)
        before = len(ledger.entries)
        released = stored.contract.cancel(ledger, today())
        uow.billing.add_entries(stored.contract.activity_id, _new_entries(ledger, before))
        stored.updated_at = utcnow()
        uow.billing.save_contract(stored)
        uow.publish(events.ContractCancelled(stored, member, reason, released))
        uow.commit()
        return stored


def get_contract(uow_factory: UowFactory, contract_id: str) -> StoredContract:
    with uow_factory() as uow:
        stored = uow.read_only().billing.contract(msg.parse_uuid(contract_id, "contract_id"))
        if stored is None:
            raise NotFound(f"no contract {contract_id}")
        return stored


def list_contracts(uow_factory: UowFactory, member_id: str, token: str,
                   size: int) -> tuple[list[StoredContract], str]:
    member_id = msg.parse_uuid(member_id, "member_id")
    size = check_page_size(size)
    after = msg.decode_token(token, 2)
    _check_time_token(after)
    with uow_factory() as uow:
        rows = uow.read_only().billing.contracts_of(member_id, after, size + 1)
    page = rows[:size]
    nxt = ""
    if len(rows) > size:
        nxt = msg.encode_token(page[-1].created_at.isoformat(), page[-1].contract.contract_id)
    return page, nxt


MAX_PAYROLL_REFERENCE = 64  # the ledger entry carries it


def record_payroll(uow_factory: UowFactory, contract_id: str, payroll_reference: str, gross_cents: int,
                   paid_on: date | None = None) -> tuple[StoredContract, Any, bool]:
    """Record a payroll run on a contract: (contract, run row, already recorded before).

    Under the same locks as amend/cancel (activity, then contract): the run's cost is debited
    from the budget and consumed from the reservation, a reserved contract becomes active, and
    contract.activated / contract.payroll_recorded are emitted, in one transaction. Idempotent
    per (contract, reference); the same reference with other figures is ALREADY_EXISTS.
    """
    reference = msg.check_text(payroll_reference, "payroll_reference", limit=MAX_PAYROLL_REFERENCE)
    msg.check_cents(gross_cents, "gross_cents")
    on_day = today()
    dated = paid_on is not None
    paid_on = paid_on or on_day
    with uow_factory() as uow:
        stored, ledger = _locked_contract(uow, contract_id)
        contract = stored.contract
        previous = uow.billing.payroll_run(contract.contract_id, reference)
        if previous is not None:
            if previous.gross_cents != gross_cents or (dated and previous.paid_on != paid_on):
                raise AlreadyExists(
                    f"payroll {reference} was already recorded on this contract with other figures "
                    f"(gross {previous.gross_cents} cents paid on {previous.paid_on})",
                    {"field": "payroll_reference"})
            return stored, previous, True
        member = _member(uow, contract.member_id)
        _open_for(uow, paid_on, "paid_on")  # the run and its ledger entry are dated paid_on
        before = len(ledger.entries)
        run = contract.record_payroll(ledger, gross_cents, paid_on, reference, on_day)
        uow.billing.add_entries(contract.activity_id, _new_entries(ledger, before))
        now = utcnow()
        stored.updated_at = now
        uow.billing.save_contract(stored)
        row = uow.billing.add_payroll_run(
            contract_id=contract.contract_id, payroll_reference=reference, member_id=contract.member_id,
            activity_id=contract.activity_id, paid_on=paid_on, gross_cents=run.cost.gross_cents,
            social_charges_cents=run.cost.social_charges_cents,
            employment_contribution_cents=run.cost.employment_contribution_cents,
            total_cents=run.cost.total_cents, recorded_at=now)
        if run.activated:
            uow.publish(events.ContractActivated(stored, member, on_day))
        uow.publish(events.ContractPayrollRecorded(stored, member, row))
        uow.commit()
        return stored, row, False


def complete_contract(uow_factory: UowFactory, contract_id: str) -> tuple[StoredContract, int]:
    """Complete a contract on or after its end date; what is still reserved goes back to the budget.
    Returns (contract, cents released)."""
    on_day = today()
    with uow_factory() as uow:
        stored, ledger = _locked_contract(uow, contract_id)
        member = _member(uow, stored.contract.member_id)
        before = len(ledger.entries)
        activated, released = stored.contract.complete_and_release(ledger, on_day)
        uow.billing.add_entries(stored.contract.activity_id, _new_entries(ledger, before))
        stored.updated_at = utcnow()
        uow.billing.save_contract(stored)
        if activated:
            uow.publish(events.ContractActivated(stored, member, on_day))
        uow.publish(events.ContractCompleted(stored, member, released))
        uow.commit()
        return stored, released


# ------------------------------------------------------------------ share fees

def _bill_share_fee(uow: BillingUnitOfWork, member: Any, year: int, amount_cents: int) -> tuple[Any, bool]:
    """(fee row, newly billed) inside the caller's unit of work; the caller's lock on the member
    row (``_member(..., lock=True)``) serialises."""
    member_id = member.member_id
    existing = uow.billing.share_fee(member_id, year)
    if existing is not None:
        return existing, False
    _require_open(uow.billing.fiscal_years([year]), date(year, 1, 1), "year")  # a closed year's statement stays
    number = DocumentNumber(SHARE_FEE_SERIES, year, uow.billing.next_number(SHARE_FEE_SERIES, year))
    fee_id = str(uuid.uuid4())
    uow.billing.add_share_fee(fee_id=fee_id, member_id=member_id, year=year, amount_cents=amount_cents,
                              number=str(number), state="billed", paid_cents=0)
    row = uow.billing.share_fee(member_id, year)
    uow.publish(events.ShareFeeBilled(row, member.member_number))
    return row, True


def bill_share_fee(uow_factory: UowFactory, member_id: str, year: int, amount_cents: int = 0) -> tuple[Any, str]:
    member_id = msg.parse_uuid(member_id, "member_id")
    check_year(year)
    amount = msg.check_cents(amount_cents, "amount_cents", allow_zero=True) or DEFAULT_SHARE_FEE_CENTS
    with uow_factory() as uow:
        member = _member(uow, member_id, lock=True)
        if member.status != "active":
            raise FailedPrecondition(f"member is {member.status}: only active members owe the annual share")
        row, _ = _bill_share_fee(uow, member, year, amount)
        uow.commit()
        return row, member.member_number


def bill_share_fees(uow_factory: UowFactory, year: int, amount_cents: int = 0,
                    batch: int = 500) -> tuple[int, int]:
    """Bill the year's share to every active member not yet billed; (billed, already billed).

    Batches of `batch` members per transaction: a crash leaves whole batches, and a rerun
    bills only those still missing.
    """
    check_year(year)
    amount = msg.check_cents(amount_cents, "amount_cents", allow_zero=True) or DEFAULT_SHARE_FEE_CENTS
    billed = 0
    after = ""
    while True:
        with uow_factory() as uow:
            ids = uow.billing.active_members_without_fee(year, after, batch)
            if not ids:
                break
            for member_id in ids:
                _row, new = _bill_share_fee(uow, _member(uow, member_id, lock=True), year, amount)
                billed += int(new)
            uow.commit()
        after = ids[-1]
    with uow_factory() as uow:
        total = uow.billing.share_fee_count(year)
    return billed, total - billed


def record_share_fee_payment(uow_factory: UowFactory, member_id: str, year: int, amount_cents: int,
                             bank_reference: str, *, request: IdempotentRequest | None = None) -> pb.ShareFee:
    """Record one payment of the year's share: the whole fee or a part of what is still due.

    Partial payments accumulate (billed -> partially_paid -> paid); share_fee.paid is published once,
    by the payment that completes the fee. A payment larger than what is still due is refused
    (FAILED_PRECONDITION, nothing recorded), as is any payment on a paid fee. Idempotent per bank
    reference, unique across all fees: the same payment again changes nothing; the reference with
    other figures is ALREADY_EXISTS. Bills the share first when it was not billed yet. With a
    request_id, a retry gets the first answer. Returns the fee with its payments.
    """
    member_id = msg.parse_uuid(member_id, "member_id")
    check_year(year)
    msg.check_cents(amount_cents, "amount_cents")
    bank_reference = msg.check_text(bank_reference, "bank_reference", limit=100)
    with uow_factory() as uow:
        first = _first_answer(uow, request, pb.ShareFee)
        if first is not None:
            return first
        member = _member(uow, member_id, lock=True)  # serialises this member's payments
        used = uow.billing.share_fee_payment(bank_reference)
        if used is not None:
            if used.member_id == member_id and used.year == year and used.amount_cents == amount_cents:
                fee = uow.billing.share_fee(member_id, year)
                payments = uow.billing.share_fee_payments_of([fee.fee_id])[fee.fee_id]
                return _answer(uow, request, msg.share_fee_to_pb(fee, member.member_number, payments))
            raise AlreadyExists(f"bank reference {bank_reference} was already used for another payment",
                                {"field": "bank_reference"})
        _bill_share_fee(uow, member, year, DEFAULT_SHARE_FEE_CENTS)  # a payment may precede the bill
        fee = uow.billing.share_fee(member_id, year, lock=True)
        if fee.state == "paid":
            raise FailedPrecondition(f"the {year} share of this member is already paid ({fee.bank_reference})")
        due = fee.amount_cents - fee.paid_cents
        if amount_cents > due:
            raise FailedPrecondition(
                f"only {due} cents of the {year} share ({fee.amount_cents} cents) are still due: a payment of "
                f"{amount_cents} cents would overpay it by {amount_cents - due}; record at most {due} cents",
                {"due_cents": due, "excess_cents": amount_cents - due})
        now = utcnow()
        if not uow.billing.add_share_fee_payment(bank_reference=bank_reference, fee_id=fee.fee_id,
                                                 amount_cents=amount_cents, recorded_at=now):
            raise AlreadyExists(f"bank reference {bank_reference} was already used for another payment",
                                {"field": "bank_reference"})
        paid = fee.paid_cents + amount_cents
        full = paid == fee.amount_cents
        uow.billing.update_share_fee(fee.fee_id, state="paid" if full else "partially_paid", paid_cents=paid,
                                     bank_reference=bank_reference, paid_at=now if full else None)
        fee = uow.billing.share_fee(member_id, year)
        if full:
            uow.publish(events.ShareFeePaid(fee, member.member_number))
        payments = uow.billing.share_fee_payments_of([fee.fee_id])[fee.fee_id]
        return _answer(uow, request, msg.share_fee_to_pb(fee, member.member_number, payments))


def list_share_fees(uow_factory: UowFactory, member_id: str) -> tuple[list[Any], str, dict[str, list[Any]]]:
    """(fees, member number, payments per fee id)."""
    member_id = msg.parse_uuid(member_id, "member_id")
    with uow_factory() as uow:
        member = uow.read_only().billing.member(member_id)
        fees = uow.billing.share_fees_of(member_id)
        payments = uow.billing.share_fee_payments_of([f.fee_id for f in fees])
        return fees, member.member_number if member else "", payments


# ------------------------------------------------------------------ statements

@dataclass(frozen=True)
class RenderedStatement:
    statement: MemberStatement
    language: str
    html: str
    text: str


def _check_language(language: str) -> str:
    language = (language or "").strip().lower()
    if language and language not in LANGUAGES:
        raise InvalidArgument(f"language must be one of {', '.join(LANGUAGES)}", {"field": "language"})
    return language


def get_statement(uow_factory: UowFactory, member_id: str, year: int, language: str = "") -> RenderedStatement:
    """One member's statement for a year, in `language` or the member's own."""
    member_id = msg.parse_uuid(member_id, "member_id")
    check_year(year)
    language = _check_language(language)
    with uow_factory() as uow:
        member = _member(uow.read_only(), member_id)
        figures = uow.billing.statement_figures(member_id, year)
        rates = uow.billing.applied_rates_of([member_id], year)[member_id]
    return _render_statement(member, figures, rates, year, language)


STATEMENT_CHUNK = 1000


@dataclass(frozen=True)
class StatementFailure:
    """A member whose statement could not be produced: the stream says why and goes on."""

    member_id: str
    year: int
    reason: str


def statement_failure(member_id: str, year: int, exc: Exception) -> StatementFailure:
    """The failure to stream for one member (a domain refusal as it is, anything else logged)."""
    if isinstance(exc, DomainError):
        return StatementFailure(member_id, year, str(exc))
    log.exception("bug: the %s statement of member %s failed", year, member_id)
    return StatementFailure(member_id, year, "internal error; it has been logged")


def statements(uow_factory: UowFactory, year: int, language: str = "", after: str = "",
               limit: int = 0) -> tuple[int, Iterator[RenderedStatement | StatementFailure]]:
    """Every member's statement for a year, in member-id order after `after` (to resume), at
    most `limit` (0: all): (how many there will be, the statements). The figures come from
    set-based queries per chunk of members, so the year-end run costs a few scans per
    thousand members instead of several queries per member. A member whose statement cannot
    be produced comes as a StatementFailure: the run never stops at one member."""
    check_year(year)
    language = _check_language(language)
    if after:
        after = msg.parse_uuid(after, "page_token")
    if limit < 0:
        raise InvalidArgument("limit cannot be negative", {"field": "limit"})
    with uow_factory() as uow:
        total = uow.read_only().billing.member_count(after)
    total = min(total, limit) if limit else total

    def generate() -> Iterator[RenderedStatement | StatementFailure]:
        cursor, left = after, total
        while left > 0:
            with uow_factory() as uow:
                members = uow.read_only().billing.members_page(cursor, min(STATEMENT_CHUNK, left))
                if not members:
                    return
                ids = [m.member_id for m in members]
                figures = uow.billing.statement_figures_of(ids, year)
                rates = uow.billing.applied_rates_of(ids, year)
            for member in members:
                try:
                    yield _render_statement(member, figures[member.member_id], rates[member.member_id], year,
                                            language)
                except Exception as exc:  # noqa: BLE001 - one member never stops the year-end run
                    yield statement_failure(member.member_id, year, exc)
            cursor, left = members[-1].member_id, left - len(members)

    return total, generate()


def _render_statement(member: Any, figures: dict[str, int], rates: tuple[tuple[int, ...], tuple[int, ...]],
                      year: int, language: str) -> RenderedStatement:
    lang = language or (member.preferred_language if member.preferred_language in LANGUAGES else "fr")
    name = f"{member.given_name} {member.family_name}".strip() or member.member_number or member.member_id
    for figure, cents in figures.items():
        msg.int64(cents, f"statement {year}: {figure}")
    statement = MemberStatement(
        member_id=member.member_id, member_name=name, year=year,
        revenue_excl_vat_cents=figures["revenue"], revenue_contribution_cents=figures["contribution"],
        employer_social_charges_cents=figures["social"], employment_contribution_cents=figures["employment"],
        share_fee_cents=figures["share_fee"], budget_in_cents=figures["budget_in"],
        budget_out_cents=figures["budget_out"], contracts_paid=figures["contracts"],
        gross_salaries_cents=figures["gross"], revenue_rates_bp=rates[0], employment_rates_bp=rates[1])
    return RenderedStatement(statement, lang, render_html(statement, lang), render_text(statement, lang))


# ------------------------------------------------------------------ redistribution

MAX_SCENARIOS = 10
#: The revenue every allocation key weighs (shown in the simulation's output): what clients paid
#: excl. VAT in the reference period, less the credit notes issued in it (repository.revenue_by_member).
REVENUE_BASIS = "paid"


def envelope_from_pb(spec: pb.EnvelopeSpec) -> rd.Envelope:
    msg.check_cents(spec.amount_cents, "envelope.amount_cents")
    if not 0 <= spec.retained_bp <= 10_000:
        raise InvalidArgument("retained_bp is between 0 and 10000", {"field": "envelope.retained_bp"})
    msg.check_cents(spec.min_revenue_cents, "envelope.min_revenue_cents", allow_zero=True)
    return rd.Envelope(spec.amount_cents, spec.retained_bp, spec.min_revenue_cents or 1,
                       msg.parse_optional_date(spec.reference_start, "envelope.reference_start"),
                       msg.parse_optional_date(spec.reference_end, "envelope.reference_end"))


def _weight(value: str, name: str) -> Decimal:
    weight = msg.parse_decimal(value, name)
    if weight < 0 or weight > 1000 or weight != weight.quantize(Decimal("0.0001")):
        raise InvalidArgument(f"{name} must be between 0 and 1000 with at most 4 decimals", {"field": name})
    return weight


def _key(part: pb.KeyPart) -> Any:
    if part.kind == "pro_rata_revenue":
        return rd.ProRataRevenue()
    if part.kind == "equal":
        return rd.EqualShares()
    if part.kind in ("sector_revenue", "sector_head"):
        if len(part.sector_weights) > 1000:
            raise InvalidArgument("at most 1000 sector weights", {"field": "sector_weights"})
        weights = {}
        for code, value in part.sector_weights.items():
            if not _NACE.match(code.strip()):
                raise InvalidArgument(f"sector {code!r} is not a NACE code", {"field": "sector_weights"})
            weights[code.strip()] = _weight(value, "sector_weights")
        return rd.SectorWeighted(weights, "revenue" if part.kind == "sector_revenue" else "head",
                                 _weight(part.default_weight or "1", "default_weight"))
    raise InvalidArgument("key kind must be pro_rata_revenue, equal, sector_revenue or sector_head",
                          {"field": "kind"})


def scenario_from_pb(spec: pb.ScenarioSpec) -> rd.Scenario:
    name = msg.check_text(spec.name, "scenario.name", limit=100)
    if not spec.parts or len(spec.parts) > 10:
        raise InvalidArgument("a scenario has 1 to 10 key parts", {"field": "scenario.parts"})
    if len(spec.parts) == 1:
        key = _key(spec.parts[0])
    else:
        for part in spec.parts:
            if not 0 < part.share <= 10_000:
                raise InvalidArgument("each part of a mix has a share in 1..10000", {"field": "share"})
        key = rd.Mixed(tuple((p.share, _key(p)) for p in spec.parts))
    msg.check_cents(spec.floor_cents, "floor_cents", allow_zero=True)
    msg.check_cents(spec.cap_cents, "cap_cents", allow_zero=True)
    return rd.Scenario(name, key, spec.floor_cents, spec.cap_cents or None)


def _members_for(uow_factory: UowFactory, envelope: rd.Envelope) -> list[rd.MemberRevenue]:
    with uow_factory() as uow:
        rows = uow.read_only().billing.revenue_by_member(envelope.reference_start, envelope.reference_end)
    return [rd.MemberRevenue(m, revenue, sector) for m, revenue, sector in rows]


def simulate(uow_factory: UowFactory, envelope: rd.Envelope,
             scenarios: list[rd.Scenario]) -> list[rd.SimulationResult]:
    if not scenarios or len(scenarios) > MAX_SCENARIOS:
        raise InvalidArgument(f"give 1 to {MAX_SCENARIOS} scenarios", {"field": "scenarios"})
    return rd.simulate(envelope, _members_for(uow_factory, envelope), scenarios)


def adopt(uow_factory: UowFactory, envelope_id: str, name: str, envelope: rd.Envelope,
          scenario: rd.Scenario, spec_json: str, actor: str) -> tuple[rd.SimulationResult, int]:
    """Create payout lines for one scenario and a distribution.payout event per beneficiary."""
    envelope_id = msg.parse_uuid(envelope_id, "envelope_id")
    name = msg.check_text(name, "name", limit=200)
    members = _members_for(uow_factory, envelope)
    allocation = rd.allocate(envelope, members, scenario)
    result = rd.simulate(envelope, members, [scenario])[0]
    with uow_factory() as uow:
        if not uow.billing.add_envelope(envelope_id=envelope_id, name=name, amount_cents=envelope.amount_cents,
                                        retained_bp=envelope.retained_bp, retained_cents=envelope.retained_cents,
                                        scenario=spec_json, adopted_by=actor[:100], adopted_at=utcnow()):
            raise AlreadyExists(f"envelope {envelope_id} was already adopted", {"field": "envelope_id"})
        lines = [dict(envelope_id=envelope_id, member_id=m, amount_cents=a)
                 for m, a in zip(allocation.member_ids, allocation.amounts_cents, strict=True) if a > 0]
        uow.billing.add_payouts(lines)
        for line in lines:
            uow.publish(events.DistributionPayout(envelope_id, name, scenario.name, line["member_id"],
                                                  line["amount_cents"]))
        uow.commit()
    return result, len(lines)


def list_payouts(uow_factory: UowFactory, envelope_id: str, token: str, size: int) -> tuple[list[Any], str]:
    envelope_id = msg.parse_uuid(envelope_id, "envelope_id")
    size = check_page_size(size)
    after = msg.decode_token(token, 1)
    with uow_factory() as uow:
        if uow.read_only().billing.envelope(envelope_id) is None:
            raise NotFound(f"no adopted envelope {envelope_id}")
        rows = uow.billing.payouts(envelope_id, after[0] if after else "", size + 1)
    page = rows[:size]
    return page, msg.encode_token(page[-1].member_id) if len(rows) > size else ""


def spec_json(spec: Any) -> str:
    from google.protobuf import json_format

    return json.dumps(json_format.MessageToDict(spec), sort_keys=True)

