"""Invoices reaching the activity budget: nothing at issue, the paid part at each payment, and
the exact reversal of what was credited by a credit note."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop_billing.domain.budget import ActivityLedger, EntryKind
from coop_billing.domain.contribution import RateChange, RateKind, RateSchedule
from coop_billing.domain.invoice import DocumentNumber, Invoice, InvoiceLine, VatRate
from coop_billing.domain.postings import issue_contribution, post_credit_note, post_payment
from coop_billing.domain.vat import Client
from coop_domain.errors import FailedPrecondition, NotFound

CLIENT = Client("Client", "BE", "Gent", "BE0417497106")
PAY_DAY = date(2027, 1, 20)


def issued_invoice(on=date(2026, 12, 31), price=200_000):
    inv = Invoice("i1", "m1", "act-1", CLIENT)
    inv.add_line(InvoiceLine("Design", Decimal("1"), price, VatRate.STANDARD))
    inv.issue(DocumentNumber("", on.year, 1), on)
    return inv


def test_contribution_is_fixed_at_issue_on_the_amount_excluding_vat():
    inv = issued_invoice()
    assert issue_contribution(inv, RateSchedule.default(), inv.issued_on) == (13_000, 650)  # 6.5 % of 2,000.00


def test_a_date_without_a_rate_has_no_contribution():
    with pytest.raises(NotFound):
        issue_contribution(issued_invoice(), RateSchedule.default(), date(1995, 6, 1))


def test_an_unpaid_invoice_reaches_no_budget():
    inv = issued_invoice()
    with pytest.raises(FailedPrecondition):
        post_payment(ActivityLedger("act-1"), inv, 13_000, PAY_DAY)


def test_each_payment_credits_its_part_and_the_payments_add_up_to_the_invoice_exactly():
    ledger = ActivityLedger("act-1")
    inv = issued_invoice()  # net 200,000, VAT 42,000, total 242,000
    inv.record_payment("p1", 100_000, PAY_DAY)
    assert post_payment(ledger, inv, 13_000, PAY_DAY) == (82_645, 5_372)  # 200,000 x 100,000 / 242,000
    inv.record_payment("p2", 100_000, PAY_DAY)  # cumulative: 165,289 - 82,645 (each rounded half up)
    assert post_payment(ledger, inv, 13_000, PAY_DAY) == (82_644, 5_372)
    inv.record_payment("p3", 50_000, PAY_DAY)  # 8,000 more than due: credit balance, not revenue
    assert post_payment(ledger, inv, 13_000, PAY_DAY) == (34_711, 2_256)
    assert ledger.credited("2026-000001") == (200_000, 13_000)
    assert ledger.balance_cents == 187_000
    assert {e.on for e in ledger.entries} == {PAY_DAY}  # dated when paid, not when issued


@given(st.lists(st.integers(1, 50_000), min_size=1, max_size=12), st.integers(1, 2_000_000))
def test_however_it_is_paid_a_fully_paid_invoice_credits_exactly_its_net_and_contribution(parts, price):
    ledger = ActivityLedger("act-1")
    inv = issued_invoice(price=price)
    net, contribution = inv.totals().net_cents, issue_contribution(inv, RateSchedule.default(), inv.issued_on)[0]
    for n, part in enumerate(parts):
        if inv.due_cents == 0:
            break
        inv.record_payment(f"p{n}", part, PAY_DAY)
        post_payment(ledger, inv, contribution, PAY_DAY)
        credited = ledger.credited("2026-000001")
        assert 0 <= credited[0] <= net and 0 <= credited[1] <= contribution
    if inv.due_cents:
        inv.record_payment("rest", inv.due_cents, PAY_DAY)
        post_payment(ledger, inv, contribution, PAY_DAY)
    assert ledger.credited("2026-000001") == (net, contribution)


def test_payment_of_an_invoice_of_another_activity_is_refused():
    inv = issued_invoice()
    inv.record_payment("p1", 1_000, PAY_DAY)
    with pytest.raises(FailedPrecondition):
        post_payment(ActivityLedger("other"), inv, 13_000, PAY_DAY)


def test_credit_note_reverses_what_was_credited_even_after_a_rate_change():
    schedule = RateSchedule.default()
    schedule.add(RateChange(RateKind.REVENUE, date(2027, 1, 1), 800))
    ledger = ActivityLedger("act-1")
    inv = issued_invoice(on=date(2026, 12, 31))
    taken, _rate = issue_contribution(inv, schedule, inv.issued_on)
    inv.record_payment("p1", inv.totals().total_cents, PAY_DAY)
    post_payment(ledger, inv, taken, PAY_DAY)
    inv.cancel(DocumentNumber("CN", 2027, 1), date(2027, 2, 15), "client went bankrupt")
    given_back = post_credit_note(ledger, inv)
    assert taken == given_back == 13_000  # the 2026 rate, not 8 %
    assert ledger.balance_cents == 0
    reversal = [e for e in ledger.entries if e.kind is EntryKind.CREDIT_NOTE]
    assert [e.on for e in reversal] == [date(2027, 2, 15)]  # counts in the credit note's year


def test_credit_note_of_a_partly_paid_invoice_reverses_only_the_paid_part():
    ledger = ActivityLedger("act-1")
    inv = issued_invoice()
    inv.record_payment("p1", 121_000, PAY_DAY)  # half
    post_payment(ledger, inv, 13_000, PAY_DAY)
    inv.cancel(DocumentNumber("CN", 2027, 1), PAY_DAY, "dispute")
    assert post_credit_note(ledger, inv) == 6_500
    assert ledger.balance_cents == 0


def test_credit_note_of_an_invoice_never_paid_reverses_nothing():
    ledger = ActivityLedger("act-1")
    inv = issued_invoice()
    inv.cancel(DocumentNumber("CN", 2026, 1), date(2026, 12, 31), "x")
    assert post_credit_note(ledger, inv) == 0 and ledger.entries == ()


def test_credit_note_posting_needs_a_cancelled_invoice():
    with pytest.raises(FailedPrecondition):
        post_credit_note(ActivityLedger("act-1"), issued_invoice())
