"""Partial share-fee payments: they accumulate, idempotent per bank reference; share_fee.paid only
once the fee is fully paid; an over-payment is refused and records nothing."""

from __future__ import annotations

import threading
import uuid

import grpc

from coop.billing.v1 import billing_pb2 as pb
from coop_testkit import cooperative_today

YEAR = cooperative_today().year


def _pay(svc, h, member, amount, reference, year=YEAR):
    return svc.stub.RecordShareFeePayment(pb.RecordShareFeePaymentRequest(
        member_id=member.member_id, year=year, amount_cents=amount, bank_reference=reference), metadata=h.TELLER)


def test_partial_payments_accumulate_and_share_paid_is_published_once_when_fully_paid(svc, h):
    member = h.admit(svc)
    b1, b2, b3 = (f"BANK-{uuid.uuid4().hex[:10]}" for _ in range(3))
    first = _pay(svc, h, member, 1_000, b1)
    assert first.state == pb.SHARE_FEE_STATE_PARTIALLY_PAID
    assert (first.paid_cents, first.due_cents, first.amount_cents, first.bank_reference) == (1_000, 2_000, 3_000, b1)
    assert [(p.bank_reference, p.amount_cents) for p in first.payments] == [(b1, 1_000)]
    assert not first.HasField("paid_at")
    assert svc.outbox(subject=member.member_id, name="share_fee.paid") == []

    before = svc.counts()
    again = _pay(svc, h, member, 1_000, b1)  # the same payment again: nothing changes
    assert (again.state, again.paid_cents, len(again.payments)) == (pb.SHARE_FEE_STATE_PARTIALLY_PAID, 1_000, 1)
    assert h.code_of(_pay, svc, h, member, 500, b1).code() == grpc.StatusCode.ALREADY_EXISTS
    over = h.code_of(_pay, svc, h, member, 2_001, b2)
    assert over.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "only 2000 cents" in over.details() and "overpay it by 1" in over.details()
    assert svc.counts() == before

    paid = _pay(svc, h, member, 2_000, b2)
    assert paid.state == pb.SHARE_FEE_STATE_PAID and (paid.paid_cents, paid.due_cents) == (3_000, 0)
    assert paid.HasField("paid_at") and paid.bank_reference == b2
    assert [(p.bank_reference, p.amount_cents) for p in paid.payments] == [(b1, 1_000), (b2, 2_000)]
    events = svc.outbox(subject=member.member_id, name="share_fee.paid")
    assert len(events) == 1
    assert events[0]["data"] == {"memberId": member.member_id, "memberNumber": member.number, "year": YEAR,
                                 "amountCents": "3000", "paymentReference": paid.number}

    other = h.admit(svc)
    before = svc.counts()
    assert _pay(svc, h, member, 1_000, b1).state == pb.SHARE_FEE_STATE_PAID  # a late retry is still harmless
    done = h.code_of(_pay, svc, h, member, 1, b3)
    assert done.code() == grpc.StatusCode.FAILED_PRECONDITION and "already paid" in done.details()
    assert h.code_of(_pay, svc, h, other, 1_000, b1).code() == grpc.StatusCode.ALREADY_EXISTS
    assert svc.counts() == before
    assert len(svc.outbox(subject=member.member_id, name="share_fee.paid")) == 1

    fees = svc.stub.ListShareFees(pb.ListShareFeesRequest(member_id=member.member_id), metadata=member.md).fees
    assert [(f.year, f.state, f.due_cents, [p.bank_reference for p in f.payments]) for f in fees] == [
        (YEAR, pb.SHARE_FEE_STATE_PAID, 0, [b1, b2])]


def test_a_first_payment_may_precede_the_bill_and_be_partial(svc, h):
    member = h.admit(svc)
    fee = _pay(svc, h, member, 1_200, f"BANK-{uuid.uuid4().hex[:10]}", year=YEAR + 1)  # bills YEAR + 1 first
    assert (fee.year, fee.state, fee.due_cents) == (YEAR + 1, pb.SHARE_FEE_STATE_PARTIALLY_PAID, 1_800)
    assert len(svc.outbox(subject=member.member_id, name="share_fee.billed")) == 2
    assert svc.outbox(subject=member.member_id, name="share_fee.paid") == []


def test_parallel_partial_payments_never_overpay_and_publish_share_paid_once(svc, h):
    member = h.admit(svc)
    results: list[object] = []
    barrier = threading.Barrier(6)

    def pay() -> None:
        barrier.wait()
        try:
            results.append(_pay(svc, h, member, 1_000, f"BANK-{uuid.uuid4().hex[:10]}"))
        except grpc.RpcError as exc:
            results.append(exc)

    threads = [threading.Thread(target=pay) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if isinstance(r, pb.ShareFee)]
    refused = [r for r in results if isinstance(r, grpc.RpcError)]
    assert len(ok) == 3 and all(r.code() == grpc.StatusCode.FAILED_PRECONDITION for r in refused)
    fee = svc.stub.ListShareFees(pb.ListShareFeesRequest(member_id=member.member_id), metadata=member.md).fees[0]
    assert (fee.state, fee.paid_cents, len(fee.payments)) == (pb.SHARE_FEE_STATE_PAID, 3_000, 3)
    assert len(svc.outbox(subject=member.member_id, name="share_fee.paid")) == 1


def test_bad_share_payment_input_is_refused_and_writes_nothing(svc, h):
    member = h.admit(svc)
    before = svc.counts()
    for request, code in [
        (pb.RecordShareFeePaymentRequest(member_id=member.member_id, year=YEAR, amount_cents=0,
                                         bank_reference="b"), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.RecordShareFeePaymentRequest(member_id=member.member_id, year=YEAR, amount_cents=-5,
                                         bank_reference="b"), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.RecordShareFeePaymentRequest(member_id=member.member_id, year=YEAR, amount_cents=100,
                                         bank_reference=" "), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.RecordShareFeePaymentRequest(member_id=member.member_id, year=1999, amount_cents=100,
                                         bank_reference="b"), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.RecordShareFeePaymentRequest(member_id="nope", year=YEAR, amount_cents=100,
                                         bank_reference="b"), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.RecordShareFeePaymentRequest(member_id=str(uuid.uuid4()), year=YEAR, amount_cents=100,
                                         bank_reference="b"), grpc.StatusCode.UNAVAILABLE),  # not yet admitted
    ]:
        err = h.code_of(svc.stub.RecordShareFeePayment, request, metadata=h.TELLER)
        assert err.code() == code, (request, err.details())
    assert h.code_of(svc.stub.RecordShareFeePayment, pb.RecordShareFeePaymentRequest(
        member_id=member.member_id, year=YEAR, amount_cents=100, bank_reference="b"),
        metadata=member.md).code() == grpc.StatusCode.PERMISSION_DENIED
    assert svc.counts() == before
