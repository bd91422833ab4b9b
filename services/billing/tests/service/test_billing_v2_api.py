"""coop.billing.v2: every aggregate's representative RPC across roles (the member themself,
another member, an admin, another tenant's admin, no token), dates as google.type.Date, the
update mask of AmendContract, bad input as rich status, and v1 served beside it."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.type.date_pb2 import Date
from grpc_health.v1 import health_pb2, health_pb2_grpc

from coop.billing.v1 import billing_pb2 as pb
from coop.billing.v2 import billing_pb2 as pb2
from coop.billing.v2 import billing_pb2_grpc as pb2_grpc
from coop_platform.rich_status import details_of
from coop_testkit import bearer, cooperative_today

PARTNER_ADMIN = bearer("partner-admin", "admin", tenant="partner-a")
DENIED = {"PERMISSION_DENIED", "UNAUTHENTICATED"}


@pytest.fixture(scope="module")
def v2(svc):
    return pb2_grpc.BillingServiceStub(svc.channel)


@pytest.fixture(scope="module")
def world(svc, h):
    member, other = h.admit(svc), h.admit(svc)
    act = h.funded_activity(svc, member, 1_000_000)
    invoice = h.issued_invoice(svc, member, act, h.client(svc))
    contract = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()), metadata=member.md)
    return member, other, act, invoice, contract


def _calls(v2, world):
    """A representative read of each aggregate: name -> call(metadata)."""
    member, _other, act, invoice, contract = world
    year = cooperative_today().year
    return {
        "budget": lambda md: v2.GetBudget(pb2.GetBudgetRequest(activity_id=act.activity_id), metadata=md).budget,
        "invoice": lambda md: v2.GetInvoice(pb2.GetInvoiceRequest(invoice_id=invoice.invoice_id), metadata=md).invoice,
        "contract": lambda md: v2.GetContract(pb2.GetContractRequest(contract_id=contract.contract_id),
                                              metadata=md).contract,
        "share_fees": lambda md: v2.ListShareFees(pb2.ListShareFeesRequest(member_id=member.member_id),
                                                  metadata=md).fees,
        "statement": lambda md: v2.GetStatement(pb2.GetStatementRequest(member_id=member.member_id, year=year),
                                                metadata=md).statement,
    }


@pytest.mark.parametrize("aggregate", ["budget", "invoice", "contract", "share_fees", "statement"])
def test_v2_reads_are_the_members_own_or_staffs_and_nobody_elses(svc, h, v2, world, aggregate):
    member, other, *_ = world
    call = _calls(v2, world)[aggregate]
    assert call(member.md)
    assert call(h.ADMIN)
    for who, md in (("another member", other.md), ("another tenant's admin", PARTNER_ADMIN), ("no token", None)):
        with pytest.raises(grpc.RpcError) as refused:
            call(md)
        assert refused.value.code().name in DENIED, who


def test_v2_writes_take_dates_as_google_type_date(svc, h, v2):
    member = h.admit(svc)
    act, cl = h.activity(svc, member), h.client(svc)
    today = cooperative_today()
    answer = v2.CreateInvoice(pb2.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id, lines=[h.line()],
        issue=True, issued_on_date=Date(year=today.year, month=today.month, day=today.day)), metadata=member.md)
    assert answer.invoice.issued_on == today.isoformat() and answer.invoice.number
    paid = v2.RecordPayment(pb2.RecordPaymentRequest(
        invoice_id=answer.invoice.invoice_id, payment_id="BANK-v2", amount_cents=answer.invoice.total_cents,
        paid_on_date=Date(year=today.year, month=today.month, day=today.day)), metadata=h.TELLER)
    assert paid.invoice.payments[0].paid_on == today.isoformat()
    err = details_of(h.code_of(v2.IssueInvoice, pb2.IssueInvoiceRequest(
        invoice_id=answer.invoice.invoice_id, issued_on_date=Date(year=today.year, month=2, day=30)),
        metadata=h.ADMIN))
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT and "issued_on_date" in err.field_violations


def test_amend_contract_changes_only_the_masked_terms(svc, h, v2, world):
    member, _other, act, _invoice, _contract = world
    made = v2.RequestContract(pb2.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms(title="Drummer")), metadata=member.md)
    amended = v2.AmendContract(pb2.AmendContractRequest(
        contract_id=made.contract.contract_id, terms=pb.ContractTerms(gross_cents=150_000),
        update_mask=FieldMask(paths=["gross_cents"])), metadata=member.md).contract
    assert (amended.terms.gross_cents, amended.terms.job_title, amended.revision) == (150_000, "Drummer", 2)
    bad = details_of(h.code_of(v2.AmendContract, pb2.AmendContractRequest(
        contract_id=made.contract.contract_id, terms=pb.ContractTerms(), update_mask=FieldMask(paths=["state"])),
        metadata=member.md))
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and bad.reason == "FIELD_NOT_UPDATABLE"


def test_v2_bad_input_names_the_field_and_a_stable_reason(svc, h, v2, world):
    member, *_ = world
    err = details_of(h.code_of(v2.ListInvoices, pb2.ListInvoicesRequest(member_id=member.member_id, page_token="zz"),
                               metadata=member.md))
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT and err.reason == "INVALID_PAGE_TOKEN"
    assert set(err.field_violations) == {"page_token"}
    err = details_of(h.code_of(v2.CreateActivity, pb2.CreateActivityRequest(
        member_id=member.member_id, name="Gigs", sector_code="music"), metadata=member.md))
    assert (err.reason, set(err.field_violations)) == ("NOT_A_NACE_CODE", {"sector_code"})


def test_health_reports_both_versions_and_v1_answers_from_the_same_servicer(svc, h, world):
    health = health_pb2_grpc.HealthStub(svc.channel)
    for name in ("coop.billing.v2.BillingService", "coop.billing.v1.BillingService"):
        assert health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status == \
            health_pb2.HealthCheckResponse.SERVING
    member, _other, _act, invoice, _contract = world
    assert svc.stub.GetInvoice(pb.GetInvoiceRequest(invoice_id=invoice.invoice_id), metadata=member.md) == invoice
