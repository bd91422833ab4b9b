"""Invoice events -> activity budget entries.

The revenue contribution is computed once, when the invoice is issued, on its
amount excl. VAT at the rate in force on the issue date (see ``contribution``).
A credit note reverses exactly what the ledger recorded for that invoice, read
back from the ledger itself, so a later rate change can never leave a residue.
"""

from __future__ import annotations

from .budget import ActivityLedger, EntryKind
from .contribution import RateSchedule, revenue_contribution_cents
from .errors import FailedPrecondition, NotFound
from .invoice import Invoice, InvoiceState


def post_issued_invoice(ledger: ActivityLedger, invoice: Invoice, schedule: RateSchedule) -> int:
    """Credit the invoice net and debit its contribution; returns the contribution in cents."""
    if invoice.state is InvoiceState.DRAFT or invoice.number is None or invoice.issued_on is None:
        raise FailedPrecondition("only an issued invoice reaches the activity budget")
    if invoice.activity_id != ledger.activity_id:
        raise FailedPrecondition("invoice belongs to another activity")
    net = invoice.totals().net_cents
    contribution = revenue_contribution_cents(net, schedule, invoice.issued_on)
    ledger.credit_invoice(str(invoice.number), net, contribution, invoice.issued_on)
    return contribution


def post_credit_note(ledger: ActivityLedger, invoice: Invoice) -> int:
    """Reverse a cancelled invoice's entries; returns the contribution given back."""
    note = invoice.credit_note
    if invoice.state is not InvoiceState.CANCELLED or note is None:
        raise FailedPrecondition("invoice has no credit note")
    reference = str(note.invoice_number)
    net = contribution = None
    for entry in ledger.entries:
        if entry.reference == reference and entry.kind is EntryKind.INVOICE:
            net = entry.amount_cents
        elif entry.reference == reference and entry.kind is EntryKind.REVENUE_CONTRIBUTION:
            contribution = entry.amount_cents
    if net is None or contribution is None:
        raise NotFound(f"invoice {reference} was never credited to activity {ledger.activity_id}")
    ledger.reverse_invoice(reference, net, contribution, note.issued_on)
    return contribution
