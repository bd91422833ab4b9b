"""Activity budget ledger and contract costs.

An activity's money is only ever a list of entries; balance, reservations and
availability are DERIVED from them (no stored running total that could drift):

* balance   = sum of entries' ``balance_delta``
* reserved  = sum of entries' ``reserved_delta`` (money promised to contracts)
* available = balance - reserved  (what a new contract may still use)

Entries: money an invoice's client PAID credits the paid part of the invoice's amount
excl. VAT and debits the same part of its revenue contribution (so the budget grows by what
was received, net of VAT and contribution; an issued, unpaid invoice adds nothing); a credit
note reverses exactly what the invoice's payments credited and debited. A contract reservation sets money aside;
a release (cancel, amend down) gives it back; payroll spend debits the balance
and consumes that contract's reservation. A credit note may make the balance
negative (money already spent); then nothing new is affordable until credited.

Contract cost (documented basis):
    employer_cost           = gross + social charges (gross x social rate)
    employment contribution = employer_cost x employment rate
    total cost reserved     = employer_cost + employment contribution
The employment contribution is taken on the EMPLOYER cost because that is
"the budget spent on employment": what actually leaves the activity's budget
for the job. Rates are those in force on the contract's start date; each
product is rounded half up to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument

from .contribution import RateKind, RateSchedule
from .errors import BudgetTooSmall
from .money import apply_basis_points, div_round_half_up, require_cents


class EntryKind(Enum):
    INVOICE = "invoice"  # credit: the paid part of an invoice's amount excl. VAT
    REVENUE_CONTRIBUTION = "revenue_contribution"  # debit: the same part of its contribution
    CREDIT_NOTE = "credit_note"  # debit: reverses INVOICE
    CONTRIBUTION_REVERSAL = "contribution_reversal"  # credit: reverses the contribution
    RESERVATION = "reservation"  # money set aside for a contract
    RELEASE = "release"  # reservation given back (cancel / amend down)
    PAYROLL = "payroll"  # debit: employment spend on a contract


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One immutable ledger line. ``amount_cents`` is always >= 0; deltas carry the sign."""

    seq: int
    kind: EntryKind
    amount_cents: int
    on: date
    reference: str
    contract_id: str | None
    balance_delta: int
    reserved_delta: int


@dataclass(frozen=True, slots=True)
class ContractCost:
    """Breakdown of what a contract costs the activity budget, and the rates it was computed at
    (those of the contract's start date; 0 where unknown)."""

    gross_cents: int
    social_charges_cents: int
    employer_cost_cents: int
    employment_contribution_cents: int
    total_cents: int
    social_charges_rate_bp: int = 0
    employment_rate_bp: int = 0


def contract_cost(gross_cents: int, schedule: RateSchedule, on: date) -> ContractCost:
    """Cost of paying ``gross_cents`` with the rates in force on ``on`` (see module doc)."""
    require_cents(gross_cents, "gross_cents")
    if gross_cents <= 0:
        raise InvalidArgument("gross pay must be positive", field="terms.gross_cents", reason="AMOUNT_NOT_POSITIVE")
    social_rate = schedule.rate_at(RateKind.SOCIAL_CHARGES, on)
    employment_rate = schedule.rate_at(RateKind.EMPLOYMENT, on)
    social = apply_basis_points(gross_cents, social_rate)
    employer_cost = gross_cents + social
    contribution = apply_basis_points(employer_cost, employment_rate)
    return ContractCost(gross_cents, social, employer_cost, contribution, employer_cost + contribution,
                        social_rate, employment_rate)


