"""Annual share fees and share_fee.paid, member statements, redistribution envelopes."""

from __future__ import annotations

import uuid
from datetime import date

import grpc
import yaml

from coop.billing.v1 import billing_pb2 as pb
from coop.billing.v1 import events_pb2
from coop_testkit import REPO_ROOT, cooperative_today

YEAR = cooperative_today().year


def test_share_fee_billed_on_admission_and_its_payment_publishes_share_paid(svc, h):
    member = h.admit(svc)
    fees = svc.stub.ListShareFees(pb.ListShareFeesRequest(member_id=member.member_id), metadata=member.md).fees
    assert [(f.year, f.amount_cents, f.state) for f in fees] == [(YEAR, 3000, pb.SHARE_FEE_STATE_BILLED)]
    assert fees[0].number.startswith(f"SH-{YEAR}-")
    before = svc.counts()
    wrong = h.code_of(svc.stub.RecordShareFeePayment, pb.RecordShareFeePaymentRequest(
        member_id=member.member_id, year=YEAR, amount_cents=3001, bank_reference="b-1"), metadata=h.TELLER)
    assert wrong.code() == grpc.StatusCode.FAILED_PRECONDITION and "overpay it by 1" in wrong.details()
    assert svc.counts() == before
    paid = svc.stub.RecordShareFeePayment(pb.RecordShareFeePaymentRequest(
        member_id=member.member_id, year=YEAR, amount_cents=3000, bank_reference=f"bank-{member.member_id}"),
        metadata=h.TELLER)
    assert paid.state == pb.SHARE_FEE_STATE_PAID and paid.paid_cents == 3000
    again = svc.stub.RecordShareFeePayment(pb.RecordShareFeePaymentRequest(
        member_id=member.member_id, year=YEAR, amount_cents=3000, bank_reference=f"bank-{member.member_id}"),
        metadata=h.TELLER)
    assert again.fee_id == paid.fee_id
    events = svc.outbox(subject=member.member_id, name="share_fee.paid")
    assert len(events) == 1  # the repeated payment published nothing
    env = events[0]
    # the exact contract membership's worker consumes (proto3 JSON of coop.billing.v1.SharePaid)
    assert env["data"] == {"memberId": member.member_id, "memberNumber": member.number, "year": YEAR,
                           "amountCents": "3000", "paymentReference": paid.number}
    assert env["type"] == "coop.billing.share_fee.paid.v1" and env["source"] == "/coop/billing"
    assert set(env["data"]) == {f.json_name for f in events_pb2.SharePaid.DESCRIPTOR.fields}
    with svc.engine.connect() as conn:
        from sqlalchemy import text

        routing = conn.execute(text("SELECT exchange, routing_key FROM outbox WHERE event_id = :i"),
                               {"i": env["id"]}).one()
    assert tuple(routing) == ("billing.events", "share_fee.paid")


def test_bill_share_fees_for_all_active_members_is_idempotent(svc, h):
    members = [h.admit(svc) for _ in range(3)]
    h.set_standing(svc, members[2].member_id, False, status="MEMBER_STATUS_RESIGNED")
    first = svc.stub.BillShareFees(pb.BillShareFeesRequest(year=YEAR + 1), metadata=h.ADMIN)
    assert first.billed >= 2
    billed_ids = {r for r in svc.engine.connect().execute(__import__("sqlalchemy").text(
        "SELECT member_id FROM share_fees WHERE year = :y"), {"y": YEAR + 1}).scalars()}
    assert {members[0].member_id, members[1].member_id} <= billed_ids
    assert members[2].member_id not in billed_ids
    second = svc.stub.BillShareFees(pb.BillShareFeesRequest(year=YEAR + 1), metadata=h.ADMIN)
    assert second.billed == 0 and second.already_billed == first.billed + first.already_billed
    assert h.code_of(svc.stub.BillShareFees, pb.BillShareFeesRequest(year=YEAR + 1),
                     metadata=members[0].md).code() == grpc.StatusCode.PERMISSION_DENIED


