"""Billing's own refusals: subclasses of the shared vocabulary (`coop_domain.errors`), each with
a stable reason. Structured values (``shortfall_cents``...) travel as keyword arguments or the
``detail`` mapping and reach the client as ErrorInfo metadata; ``field=`` (or ``{"field": ...}``)
names the request field, sent as a BadRequest violation. Generic refusals use the shared classes
directly (``from coop_domain.errors import InvalidArgument``)."""

from __future__ import annotations

from coop_domain.errors import FailedPrecondition, Unavailable


class ShortOfMoney(FailedPrecondition):
    """A budget, envelope or reservation is too small: ``shortfall_cents`` says by how much."""

    default_reason = "SHORT_OF_MONEY"

    @property
    def shortfall_cents(self) -> int | None:
        """Missing amount, or None when the refusal carries none."""
        value = self.detail.get("shortfall_cents")
        return int(value) if value is not None else None


class BudgetTooSmall(ShortOfMoney):
    """An activity budget cannot pay a contract's cost."""

    default_reason = "BUDGET_TOO_SMALL"


class YearClosed(FailedPrecondition):
    """Nothing can be dated inside a closed fiscal year."""

    default_reason = "YEAR_CLOSED"


class DatedBeforeSeries(FailedPrecondition):
    """Document numbers follow dates: a date before the series' latest document is refused."""

    default_reason = "DATED_BEFORE_SERIES"


class NotInGoodStanding(FailedPrecondition):
    """Invoices are issued only for active members whose annual share is paid."""

    default_reason = "MEMBER_NOT_IN_GOOD_STANDING"


class MemberNotYetKnown(Unavailable):
    """The member's admission has not reached billing yet (membership's member.admitted event is
    on its way): transient, so the client retries after ``retry_after_seconds``."""

    default_reason = "MEMBER_NOT_YET_KNOWN"