def payroll_run_cost(reserved: ContractCost, gross_paid_before: int, gross_cents: int) -> ContractCost:
    """What paying ``gross_cents`` more on a contract costs its budget, at the contract's own rates.

    The rates are those of the reservation (``reserved``, fixed at the start date). Each part is
    the difference of its CUMULATIVE amount after and before this run, where the cumulative
    social charges (or employment contribution) after paying G of the contract's gross g is
    ``reserved part x G / g`` rounded half up. So every part of every run is >= 0, and once the
    contract's whole gross is paid, the runs add up EXACTLY to the reserved cost, whatever the
    number of runs. Paying beyond the contract's gross costs beyond its reservation.
    """
    require_cents(gross_paid_before, "gross_paid_before")
    require_cents(gross_cents, "gross_cents")
    if gross_cents <= 0:
        raise InvalidArgument("gross pay must be positive", field="gross_cents", reason="AMOUNT_NOT_POSITIVE")
    if gross_paid_before < 0 or reserved.gross_cents <= 0:
        raise InvalidArgument("a payroll run needs a contract with a positive gross and no negative pay")
    after = gross_paid_before + gross_cents

    def cumulative(part: int, paid: int) -> int:
        return div_round_half_up(part * paid, reserved.gross_cents)

    social = (cumulative(reserved.social_charges_cents, after)
              - cumulative(reserved.social_charges_cents, gross_paid_before))
    contribution = (cumulative(reserved.employment_contribution_cents, after)
                    - cumulative(reserved.employment_contribution_cents, gross_paid_before))
    employer_cost = gross_cents + social
    return ContractCost(gross_cents, social, employer_cost, contribution, employer_cost + contribution,
                        reserved.social_charges_rate_bp, reserved.employment_rate_bp)


def check_contract_affordable(available_cents: int, cost_cents: int) -> None:
    """Raise FailedPrecondition with the exact ``shortfall_cents`` if cost > available."""
    require_cents(available_cents, "available_cents")
    require_cents(cost_cents, "cost_cents")
    if cost_cents > available_cents:
        shortfall = cost_cents - available_cents
        raise BudgetTooSmall(
            f"activity budget too small: {shortfall} cents missing",
            {
                "shortfall_cents": shortfall,
                "available_cents": available_cents,
                "cost_cents": cost_cents,
            },
        )


