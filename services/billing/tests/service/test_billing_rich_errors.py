"""Refusals reach a client as rich status (coop_platform.rich_status): the stable reason, the
structured values (shortfall_cents) as ErrorInfo metadata, the request field as a BadRequest
violation, and a retry delay for a transient refusal."""

from __future__ import annotations

import uuid
from datetime import date

import grpc

from coop.billing.v1 import billing_pb2 as pb
from coop_platform.rich_status import details_of
from coop_testkit import cooperative_today


def test_a_budget_too_small_for_a_contract_says_the_shortfall_in_cents(svc, h):
    member = h.admit(svc)
    act = h.funded_activity(svc, member, 1_000_000)
    err = h.code_of(svc.stub.RequestContract, pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms(gross=5_000_000)),
        metadata=member.md)
    found = details_of(err)
    assert found.code == grpc.StatusCode.FAILED_PRECONDITION
    assert found.reason == "BUDGET_TOO_SMALL"
    missing = int(found.metadata["shortfall_cents"])
    assert missing > 0 and f"{missing} cents missing" in found.message
    assert int(found.metadata["cost_cents"]) - int(found.metadata["available_cents"]) == missing


def test_bad_contract_terms_name_the_request_field(svc, h):
    member = h.admit(svc)
    act = h.funded_activity(svc, member, 1_000_000)
    err = h.code_of(svc.stub.RequestContract, pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id,
        terms=h.terms(start=date(2031, 3, 31), end=date(2031, 3, 1))), metadata=member.md)
    found = details_of(err)
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(found.field_violations) == {"terms.end_date"}
    assert found.field_violations["terms.end_date"] == "contract ends before it starts"


def test_a_bad_vat_number_names_the_field(svc, h):
    err = h.code_of(svc.stub.CreateClient, pb.CreateClientRequest(
        name="X", country="BE", address="Rue 1", vat_number="BE0000000000"), metadata=h.ADMIN)
    found = details_of(err)
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT and "vat_number" in found.field_violations


def test_a_share_fee_payment_for_a_member_not_yet_known_asks_to_retry(svc, h):
    """A member admitted a moment ago whose member.admitted event has not reached billing yet:
    the payment is refused as transient (UNAVAILABLE with RetryInfo), not FAILED_PRECONDITION."""
    member_id = str(uuid.uuid4())
    before = svc.counts()
    err = h.code_of(svc.stub.RecordShareFeePayment, pb.RecordShareFeePaymentRequest(
        member_id=member_id, year=cooperative_today().year, amount_cents=3_000, bank_reference="BANK-early"),
        metadata=h.TELLER)
    found = details_of(err)
    assert found.code == grpc.StatusCode.UNAVAILABLE
    assert found.reason == "MEMBER_NOT_YET_KNOWN"
    assert found.metadata["member_id"] == member_id
    assert found.retry_after_seconds is not None and found.retry_after_seconds > 0
    assert svc.counts() == before


def test_a_bad_invoice_line_names_its_place_in_the_request_and_a_stable_reason(svc, h):
    member = h.admit(svc)
    act, cl = h.activity(svc, member), h.client(svc)
    err = h.code_of(svc.stub.CreateInvoice, pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id,
        lines=[h.line(), h.line(vat="99")]), metadata=member.md)
    found = details_of(err)
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT and found.reason == "UNKNOWN_VAT_RATE"
    assert set(found.field_violations) == {"lines[1].vat_rate"}
