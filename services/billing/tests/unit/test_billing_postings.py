"""Issued invoices and credit notes reaching the activity budget."""

from datetime import date
from decimal import Decimal

import pytest

from coop_billing.domain.budget import ActivityLedger
from coop_billing.domain.contribution import RateChange, RateKind, RateSchedule
from coop_billing.domain.errors import AlreadyExists, FailedPrecondition, NotFound
from coop_billing.domain.invoice import DocumentNumber, Invoice, InvoiceLine, VatRate
from coop_billing.domain.postings import post_credit_note, post_issued_invoice
from coop_billing.domain.vat import Client

CLIENT = Client("Client", "BE", "Gent", "BE0417497106")


def issued_invoice(on=date(2026, 12, 31), price=200_000):
    inv = Invoice("i1", "m1", "act-1", CLIENT)
    inv.add_line(InvoiceLine("Design", Decimal("1"), price, VatRate.STANDARD))
    inv.issue(DocumentNumber("", on.year, 1), on)
    return inv


def test_contribution_is_taken_on_amount_excluding_vat_when_issued():
    ledger = ActivityLedger("act-1")
    contribution = post_issued_invoice(ledger, issued_invoice(), RateSchedule.default())
    assert contribution == 13_000  # 6.5 % of 2,000.00, VAT (420.00) not included
    assert ledger.balance_cents == 187_000


def test_draft_invoice_does_not_reach_the_budget():
    inv = Invoice("i1", "m1", "act-1", CLIENT)
    with pytest.raises(FailedPrecondition):
        post_issued_invoice(ActivityLedger("act-1"), inv, RateSchedule.default())


def test_invoice_of_another_activity_is_refused():
    with pytest.raises(FailedPrecondition):
        post_issued_invoice(ActivityLedger("other"), issued_invoice(), RateSchedule.default())


def test_posting_an_invoice_twice_changes_nothing_the_second_time():
    ledger = ActivityLedger("act-1")
    inv = issued_invoice()
    post_issued_invoice(ledger, inv, RateSchedule.default())
    with pytest.raises(AlreadyExists):
        post_issued_invoice(ledger, inv, RateSchedule.default())
    assert ledger.balance_cents == 187_000


def test_credit_note_reverses_the_contribution_taken_even_after_a_rate_change():
    schedule = RateSchedule.default()
    schedule.add(RateChange(RateKind.REVENUE, date(2027, 1, 1), 800))
    ledger = ActivityLedger("act-1")
    inv = issued_invoice(on=date(2026, 12, 31))
    taken = post_issued_invoice(ledger, inv, schedule)
    inv.cancel(DocumentNumber("CN", 2027, 1), date(2027, 1, 15), "client went bankrupt")
    given_back = post_credit_note(ledger, inv)
    assert taken == given_back == 13_000  # the 2026 rate, not 8 %
    assert ledger.balance_cents == 0


def test_credit_note_for_an_invoice_never_posted_is_not_found():
    inv = issued_invoice()
    inv.cancel(DocumentNumber("CN", 2026, 1), date(2026, 12, 31), "x")
    with pytest.raises(NotFound):
        post_credit_note(ActivityLedger("act-1"), inv)


def test_credit_note_posting_needs_a_cancelled_invoice():
    with pytest.raises(FailedPrecondition):
        post_credit_note(ActivityLedger("act-1"), issued_invoice())