class ActivityLedger:
    """Entries of one activity's budget; every figure is derived from them."""

    def __init__(self, activity_id: str, entries: list[LedgerEntry] | None = None) -> None:
        self.activity_id = activity_id
        self._entries: list[LedgerEntry] = list(entries or [])
        self._posted = {(e.kind, e.reference) for e in self._entries if e.reference}

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        return tuple(self._entries)

    @property
    def balance_cents(self) -> int:
        return sum(e.balance_delta for e in self._entries)

    @property
    def reserved_cents(self) -> int:
        return sum(e.reserved_delta for e in self._entries)

    @property
    def available_cents(self) -> int:
        return self.balance_cents - self.reserved_cents

    def reservation_for(self, contract_id: str) -> int:
        """What is still set aside for one contract."""
        return sum(e.reserved_delta for e in self._entries if e.contract_id == contract_id)

    def budget_in_cents(self, year: int) -> int:
        """Money that came into the balance during ``year`` (credits)."""
        return sum(e.balance_delta for e in self._entries if e.on.year == year and e.balance_delta > 0)

    def budget_out_cents(self, year: int) -> int:
        """Money that left the balance during ``year`` (debits), as a positive number."""
        return -sum(e.balance_delta for e in self._entries if e.on.year == year and e.balance_delta < 0)

    def _post(
        self,
        kind: EntryKind,
        amount: int,
        on: date,
        reference: str,
        *,
        balance_delta: int = 0,
        reserved_delta: int = 0,
        contract_id: str | None = None,
        unique: bool = False,
    ) -> LedgerEntry:
        require_cents(amount)
        if amount < 0:
            raise InvalidArgument("ledger amounts are >= 0; the entry kind gives the sign")
        if unique and (kind, reference) in self._posted:
            raise AlreadyExists(f"{kind.value} {reference} already posted")
        entry = LedgerEntry(
            len(self._entries) + 1, kind, amount, on, reference, contract_id, balance_delta, reserved_delta
        )
        self._entries.append(entry)
        if reference:
            self._posted.add((kind, reference))
        return entry

    # -- invoices
    def credit_invoice(
        self, reference: str, net_cents: int, contribution_cents: int, on: date
    ) -> tuple[LedgerEntry, LedgerEntry]:
        """Money received on invoice ``reference``: credit its part of the amount excl. VAT and
        debit its part of the revenue contribution. An invoice paid in several payments is
        credited several times; one cancelled by a credit note is credited no more."""
        if (EntryKind.CREDIT_NOTE, reference) in self._posted:
            raise AlreadyExists(f"invoice {reference} was cancelled by a credit note")
        credit = self._post(EntryKind.INVOICE, net_cents, on, reference, balance_delta=net_cents)
        debit = self._post(
            EntryKind.REVENUE_CONTRIBUTION, contribution_cents, on, reference, balance_delta=-contribution_cents
        )
        return credit, debit

    def credited(self, reference: str) -> tuple[int, int]:
        """(amount excl. VAT credited, contribution debited) so far for invoice ``reference``."""
        net = contribution = 0
        for e in self._entries:
            if e.reference == reference:
                if e.kind is EntryKind.INVOICE:
                    net += e.amount_cents
                elif e.kind is EntryKind.REVENUE_CONTRIBUTION:
                    contribution += e.amount_cents
        return net, contribution

    def reverse_invoice(
        self, reference: str, net_cents: int, contribution_cents: int, on: date
    ) -> tuple[LedgerEntry, LedgerEntry]:
        """Credit note: debit the invoice amount, give the contribution back."""
        if (EntryKind.CREDIT_NOTE, reference) in self._posted:
            raise AlreadyExists(f"credit note {reference} already posted")
        debit = self._post(EntryKind.CREDIT_NOTE, net_cents, on, reference, balance_delta=-net_cents, unique=True)
        credit = self._post(
            EntryKind.CONTRIBUTION_REVERSAL, contribution_cents, on, reference, balance_delta=contribution_cents
        )
        return debit, credit

    # -- contracts
    def reserve(self, contract_id: str, amount_cents: int, on: date) -> LedgerEntry:
        """Set money aside for a contract; FailedPrecondition (with shortfall) if unaffordable."""
        check_contract_affordable(self.available_cents, require_cents(amount_cents))
        return self._post(
            EntryKind.RESERVATION, amount_cents, on, contract_id,
            reserved_delta=amount_cents, contract_id=contract_id,
        )

    def release(self, contract_id: str, amount_cents: int, on: date) -> LedgerEntry:
        """Give back (part of) a contract's reservation."""
        outstanding = self.reservation_for(contract_id)
        if require_cents(amount_cents) > outstanding:
            raise FailedPrecondition(
                f"cannot release {amount_cents}: only {outstanding} reserved for {contract_id}",
                {"reserved_cents": outstanding},
            )
        return self._post(
            EntryKind.RELEASE, amount_cents, on, contract_id,
            reserved_delta=-amount_cents, contract_id=contract_id,
        )

    def spend_payroll(self, contract_id: str, amount_cents: int, on: date, reference: str) -> LedgerEntry:
        """Payroll spend on a contract: debits the balance and consumes its reservation.

        Spending beyond the contract's reservation must itself be affordable.
        ``reference`` (e.g. the payslip or payroll-run id) makes the posting idempotent per
        contract: one payroll run may pay several contracts of the same activity.
        """
        if any(e.kind is EntryKind.PAYROLL and e.contract_id == contract_id and e.reference == reference
               for e in self._entries):
            raise AlreadyExists(f"payroll {reference} already posted on contract {contract_id}",
                                field="payroll_reference", reason="PAYROLL_RECORDED")
        outstanding = self.reservation_for(contract_id)
        require_cents(amount_cents)
        consumed = min(amount_cents, outstanding)
        if amount_cents > consumed:
            check_contract_affordable(self.available_cents, amount_cents - consumed)
        return self._post(
            EntryKind.PAYROLL, amount_cents, on, reference,
            balance_delta=-amount_cents, reserved_delta=-consumed, contract_id=contract_id,
        )
