"""Billing's event translator: domain event -> (event name, coop.billing.v1 message, subject).

The unit of work receives it as `translate=`; the service layer only calls `uow.publish(event)`.
Event names are unique across the platform: billing's payment of the annual share is
`share_fee.paid` (it was `share.paid`, which membership also publishes; docs/events.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from coop.billing.v1 import events_pb2
from coop_billing.adapters import messages as msg
from coop_billing.domain import events

Translated = tuple[str, Any, str | None]


def _invoice_issued(event: events.InvoiceIssued) -> Translated:
    # the reply to CreateInvoice / IssueInvoice reuses this message (made once per invoice)
    event.stored.issued_message = msg.invoice_to_pb(event.stored)
    return ("invoice.issued", events_pb2.InvoiceIssued(invoice=event.stored.issued_message),
            event.stored.invoice.invoice_id)


def _invoice_cancelled(event: events.InvoiceCancelled) -> Translated:
    return ("invoice.cancelled", events_pb2.InvoiceCancelled(invoice=msg.invoice_to_pb(event.stored)),
            event.stored.invoice.invoice_id)


def _contract(name: str, message: type, **extra: Callable[[Any], Any]) -> Callable[[Any], Translated]:
    """A contract event: the contract, its employee, and `extra` fields read off the event."""
    def translate(event: events.ContractEvent) -> Translated:
        fields = {key: read(event) for key, read in extra.items()}
        return (name, message(contract=msg.contract_to_pb(event.stored), employee=msg.employee_from_row(
            event.employee), **fields), event.stored.contract.contract_id)
    return translate


def _share_fee_billed(event: events.ShareFeeBilled) -> Translated:
    return ("share_fee.billed", events_pb2.ShareFeeBilled(fee=msg.share_fee_to_pb(event.fee, event.member_number)),
            event.fee.member_id)


def _share_fee_paid(event: events.ShareFeePaid) -> Translated:
    """The contract with membership: the fee number is the unique payment reference."""
    fee = event.fee
    return ("share_fee.paid", events_pb2.SharePaid(
        member_id=fee.member_id, member_number=event.member_number, year=fee.year,
        amount_cents=fee.amount_cents, payment_reference=fee.number), fee.member_id)


def _payout(event: events.DistributionPayout) -> Translated:
    return ("distribution.payout", events_pb2.DistributionPayout(
        envelope_id=event.envelope_id, envelope_name=event.envelope_name, scenario=event.scenario,
        member_id=event.member_id, amount_cents=event.amount_cents), event.member_id)


def _year_closed(event: events.YearClosed) -> Translated:
    closed_at = event.closed_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return ("year.closed", events_pb2.YearClosed(year=event.year, closed_at=closed_at), None)


_TRANSLATORS: dict[type, Callable[[Any], Translated]] = {
    events.InvoiceIssued: _invoice_issued,
    events.InvoiceCancelled: _invoice_cancelled,
    events.ContractCreated: _contract("contract.created", events_pb2.ContractCreated),
    events.ContractAmended: _contract(
        "contract.amended", events_pb2.ContractAmended,
        previous_terms=lambda e: msg.terms_to_pb(e.previous_terms),
        reservation_delta_cents=lambda e: e.reservation_delta_cents),
    events.ContractCancelled: _contract(
        "contract.cancelled", events_pb2.ContractCancelled,
        reason=lambda e: e.reason, released_cents=lambda e: e.released_cents),
    events.ContractActivated: _contract(
        "contract.activated", events_pb2.ContractActivated, activated_on=lambda e: e.activated_on.isoformat()),
    events.ContractPayrollRecorded: _contract(
        "contract.payroll_recorded", events_pb2.ContractPayrollRecorded,
        run=lambda e: msg.payroll_run_to_pb(e.run)),
    events.ContractCompleted: _contract(
        "contract.completed", events_pb2.ContractCompleted, released_cents=lambda e: e.released_cents),
    events.ShareFeeBilled: _share_fee_billed,
    events.ShareFeePaid: _share_fee_paid,
    events.DistributionPayout: _payout,
    events.YearClosed: _year_closed,
}


def translate(event: Any) -> Translated:
    """The coop_domain.events.EventTranslator of billing."""
    try:
        return _TRANSLATORS[type(event)](event)
    except KeyError:
        raise TypeError(f"billing publishes no event {type(event).__name__}") from None
