"""Handlers of membership's events: typed facts (domain/member_facts.py, parsed at the worker's
edge) applied to billing's member projection, in the inbox's transaction.

Each part of a member (status, standing, names) is taken only from a fact at least as recent
(its occurred_at) as the one that last set it, so a late or re-published older event never
undoes a newer one; names never come back after erasure. The member number is a stable
pseudonym: taken from any fact that carries one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from coop_billing.domain import member_facts as facts
from coop_billing.domain.member_facts import MemberNames
from coop_billing.service_layer.common import known_member
from coop_billing.service_layer.ports import BillingUnitOfWork
from coop_billing.service_layer.share_fees import DEFAULT_SHARE_FEE_CENTS, bill_in_unit
from coop_domain.clock import as_utc
from coop_domain.errors import FailedPrecondition
from coop_domain.principal import Principal

log = logging.getLogger(__name__)
NAME_LIMIT = 100
#: handlers run for the service itself (coop_domain.principal.system_principal), never for a client
SYSTEM_ROLE = "system"


def _newer(at: datetime, held: datetime | None) -> bool:
    """Whether a fact of time `at` may replace what a fact of time `held` set (a stored time
    read back naive from SQLite is UTC)."""
    return held is None or as_utc(held) <= at


def _name_columns(names: MemberNames) -> dict[str, str]:
    """The projection's columns for the names a fact carries (only those)."""
    return {column: value[:NAME_LIMIT] for column, value in (
        ("given_name", names.given_name), ("family_name", names.family_name),
        ("preferred_language", names.preferred_language)) if value}


def _project_member(uow: BillingUnitOfWork, member_id: str, at: datetime, *, member_number: str = "",
                    status: str | None = None, standing: bool | None = None,
                    names: dict[str, str] | None = None) -> None:
    uow.members.ensure_member_row(member_id)
    row = uow.members.member(member_id, lock=True)
    values: dict[str, Any] = {}
    if member_number:
        values["member_number"] = member_number[:20]
    if status is not None and _newer(at, row.status_at):
        values.update(status=status, status_at=at)
    if standing is not None and _newer(at, row.standing_at):
        values.update(in_good_standing=standing, standing_at=at)
    if names and row.erased_at is None and _newer(at, row.identity_at):
        values.update(names, identity_at=at)
    if values:
        uow.members.update_member(member_id, **values)


def on_member_admitted(uow: BillingUnitOfWork, caller: Principal, fact: facts.MemberAdmitted) -> None:
    """Record identity, mark active, bill the year's share."""
    caller.require(SYSTEM_ROLE)
    at = fact.occurred_at
    _project_member(uow, fact.member_id, at, member_number=fact.member_number, status="active",
                    names=_name_columns(fact.names))
    try:
        bill_in_unit(uow, known_member(uow, fact.member_id, lock=True), at.year, DEFAULT_SHARE_FEE_CENTS)
    except FailedPrecondition:  # admitted in a year closed since: BillShareFees bills the open year
        log.info("member %s admitted in %s, a closed year: no share fee billed for it", fact.member_id, at.year)


def on_member_updated(uow: BillingUnitOfWork, caller: Principal, fact: facts.MemberUpdated) -> None:
    caller.require(SYSTEM_ROLE)
    _project_member(uow, fact.member_id, fact.occurred_at, member_number=fact.member_number,
                    names=_name_columns(fact.names))


def on_member_status_changed(uow: BillingUnitOfWork, caller: Principal, fact: facts.MemberStatusChanged) -> None:
    caller.require(SYSTEM_ROLE)
    _project_member(uow, fact.member_id, fact.occurred_at, member_number=fact.member_number,
                    status=fact.status, standing=fact.in_good_standing)


def on_member_share_paid(uow: BillingUnitOfWork, caller: Principal, fact: facts.MemberSharePaid) -> None:
    caller.require(SYSTEM_ROLE)
    _project_member(uow, fact.member_id, fact.occurred_at, member_number=fact.member_number,
                    standing=fact.in_good_standing)


def on_member_erased(uow: BillingUnitOfWork, caller: Principal, fact: facts.MemberErased) -> None:
    """Billing keeps no name of the member any more (statements then show the member number), and
    forgets its own published events about the member (share fees, payouts); ids, ledgers and
    invoices stay, so every total still balances."""
    caller.require(SYSTEM_ROLE)
    uow.members.ensure_member_row(fact.member_id)
    row = uow.members.member(fact.member_id, lock=True)
    values: dict[str, Any] = {"given_name": "", "family_name": ""}
    if fact.member_number:
        values["member_number"] = fact.member_number[:20]
    if row.erased_at is None:
        values["erased_at"] = fact.occurred_at
    if _newer(fact.occurred_at, row.identity_at):
        values["identity_at"] = fact.occurred_at
    uow.members.update_member(fact.member_id, **values)
    uow.forget_published_events(fact.member_id)