def test_statement_in_three_languages(svc, h):
    member = h.admit(svc, language="nl", given="Jan", family="Janssens")
    act = h.funded_activity(svc, member, 1_000_000)
    svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id,
        terms=h.terms(start=date(YEAR, 12, 30), end=date(YEAR, 12, 31), days=1)), metadata=member.md) \
        if cooperative_today() < date(YEAR, 12, 30) else None
    st = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=YEAR), metadata=member.md)
    assert st.language == "nl" and "Uw jaaroverzicht" in st.html and "Jan Janssens" in st.html
    assert st.revenue_excl_vat_cents == 1_000_000 and st.revenue_contribution_cents == 65_000
    assert st.share_fee_cents == 3000
    assert st.net_cents == st.revenue_excl_vat_cents - st.total_deductions_cents
    assert st.total_deductions_cents == (st.revenue_contribution_cents + st.employer_social_charges_cents
                                         + st.employment_contribution_cents + st.share_fee_cents)
    if st.contracts_paid:
        assert (st.employer_social_charges_cents, st.employment_contribution_cents) == (54_000, 19_050)
    fr = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=YEAR, language="fr"),
                               metadata=member.md)
    en = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=YEAR, language="en"),
                               metadata=h.ADMIN)
    assert "10\u00a0000,00\u00a0€" in fr.html and "€10,000.00" in en.html and "€10,000.00" in en.text
    other = h.admit(svc)
    assert h.code_of(svc.stub.GetStatement, pb.GetStatementRequest(member_id=member.member_id, year=YEAR),
                     metadata=other.md).code() == grpc.StatusCode.PERMISSION_DENIED


def test_stream_statements_gives_every_member_the_same_statement_as_get_statement(svc, h):
    member = h.admit(svc, language="en", given="Grace", family="Hopper")
    h.funded_activity(svc, member, 400_000)
    h.admit(svc, language="nl")
    stream = list(svc.stub.StreamStatements(pb.StreamStatementsRequest(year=YEAR), metadata=h.ADMIN))
    members = svc.scalar("SELECT count(*) FROM members")
    assert len(stream) == members and {s.stream_total for s in stream} == {members}
    assert [s.member_id for s in stream] == sorted(s.member_id for s in stream)
    for streamed in stream:
        single = svc.stub.GetStatement(pb.GetStatementRequest(member_id=streamed.member_id, year=YEAR),
                                       metadata=h.ADMIN)
        streamed.stream_total = 0
        assert streamed == single
    mine = next(s for s in stream if s.member_id == member.member_id)
    assert mine.language == "en" and "Grace Hopper" in mine.html and mine.revenue_excl_vat_cents == 400_000
    assert mine.revenue_contribution_cents == 26_000
    totals = (sum(s.revenue_excl_vat_cents for s in stream), sum(s.revenue_contribution_cents for s in stream))
    ledger = "SELECT coalesce(sum(CASE WHEN kind = :plus THEN amount_cents ELSE -amount_cents END), 0) " \
             "FROM ledger_entries WHERE kind IN (:plus, :minus) AND EXTRACT(year FROM \"on\") = :y"
    assert totals == (svc.scalar(ledger, plus="invoice", minus="credit_note", y=YEAR),
                      svc.scalar(ledger, plus="revenue_contribution", minus="contribution_reversal", y=YEAR))


def test_stream_statements_resumes_after_a_member_limits_and_translates(svc, h):
    for _ in range(3):
        h.admit(svc)
    every = [s.member_id for s in svc.stub.StreamStatements(pb.StreamStatementsRequest(year=YEAR), metadata=h.ADMIN)]
    first = list(svc.stub.StreamStatements(pb.StreamStatementsRequest(year=YEAR, limit=2, language="nl"),
                                           metadata=h.ADMIN))
    assert [s.member_id for s in first] == every[:2] and {s.stream_total for s in first} == {2}
    assert all(s.language == "nl" and "Uw jaaroverzicht" in s.html for s in first)
    rest = list(svc.stub.StreamStatements(pb.StreamStatementsRequest(year=YEAR, page_token=first[-1].member_id),
                                          metadata=h.ADMIN))
    assert [s.member_id for s in rest] == every[2:] and {s.stream_total for s in rest} == {len(every) - 2}
    with_pdf = list(svc.stub.StreamStatements(pb.StreamStatementsRequest(year=YEAR, limit=1, include_pdf=True),
                                              metadata=h.ADMIN))
    assert with_pdf[0].pdf.startswith(b"%PDF")


def test_stream_statements_is_for_admins_and_refuses_bad_requests(svc, h):
    member = h.admit(svc)

    def code(request, md=h.ADMIN):
        try:
            list(svc.stub.StreamStatements(request, metadata=md))
        except grpc.RpcError as err:
            return err.code()
        return grpc.StatusCode.OK

    assert code(pb.StreamStatementsRequest(year=YEAR), member.md) == grpc.StatusCode.PERMISSION_DENIED
    assert code(pb.StreamStatementsRequest(year=YEAR), []) == grpc.StatusCode.UNAUTHENTICATED
    assert code(pb.StreamStatementsRequest(year=1999)) == grpc.StatusCode.INVALID_ARGUMENT
    assert code(pb.StreamStatementsRequest(year=YEAR, language="de")) == grpc.StatusCode.INVALID_ARGUMENT
    assert code(pb.StreamStatementsRequest(year=YEAR, page_token="not-a-member")) == grpc.StatusCode.INVALID_ARGUMENT
    assert code(pb.StreamStatementsRequest(year=YEAR, limit=-1)) == grpc.StatusCode.INVALID_ARGUMENT


