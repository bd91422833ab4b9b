"""Use cases of shares: the yearly rules, subscription, payment, refund and listing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from coop_domain.clock import utcnow
from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from coop_domain.principal import Principal
from coop_membership.domain import events as ev
from coop_membership.domain.model import Member, Share, ShareState, ShareYear, Status
from coop_membership.service_layer.members import READ_ROLES, load_member, remember, replayed, today
from coop_membership.service_layer.ports import MembershipUnitOfWork
from coop_platform.idempotency import IdempotentRequest, Replay


@dataclass(frozen=True)
class Refund:
    """The shares refunded to a member who left."""

    shares: list[Share]
    member: Member

    @property
    def total_cents(self) -> int:
        return sum(s.amount_cents for s in self.shares)


def set_share_year(uow: MembershipUnitOfWork, caller: Principal, year: int, amount_cents: int,
                   grace_days: int) -> ShareYear:
    caller.require("admin")
    policy = ShareYear(year=year, amount_cents=amount_cents, grace_days=grace_days)
    with uow:
        saved = uow.shares.save_share_year(policy)
        uow.commit()
        return ShareYear(saved.year, saved.amount_cents, saved.grace_days)


def check_year(year: int) -> None:
    this_year = today().year
    if not 1990 <= year <= this_year + 1:
        raise InvalidArgument(f"year {year} is outside 1990..{this_year + 1}", field="year",
                              reason="YEAR_OUT_OF_RANGE", minimum=1990, maximum=this_year + 1)


def _subscribe(uow: MembershipUnitOfWork, member: Member, year: int) -> Share:
    share = uow.shares.share(member.member_no, year)
    if share is not None:
        return share
    if Status(member.status) not in (Status.ACTIVE, Status.APPLICANT, Status.SUSPENDED):
        raise FailedPrecondition(f"a {Status(member.status).value} member cannot subscribe a share",
                                 reason="MEMBER_NOT_SUBSCRIBING", status=Status(member.status).value)
    policy = uow.shares.share_year(year)
    share = uow.shares.add_share(Share(str(uuid.uuid4()), member.member_no, year, policy.amount_cents))
    uow.publish(ev.ShareSubscribed(share, member))
    return share


def subscribe_share(uow: MembershipUnitOfWork, caller: Principal, member_id: str, year: int) -> tuple[Share, Member]:
    """Idempotent per member and year: a second subscription returns the first share."""
    check_year(year)
    with uow:
        member = load_member(uow, member_id, lock=True)
        caller.require_self_or(member.member_id, "admin", "service")
        share = _subscribe(uow, member, year)
        uow.commit()
        return share, member


def pay_share(uow: MembershipUnitOfWork, member: Member, year: int, amount_cents: int, reference: str) -> Share:
    """Record a payment of `member`'s share of `year` in the open unit (the api's call or billing's
    event): subscribes the share if needed; the same reference twice changes nothing."""
    reference = reference.strip()
    if not reference or len(reference) > 100:
        raise InvalidArgument("payment_reference is required (at most 100 characters)",
                              field="payment_reference", reason="FIELD_REQUIRED" if not reference else "FIELD_TOO_LONG")
    existing = uow.shares.share_by_reference(reference)
    if existing is not None and (existing.member_no != member.member_no or existing.year != year):
        raise AlreadyExists(f"payment reference {reference} was already used for another share",
                            field="payment_reference", reason="PAYMENT_REFERENCE_USED")
    share = _subscribe(uow, member, year)
    if share.pay(amount_cents, reference, utcnow()):
        member.paid_through_year = max(member.paid_through_year or 0, year)
        on = today()
        good = member.in_good_standing(on, uow.shares.share_year(on.year))
        uow.publish(ev.SharePaid(share, member, good))
    return share


def record_share_payment(uow: MembershipUnitOfWork, caller: Principal, member_id: str, year: int,
                         amount_cents: int, reference: str) -> tuple[Share, Member]:
    """Idempotent per payment reference: recording the same payment twice changes nothing."""
    caller.require("admin", "service")
    check_year(year)
    if amount_cents <= 0:
        raise InvalidArgument("amount_cents must be positive", field="amount_cents", reason="AMOUNT_OUT_OF_RANGE")
    with uow:
        member = load_member(uow, member_id, lock=True)
        share = pay_share(uow, member, year, amount_cents, reference)
        uow.commit()
        return share, member


def refund_shares(uow: MembershipUnitOfWork, caller: Principal, member_id: str, reason: str, *,
                  request: IdempotentRequest | None = None) -> Refund | Replay:
    """Refund every paid share of a resigned or excluded member; a retry with the first call's
    request_id gets the first refund back (a Replay)."""
    caller.require("admin")
    with uow:
        first = replayed(uow, request)
        if first is not None:
            return first
        member = load_member(uow, member_id, lock=True)
        if Status(member.status) not in (Status.RESIGNED, Status.EXCLUDED):
            raise FailedPrecondition(
                f"shares are refunded on resignation or exclusion; this member is {Status(member.status).value}",
                reason="MEMBER_STILL_IN", status=Status(member.status).value)
        now = utcnow()
        refunded = []
        for share in uow.shares.shares_of(member.member_no):
            if ShareState(share.state) == ShareState.PAID:
                share.refund(now)
                refunded.append(share)
                uow.publish(ev.ShareRefunded(share, member, reason))
        if not refunded:
            raise FailedPrecondition("this member has no paid share to refund", reason="NO_PAID_SHARE")
        member.paid_through_year = uow.shares.paid_through_year(member.member_no)
        refund = Refund(refunded, member)
        remember(uow, request, refund)
        uow.commit()
        return refund


def list_shares(uow: MembershipUnitOfWork, caller: Principal, member_id: str) -> tuple[list[Share], Member]:
    with uow:
        uow.read_only()
        member = load_member(uow, member_id)
        caller.require_self_or(member.member_id, *READ_ROLES)
        return uow.shares.shares_of(member.member_no), member
