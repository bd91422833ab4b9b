"""Budgets, statements and redistribution count what clients paid: an invoice to a client who
never pays inflates nothing. Statements show the contribution rates actually applied."""

from __future__ import annotations

import grpc
from sqlalchemy import text

from coop.billing.v1 import billing_pb2 as pb
from coop_testkit import cooperative_today

TODAY = cooperative_today()


def _eligible(svc, h) -> int:
    envelope = pb.EnvelopeSpec(amount_cents=1_000_000, retained_bp=4000, reference_start=TODAY.isoformat(),
                               reference_end=TODAY.isoformat())
    sim = svc.stub.SimulateRedistribution(pb.SimulateRedistributionRequest(envelope=envelope, scenarios=[
        pb.ScenarioSpec(name="pro rata", parts=[pb.KeyPart(kind="pro_rata_revenue")])]), metadata=h.BOARD)
    assert sim.revenue_basis == "paid"  # the rule the keys used is in the output
    return sim.results[0].eligible


def test_an_invoice_to_a_client_who_never_pays_funds_no_contract_and_no_payout(svc, h):
    h.funded_activity(svc, h.admit(svc), 100_000)  # someone paid today: the envelope has a beneficiary
    member = h.admit(svc)
    act = h.activity(svc, member)
    own = svc.stub.CreateClient(pb.CreateClientRequest(  # a client the member made up
        name="Friend & Co", country="BE", address="Rue 1, 1000 Bruxelles"), metadata=member.md).client
    eligible = _eligible(svc, h)
    invoice = h.issued_invoice(svc, member, act, own, h.line(price=10_000_000, vat="0"))
    assert invoice.contribution_cents == 650_000  # fixed at issue, shown on the invoice
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    assert (budget.balance_cents, budget.available_cents) == (0, 0)
    err = h.code_of(svc.stub.RequestContract, pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()), metadata=member.md)
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "273050 cents missing" in err.details()
    assert _eligible(svc, h) == eligible
    statement = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=TODAY.year),
                                      metadata=member.md)
    assert (statement.revenue_excl_vat_cents, statement.revenue_contribution_cents) == (0, 0)
    # the client pays: now the money is there
    h.pay(svc, invoice)
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    assert budget.balance_cents == 10_000_000 - 650_000
    assert svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()),
        metadata=member.md).state == pb.CONTRACT_STATE_RESERVED
    assert _eligible(svc, h) == eligible + 1
    statement = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=TODAY.year),
                                      metadata=member.md)
    assert (statement.revenue_excl_vat_cents, statement.revenue_contribution_cents) == (10_000_000, 650_000)


def test_the_statement_shows_the_rates_applied_in_the_year_not_the_rate_of_the_day(svc, h):
    member = h.admit(svc, language="en")
    act = h.activity(svc, member)
    h.paid_invoice(svc, member, act, h.client(svc), h.line(price=100_000, vat="0"))  # taken at 6.5 %
    svc.stub.SetRate(pb.SetRateRequest(kind="revenue", effective_from=TODAY.isoformat(), basis_points=800),
                     metadata=h.ADMIN)
    try:
        statement = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=TODAY.year),
                                          metadata=member.md)
        assert list(statement.revenue_contribution_rates_bp) == [650]
        assert "on revenue (6.5%)" in statement.text and "8%" not in statement.text
        assert list(statement.employment_contribution_rates_bp) == []  # no salary paid: no rate applied
        later = h.paid_invoice(svc, member, act, h.client(svc), h.line(price=100_000, vat="0"))
        assert later.contribution_rate_bp == 800
        statement = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=TODAY.year),
                                          metadata=member.md)
        assert list(statement.revenue_contribution_rates_bp) == [650, 800]
        assert "on revenue (6.5% / 8%)" in statement.text
        assert statement.revenue_contribution_cents == 6_500 + 8_000
    finally:
        with svc.engine.begin() as conn:
            conn.execute(text("DELETE FROM rates"))
