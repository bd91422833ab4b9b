"""Writes a portal may retry take a request_id (AIP-155): a retry returns the first answer, byte for
byte, with no second effect; the same request_id with another request is FAILED_PRECONDITION;
concurrent retries produce one effect. Bank references are unique per payer and year."""

from __future__ import annotations

import threading
import uuid

import grpc

from coop.billing.v1 import billing_pb2 as pb
from coop_testkit import cooperative_today

YEAR = cooperative_today().year


def _at_once(call, times: int = 8) -> list:
    """`call()` from `times` threads released together; their answers (or RpcErrors)."""
    answers: list = []
    barrier = threading.Barrier(times)

    def run() -> None:
        barrier.wait()
        try:
            answers.append(call())
        except grpc.RpcError as exc:
            answers.append(exc)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def _retried(svc, rpc, request, metadata):
    """The first answer, then a retry of the same request: both, and what the retry wrote."""
    first = rpc(request, metadata=metadata)
    before = svc.counts()
    again = rpc(request, metadata=metadata)
    assert svc.counts() == before  # no second effect (rows, ledger, outbox)
    return first, again


def _reused(svc, h, rpc, request, metadata, change) -> None:
    """The same request_id with the request changed by `change`: refused, nothing written."""
    other = type(request)()
    other.CopyFrom(request)
    change(other)
    before = svc.counts()
    err = h.code_of(rpc, other, metadata=metadata)
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "request_id" in err.details()
    assert svc.counts() == before


def test_create_invoice_retried_gives_the_first_answer_and_issues_one_invoice(svc, h):
    member = h.admit(svc)
    act, cl = h.activity(svc, member), h.client(svc)
    request = pb.CreateInvoiceRequest(member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id,
                                      lines=[h.line()], issue=True, request_id=str(uuid.uuid4()))
    first, again = _retried(svc, svc.stub.CreateInvoice, request, member.md)
    assert again.SerializeToString() == first.SerializeToString() and first.number
    stored = svc.scalar("SELECT response FROM idempotency_keys WHERE request_id = :r", r=request.request_id)
    assert bytes(stored) == first.SerializeToString()
    _reused(svc, h, svc.stub.CreateInvoice, request, member.md,
            lambda r: setattr(r.lines[0], "unit_price_cents", r.lines[0].unit_price_cents + 1))
    assert h.code_of(svc.stub.CreateInvoice, pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id, lines=[h.line()],
        request_id="retry-1"), metadata=member.md).code() == grpc.StatusCode.INVALID_ARGUMENT
    # without a request_id, each call is a new invoice (as before)
    plain = pb.CreateInvoiceRequest(member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id,
                                    lines=[h.line()], issue=True)
    assert svc.stub.CreateInvoice(plain, metadata=member.md).number != svc.stub.CreateInvoice(
        plain, metadata=member.md).number


def test_concurrent_create_invoice_retries_with_one_request_id_issue_one_invoice(svc, h):
    member = h.admit(svc)
    act, cl = h.activity(svc, member), h.client(svc)
    request = pb.CreateInvoiceRequest(member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id,
                                      lines=[h.line(price=4242)], issue=True, request_id=str(uuid.uuid4()))
    invoices_before = svc.scalar("SELECT count(*) FROM invoices WHERE member_id = :m", m=member.member_id)
    answers = _at_once(lambda: svc.stub.CreateInvoice(request, metadata=member.md, timeout=60), times=12)
    assert all(isinstance(a, pb.Invoice) for a in answers), answers
    assert len({a.SerializeToString() for a in answers}) == 1
    assert svc.scalar("SELECT count(*) FROM invoices WHERE member_id = :m", m=member.member_id) == invoices_before + 1
    assert len(svc.outbox(subject=answers[0].invoice_id, name="invoice.issued")) == 1


def _payment(svc, h, amount_cents: int):
    """An issued invoice of 100,000 cents, its activity, and a keyed request to pay a part of it."""
    member = h.admit(svc)
    act = h.activity(svc, member)
    invoice = h.issued_invoice(svc, member, act, h.client(svc), h.line(price=100_000, vat="0"))
    return invoice, act, pb.RecordPaymentRequest(invoice_id=invoice.invoice_id, payment_id=f"b-{uuid.uuid4().hex[:8]}",
                                                 amount_cents=amount_cents, request_id=str(uuid.uuid4()))


