"""Use cases of the annual share fee: billed on admission (handlers.py) or by the yearly run,
paid in one or several parts; the payment that completes it publishes share_fee.paid."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from coop_billing.domain import events
from coop_billing.domain.checks import check_cents, check_text, parse_uuid
from coop_billing.domain.invoice import DocumentNumber
from coop_billing.service_layer.common import (
    READERS,
    STAFF,
    answer,
    check_year,
    first_answer,
    known_member,
    require_open,
)
from coop_billing.service_layer.ports import BillingUnitOfWork, Reply
from coop_domain.clock import utcnow
from coop_domain.errors import AlreadyExists, FailedPrecondition
from coop_domain.principal import Principal
from coop_platform.idempotency import IdempotentRequest

T = TypeVar("T")
DEFAULT_SHARE_FEE_CENTS = 3000
SHARE_FEE_SERIES = "SH"
BILLERS = ("admin", "service")


def bill_in_unit(uow: BillingUnitOfWork, member: Any, year: int, amount_cents: int) -> tuple[Any, bool]:
    """(fee record, newly billed) inside the caller's unit of work; the caller's lock on the
    member record (``known_member(..., lock=True)``) serialises."""
    member_id = member.member_id
    existing = uow.share_fees.share_fee(member_id, year)
    if existing is not None:
        return existing, False
    require_open(uow.years.fiscal_years([year]), date(year, 1, 1), "year")  # a closed year's statement stays
    number = DocumentNumber(SHARE_FEE_SERIES, year, uow.years.next_number(SHARE_FEE_SERIES, year))
    uow.share_fees.add_share_fee(fee_id=str(uuid.uuid4()), member_id=member_id, year=year, amount_cents=amount_cents,
                                 number=str(number), state="billed", paid_cents=0)
    row = uow.share_fees.share_fee(member_id, year)
    uow.publish(events.ShareFeeBilled(row, member.member_number))
    return row, True


def bill_share_fee(uow: BillingUnitOfWork, caller: Principal, member_id: str, year: int,
                   amount_cents: int = 0) -> tuple[Any, str]:
    """(the fee, the member's number): billed now, or as it was billed before."""
    caller.require(*BILLERS)
    member_id = parse_uuid(member_id, "member_id")
    check_year(year)
    amount = check_cents(amount_cents, "amount_cents", allow_zero=True) or DEFAULT_SHARE_FEE_CENTS
    with uow:
        member = known_member(uow, member_id, lock=True)
        if member.status != "active":
            raise FailedPrecondition(f"member is {member.status}: only active members owe the annual share",
                                     field="member_id", reason="MEMBER_NOT_ACTIVE", status=member.status)
        row, _ = bill_in_unit(uow, member, year, amount)
        uow.commit()
        return row, member.member_number


def bill_share_fees(uow: BillingUnitOfWork, caller: Principal, year: int, amount_cents: int = 0,
                    batch: int = 500) -> tuple[int, int]:
    """Bill the year's share to every active member not yet billed; (billed, already billed).

    Batches of `batch` members per transaction: a crash leaves whole batches, and a rerun
    bills only those still missing.
    """
    caller.require(*BILLERS)
    check_year(year)
    amount = check_cents(amount_cents, "amount_cents", allow_zero=True) or DEFAULT_SHARE_FEE_CENTS
    billed = 0
    after = ""
    while True:
        with uow:
            ids = uow.members.active_members_without_fee(year, after, batch)
            if not ids:
                break
            for member_id in ids:
                _row, new = bill_in_unit(uow, known_member(uow, member_id, lock=True), year, amount)
                billed += int(new)
            uow.commit()
        after = ids[-1]
    with uow:
        total = uow.share_fees.share_fee_count(year)
    return billed, total - billed


def record_share_fee_payment(uow: BillingUnitOfWork, caller: Principal, member_id: str, year: int,
                             amount_cents: int, bank_reference: str, reply: Reply[T], *,
                             request: IdempotentRequest | None = None) -> T:
    """Record one payment of the year's share: the whole fee or a part of what is still due.

    Partial payments accumulate (billed -> partially_paid -> paid); share_fee.paid is published
    once, by the payment that completes the fee. A payment larger than what is still due is
    refused (FAILED_PRECONDITION, nothing recorded), as is any payment on a paid fee. Idempotent
    per bank reference, unique across all fees: the same payment again changes nothing; the
    reference with other figures is ALREADY_EXISTS. Bills the share first when it was not billed
    yet. A member billing has not heard of yet (admitted a moment ago) is UNAVAILABLE: retry.
    With a request_id, a retry gets the first answer. Answers the fee with its payments.
    """
    caller.require(*STAFF)
    member_id = parse_uuid(member_id, "member_id")
    check_year(year)
    check_cents(amount_cents, "amount_cents")
    bank_reference = check_text(bank_reference, "bank_reference", limit=100)
    with uow:
        first = first_answer(uow, request, reply)
        if first is not None:
            return first
        member = known_member(uow, member_id, lock=True)  # serialises this member's payments
        used = uow.share_fees.share_fee_payment(bank_reference)
        if used is not None:
            if used.member_id == member_id and used.year == year and used.amount_cents == amount_cents:
                return answer(uow, request, reply, _fee_view(uow, member, year))
            raise AlreadyExists(f"bank reference {bank_reference} was already used for another payment",
                                field="bank_reference", reason="BANK_REFERENCE_USED")
        bill_in_unit(uow, member, year, DEFAULT_SHARE_FEE_CENTS)  # a payment may precede the bill
        fee = uow.share_fees.share_fee(member_id, year, lock=True)
        if fee.state == "paid":
            raise FailedPrecondition(f"the {year} share of this member is already paid ({fee.bank_reference})",
                                     reason="SHARE_FEE_PAID")
        due = fee.amount_cents - fee.paid_cents
        if amount_cents > due:
            raise FailedPrecondition(
                f"only {due} cents of the {year} share ({fee.amount_cents} cents) are still due: a payment of "
                f"{amount_cents} cents would overpay it by {amount_cents - due}; record at most {due} cents",
                field="amount_cents", reason="SHARE_FEE_OVERPAID", due_cents=due, excess_cents=amount_cents - due)
        now = utcnow()
        if not uow.share_fees.add_share_fee_payment(bank_reference=bank_reference, fee_id=fee.fee_id,
                                                    amount_cents=amount_cents, recorded_at=now):
            raise AlreadyExists(f"bank reference {bank_reference} was already used for another payment",
                                field="bank_reference", reason="BANK_REFERENCE_USED")
        paid = fee.paid_cents + amount_cents
        full = paid == fee.amount_cents
        uow.share_fees.update_share_fee(fee.fee_id, state="paid" if full else "partially_paid", paid_cents=paid,
                                        bank_reference=bank_reference, paid_at=now if full else None)
        view = _fee_view(uow, member, year)
        if full:
            uow.publish(events.ShareFeePaid(view.fee, member.member_number))
        return answer(uow, request, reply, view)


@dataclass(frozen=True)
class FeeView:
    """A share fee as answered: the fee record, its member's number and its payments."""

    fee: Any
    member_number: str
    payments: list[Any]


def _fee_view(uow: BillingUnitOfWork, member: Any, year: int) -> FeeView:
    fee = uow.share_fees.share_fee(member.member_id, year)
    return FeeView(fee, member.member_number, uow.share_fees.share_fee_payments_of([fee.fee_id])[fee.fee_id])


def list_share_fees(uow: BillingUnitOfWork, caller: Principal, member_id: str) -> list[FeeView]:
    caller.require_self_or(member_id, *READERS)
    member_id = parse_uuid(member_id, "member_id")
    with uow:
        member = uow.read_only().members.member(member_id)
        fees = uow.share_fees.share_fees_of(member_id)
        payments = uow.share_fees.share_fee_payments_of([f.fee_id for f in fees])
    number = member.member_number if member else ""
    return [FeeView(f, number, payments[f.fee_id]) for f in fees]
