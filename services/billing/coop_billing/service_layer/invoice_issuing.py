"""Creating and issuing invoices: the hot path (CreateInvoice). Concurrent calls arrive as one
batch (coop_platform.batching in the api) and share one transaction, one hold of the numbering
lock and one commit; every check that can refuse runs per request first, so one caller's
refusal never fails the batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any, TypeVar

from coop_billing.domain import events
from coop_billing.domain.checks import parse_uuid
from coop_billing.domain.errors import NotInGoodStanding
from coop_billing.domain.invoice import (
    INVOICE_SERIES,
    DocumentNumber,
    Invoice,
    InvoiceLine,
    StoredInvoice,
)
from coop_billing.domain.postings import issue_contribution
from coop_billing.domain.vat import Client
from coop_billing.service_layer.clients import client_usable_by
from coop_billing.service_layer.common import (
    STAFF,
    before_series,
    require_open,
    today,
    unknown_member,
)
from coop_billing.service_layer.ports import BillingUnitOfWork, Reply
from coop_domain.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from coop_domain.principal import Principal
from coop_platform.batching import run_alone
from coop_platform.idempotency import IdempotentRequest, Replay, SameAs
from coop_platform.logs import get_correlation_id

T = TypeVar("T")
MAX_LINES = 500
#: How far back an invoice may be dated (its issue date is normally today).
MAX_BACKDATE_DAYS = 31


@dataclass(frozen=True)
class NewInvoice:
    """A checked request for a new invoice: a draft, or (issued_on set) issued at once."""

    caller: Principal
    member_id: str
    activity_id: str
    client_id: str
    lines: tuple[InvoiceLine, ...]
    issued_on: date | None = None
    due_on: date | None = None
    # the request's correlation id, kept for its events when another thread commits the batch
    correlation_id: str | None = field(default_factory=get_correlation_id)
    request: IdempotentRequest | None = None  # its request_id: a retry gets the first answer


def new_invoice(caller: Principal, member_id: str, activity_id: str, client_id: str, lines: list[InvoiceLine], *,
                issue: bool = False, issued_on: date | None = None, due_on: date | None = None,
                request: IdempotentRequest | None = None) -> NewInvoice:
    """Check what can be checked without the database, access included (a member invoices for
    themself, staff for anyone)."""
    caller.require_self_or(member_id, *STAFF)
    if len(lines) > MAX_LINES:
        raise InvalidArgument(f"at most {MAX_LINES} lines", field="lines", reason="TOO_MANY_LINES")
    if issue:
        issued_on = issue_date(issued_on)
    elif issued_on or due_on:
        raise InvalidArgument("issued_on and due_on are set when issuing", field="issue", reason="DATES_WITHOUT_ISSUE")
    return NewInvoice(caller, parse_uuid(member_id, "member_id"), parse_uuid(activity_id, "activity_id"),
                      parse_uuid(client_id, "client_id"), tuple(lines), issued_on, due_on, request=request)


def issue_date(issued_on: date | None) -> date:
    issued_on = issued_on or today()
    if issued_on > today():
        raise InvalidArgument("an invoice cannot be issued in the future", field="issued_on", reason="DATE_IN_FUTURE")
    if issued_on < today() - timedelta(days=MAX_BACKDATE_DAYS):
        raise InvalidArgument(f"an invoice is dated at most {MAX_BACKDATE_DAYS} days back "
                              f"(on or after {today() - timedelta(days=MAX_BACKDATE_DAYS)})", field="issued_on",
                              reason="DATE_TOO_OLD")
    return issued_on


def create_invoice(uow: BillingUnitOfWork, request: NewInvoice, reply: Reply[T]) -> T:
    """A draft, or the complete invoice in one transaction: numbered, its contribution fixed and
    published (the portal's "create and send"; nothing is written if any step refuses)."""
    return run_alone(partial(create_invoices, uow, reply=reply), request)


@dataclass
class _Issuing:
    """One invoice of a batch that passed every check and is about to take its number."""

    position: int  # in the batch
    stored: StoredInvoice
    issued_on: date
    due_on: date | None
    correlation_id: str | None


def create_invoices(uow: BillingUnitOfWork, requests: Sequence[NewInvoice], reply: Reply[T]) -> list[T | Exception]:
    """Create (and issue) several invoices in one transaction: one answer per request, a
    refusal for the requests that are refused, which write nothing. Issued ones take
    consecutive numbers, in date order, under one hold of the numbering lock. A request with a
    request_id that was answered before gets that answer back and does nothing; the keys are
    claimed first, in one statement."""
    results: list[Any] = [None] * len(requests)
    with uow:
        same_as = _claim_invoice_keys(uow, requests, results, reply)
        todo = [n for n, r in enumerate(requests) if results[n] is None and n not in same_as]
        activities = uow.activities.activities_with_standing(requests[n].activity_id for n in todo)
        clients = uow.clients.clients(requests[n].client_id for n in todo)
        dated = {requests[n].issued_on.year for n in todo if requests[n].issued_on is not None}
        years = uow.years.fiscal_years(dated) if dated else {}
        schedule = uow.years.schedule() if dated else None
        accepted: list[tuple[int, StoredInvoice]] = []
        issuing: list[_Issuing] = []
        for n in todo:
            request = requests[n]
            try:
                stored = _draft(request, activities.get(request.activity_id), clients.get(request.client_id))
                if request.issued_on is not None:
                    activity = activities[request.activity_id]
                    require_good_standing(request.member_id, activity.member_status, activity.in_good_standing,
                                          activity.member_number)
                    issuing.append(checked_issue(n, stored, years, schedule, request.issued_on, request.due_on,
                                                 request.correlation_id))
                accepted.append((n, stored))
            except DomainError as refused:
                results[n] = refused
        if issuing:
            for n, refused in number_and_issue(uow, issuing).items():
                results[n] = refused
            accepted = [(n, stored) for n, stored in accepted if results[n] is None]
        if accepted:
            uow.invoices.add_invoices([stored for _, stored in accepted])
            answers = [(n, reply.of(stored)) for n, stored in accepted]
            uow.request_ids.record_many([(requests[n].request, reply.dumps(given))
                                         for n, given in answers if requests[n].request])
            uow.request_ids.release_many([requests[n].request for n in todo
                                          if requests[n].request and isinstance(results[n], Exception)])
            uow.commit()
            for n, given in answers:
                results[n] = given
    for n, first in same_as.items():
        results[n] = results[first]
    return results


def _claim_invoice_keys(uow: BillingUnitOfWork, requests: Sequence[NewInvoice], results: list[Any],
                        reply: Reply[Any]) -> dict[int, int]:
    """Claim the batch's request_ids: a replayed or refused key fills its result; returns the
    requests answered as an earlier one of the batch (the same key and request): position -> first."""
    keyed = [(n, r.request) for n, r in enumerate(requests) if r.request is not None]
    if not keyed:
        return {}
    same_as: dict[int, int] = {}
    for (n, _key), claimed in zip(keyed, uow.request_ids.claim_many([k for _, k in keyed]), strict=True):
        if isinstance(claimed, Replay):
            results[n] = reply.loads(claimed.response)
        elif isinstance(claimed, SameAs):
            same_as[n] = keyed[claimed.index][0]
        elif isinstance(claimed, Exception):
            results[n] = claimed
    return same_as


def checked_issue(position: int, stored: StoredInvoice, years: dict[int, Any], schedule: Any, issued_on: date,
                  due_on: date | None, correlation_id: str | None) -> _Issuing:
    """Every reason issuing would refuse, before a number is taken; the contribution is fixed."""
    stored.invoice.check_issuable(issued_on, due_on)
    require_open(years, issued_on, "issued_on")
    stored.contribution_cents, stored.contribution_rate_bp = issue_contribution(stored.invoice, schedule, issued_on)
    return _Issuing(position, stored, issued_on, due_on, correlation_id)


def _draft(request: NewInvoice, activity: Any, client_row: Any) -> StoredInvoice:
    if activity is None:
        raise NotFound(f"no activity {request.activity_id}", field="activity_id")
    if activity.member_id != request.member_id:
        raise FailedPrecondition("the activity belongs to another member", field="activity_id",
                                 reason="ANOTHER_MEMBERS_ACTIVITY")
    if client_row is None:
        raise NotFound(f"no client {request.client_id}", field="client_id")
    if not client_usable_by(client_row, request.member_id):
        raise PermissionDenied("this client is another member's record: create your own, or use the "
                               "verified one", field="client_id", reason="ANOTHER_MEMBERS_CLIENT")
    invoice = Invoice(str(uuid.uuid4()), request.member_id, request.activity_id,
                      Client(client_row.name, client_row.country, client_row.address, client_row.vat_number))
    for line in request.lines:
        invoice.add_line(line)
    return StoredInvoice(invoice, request.client_id)


def require_good_standing(member_id: str, status: str | None, in_good_standing: bool | None,
                          member_number: str | None) -> None:
    if status is None:
        raise unknown_member(member_id)
    if not in_good_standing or status != "active":
        raise NotInGoodStanding(
            f"member {member_number or member_id} is not in good standing "
            "(annual share unpaid, or not an active member): invoices cannot be issued",
            member_id=member_id)


def number_and_issue(uow: BillingUnitOfWork, issuing: list[_Issuing]) -> dict[int, DomainError]:
    """Number checked invoices, consecutive per year in date order (then arrival order), and
    publish their invoice.issued events; returns the refusals by batch position: an invoice
    dated before its series' latest one (another caller issued a later date meanwhile) is
    refused alone, the others are numbered. Nothing reaches the budget yet: payments credit it.
    The counter rows stay locked until commit, so the callers check every other refusal before."""
    refused: dict[int, DomainError] = {}
    by_year: dict[int, list[_Issuing]] = {}
    for item in sorted(issuing, key=lambda i: (i.issued_on, i.position)):
        by_year.setdefault(item.issued_on.year, []).append(item)
    for year in sorted(by_year):  # one lock order: no deadlock
        group = by_year[year]
        first = uow.years.take_numbers(INVOICE_SERIES, year, len(group), first_on=group[0].issued_on,
                                       last_on=group[-1].issued_on)
        if first is None:  # some are dated before the series' latest invoice
            last_on = uow.years.series_last_on(INVOICE_SERIES, year)
            refused.update({i.position: before_series(INVOICE_SERIES, i.issued_on, last_on, "issued_on")
                            for i in group if last_on and i.issued_on < last_on})
            group = [i for i in group if i.position not in refused]
            if not group:
                continue
            first = uow.years.take_numbers(INVOICE_SERIES, year, len(group), first_on=group[0].issued_on,
                                           last_on=group[-1].issued_on)
            assert first is not None  # the lock is held and every date left is on or after last_on
        for offset, item in enumerate(group):
            item.stored.invoice.issue(DocumentNumber(INVOICE_SERIES, year, first + offset), item.issued_on,
                                      item.due_on)
            uow.publish(events.InvoiceIssued(item.stored), correlation_id=item.correlation_id)
    return refused
