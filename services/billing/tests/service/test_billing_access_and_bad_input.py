"""Access checks, pagination, and property-based bad input: never UNKNOWN/INTERNAL, nothing written."""

from __future__ import annotations

import uuid
from datetime import timedelta

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from coop.billing.v1 import billing_pb2 as pb
from coop_testkit import cooperative_today

METHODS = pb.DESCRIPTOR.services_by_name["BillingService"].methods


def test_a_member_sees_only_their_own_records(svc, h):
    alice, bob = h.admit(svc), h.admit(svc)
    act = h.funded_activity(svc, alice, 500_000)
    invoice = svc.stub.ListInvoices(pb.ListInvoicesRequest(member_id=alice.member_id), metadata=alice.md).invoices[0]
    denied = [
        (svc.stub.ListInvoices, pb.ListInvoicesRequest(member_id=alice.member_id)),
        (svc.stub.GetInvoice, pb.GetInvoiceRequest(invoice_id=invoice.invoice_id)),
        (svc.stub.GetBudget, pb.GetBudgetRequest(activity_id=act.activity_id)),
        (svc.stub.ListActivities, pb.ListActivitiesRequest(member_id=alice.member_id)),
        (svc.stub.ListContracts, pb.ListContractsRequest(member_id=alice.member_id)),
        (svc.stub.ListShareFees, pb.ListShareFeesRequest(member_id=alice.member_id)),
        (svc.stub.CancelInvoice, pb.CancelInvoiceRequest(invoice_id=invoice.invoice_id, reason="x")),
        (svc.stub.RequestContract, pb.RequestContractRequest(member_id=alice.member_id,
                                                             activity_id=act.activity_id, terms=h.terms())),
        (svc.stub.CreateActivity, pb.CreateActivityRequest(member_id=alice.member_id, name="x", sector_code="90")),
        (svc.stub.SetRate, pb.SetRateRequest(kind="revenue", effective_from="2030-01-01", basis_points=1)),
        (svc.stub.RecordPayroll, pb.RecordPayrollRequest(contract_id=str(uuid.uuid4()), payroll_reference="p",
                                                         gross_cents=1)),
        (svc.stub.CompleteContract, pb.CompleteContractRequest(contract_id=str(uuid.uuid4()))),
    ]
    for rpc, request in denied:
        assert h.code_of(rpc, request, metadata=bob.md).code() == grpc.StatusCode.PERMISSION_DENIED, rpc
    assert h.code_of(svc.stub.ListInvoices, pb.ListInvoicesRequest(member_id=alice.member_id)
                     ).code() == grpc.StatusCode.UNAUTHENTICATED
    assert svc.stub.GetInvoice(pb.GetInvoiceRequest(invoice_id=invoice.invoice_id), metadata=h.BOARD).number


def test_lists_are_paginated(svc, h):
    member = h.admit(svc)
    act = h.activity(svc, member)
    cl = h.client(svc)
    created = [d.invoice_id for d in h.drafts(svc, member, act, cl, 7, first_price=100)]
    seen, token = [], ""
    for _ in range(10):
        page = svc.stub.ListInvoices(pb.ListInvoicesRequest(member_id=member.member_id, page_size=3,
                                                            page_token=token), metadata=member.md)
        assert len(page.invoices) <= 3
        seen += [i.invoice_id for i in page.invoices]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(created) and len(seen) == 7
    h.paid_invoice(svc, member, act, cl)
    entries, token = [], ""
    while True:
        budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id, page_size=1, page_token=token),
                                    metadata=member.md)
        entries += budget.entries
        token = budget.next_page_token
        if not token:
            break
    assert [e.kind for e in entries] == ["invoice", "revenue_contribution"]
    assert sum(e.balance_delta_cents for e in entries) == budget.balance_cents
    assert h.code_of(svc.stub.ListInvoices, pb.ListInvoicesRequest(member_id=member.member_id, page_token="zz"),
                     metadata=member.md).code() == grpc.StatusCode.INVALID_ARGUMENT


# ----------------------------------------------------------------------------- property based

@pytest.fixture(scope="module")
def world(svc, h):
    member = h.admit(svc)
    act = h.funded_activity(svc, member, 2_000_000)
    cl = h.client(svc)
    draft = svc.stub.CreateInvoice(pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id, lines=[h.line()]),
        metadata=member.md)
    issued = h.issued_invoice(svc, member, act, cl)
    contract = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()), metadata=member.md)
    # a contract that has started and ended (back-dated), so RecordPayroll and CompleteContract
    # also meet one they may act on
    started = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms(gross=50_000)), metadata=member.md)
    with svc.engine.begin() as conn:
        conn.execute(text("UPDATE contracts SET start_date = :s, end_date = :e WHERE contract_id = :c"),
                     {"s": cooperative_today() - timedelta(days=30), "e": cooperative_today() - timedelta(days=1),
                      "c": started.contract_id})
    return [member.member_id, act.activity_id, cl.client_id, draft.invoice_id, issued.invoice_id,
            contract.contract_id, started.contract_id, str(uuid.uuid4())]


