"""Billing's domain events: the facts its use cases publish (`uow.publish(event)`).

adapters/events_out.py names each one and builds its protobuf message (coop.billing.v1 events);
nothing here knows the wire. Records the projection keeps as rows (a share fee, a payroll run, a
member) travel as those records: the translator reads their attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .contract import ContractTerms, StoredContract
from .invoice import StoredInvoice


@dataclass(frozen=True)
class InvoiceIssued:
    """An invoice got its legal number and its contribution."""

    stored: StoredInvoice


@dataclass(frozen=True)
class InvoiceCancelled:
    """An issued invoice was cancelled by a credit note."""

    stored: StoredInvoice


@dataclass(frozen=True)
class ContractEvent:
    """What every contract event carries: the contract and its employee (the member projection's
    record: member_id, member_number, preferred_language)."""

    stored: StoredContract
    employee: Any


@dataclass(frozen=True)
class ContractCreated(ContractEvent):
    """A contract was requested and its cost reserved."""


@dataclass(frozen=True)
class ContractAmended(ContractEvent):
    previous_terms: ContractTerms
    reservation_delta_cents: int


@dataclass(frozen=True)
class ContractCancelled(ContractEvent):
    reason: str
    released_cents: int


@dataclass(frozen=True)
class ContractActivated(ContractEvent):
    activated_on: date


@dataclass(frozen=True)
class ContractPayrollRecorded(ContractEvent):
    """run: the payroll run's record as stored."""

    run: Any


@dataclass(frozen=True)
class ContractCompleted(ContractEvent):
    released_cents: int


@dataclass(frozen=True)
class ShareFeeBilled:
    """fee: the share fee's record; member_number: the member's, for the reader's convenience."""

    fee: Any
    member_number: str


@dataclass(frozen=True)
class ShareFeePaid:
    """The year's share fee was paid in full (membership marks the share paid)."""

    fee: Any
    member_number: str


@dataclass(frozen=True)
class DistributionPayout:
    """One member's amount from an adopted redistribution envelope."""

    envelope_id: str
    envelope_name: str
    scenario: str
    member_id: str
    amount_cents: int


@dataclass(frozen=True)
class YearClosed:
    """A fiscal year was closed: its statements are final and available to every member."""

    year: int
    closed_at: datetime
