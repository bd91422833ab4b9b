"""Invoices reaching the activity budget: when their clients pay, in proportion.

The revenue contribution is fixed when the invoice is issued, on its amount excl. VAT at the
rate in force on the issue date (see ``contribution``), and shown on the invoice. Nothing
reaches the budget at issue: an issued invoice is a claim, not money. Each payment credits the
budget with the part of the invoice's amount excl. VAT that is now paid, and debits the same part
of the contribution, dated on the payment day. The parts are cumulative (``amount x paid so far /
total``, rounded half up, minus what earlier payments already credited), so once the invoice is
fully paid its payments add up EXACTLY to its amount and contribution, whatever their number;
money paid beyond the total is the client's credit balance, not revenue.

A credit note reverses exactly what the ledger holds for that invoice (read back from the
ledger itself, so a later rate change can never leave a residue), dated on the credit note's
day: nothing when the invoice was never paid. Invoices credited in full when they were issued
(before revision 0004 of billing's database) are reversed in full the same way, and their
payments credit nothing more.
"""

from __future__ import annotations

from datetime import date

from coop_domain.errors import FailedPrecondition

from .budget import ActivityLedger
from .contribution import RateKind, RateSchedule, revenue_contribution_cents
from .invoice import Invoice, InvoiceState
from .money import div_round_half_up


def issue_contribution(invoice: Invoice, schedule: RateSchedule, issued_on: date) -> tuple[int, int]:
    """(contribution cents, rate in basis points) of the invoice issued on `issued_on`: fixed at
    issue, on its amount excl. VAT at the rate in force that day, and taken as it is paid.
    Computed before the invoice takes its number, so that a date without a rate (NotFound)
    refuses that invoice alone."""
    contribution = revenue_contribution_cents(invoice.totals().net_cents, schedule, issued_on)
    return contribution, schedule.rate_at(RateKind.REVENUE, issued_on)


def post_payment(ledger: ActivityLedger, invoice: Invoice, contribution_cents: int, on: date) -> tuple[int, int]:
    """After a payment was recorded on ``invoice``: credit the budget with the part of its amount
    excl. VAT now paid and debit the same part of ``contribution_cents`` (module doc). Returns
    (amount credited, contribution debited) by this payment; (0, 0) when nothing is due."""
    if invoice.number is None or invoice.state not in (InvoiceState.PARTIALLY_PAID, InvoiceState.PAID):
        raise FailedPrecondition("only a paid part of an issued invoice reaches the budget")
    if invoice.activity_id != ledger.activity_id:
        raise FailedPrecondition("invoice belongs to another activity")
    totals = invoice.totals()
    paid = min(invoice.paid_cents, totals.total_cents)
    reference = str(invoice.number)
    credited_net, credited_contribution = ledger.credited(reference)
    net = max(0, div_round_half_up(totals.net_cents * paid, totals.total_cents) - credited_net)
    contribution = max(0, div_round_half_up(contribution_cents * paid, totals.total_cents)
                       - credited_contribution)
    if net or contribution:
        ledger.credit_invoice(reference, net, contribution, on)
    return net, contribution


def post_credit_note(ledger: ActivityLedger, invoice: Invoice) -> int:
    """Reverse what the cancelled invoice's payments credited; returns the contribution given back."""
    note = invoice.credit_note
    if invoice.state is not InvoiceState.CANCELLED or note is None:
        raise FailedPrecondition("invoice has no credit note")
    reference = str(note.invoice_number)
    net, contribution = ledger.credited(reference)
    if net or contribution:
        ledger.reverse_invoice(reference, net, contribution, note.issued_on)
    return contribution