TRICKY = ["", " ", "0", "-1", "1e400", "NaN", "Infinity", "1.0001", "2026-02-30", "2026-13-01", "9999-12-31",
          cooperative_today().isoformat(), "2031-03-01", "21", "reverse_charge", "revenue", "BE0403170701",
          "BE0403170702", "NL004495445B01", "90.01", "304", "124.01", "fr", "xx", "pro_rata_revenue",
          "sector_head", "a\x00b", "é" * 600, "'; DROP TABLE invoices; --", "zz"]


def _value(field, ids, depth):
    if field.type == F.TYPE_STRING:
        return st.one_of(st.sampled_from(TRICKY + ids), st.text(max_size=20))
    if field.type in (F.TYPE_INT32, F.TYPE_SINT32):
        return st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, 1, -1, 2026, 2031, 3000, 10_000]))
    if field.type in (F.TYPE_INT64, F.TYPE_SINT64):
        return st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, 1, -1, 3000, 10**13, 10**13 + 1]))
    if field.type == F.TYPE_BOOL:
        return st.booleans()
    if field.type == F.TYPE_DOUBLE:
        return st.floats(allow_nan=False)
    if field.type == F.TYPE_ENUM:
        return st.integers(0, 6)
    if field.type == F.TYPE_MESSAGE:
        if field.message_type.GetOptions().map_entry:
            return st.dictionaries(st.sampled_from(["90", "9", "x", "90.01", ""]),
                                   st.sampled_from(["2", "-1", "0.00001", "abc", "1e9", ""]), max_size=3)
        if field.message_type.full_name.startswith("google.protobuf") or depth > 2:
            return st.none()
        return _message(field.message_type, ids, depth + 1)
    return st.none()


def _message(descriptor, ids, depth=0):
    fields = {}
    for field in descriptor.fields:
        strategy = _value(field, ids, depth)
        if field.is_repeated and not (field.message_type and field.message_type.GetOptions().map_entry):
            strategy = st.lists(strategy, max_size=3)
        fields[field.name] = st.one_of(st.none(), strategy)

    @st.composite
    def build(draw):
        cls = _class(descriptor)
        msg = cls()
        for name, strategy in fields.items():
            value = draw(strategy)
            if value is None or value == []:
                continue
            field = descriptor.fields_by_name[name]
            if field.type == F.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
                getattr(msg, name).update(value)
            elif field.is_repeated:
                if field.type == F.TYPE_MESSAGE:
                    getattr(msg, name).extend(value)
                else:
                    getattr(msg, name).extend(value)
            elif field.type == F.TYPE_MESSAGE:
                getattr(msg, name).CopyFrom(value)
            else:
                setattr(msg, name, value)
        return msg

    return build()


def _class(descriptor):
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(descriptor)


@pytest.mark.parametrize("method", [m.name for m in METHODS])
def test_bad_input_is_refused_cleanly_and_writes_nothing(svc, h, world, method):
    descriptor = METHODS[[m.name for m in METHODS].index(method)]
    rpc = getattr(svc.stub, method)
    callers = [h.ADMIN, h.TELLER, h.BOARD, h.PAYROLL]

    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
    @given(request=_message(descriptor.input_type, world), who=st.sampled_from(callers))
    def check(request, who):
        before = svc.counts()
        try:
            answer = rpc(request, metadata=who, timeout=30)
            if descriptor.server_streaming:  # a stream's errors arrive while it is read
                list(answer)
        except grpc.RpcError as err:
            assert err.code() not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL), (request, err.details())
            assert svc.counts() == before, (method, request, err.details())

    check()


def _empty_call(svc, method, metadata):
    """Call `method` with an empty request; the status code it ends with (OK when it succeeds)."""
    request = getattr(pb, method.input_type.name)()
    try:
        reply = getattr(svc.stub, method.name)(request, metadata=metadata, timeout=30)
        if method.server_streaming:
            list(reply)
        return grpc.StatusCode.OK
    except grpc.RpcError as exc:
        return exc.code()


@pytest.mark.parametrize("method", list(METHODS), ids=lambda m: m.name)
def test_another_tenants_admin_is_refused_on_every_rpc_and_nothing_is_written(svc, h, method):
    """Billing serves the cooperative (tenant "coop") only: a partner cooperative's valid admin
    token used to act as the cooperative's own admin."""
    from coop_testkit import bearer

    before = svc.counts()
    partner_admin = bearer("partner-admin", "admin", "partner", tenant="partner-a")
    assert _empty_call(svc, method, partner_admin) == grpc.StatusCode.PERMISSION_DENIED
    assert svc.counts() == before


@pytest.mark.parametrize("kind", ["no-tenant", "another-audience", "lifetime-over-maximum", "forged-with-another-key"])
def test_a_token_failing_any_check_is_unauthenticated_on_every_rpc(svc, kind):
    from coop_testkit import bad_tokens

    metadata = bad_tokens()[kind]
    for method in METHODS:
        assert _empty_call(svc, method, metadata) == grpc.StatusCode.UNAUTHENTICATED, method.name
