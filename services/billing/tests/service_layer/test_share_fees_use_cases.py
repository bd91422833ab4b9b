"""Share-fee use cases on the fakes: billed on admission, paid in parts, share_fee.paid once,
over-payments refused with what is due, and a member not yet known asked to retry."""

from __future__ import annotations

import uuid

import pytest

from coop_billing.domain import events
from coop_billing.domain.errors import MemberNotYetKnown
from coop_billing.service_layer import share_fees
from coop_domain.errors import FailedPrecondition, PermissionDenied
from coop_testkit import cooperative_today

YEAR = cooperative_today().year


def _pay(uow, f, member_id, amount, reference, caller=None):
    return share_fees.record_share_fee_payment(uow, caller or f.TELLER, member_id, YEAR, amount, reference,
                                               f.fakes.PickleReply())


def test_admission_bills_the_share_of_the_year(uow, f):
    member = f.admit(uow)
    billed = uow.published(events.ShareFeeBilled)
    assert [(e.fee.member_id, e.fee.year, e.fee.amount_cents) for e in billed] == [(member.member_id, YEAR, 3000)]


def test_partial_payments_accumulate_and_the_last_one_publishes_share_fee_paid(uow, f):
    member = f.admit(uow)
    first = _pay(uow, f, member.member_id, 1_000, "BANK-1")
    assert (first.fee.state, first.fee.paid_cents) == ("partially_paid", 1_000)
    assert uow.published(events.ShareFeePaid) == []
    assert _pay(uow, f, member.member_id, 1_000, "BANK-1").fee.paid_cents == 1_000  # the same payment again
    with pytest.raises(FailedPrecondition) as over:
        _pay(uow, f, member.member_id, 2_001, "BANK-2")
    assert over.value.reason == "SHARE_FEE_OVERPAID" and over.value.metadata["due_cents"] == "2000"
    paid = _pay(uow, f, member.member_id, 2_000, "BANK-2")
    assert paid.fee.state == "paid" and [p.bank_reference for p in paid.payments] == ["BANK-1", "BANK-2"]
    assert [e.fee.member_id for e in uow.published(events.ShareFeePaid)] == [member.member_id]


def test_only_staff_record_payments_and_members_list_their_own_fees(uow, f):
    member, other = f.admit(uow), f.admit(uow)
    with pytest.raises(PermissionDenied):
        _pay(uow, f, member.member_id, 1_000, "BANK-1", caller=member.caller)
    assert [v.fee.year for v in share_fees.list_share_fees(uow, member.caller, member.member_id)] == [YEAR]
    with pytest.raises(PermissionDenied):
        share_fees.list_share_fees(uow, other.caller, member.member_id)


def test_a_payment_for_a_member_billing_has_not_heard_of_yet_is_retryable_and_writes_nothing(uow, f):
    with pytest.raises(MemberNotYetKnown) as refused:
        _pay(uow, f, str(uuid.uuid4()), 3_000, "BANK-early")
    assert refused.value.status_name == "UNAVAILABLE" and refused.value.reason == "MEMBER_NOT_YET_KNOWN"
    assert refused.value.retry_after_seconds > 0
    assert uow.store.share_fee_payments == {}


def test_membership_facts_are_applied_only_for_the_service_itself(uow, f):
    from datetime import UTC, datetime

    from coop_billing.domain import member_facts as facts
    from coop_billing.service_layer import handlers

    fact = facts.MemberErased(str(uuid.uuid4()), "M000001", datetime.now(UTC))
    with pytest.raises(PermissionDenied):
        handlers.on_member_erased(uow, f.ADMIN, fact)
