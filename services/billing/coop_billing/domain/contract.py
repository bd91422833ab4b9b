"""Employment contract aggregate.

States::

    requested --reserve--> reserved --activate (on/after start)--> active --complete--> completed
        \\___________________\\___cancel (strictly before start)__--> cancelled

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
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum

from .budget import ActivityLedger, ContractCost, check_contract_affordable, contract_cost
from .contribution import RateSchedule
from .errors import FailedPrecondition, InvalidArgument
from .money import require_cents

_JOINT_COMMITTEE = re.compile(r"\d{3}(?:\.\d{2})?\Z")


def validate_joint_committee(code: str) -> str:
    """Belgian joint committee (commission paritaire): '200', '304', '124.01'."""
    value = (code or "").strip() if isinstance(code, str) else ""
    if not _JOINT_COMMITTEE.match(value):
        raise InvalidArgument(
            f"joint committee must be 3 digits, optionally '.NN', got {code!r}",
            {"field": "joint_committee"},
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
            raise InvalidArgument("contract ends before it starts", {"field": "end"})
        require_cents(self.gross_cents, "gross_cents")
        if self.gross_cents <= 0:
            raise InvalidArgument("gross pay must be positive", {"field": "gross_cents"})
        title = (self.job_title or "").strip()
        if not title:
            raise InvalidArgument("job title is required", {"field": "job_title"})
        object.__setattr__(self, "job_title", title)
        object.__setattr__(self, "joint_committee", validate_joint_committee(self.joint_committee))
        if (self.days is None) == (self.hours is None):
            raise InvalidArgument("give either days or hours worked, not both or neither")
        if self.days is not None:
            if isinstance(self.days, bool) or not isinstance(self.days, int) or self.days <= 0:
                raise InvalidArgument("days must be a positive integer", {"field": "days"})
            if self.days > (self.end - self.start).days + 1:
                raise InvalidArgument("more working days than calendar days", {"field": "days"})
        else:
            try:
                hours = Decimal(str(self.hours)) if not isinstance(self.hours, Decimal) else self.hours
            except InvalidOperation:
                raise InvalidArgument("bad hours", {"field": "hours"}) from None
            if not hours.is_finite() or hours <= 0:
                raise InvalidArgument("hours must be positive", {"field": "hours"})
            object.__setattr__(self, "hours", hours)


@dataclass
class EmploymentContract:
    """Contract aggregate; mutating methods enforce the state machine above."""

    contract_id: str
    member_id: str
    activity_id: str
    terms: ContractTerms
    state: ContractState = ContractState.REQUESTED
    reserved_cents: int = 0
    cost: ContractCost | None = None

    def _require(self, *states: ContractState, action: str) -> None:
        if self.state not in states:
            raise FailedPrecondition(
                f"cannot {action} a {self.state.value} contract", {"state": self.state.value}
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
            raise InvalidArgument("the new start date is in the past", {"field": "start"})
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
