"""Handlers of other services' events: typed facts in (adapters/events_in.py parses them), run
inside the inbox's transaction (coop_platform.inbox.process_once) as the service itself."""

from __future__ import annotations

from dataclasses import dataclass

from coop_domain.principal import Principal
from coop_membership.service_layer.members import load_member
from coop_membership.service_layer.ports import MembershipUnitOfWork
from coop_membership.service_layer.shares import pay_share


@dataclass(frozen=True)
class ShareFeePaid:
    """Billing received a member's share of a year (billing's `share_fee.paid`, formerly
    `share.paid`). The member is named by id or by number; the reference is unique per payment."""

    member_id: str
    member_number: str
    year: int
    amount_cents: int
    payment_reference: str


def record_share_fee_paid(uow: MembershipUnitOfWork, caller: Principal, fact: ShareFeePaid) -> None:
    """Pay the member's share (subscribing it if needed) in the open unit. Idempotent: the same
    payment reference twice records one payment and one share.paid."""
    caller.require("system")
    member = load_member(uow, fact.member_id, fact.member_number, lock=True)
    pay_share(uow, member, fact.year, fact.amount_cents, fact.payment_reference)
