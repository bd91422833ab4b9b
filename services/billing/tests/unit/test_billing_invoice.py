"""Invoice lines, totals, numbering, state machine, payments and credit notes."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop_billing.domain.invoice import (
    DocumentNumber,
    Invoice,
    InvoiceLine,
    InvoiceState,
    Totals,
    VatRate,
    format_invoice_number,
    parse_invoice_number,
)
from coop_billing.domain.vat import Client
from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument

BE_CLIENT = Client("Théâtre du Midi", "BE", "Rue du Midi 1, 1000 Bruxelles", "BE0403170701")
DE_CLIENT = Client("Kunsthaus GmbH", "DE", "Berlin", "DE136695976")
ISSUE_DAY = date(2026, 3, 10)


def line(qty="1", price=10_000, rate=VatRate.STANDARD, desc="Concert"):
    return InvoiceLine(desc, qty, price, rate)


def draft(client=BE_CLIENT, *lines):
    inv = Invoice("inv-1", "mem-1", "act-1", client)
    for ln in lines or (line(),):
        inv.add_line(ln)
    return inv


def issued(total_lines=None, client=BE_CLIENT):
    inv = draft(client, *(total_lines or [line()]))
    inv.issue(DocumentNumber("", 2026, 1), ISSUE_DAY)
    return inv


# ---------------------------------------------------------------- numbering

def test_invoice_number_is_year_dash_six_digit_sequence():
    assert format_invoice_number(2026, 1) == "2026-000001"
    assert format_invoice_number(2026, 123456) == "2026-123456"
    assert format_invoice_number(2026, 1234567) == "2026-1234567"
    assert format_invoice_number(2026, 7, "CN") == "CN-2026-000007"


def test_invoice_number_parses_back_to_the_same_parts():
    assert parse_invoice_number("2026-000042") == DocumentNumber("", 2026, 42)
    assert parse_invoice_number("cn-2026-000042") == DocumentNumber("CN", 2026, 42)
    assert str(parse_invoice_number(" 2026-000042 ")) == "2026-000042"


@pytest.mark.parametrize("text", ["2026-42", "26-000001", "2026000001", "2026-0000x1", "", "2026-000000"])
def test_malformed_invoice_numbers_are_rejected(text):
    with pytest.raises(InvalidArgument):
        parse_invoice_number(text)


@given(st.integers(1000, 9999), st.integers(1, 10**8))
def test_format_and_parse_round_trip(year, seq):
    assert parse_invoice_number(format_invoice_number(year, seq)) == DocumentNumber("", year, seq)


def test_invoice_numbers_sort_by_year_then_sequence():
    assert DocumentNumber("", 2025, 999) < DocumentNumber("", 2026, 1) < DocumentNumber("", 2026, 2)


# --------------------------------------------------------------------- lines

def test_line_net_is_quantity_times_unit_price_rounded_half_up():
    assert line("2", 12_345).net_cents == 24_690
    assert line("1.5", 333).net_cents == 500  # 499.5 -> 500
    assert line("0.333", 100).net_cents == 33  # 33.3
    assert line(3, 100).net_cents == 300  # int quantity accepted


def test_line_vat_is_rounded_half_up_per_line():
    assert line("1", 250, VatRate.STANDARD).vat_cents == 53  # 52.5
    assert line("1", 250, VatRate.REDUCED).vat_cents == 15
    assert line("1", 250, VatRate.INTERMEDIATE).vat_cents == 30
    assert line("1", 250, VatRate.ZERO).vat_cents == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"qty": "0"}, {"qty": "-1"}, {"qty": "1.0001"}, {"qty": "abc"},
        {"price": -1}, {"price": 10.5}, {"desc": "  "}, {"rate": "20"},
    ],
)
def test_invalid_lines_are_rejected(kwargs):
    with pytest.raises(InvalidArgument):
        line(**kwargs)


def test_a_line_or_an_invoice_beyond_max_amount_is_refused_before_any_int64_overflow():
    with pytest.raises(InvalidArgument, match="absurdly large"):
        InvoiceLine("Huge", Decimal("1000000"), 10**13, "0")  # 10^19 cents
    invoice = Invoice("inv-max", "m", "a", BE_CLIENT)
    invoice.add_line(InvoiceLine("Big", Decimal(1), 9 * 10**12, "0"))
    with pytest.raises(InvalidArgument, match="absurdly large"):
        invoice.add_line(InvoiceLine("Big again", Decimal(1), 9 * 10**12, "0"))
    assert len(invoice.lines) == 1 and invoice.totals().total_cents == 9 * 10**12


def test_float_quantity_is_rejected_to_avoid_binary_rounding():
    with pytest.raises(InvalidArgument):
        InvoiceLine("x", 1.1, 100, VatRate.STANDARD)  # type: ignore[arg-type]


def test_vat_rate_parses_numbers_and_names():
    assert VatRate.parse(21) is VatRate.STANDARD
    assert VatRate.parse("6") is VatRate.REDUCED
    assert VatRate.parse("reverse_charge").percent == 0


# -------------------------------------------------------------------- totals

def test_totals_sum_lines_per_rate():
    inv = draft(
        BE_CLIENT,
        line("2", 10_000, VatRate.STANDARD),
        line("1", 5_000, VatRate.REDUCED),
        line("1", 333, VatRate.STANDARD),
        line("1", 1_000, VatRate.ZERO),
    )
    t = inv.totals()
    assert t.net_cents == 20_000 + 5_000 + 333 + 1_000
    assert t.net_by_rate[VatRate.STANDARD] == 20_333
    assert t.vat_by_rate == {VatRate.STANDARD: 4_200 + 70, VatRate.REDUCED: 300, VatRate.ZERO: 0}
    assert t.vat_cents == 4_570
    assert t.total_cents == 26_333 + 4_570


@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(0, 10**7), st.sampled_from(list(VatRate))), min_size=1, max_size=20))
def test_totals_always_equal_the_sum_of_their_lines_and_negate_exactly(specs):
    lines = [InvoiceLine("x", Decimal(q) / 1000, p, r) for q, p, r in specs]
    t = Totals.of(lines)
    assert t.net_cents == sum(ln.net_cents for ln in lines)
    assert t.vat_cents == sum(ln.vat_cents for ln in lines) == sum(t.vat_by_rate.values())
    assert t.total_cents == t.net_cents + t.vat_cents
    neg = Totals.of(lines, sign=-1)
    assert (neg.net_cents, neg.vat_cents, neg.total_cents) == (-t.net_cents, -t.vat_cents, -t.total_cents)


# ------------------------------------------------------------- reverse charge

def test_reverse_charge_line_is_allowed_for_vat_client_in_other_eu_state():
    inv = draft(DE_CLIENT, line(rate=VatRate.REVERSE_CHARGE))
    assert inv.totals().vat_cents == 0


@pytest.mark.parametrize(
    "client",
    [
        BE_CLIENT,  # same country as the cooperative
        Client("Kunsthaus", "DE", "Berlin"),  # no VAT number
        Client("Acme Inc", "US", "New York"),  # outside the EU
    ],
)
def test_reverse_charge_is_refused_without_a_foreign_eu_vat_client(client):
    inv = Invoice("i", "m", "a", client)
    with pytest.raises(InvalidArgument):
        inv.add_line(line(rate=VatRate.REVERSE_CHARGE))


def test_reverse_charge_is_rechecked_at_issue_when_client_changed():
    inv = draft(DE_CLIENT, line(rate=VatRate.REVERSE_CHARGE))
    inv.client = BE_CLIENT
    with pytest.raises(InvalidArgument):
        inv.issue(DocumentNumber("", 2026, 1), ISSUE_DAY)
    assert inv.state is InvoiceState.DRAFT


# ------------------------------------------------------------- state machine

def test_draft_can_be_edited_then_issued_with_number_and_default_due_date():
    inv = draft(BE_CLIENT, line(), line("1", 1))
    inv.remove_line(1)
    inv.issue(DocumentNumber("", 2026, 7), ISSUE_DAY)
    assert inv.state is InvoiceState.ISSUED
    assert str(inv.number) == "2026-000007"
    assert inv.due_on == date(2026, 4, 9)


def test_issued_invoice_is_never_edited():
    inv = issued()
    with pytest.raises(FailedPrecondition):
        inv.add_line(line())
    with pytest.raises(FailedPrecondition):
        inv.remove_line(0)
    with pytest.raises(FailedPrecondition):
        inv.issue(DocumentNumber("", 2026, 2), ISSUE_DAY)


def test_invoice_without_lines_or_with_zero_total_cannot_be_issued():
    with pytest.raises(FailedPrecondition):
        Invoice("i", "m", "a", BE_CLIENT).issue(DocumentNumber("", 2026, 1), ISSUE_DAY)
    with pytest.raises(FailedPrecondition):
        draft(BE_CLIENT, line(price=0)).issue(DocumentNumber("", 2026, 1), ISSUE_DAY)


def test_issue_refuses_number_of_another_year_or_series_and_due_before_issue():
    with pytest.raises(InvalidArgument):
        draft().issue(DocumentNumber("", 2025, 1), ISSUE_DAY)
    with pytest.raises(InvalidArgument):
        draft().issue(DocumentNumber("CN", 2026, 1), ISSUE_DAY)
    with pytest.raises(InvalidArgument):
        draft().issue(DocumentNumber("", 2026, 1), ISSUE_DAY, due_on=date(2026, 3, 1))


def test_removing_missing_line_is_invalid():
    with pytest.raises(InvalidArgument):
        draft().remove_line(5)


# ------------------------------------------------------------------ payments

def test_partial_payment_moves_to_partially_paid_with_amount_due():
    inv = issued()  # 100.00 + 21.00 VAT = 121.00
    inv.record_payment("p1", 5_000, date(2026, 3, 20))
    assert inv.state is InvoiceState.PARTIALLY_PAID
    assert (inv.paid_cents, inv.due_cents, inv.credit_balance_cents) == (5_000, 7_100, 0)


def test_exact_payment_in_two_parts_marks_paid_with_nothing_due():
    inv = issued()
    inv.record_payment("p1", 5_000, date(2026, 3, 20))
    inv.record_payment("p2", 7_100, date(2026, 3, 21))
    assert inv.state is InvoiceState.PAID
    assert (inv.due_cents, inv.credit_balance_cents) == (0, 0)


def test_overpayment_marks_paid_and_records_the_excess_as_credit_balance():
    inv = issued()
    inv.record_payment("p1", 13_000, date(2026, 3, 20))
    assert inv.state is InvoiceState.PAID
    assert (inv.due_cents, inv.credit_balance_cents) == (0, 900)


def test_payment_refused_on_draft_paid_and_cancelled_invoices():
    with pytest.raises(FailedPrecondition):
        draft().record_payment("p", 100, ISSUE_DAY)
    paid = issued()
    paid.record_payment("p1", 12_100, ISSUE_DAY)
    with pytest.raises(FailedPrecondition):
        paid.record_payment("p2", 1, ISSUE_DAY)
    cancelled = issued()
    cancelled.cancel(DocumentNumber("CN", 2026, 1), ISSUE_DAY, "wrong client")
    with pytest.raises(FailedPrecondition):
        cancelled.record_payment("p", 100, ISSUE_DAY)


def test_same_payment_id_twice_is_already_exists_and_changes_nothing():
    inv = issued()
    inv.record_payment("p1", 100, ISSUE_DAY)
    with pytest.raises(AlreadyExists):
        inv.record_payment("p1", 100, ISSUE_DAY)
    assert inv.paid_cents == 100


@pytest.mark.parametrize("amount", [0, -5, 1.0])
def test_payment_amount_must_be_positive_integer_cents(amount):
    with pytest.raises(InvalidArgument):
        issued().record_payment("p", amount, ISSUE_DAY)


def test_payment_before_issue_date_is_invalid():
    with pytest.raises(InvalidArgument):
        issued().record_payment("p", 100, date(2026, 3, 9))


def test_overdue_only_when_money_is_due_after_the_due_date():
    inv = issued()
    assert not inv.is_overdue(date(2026, 4, 9))
    assert inv.is_overdue(date(2026, 4, 10))
    inv.record_payment("p", 12_100, date(2026, 4, 10))
    assert not inv.is_overdue(date(2026, 5, 1))


# -------------------------------------------------------------- credit notes

def test_credit_note_cancels_and_exactly_reverses_totals():
    inv = issued([line("1", 10_000), line("3", 333, VatRate.REDUCED)])
    note = inv.cancel(DocumentNumber("CN", 2026, 1), date(2026, 4, 1), "client cancelled")
    assert inv.state is InvoiceState.CANCELLED
    assert note.invoice_number == inv.number
    t, n = inv.totals(), note.totals
    assert (n.net_cents, n.vat_cents, n.total_cents) == (-t.net_cents, -t.vat_cents, -t.total_cents)
    assert {r: -v for r, v in n.vat_by_rate.items()} == t.vat_by_rate


def test_cancelling_paid_invoice_turns_payments_into_credit_balance():
    inv = issued()
    inv.record_payment("p1", 5_000, ISSUE_DAY)
    inv.cancel(DocumentNumber("CN", 2026, 1), ISSUE_DAY, "error")
    assert (inv.due_cents, inv.credit_balance_cents) == (0, 5_000)


def test_draft_cannot_be_credited_and_cancelled_cannot_be_cancelled_again():
    with pytest.raises(FailedPrecondition):
        draft().cancel(DocumentNumber("CN", 2026, 1), ISSUE_DAY, "x")
    inv = issued()
    inv.cancel(DocumentNumber("CN", 2026, 1), ISSUE_DAY, "x")
    with pytest.raises(FailedPrecondition):
        inv.cancel(DocumentNumber("CN", 2026, 2), ISSUE_DAY, "x")


@pytest.mark.parametrize(
    ("number", "on", "reason"),
    [
        (DocumentNumber("", 2026, 1), ISSUE_DAY, "x"),  # invoice series
        (DocumentNumber("CN", 2025, 1), ISSUE_DAY, "x"),  # wrong year
        (DocumentNumber("CN", 2026, 1), date(2026, 3, 1), "x"),  # before invoice
        (DocumentNumber("CN", 2026, 1), ISSUE_DAY, " "),  # no reason
    ],
)
def test_credit_note_with_bad_number_date_or_reason_is_invalid(number, on, reason):
    inv = issued()
    with pytest.raises(InvalidArgument):
        inv.cancel(number, on, reason)
    assert inv.state is InvoiceState.ISSUED


# ---------------------------------------------------- state machine, exhaustively

ACTIONS = {
    "issue": lambda inv: inv.issue(DocumentNumber("", 2026, 99), ISSUE_DAY),
    "pay_part": lambda inv: inv.record_payment(f"p{len(inv.payments)}", 1, ISSUE_DAY),
    "pay_rest": lambda inv: inv.record_payment(f"p{len(inv.payments)}", max(inv.due_cents, 1), ISSUE_DAY),
    "cancel": lambda inv: inv.cancel(DocumentNumber("CN", 2026, 1), ISSUE_DAY, "r"),
    "edit": lambda inv: inv.add_line(line()),
}
LEGAL = {
    ("draft", "issue"): "issued",
    ("draft", "edit"): "draft",
    ("issued", "pay_part"): "partially_paid",
    ("issued", "pay_rest"): "paid",
    ("issued", "cancel"): "cancelled",
    ("partially_paid", "pay_part"): "partially_paid",
    ("partially_paid", "pay_rest"): "paid",
    ("partially_paid", "cancel"): "cancelled",
    ("paid", "cancel"): "cancelled",
}


def _in_state(state):
    inv = draft()
    if state == "draft":
        return inv
    inv.issue(DocumentNumber("", 2026, 1), ISSUE_DAY)
    if state == "partially_paid":
        inv.record_payment("x1", 1, ISSUE_DAY)
    elif state == "paid":
        inv.record_payment("x1", inv.due_cents, ISSUE_DAY)
    elif state == "cancelled":
        inv.cancel(DocumentNumber("CN", 2026, 5), ISSUE_DAY, "r")
    assert inv.state.value == state
    return inv


@pytest.mark.parametrize("state", [s.value for s in InvoiceState])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_transition_is_either_legal_or_refused_without_change(state, action):
    inv = _in_state(state)
    expected = LEGAL.get((state, action))
    if expected is None:
        with pytest.raises(FailedPrecondition):
            ACTIONS[action](inv)
        assert inv.state.value == state
    else:
        ACTIONS[action](inv)
        assert inv.state.value == expected