def test_record_payment_retried_gives_the_first_answer_not_a_later_state(svc, h):
    invoice, _act, request = _payment(svc, h, 40_000)
    first, again = _retried(svc, svc.stub.RecordPayment, request, h.TELLER)
    assert again == first and first.paid_cents == 40_000
    h.pay(svc, invoice, 60_000)  # the invoice moves on
    late = svc.stub.RecordPayment(request, metadata=h.TELLER)
    assert late.SerializeToString() == first.SerializeToString()  # still the first answer (paid 40,000)
    _reused(svc, h, svc.stub.RecordPayment, request, h.TELLER, lambda r: setattr(r, "amount_cents", 40_001))


def test_concurrent_record_payment_retries_with_one_request_id_record_one_payment(svc, h):
    _invoice, act, request = _payment(svc, h, 30_000)
    answers = _at_once(lambda: svc.stub.RecordPayment(request, metadata=h.TELLER, timeout=60))
    assert len({a.SerializeToString() for a in answers}) == 1 and answers[0].paid_cents == 30_000
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=h.ADMIN)
    assert [e.kind for e in budget.entries] == ["invoice", "revenue_contribution"]


def test_request_contract_retried_reserves_once(svc, h):
    member = h.admit(svc)
    act = h.funded_activity(svc, member, 1_000_000)
    request = pb.RequestContractRequest(member_id=member.member_id, activity_id=act.activity_id, terms=h.terms(),
                                        request_id=str(uuid.uuid4()))
    answers = _at_once(lambda: svc.stub.RequestContract(request, metadata=member.md, timeout=60))
    assert all(isinstance(a, pb.Contract) for a in answers), answers
    assert len({a.SerializeToString() for a in answers}) == 1
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    assert budget.reserved_cents == answers[0].reserved_cents  # one reservation
    assert len(svc.outbox(subject=answers[0].contract_id, name="contract.created")) == 1
    _reused(svc, h, svc.stub.RequestContract, request, member.md,
            lambda r: setattr(r.terms, "gross_cents", r.terms.gross_cents + 1))


def test_share_fee_payment_retried_gives_the_first_answer(svc, h):
    member = h.admit(svc)
    request = pb.RecordShareFeePaymentRequest(member_id=member.member_id, year=YEAR, amount_cents=1000,
                                              bank_reference=f"SH-{uuid.uuid4().hex[:8]}", request_id=str(uuid.uuid4()))
    first, again = _retried(svc, svc.stub.RecordShareFeePayment, request, h.TELLER)
    assert again.SerializeToString() == first.SerializeToString() and first.paid_cents == 1000
    svc.stub.RecordShareFeePayment(pb.RecordShareFeePaymentRequest(
        member_id=member.member_id, year=YEAR, amount_cents=2000, bank_reference=f"SH-{uuid.uuid4().hex[:8]}"),
        metadata=h.TELLER)
    assert svc.stub.RecordShareFeePayment(request, metadata=h.TELLER) == first  # not the paid fee of now
    _reused(svc, h, svc.stub.RecordShareFeePayment, request, h.TELLER, lambda r: setattr(r, "amount_cents", 999))


def test_a_bank_reference_is_unique_per_payer_and_year_not_only_per_invoice(svc, h):
    member = h.admit(svc)
    act = h.activity(svc, member)
    client, other_client = h.client(svc), h.client(svc)
    first, second = (h.issued_invoice(svc, member, act, client, h.line(price=10_000, vat="0")) for _ in range(2))
    elsewhere = h.issued_invoice(svc, member, act, other_client, h.line(price=10_000, vat="0"))
    reference = f"BANK-{uuid.uuid4().hex[:8]}"
    svc.stub.RecordPayment(pb.RecordPaymentRequest(invoice_id=first.invoice_id, payment_id=reference,
                                                   amount_cents=10_000), metadata=h.TELLER)
    before = svc.counts()
    err = h.code_of(svc.stub.RecordPayment, pb.RecordPaymentRequest(
        invoice_id=second.invoice_id, payment_id=reference, amount_cents=10_000), metadata=h.TELLER)
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS and "this client" in err.details()
    assert svc.counts() == before
    assert svc.stub.RecordPayment(pb.RecordPaymentRequest(
        invoice_id=elsewhere.invoice_id, payment_id=reference, amount_cents=10_000), metadata=h.TELLER).paid_cents == 10_000
