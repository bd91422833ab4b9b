"""The billing service on SQLite (make run's database): the money paths of this hardening, end to
end over gRPC, so that no statement they use is PostgreSQL-only."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import grpc
import pytest

from coop.billing.v1 import billing_pb2 as pb
from coop_testkit import cooperative_today


@pytest.fixture
def lite(h, tmp_path):
    with h.running_service(f"sqlite:///{tmp_path}/billing.db") as service:
        yield service


def test_invoicing_paying_retrying_verifying_and_closing_a_year_work_on_sqlite(lite, h, travel):
    svc = lite
    member = h.admit(svc)
    act = h.activity(svc, member)
    claimed = svc.stub.CreateClient(pb.CreateClientRequest(
        name="Studio", country="BE", address="Rue 1", vat_number="BE0403170701"), metadata=member.md).client
    real = svc.stub.CreateClient(pb.CreateClientRequest(
        name="Studio SA", country="BE", address="Rue 2", vat_number="BE0403170701"), metadata=h.ADMIN).client
    assert not claimed.verified and real.verified and claimed.client_id != real.client_id
    y = cooperative_today().year + 3
    travel(date(y, 12, 1))
    request = pb.CreateInvoiceRequest(member_id=member.member_id, activity_id=act.activity_id,
                                      client_id=claimed.client_id, lines=[h.line(price=100_000, vat="0")],
                                      issue=True, request_id=str(uuid.uuid4()))
    first = svc.stub.CreateInvoice(request, metadata=member.md)
    assert svc.stub.CreateInvoice(request, metadata=member.md) == first and first.number == f"{y}-000001"
    assert h.code_of(svc.stub.CreateInvoice, pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=real.client_id, lines=[h.line()],
        issue=True, issued_on=(date(y, 12, 1) - timedelta(days=1)).isoformat()), metadata=member.md
    ).code() == grpc.StatusCode.FAILED_PRECONDITION  # numbers follow dates
    pay = pb.RecordPaymentRequest(invoice_id=first.invoice_id, payment_id="b-1", amount_cents=100_000,
                                  request_id=str(uuid.uuid4()))
    assert svc.stub.RecordPayment(pay, metadata=h.TELLER) == svc.stub.RecordPayment(pay, metadata=h.TELLER)
    statement = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=y), metadata=h.ADMIN)
    assert statement.revenue_excl_vat_cents == 100_000 and list(statement.revenue_contribution_rates_bp) == [650]
    travel(date(y + 1, 1, 5))
    assert not svc.stub.CloseYear(pb.CloseYearRequest(year=y), metadata=h.ADMIN).already_closed
    assert h.code_of(svc.stub.CancelInvoice, pb.CancelInvoiceRequest(
        invoice_id=first.invoice_id, reason="x", on=f"{y}-12-31"), metadata=h.ADMIN
    ).code() == grpc.StatusCode.FAILED_PRECONDITION
    svc.stub.CancelInvoice(pb.CancelInvoiceRequest(invoice_id=first.invoice_id, reason="x"), metadata=h.ADMIN)
    assert svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=y),
                                 metadata=h.ADMIN) == statement
    assert h.code_of(svc.stub.VerifyClient, pb.VerifyClientRequest(client_id=claimed.client_id),
                     metadata=h.TELLER).code() == grpc.StatusCode.ALREADY_EXISTS
