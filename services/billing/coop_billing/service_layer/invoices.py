"""Use cases of invoices after their creation (invoice_issuing.py): lines, issuing a draft,
payments, cancellation by credit note, reads."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from coop_billing.domain import events
from coop_billing.domain.checks import check_cents, check_text, parse_uuid
from coop_billing.domain.invoice import CREDIT_NOTE_SERIES, InvoiceLine, StoredInvoice
from coop_billing.domain.postings import post_credit_note, post_payment
from coop_billing.service_layer.common import (
    READERS,
    STAFF,
    answer,
    check_year,
    dated_number,
    first_answer,
    known_member,
    member_page,
    new_entries,
    open_for,
    today,
)
from coop_billing.service_layer.invoice_issuing import (
    MAX_LINES,
    checked_issue,
    issue_date,
    number_and_issue,
    require_good_standing,
)
from coop_billing.service_layer.ports import BillingUnitOfWork, Reply
from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from coop_domain.principal import Principal
from coop_platform.idempotency import IdempotentRequest

T = TypeVar("T")


def _invoice(uow: BillingUnitOfWork, invoice_id: str, *, lock: bool = False) -> StoredInvoice:
    stored = uow.invoices.invoice(parse_uuid(invoice_id, "invoice_id"), lock=lock)
    if stored is None:
        raise NotFound(f"no invoice {invoice_id}", field="invoice_id")
    return stored


def get_invoice(uow: BillingUnitOfWork, caller: Principal, invoice_id: str) -> StoredInvoice:
    with uow:
        stored = _invoice(uow.read_only(), invoice_id)
    caller.require_self_or(stored.invoice.member_id, *READERS)
    return stored


def add_invoice_lines(uow: BillingUnitOfWork, caller: Principal, invoice_id: str,
                      lines: list[InvoiceLine]) -> StoredInvoice:
    if not lines:
        raise InvalidArgument("give at least one line", field="lines", reason="NO_LINES")
    with uow:
        stored = _invoice(uow, invoice_id, lock=True)
        caller.require_self_or(stored.invoice.member_id, *STAFF)
        before = len(stored.invoice.lines)
        if before + len(lines) > MAX_LINES:
            raise InvalidArgument(f"at most {MAX_LINES} lines", field="lines", reason="TOO_MANY_LINES")
        for line in lines:
            stored.invoice.add_line(line)
        uow.invoices.save_invoice(stored, new_lines_from=before)
        uow.commit()
        return stored


def issue_invoice(uow: BillingUnitOfWork, caller: Principal, invoice_id: str, issued_on: date | None = None,
                  due_on: date | None = None) -> StoredInvoice:
    """Give the invoice its gapless yearly number and fix its contribution (payments reach the budget)."""
    with uow:
        stored = _invoice(uow, invoice_id, lock=True)
        caller.require_self_or(stored.invoice.member_id, *STAFF)
        issued_on = issue_date(issued_on)
        member = known_member(uow, stored.invoice.member_id)
        require_good_standing(stored.invoice.member_id, member.status, member.in_good_standing, member.member_number)
        issuing = checked_issue(0, stored, uow.years.fiscal_years([issued_on.year]), uow.years.schedule(),
                                issued_on, due_on, None)
        refused = number_and_issue(uow, [issuing])
        if refused:
            raise refused[0]
        uow.invoices.save_invoice(stored)
        uow.commit()
        return stored


def record_payment(uow: BillingUnitOfWork, caller: Principal, invoice_id: str, payment_id: str, amount_cents: int,
                   paid_on: date | None, reply: Reply[T], *, request: IdempotentRequest | None = None) -> T:
    """Record money received on an invoice and credit its activity budget with the paid part of
    the invoice's amount excl. VAT, less the same part of its contribution (postings.post_payment),
    dated on the payment day. The bank reference (payment_id) is unique per payer (the invoice's
    client) and year: the same payment recorded twice on this invoice changes nothing, on another
    invoice of the client it is ALREADY_EXISTS. With a request_id, a retry gets the first answer."""
    caller.require(*STAFF)
    payment_id = check_text(payment_id, "payment_id", limit=100)
    check_cents(amount_cents, "amount_cents")
    paid_on = paid_on or today()
    if paid_on > today():
        raise InvalidArgument("a payment cannot be dated in the future", field="paid_on", reason="DATE_IN_FUTURE")
    with uow:
        first = first_answer(uow, request, reply)
        if first is not None:
            return first
        stored = _invoice(uow, invoice_id, lock=True)
        previous = next((p for p in stored.invoice.payments if p.payment_id == payment_id), None)
        if previous is not None:
            if previous.amount_cents != amount_cents or previous.paid_on != paid_on:
                raise AlreadyExists(f"payment {payment_id} was recorded with other figures", field="payment_id",
                                    reason="PAYMENT_RECORDED_OTHERWISE")
            return answer(uow, request, reply, stored)
        open_for(uow, paid_on, "paid_on")  # its ledger entries are dated paid_on
        payment = stored.invoice.record_payment(payment_id, amount_cents, paid_on)
        if not uow.invoices.add_payment_reference(stored.client_id, paid_on.year, payment_id,
                                                  stored.invoice.invoice_id):
            raise AlreadyExists(f"bank reference {payment_id} was already used for a payment of this client in "
                                f"{paid_on.year}: one transfer is recorded once", field="payment_id",
                                reason="BANK_REFERENCE_USED")
        ledger = uow.activities.ledger(stored.invoice.activity_id, reference=str(stored.invoice.number))
        before = len(ledger.entries)
        post_payment(ledger, stored.invoice, stored.contribution_cents, paid_on)
        uow.activities.add_entries(stored.invoice.activity_id, new_entries(ledger, before))
        uow.invoices.save_invoice(stored, new_payments=[payment])
        return answer(uow, request, reply, stored)


def cancel_invoice(uow: BillingUnitOfWork, caller: Principal, invoice_id: str, reason: str,
                   on: date | None = None) -> StoredInvoice:
    """Cancel an issued invoice by a credit note dated `on` (today by default), in the credit-note
    series of that year: it reverses what the invoice's payments credited, and counts in its own
    year. Refused in a closed year, and before the series' latest credit note (numbers follow dates)."""
    with uow:
        stored = _invoice(uow, invoice_id, lock=True)
        caller.require_self_or(stored.invoice.member_id, *STAFF)
        reason = check_text(reason, "reason")
        on = on or today()
        if on > today():
            raise InvalidArgument("a credit note cannot be dated in the future", field="on", reason="DATE_IN_FUTURE")
        invoice = stored.invoice
        if invoice.state.value == "draft":
            raise FailedPrecondition("a draft is discarded, not credited", reason="INVOICE_IS_DRAFT", state="draft")
        if invoice.state.value == "cancelled":
            raise FailedPrecondition("invoice is already cancelled", reason="INVOICE_CANCELLED", state="cancelled")
        if invoice.issued_on and on < invoice.issued_on:
            raise InvalidArgument("credit note is dated before the invoice", field="on", reason="DATED_BEFORE_INVOICE")
        open_for(uow, on, "on")
        number = dated_number(uow, CREDIT_NOTE_SERIES, on, "on")
        invoice.cancel(number, on, reason)
        ledger = uow.activities.ledger(invoice.activity_id, reference=str(invoice.number))
        before = len(ledger.entries)
        post_credit_note(ledger, invoice)
        uow.activities.add_entries(invoice.activity_id, new_entries(ledger, before))
        uow.invoices.save_invoice(stored)
        uow.publish(events.InvoiceCancelled(stored))
        uow.commit()
        return stored


def list_invoices(uow: BillingUnitOfWork, caller: Principal, member_id: str, year: int, token: str,
                  size: int) -> tuple[list[StoredInvoice], str]:
    """A member's invoices (of `year`, or all when 0), in creation order."""
    caller.require_self_or(member_id, *READERS)  # before the year: a stranger learns nothing
    if year:
        check_year(year)
    return member_page(uow, caller, member_id, token, size, "invoices",
                       lambda u, member, after, limit: u.invoices.invoices_of(member, year, after, limit),
                       lambda s: (s.created_at.isoformat() if s.created_at else "", s.invoice.invoice_id))
