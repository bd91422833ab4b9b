"""Contribution rates with effective dates, and the contributions they produce.

Rates are integer basis points (650 = 6.5 %). A rate change takes effect ON its
``effective_from`` date: the day before still uses the previous rate. Changes are never
retroactive (the service refuses an ``effective_from`` before today), so a contribution once
fixed keeps its rate.

When the revenue contribution is taken (documented choice):
    on the invoice amount EXCLUDING VAT (VAT is the State's money, not revenue),
    at the rate in force on the invoice's issue date, FIXED when the invoice is
    issued (one contribution per invoice, known when the member sees it) and
    TAKEN as the client pays, in proportion (see ``postings``): an invoice that
    is never paid never reaches the budget, so invoicing a client who will not
    pay inflates nothing. A credit note reverses exactly what was taken (same
    amount, negated, whatever the rate on the credit note's date).

Rounding: half up to the cent on each contribution (see ``money``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import Enum

from coop_domain.errors import AlreadyExists, InvalidArgument, NotFound

from .money import apply_basis_points, require_cents


class RateKind(Enum):
    REVENUE = "revenue"  # contribution on invoiced revenue excl. VAT
    EMPLOYMENT = "employment"  # contribution on the budget spent on employment
    SOCIAL_CHARGES = "social_charges"  # employer social charges on gross pay


DEFAULT_REVENUE_BP = 650
DEFAULT_EMPLOYMENT_BP = 750
DEFAULT_SOCIAL_CHARGES_BP = 2700
DEFAULT_SINCE = date(2000, 1, 1)


@dataclass(frozen=True, slots=True)
class RateChange:
    """From ``effective_from`` (inclusive) the rate of ``kind`` is ``basis_points``."""

    kind: RateKind
    effective_from: date
    basis_points: int

    def __post_init__(self) -> None:
        require_cents(self.basis_points, "basis_points")
        if not 0 <= self.basis_points <= 10_000:
            raise InvalidArgument("a rate is between 0 and 10000 basis points", field="basis_points",
                                  reason="RATE_OUT_OF_RANGE")


class RateSchedule:
    """All rate changes per kind; answers which rate is in force at a date."""

    def __init__(self, changes: Iterable[RateChange] = ()) -> None:
        self._dates: dict[RateKind, list[date]] = {k: [] for k in RateKind}
        self._rates: dict[RateKind, list[int]] = {k: [] for k in RateKind}
        for change in changes:
            self.add(change)

    @classmethod
    def over_defaults(cls, configured: dict[tuple[RateKind, date], int]) -> RateSchedule:
        """The published defaults (since 2000) overlaid with the configured changes
        ((kind, effective from) -> basis points)."""
        merged = dict(configured)
        default = cls.default()
        for kind in RateKind:
            for change in default.changes(kind):
                merged.setdefault((kind, change.effective_from), change.basis_points)
        return cls(RateChange(k, d, bp) for (k, d), bp in merged.items())

    @classmethod
    def default(cls, since: date = DEFAULT_SINCE) -> RateSchedule:
        """The cooperative's published rates: 6.5 % revenue, 7.5 % employment, 27 % social."""
        return cls(
            [
                RateChange(RateKind.REVENUE, since, DEFAULT_REVENUE_BP),
                RateChange(RateKind.EMPLOYMENT, since, DEFAULT_EMPLOYMENT_BP),
                RateChange(RateKind.SOCIAL_CHARGES, since, DEFAULT_SOCIAL_CHARGES_BP),
            ]
        )

    def add(self, change: RateChange) -> None:
        """Record a change; two changes of one kind on one date are refused."""
        dates = self._dates[change.kind]
        i = bisect.bisect_left(dates, change.effective_from)
        if i < len(dates) and dates[i] == change.effective_from:
            raise AlreadyExists(
                f"a {change.kind.value} rate already takes effect on {change.effective_from}",
                field="effective_from", reason="RATE_EXISTS")
        dates.insert(i, change.effective_from)
        self._rates[change.kind].insert(i, change.basis_points)

    def rate_at(self, kind: RateKind, on: date) -> int:
        """Basis points of ``kind`` in force on ``on``; NotFound before the first change."""
        dates = self._dates[kind]
        i = bisect.bisect_right(dates, on)
        if i == 0:
            raise NotFound(f"no {kind.value} rate in force on {on}", reason="NO_RATE_IN_FORCE", kind=kind.value,
                           on=on.isoformat())
        return self._rates[kind][i - 1]

    def changes(self, kind: RateKind) -> list[RateChange]:
        return [RateChange(kind, d, r) for d, r in zip(self._dates[kind], self._rates[kind], strict=True)]


def revenue_contribution_cents(net_excl_vat_cents: int, schedule: RateSchedule, invoice_date: date) -> int:
    """Contribution on an invoice's amount excl. VAT at the rate in force on its date."""
    require_cents(net_excl_vat_cents)
    return apply_basis_points(net_excl_vat_cents, schedule.rate_at(RateKind.REVENUE, invoice_date))


def contribution_reversal_cents(original_contribution_cents: int) -> int:
    """What a credit note gives back: exactly the contribution taken, negated."""
    return -require_cents(original_contribution_cents)