def _scenarios() -> list[pb.ScenarioSpec]:
    return [
        pb.ScenarioSpec(name="pro rata", parts=[pb.KeyPart(kind="pro_rata_revenue")]),
        pb.ScenarioSpec(name="equal", parts=[pb.KeyPart(kind="equal")]),
        pb.ScenarioSpec(name="sector", parts=[pb.KeyPart(kind="sector_revenue", sector_weights={"90": "2"})]),
        pb.ScenarioSpec(name="mix capped", floor_cents=100, cap_cents=400_000_000, parts=[
            pb.KeyPart(kind="pro_rata_revenue", share=5000), pb.KeyPart(kind="equal", share=5000)]),
    ]


def test_simulate_several_keys_side_by_side_and_adopt_one(svc, h):
    today = cooperative_today().isoformat()
    for price in (1_000_001, 2_000_003, 333_337):
        member = h.admit(svc)
        h.funded_activity(svc, member, price)
    envelope = pb.EnvelopeSpec(amount_cents=1_000_000_001, retained_bp=4000, reference_start=today,
                               reference_end=today)
    sim = svc.stub.SimulateRedistribution(pb.SimulateRedistributionRequest(
        envelope=envelope, scenarios=_scenarios()), metadata=h.BOARD)
    assert sim.retained_cents + sim.distributable_cents == 1_000_000_001
    assert [r.name for r in sim.results] == ["pro rata", "equal", "sector", "mix capped"]
    for r in sim.results:
        assert r.total_distributed_cents == sim.distributable_cents  # exact to the cent
        assert r.eligible >= 3 and r.min_cents <= r.median_cents <= r.max_cents
    assert sim.results[1].gini < 0.01 < sim.results[0].gini
    envelope_id = str(uuid.uuid4())
    adopted = svc.stub.AdoptRedistribution(pb.AdoptRedistributionRequest(
        envelope_id=envelope_id, name="2026 surplus", envelope=envelope, scenario=_scenarios()[3]),
        metadata=h.BOARD)
    assert adopted.result.total_distributed_cents == sim.distributable_cents
    payouts, token = [], ""
    while True:
        page = svc.stub.ListPayouts(pb.ListPayoutsRequest(envelope_id=envelope_id, page_size=2, page_token=token),
                                    metadata=h.BOARD)
        payouts += page.payouts
        token = page.next_page_token
        if not token:
            break
    assert len(payouts) == adopted.payout_lines and sum(p.amount_cents for p in payouts) == sim.distributable_cents
    events = svc.outbox(name="distribution.payout")
    assert sorted((e["data"]["memberId"], int(e["data"]["amountCents"])) for e in events
                  if e["data"]["envelopeId"] == envelope_id) == sorted((p.member_id, p.amount_cents) for p in payouts)
    before = svc.counts()
    assert h.code_of(svc.stub.AdoptRedistribution, pb.AdoptRedistributionRequest(
        envelope_id=envelope_id, name="again", envelope=envelope, scenario=_scenarios()[0]),
        metadata=h.BOARD).code() == grpc.StatusCode.ALREADY_EXISTS
    assert svc.counts() == before
    assert h.code_of(svc.stub.SimulateRedistribution, pb.SimulateRedistributionRequest(
        envelope=envelope, scenarios=_scenarios()), metadata=member.md).code() == grpc.StatusCode.PERMISSION_DENIED


def test_asyncapi_documents_every_published_contract_field():
    doc = yaml.safe_load((REPO_ROOT / "docs" / "asyncapi-billing.yaml").read_text())
    assert {"contract.created", "contract.amended", "contract.cancelled", "contract.activated",
            "contract.payroll_recorded", "contract.completed", "share_fee.paid"} <= set(doc["channels"])
    schemas = doc["components"]["schemas"]
    for message, schema in ((pb.Contract, "Contract"), (pb.ContractTerms, "ContractTerms"),
                            (events_pb2.Employee, "Employee"), (pb.PayrollRun, "PayrollRun")):
        assert {f.json_name for f in message.DESCRIPTOR.fields} == set(schemas[schema]["properties"]), schema
    share = doc["components"]["messages"]["SharePaid"]["payload"]["allOf"][1]["properties"]["data"]
    assert {f.json_name for f in events_pb2.SharePaid.DESCRIPTOR.fields} == set(share["properties"])
