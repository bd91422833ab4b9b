"""Use cases of the calendar: contribution rates, closing a fiscal year, and the housekeeping of
request_ids."""

from __future__ import annotations

from datetime import date
from typing import Any

from coop_billing.domain.contribution import RateChange, RateKind
from coop_billing.domain.events import YearClosed
from coop_billing.service_layer.common import READERS, check_year, open_for, today
from coop_billing.service_layer.ports import BillingUnitOfWork
from coop_domain.clock import utcnow
from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from coop_domain.principal import Principal


def set_rate(uow: BillingUnitOfWork, caller: Principal, kind: str, effective_from: date,
             basis_points: int) -> RateChange:
    """A rate change taking effect on `effective_from`: today or later (never retroactive), and
    never inside a closed year."""
    caller.require("admin")
    try:
        rate_kind = RateKind(kind)
    except ValueError:
        raise InvalidArgument(f"kind must be one of {[k.value for k in RateKind]}", field="kind",
                              reason="UNKNOWN_RATE_KIND") from None
    change = RateChange(rate_kind, effective_from, basis_points)
    if effective_from < today():
        raise InvalidArgument(f"a rate changes today ({today()}) or later, never retroactively: every "
                              "contribution already fixed keeps its rate", field="effective_from",
                              reason="RETROACTIVE_RATE")
    with uow:
        open_for(uow, effective_from, "effective_from")
        if not uow.years.add_rate(change):
            raise AlreadyExists(f"a {kind} rate already takes effect on {effective_from}", field="effective_from",
                                reason="RATE_EXISTS")
        uow.commit()
    return change


def list_rates(uow: BillingUnitOfWork, caller: Principal) -> list[RateChange]:
    caller.require("member", *READERS)
    with uow:
        schedule = uow.read_only().years.schedule()
    return [c for kind in RateKind for c in schedule.changes(kind)]


def close_year(uow: BillingUnitOfWork, caller: Principal, year: int) -> tuple[Any, bool]:
    """Close a year that has ended: (its fiscal_years record, closed before). From then on nothing
    is dated inside it, so its statements never change; waits for the writes still dated in it.
    The first closing publishes year.closed (the statements are available)."""
    caller.require("admin")
    check_year(year)
    if year >= today().year:
        raise FailedPrecondition(f"{year} has not ended: a year is closed once it is over", field="year",
                                 reason="YEAR_NOT_OVER")
    with uow:
        row, already = uow.years.close_year(year, caller.subject, utcnow())
        if not already:  # the statements are final: every member may be told (once)
            uow.publish(YearClosed(row.year, row.closed_at))
        uow.commit()
    return row, already


def purge_idempotency_keys(uow: BillingUnitOfWork, caller: Principal) -> int:
    """Delete the request_ids older than the retention (the worker runs it every hour)."""
    caller.require("admin")
    with uow:
        purged = uow.request_ids.purge()
        uow.commit()
    return purged
