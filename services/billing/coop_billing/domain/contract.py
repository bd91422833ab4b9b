"""Employment contract aggregate.

States::

    requested --reserve--> reserved --activate (on/after start)--> active --complete--> completed
        \\___________________\\___cancel (strictly before start)__--> cancelled

Payroll (``record_payroll``): a payroll run dated on or after the start date activates a
reserved contract, then debits the run's cost from the activity budget and consumes as much
of the reservation; a run costing more than what is still reserved is refused
(FailedPrecondition), since the terms can no longer be amended once the contract started.
The cost is computed at the reservation's own rates (``budget.payroll_run_cost``), so paying
the contract's whole gross consumes exactly its reservation. Completing
(``complete_and_release``, on or after the end date) gives back what is still reserved.

Budget: reserving sets aside the contract's full cost (employer cost +
employment contribution, see ``budget.contract_cost``) at the rates in force
on the start date. Amend and cancel are only possible strictly BEFORE the
start date (afterwards payroll may already run: FailedPrecondition); amending
a reserved contract reserves or releases only the DELTA between the new and
the old cost, and an increase must itself be affordable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum

from coop_domain.errors import FailedPrecondition, InvalidArgument

from .budget import (
    ActivityLedger,
    ContractCost,
    check_contract_affordable,
    contract_cost,
    payroll_run_cost,
)
from .contribution import RateSchedule
from .money import require_cents

_JOINT_COMMITTEE = re.compile(r"\d{3}(?:\.\d{2})?\Z")


def validate_joint_committee(code: str) -> str:
    """Belgian joint committee (commission paritaire): '200', '304', '124.01'."""
    value = (code or "").strip() if isinstance(code, str) else ""
    if not _JOINT_COMMITTEE.match(value):
        raise InvalidArgument(
            f"joint committee must be 3 digits, optionally '.NN', got {code!r}",
            {"field": "terms.joint_committee"}, reason="INVALID_JOINT_COMMITTEE",
        )
    return value


class ContractState(Enum):
    REQUESTED = "requested"
    RESERVED = "reserved"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """What can be amended before start. Exactly one of ``days`` / ``hours`` is set."""

    start: date
    end: date
    gross_cents: int
    job_title: str
    joint_committee: str
    days: int | None = None
    hours: Decimal | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidArgument("contract ends before it starts", {"field": "terms.end_date"}, reason="ENDS_BEFORE_START")
        require_cents(self.gross_cents, "gross_cents")
        if self.gross_cents <= 0:
            raise InvalidArgument("gross pay must be positive", {"field": "terms.gross_cents"}, reason="AMOUNT_NOT_POSITIVE")
        title = (self.job_title or "").strip()
        if not title:
            raise InvalidArgument("job title is required", {"field": "terms.job_title"}, reason="FIELD_REQUIRED")
        object.__setattr__(self, "job_title", title)
        object.__setattr__(self, "joint_committee", validate_joint_committee(self.joint_committee))
        if (self.days is None) == (self.hours is None):
            raise InvalidArgument("give either days or hours worked, not both or neither", field="terms.days", reason="DAYS_OR_HOURS")
        if self.days is not None:
            if isinstance(self.days, bool) or not isinstance(self.days, int) or self.days <= 0:
                raise InvalidArgument("days must be a positive integer", {"field": "terms.days"}, reason="INVALID_DAYS")
            if self.days > (self.end - self.start).days + 1:
                raise InvalidArgument("more working days than calendar days", {"field": "terms.days"},
                                      reason="INVALID_DAYS")
        else:
            try:
                hours = Decimal(str(self.hours)) if not isinstance(self.hours, Decimal) else self.hours
            except InvalidOperation:
                raise InvalidArgument("bad hours", {"field": "terms.hours"}, reason="INVALID_HOURS") from None
            if not hours.is_finite() or hours <= 0:
                raise InvalidArgument("hours must be positive", {"field": "terms.hours"}, reason="INVALID_HOURS")
            object.__setattr__(self, "hours", hours)


@dataclass(frozen=True, slots=True)
class PayrollRun:
    """One payroll run recorded on a contract: what it cost the budget, part by part."""

    reference: str
    paid_on: date
    cost: ContractCost
    activated: bool  # this run moved the contract from reserved to active


@dataclass
class EmploymentContract:
    """Contract aggregate; mutating methods enforce the state machine above.

    ``reserved_cents`` is what is STILL set aside (payroll consumes it, completion releases it);
    ``gross_paid_cents`` and ``spent_cents`` sum the payroll runs recorded so far.
    """

    contract_id: str
    member_id: str
    activity_id: str
    terms: ContractTerms
    state: ContractState = ContractState.REQUESTED
    reserved_cents: int = 0
    cost: ContractCost | None = None
    gross_paid_cents: int = 0
    spent_cents: int = 0

    def _require(self, *states: ContractState, action: str) -> None:
        if self.state not in states:
            raise FailedPrecondition(
                f"cannot {action} a {self.state.value} contract", {"state": self.state.value},
                reason="CONTRACT_STATE"
            )

    def _require_before_start(self, today: date, action: str) -> None:
        if today >= self.terms.start:
            raise FailedPrecondition(
                f"cannot {action} a contract on or after its start date {self.terms.start}",
                {"start": self.terms.start.isoformat()},
            )

    def _check_ledger(self, ledger: ActivityLedger) -> None:
        if ledger.activity_id != self.activity_id:
            raise FailedPrecondition("ledger belongs to another activity")

    def reserve(self, ledger: ActivityLedger, schedule: RateSchedule, today: date) -> ContractCost:
        """requested -> reserved: set aside the full cost, or FailedPrecondition with shortfall."""
        self._require(ContractState.REQUESTED, action="reserve")
        self._require_before_start(today, "reserve")
        self._check_ledger(ledger)
        cost = contract_cost(self.terms.gross_cents, schedule, self.terms.start)
        ledger.reserve(self.contract_id, cost.total_cents, today)
        self.cost, self.reserved_cents = cost, cost.total_cents
        self.state = ContractState.RESERVED
        return cost

    def amend(
        self,
        ledger: ActivityLedger,
        schedule: RateSchedule,
        today: date,
        **changes: object,
    ) -> int:
        """Change terms before start; returns the reservation delta (+ reserved, - released)."""
        self._require(ContractState.REQUESTED, ContractState.RESERVED, action="amend")
        self._require_before_start(today, "amend")
        self._check_ledger(ledger)
        unknown = set(changes) - {f for f in ContractTerms.__dataclass_fields__}
        if unknown:
            raise InvalidArgument(f"unknown contract fields: {sorted(unknown)}")
        if "days" in changes and "hours" not in changes:
            changes["hours"] = None
        elif "hours" in changes and "days" not in changes:
            changes["days"] = None
        new_terms = replace(self.terms, **changes)  # type: ignore[arg-type]
        if new_terms.start < today:
            raise InvalidArgument("the new start date is in the past", {"field": "terms.start_date"}, reason="START_IN_PAST")
        delta = 0
        if self.state is ContractState.RESERVED:
            new_cost = contract_cost(new_terms.gross_cents, schedule, new_terms.start)
            delta = new_cost.total_cents - self.reserved_cents
            if delta > 0:
                check_contract_affordable(ledger.available_cents, delta)
                ledger.reserve(self.contract_id, delta, today)
            elif delta < 0:
                ledger.release(self.contract_id, -delta, today)
            self.cost, self.reserved_cents = new_cost, new_cost.total_cents
        self.terms = new_terms
        return delta

    def cancel(self, ledger: ActivityLedger, today: date) -> int:
        """Cancel before start; releases the whole reservation and returns it."""
        self._require(ContractState.REQUESTED, ContractState.RESERVED, action="cancel")
        self._require_before_start(today, "cancel")
        self._check_ledger(ledger)
        released = self.reserved_cents
        if released:
            ledger.release(self.contract_id, released, today)
        self.reserved_cents = 0
        self.state = ContractState.CANCELLED
        return released

    def activate(self, today: date) -> None:
        """reserved -> active, on or after the start date (never without money set aside)."""
        self._require(ContractState.RESERVED, action="activate")
        if today < self.terms.start:
            raise FailedPrecondition("contract has not started yet")
        self.state = ContractState.ACTIVE

    def complete(self, today: date) -> None:
        """active -> completed, once the end date is reached."""
        self._require(ContractState.ACTIVE, action="complete")
        if today < self.terms.end:
            raise FailedPrecondition("contract has not ended yet")
        self.state = ContractState.COMPLETED

    def record_payroll(
        self, ledger: ActivityLedger, gross_cents: int, paid_on: date, reference: str, today: date
    ) -> PayrollRun:
        """Pay ``gross_cents`` on this contract (see module doc); refused beyond the reservation."""
        self._require(ContractState.RESERVED, ContractState.ACTIVE, action="record payroll on")
        self._check_ledger(ledger)
        if paid_on > today:
            raise InvalidArgument("a payroll run cannot be dated in the future", {"field": "paid_on"})
        if paid_on < self.terms.start:
            raise FailedPrecondition(
                f"the contract starts on {self.terms.start}: a payroll run cannot be paid before "
                f"(paid on {paid_on})",
                {"start": self.terms.start.isoformat()},
            )
        if self.cost is None:
            raise FailedPrecondition("the contract has no reserved cost")
        cost = payroll_run_cost(self.cost, self.gross_paid_cents, gross_cents)
        outstanding = ledger.reservation_for(self.contract_id)
        if cost.total_cents > outstanding:
            excess = cost.total_cents - outstanding
            raise FailedPrecondition(
                f"payroll run {reference} would cost {cost.total_cents} cents (gross {cost.gross_cents}, "
                f"employer charges {cost.social_charges_cents}, employment contribution "
                f"{cost.employment_contribution_cents}) but only {outstanding} cents remain reserved for "
                f"this contract: {excess} cents beyond its reservation (gross paid so far "
                f"{self.gross_paid_cents} of {self.terms.gross_cents})",
                {"excess_cents": excess, "reserved_cents": outstanding, "cost_cents": cost.total_cents},
                field="gross_cents", reason="PAYROLL_OVER_RESERVATION",
            )
        ledger.spend_payroll(self.contract_id, cost.total_cents, paid_on, reference)  # may refuse: state untouched
        activated = self.state is ContractState.RESERVED
        if activated:
            self.activate(today)  # cannot fail: today >= paid_on >= start
        self.reserved_cents = ledger.reservation_for(self.contract_id)
        self.gross_paid_cents += cost.gross_cents
        self.spent_cents += cost.total_cents
        return PayrollRun(reference, paid_on, cost, activated)

    def complete_and_release(self, ledger: ActivityLedger, today: date) -> tuple[bool, int]:
        """Complete on or after the end date and release what is still reserved.

        A reserved contract (never paid) is activated first, so that an unpaid contract does not
        keep its budget forever. Returns (activated now, released cents).
        """
        self._require(ContractState.RESERVED, ContractState.ACTIVE, action="complete")
        self._check_ledger(ledger)
        if today < self.terms.end:
            raise FailedPrecondition(
                f"the contract ends on {self.terms.end}: it cannot be completed before",
                {"end": self.terms.end.isoformat()},
            )
        activated = self.state is ContractState.RESERVED
        if activated:
            self.activate(today)
        self.complete(today)
        released = ledger.reservation_for(self.contract_id)
        if released:
            ledger.release(self.contract_id, released, today)
        self.reserved_cents = 0
        return activated, released


@dataclass
class StoredContract:
    """The aggregate plus its revision and timestamps, as stored."""

    contract: EmploymentContract
    revision: int
    created_at: datetime
    updated_at: datetime
