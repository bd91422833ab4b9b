"""Payroll runs and completion over gRPC: activation, budget debit within the reservation,
idempotency per (contract, reference), release on completion, events, statement figures."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import grpc
import pytest

from coop.billing.v1 import billing_pb2 as pb
from coop_testkit import cooperative_today

# h.terms(): gross 200,000 from 2031-03-01 to 2031-03-31 -> social 54,000, employment 19,050
COST = 273_050
# a run of 100,000 gross: social 27,000, employment contribution 9,525
RUN_100K = 136_525
START, END = date(2031, 3, 1), date(2031, 3, 31)


def _contract(svc, h, member=None, net=1_000_000):
    member = member or h.admit(svc)
    act = h.funded_activity(svc, member, net)  # budget 935,000 after the 6.5 % contribution
    c = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()), metadata=member.md)
    return member, act, c


def _pay(svc, h, contract_id, gross, reference, paid_on=None, who=None):
    return svc.stub.RecordPayroll(pb.RecordPayrollRequest(
        contract_id=contract_id, payroll_reference=reference, gross_cents=gross,
        paid_on=paid_on.isoformat() if paid_on else ""), metadata=who or h.PAYROLL)


def _budget(svc, h, act):
    return svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id, page_size=500), metadata=h.ADMIN)


def test_payroll_activates_debits_the_budget_and_consumes_the_reservation(svc, h, travel):
    member, act, c = _contract(svc, h)
    travel(date(2031, 2, 28))
    before = svc.counts()
    early = h.code_of(_pay, svc, h, c.contract_id, 100_000, "PR-2031-03")
    assert early.code() == grpc.StatusCode.FAILED_PRECONDITION and "starts on 2031-03-01" in early.details()
    assert svc.counts() == before

    travel(END)
    paid = _pay(svc, h, c.contract_id, 100_000, "PR-2031-03", END)
    assert not paid.already_recorded
    assert paid.contract.state == pb.CONTRACT_STATE_ACTIVE
    assert (paid.contract.gross_paid_cents, paid.contract.spent_cents, paid.contract.reserved_cents) == (
        100_000, RUN_100K, COST - RUN_100K)
    cost = paid.run.cost
    assert (cost.gross_cents, cost.social_charges_cents, cost.employer_cost_cents,
            cost.employment_contribution_cents, cost.total_cents) == (100_000, 27_000, 127_000, 9_525, RUN_100K)
    assert (paid.run.payroll_reference, paid.run.paid_on, paid.run.contract_id) == (
        "PR-2031-03", "2031-03-31", c.contract_id)
    budget = _budget(svc, h, act)
    assert budget.balance_cents == 935_000 - RUN_100K and budget.reserved_cents == COST - RUN_100K
    assert budget.available_cents == 935_000 - COST  # spent from the reservation, not from what was free
    entry = budget.entries[-1]
    assert (entry.kind, entry.amount_cents, entry.balance_delta_cents, entry.reserved_delta_cents,
            entry.reference, entry.contract_id, entry.on) == (
        "payroll", RUN_100K, -RUN_100K, -RUN_100K, "PR-2031-03", c.contract_id, "2031-03-31")
    assert svc.stub.GetContract(pb.GetContractRequest(contract_id=c.contract_id),
                                metadata=member.md).spent_cents == RUN_100K

    # the same run again: nothing changes, nothing is published
    before = svc.counts()
    again = _pay(svc, h, c.contract_id, 100_000, "PR-2031-03", END)
    assert again.already_recorded and again.run == paid.run and again.contract.spent_cents == RUN_100K
    assert _pay(svc, h, c.contract_id, 100_000, "PR-2031-03").already_recorded  # a retry without the date
    conflict = h.code_of(_pay, svc, h, c.contract_id, 90_000, "PR-2031-03", END)
    assert conflict.code() == grpc.StatusCode.ALREADY_EXISTS
    # beyond the reservation: 100,001 of gross would cost 1 cent more than what is left
    over = h.code_of(_pay, svc, h, c.contract_id, 100_001, "PR-2031-04", END)
    assert over.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "beyond its reservation" in over.details() and f"only {COST - RUN_100K} cents remain" in over.details()
    assert svc.counts() == before

    events = svc.outbox(subject=c.contract_id)
    assert [e["type"] for e in events] == ["coop.billing.contract.created.v1", "coop.billing.contract.activated.v1",
                                           "coop.billing.contract.payroll_recorded.v1"]
    activated, recorded = events[1]["data"], events[2]["data"]
    assert activated["activatedOn"] == "2031-03-31" and activated["contract"]["state"] == "CONTRACT_STATE_ACTIVE"
    assert recorded["employee"]["memberNumber"] == member.number
    assert recorded["run"]["payrollReference"] == "PR-2031-03" and recorded["run"]["paidOn"] == "2031-03-31"
    assert recorded["run"]["cost"]["totalCents"] == str(RUN_100K)
    assert recorded["contract"]["spentCents"] == str(RUN_100K)
    assert recorded["contract"]["reservedCents"] == str(COST - RUN_100K)

    # the rest, after the end date; then completion releases nothing and publishes contract.completed
    travel(date(2031, 4, 5))
    rest = _pay(svc, h, c.contract_id, 100_000, "PR-2031-04", date(2031, 4, 5))
    assert rest.contract.reserved_cents == 0 and rest.contract.spent_cents == COST
    assert rest.run.cost.total_cents == COST - RUN_100K  # runs add up exactly to the reservation
    done = svc.stub.CompleteContract(pb.CompleteContractRequest(contract_id=c.contract_id), metadata=h.PAYROLL)
    assert done.state == pb.CONTRACT_STATE_COMPLETED and done.reserved_cents == 0
    budget = _budget(svc, h, act)
    assert (budget.balance_cents, budget.reserved_cents) == (935_000 - COST, 0)
    completed = svc.outbox(subject=c.contract_id, name="contract.completed")
    assert len(completed) == 1 and completed[0]["data"]["releasedCents"] == "0"
    late = h.code_of(_pay, svc, h, c.contract_id, 1, "PR-2031-05")
    assert late.code() == grpc.StatusCode.FAILED_PRECONDITION and "completed" in late.details()
    assert _pay(svc, h, c.contract_id, 100_000, "PR-2031-04").already_recorded  # retries stay harmless


def test_completion_releases_the_rest_and_waits_for_the_end_date(svc, h, travel):
    member, act, c = _contract(svc, h)
    travel(date(2031, 3, 10))
    _pay(svc, h, c.contract_id, 100_000, "PR-1", date(2031, 3, 10))
    before = svc.counts()
    early = h.code_of(svc.stub.CompleteContract, pb.CompleteContractRequest(contract_id=c.contract_id),
                      metadata=h.ADMIN)
    assert early.code() == grpc.StatusCode.FAILED_PRECONDITION and "ends on 2031-03-31" in early.details()
    assert svc.counts() == before
    travel(END)
    done = svc.stub.CompleteContract(pb.CompleteContractRequest(contract_id=c.contract_id), metadata=h.ADMIN)
    assert done.state == pb.CONTRACT_STATE_COMPLETED and done.reserved_cents == 0 and done.spent_cents == RUN_100K
    budget = _budget(svc, h, act)
    assert budget.reserved_cents == 0 and budget.available_cents == 935_000 - RUN_100K
    assert budget.entries[-1].kind == "release" and budget.entries[-1].amount_cents == COST - RUN_100K
    event = svc.outbox(subject=c.contract_id, name="contract.completed")[0]["data"]
    assert event["releasedCents"] == str(COST - RUN_100K) and event["contract"]["state"] == "CONTRACT_STATE_COMPLETED"
    before = svc.counts()
    assert h.code_of(svc.stub.CompleteContract, pb.CompleteContractRequest(contract_id=c.contract_id),
                     metadata=h.ADMIN).code() == grpc.StatusCode.FAILED_PRECONDITION
    assert svc.counts() == before


def test_a_contract_never_paid_is_activated_and_completed_giving_its_whole_reservation_back(svc, h, travel):
    member, act, c = _contract(svc, h)
    travel(date(2031, 4, 1))
    done = svc.stub.CompleteContract(pb.CompleteContractRequest(contract_id=c.contract_id), metadata=h.ADMIN)
    assert done.state == pb.CONTRACT_STATE_COMPLETED and done.spent_cents == 0
    assert _budget(svc, h, act).available_cents == 935_000
    assert [e["type"].split(".")[3] for e in svc.outbox(subject=c.contract_id)] == [
        "created", "activated", "completed"]
    assert svc.outbox(subject=c.contract_id, name="contract.completed")[0]["data"]["releasedCents"] == str(COST)


def test_payroll_and_completion_are_for_admin_and_the_payroll_service(svc, h, travel):
    member, _act, c = _contract(svc, h)
    travel(END)
    for who in (member.md, h.TELLER, h.BOARD):
        assert h.code_of(_pay, svc, h, c.contract_id, 1_000, "PR-x", END, who=who).code() == \
            grpc.StatusCode.PERMISSION_DENIED
        assert h.code_of(svc.stub.CompleteContract, pb.CompleteContractRequest(contract_id=c.contract_id),
                         metadata=who).code() == grpc.StatusCode.PERMISSION_DENIED
    assert _pay(svc, h, c.contract_id, 1_000, "PR-x", END, who=h.ADMIN).contract.gross_paid_cents == 1_000


@pytest.mark.parametrize(("field", "value", "code"), [
    ("contract_id", "not-a-uuid", grpc.StatusCode.INVALID_ARGUMENT),
    ("contract_id", str(uuid.uuid4()), grpc.StatusCode.NOT_FOUND),
    ("gross_cents", 0, grpc.StatusCode.INVALID_ARGUMENT),
    ("gross_cents", -100, grpc.StatusCode.INVALID_ARGUMENT),
    ("gross_cents", 10**13 + 1, grpc.StatusCode.INVALID_ARGUMENT),
    ("payroll_reference", " ", grpc.StatusCode.INVALID_ARGUMENT),
    ("payroll_reference", "x" * 65, grpc.StatusCode.INVALID_ARGUMENT),
    ("payroll_reference", "a\x00b", grpc.StatusCode.INVALID_ARGUMENT),
    ("paid_on", "2031-02-30", grpc.StatusCode.INVALID_ARGUMENT),
    ("paid_on", "2031-04-01", grpc.StatusCode.INVALID_ARGUMENT),  # after "today": in the future
    ("paid_on", "2031-02-28", grpc.StatusCode.FAILED_PRECONDITION),  # before the start
])
def test_bad_payroll_input_is_refused_with_the_right_code_and_writes_nothing(svc, h, travel, field, value, code):
    _member, _act, c = _contract(svc, h)
    travel(END)
    request = pb.RecordPayrollRequest(contract_id=c.contract_id, payroll_reference="PR-1", gross_cents=1_000,
                                      paid_on="2031-03-15")
    setattr(request, field, value)
    before = svc.counts()
    err = h.code_of(svc.stub.RecordPayroll, request, metadata=h.PAYROLL)
    assert err.code() == code, err.details()
    assert svc.counts() == before


def test_no_payroll_or_completion_on_a_cancelled_contract(svc, h, travel):
    member, _act, c = _contract(svc, h)
    svc.stub.CancelContract(pb.CancelContractRequest(contract_id=c.contract_id, reason="gig off"), metadata=member.md)
    travel(date(2031, 4, 1))
    before = svc.counts()
    assert h.code_of(_pay, svc, h, c.contract_id, 1_000, "PR-1", END).code() == grpc.StatusCode.FAILED_PRECONDITION
    assert h.code_of(svc.stub.CompleteContract, pb.CompleteContractRequest(contract_id=c.contract_id),
                     metadata=h.ADMIN).code() == grpc.StatusCode.FAILED_PRECONDITION
    assert h.code_of(svc.stub.CompleteContract, pb.CompleteContractRequest(contract_id="x"),
                     metadata=h.ADMIN).code() == grpc.StatusCode.INVALID_ARGUMENT
    assert h.code_of(svc.stub.CompleteContract, pb.CompleteContractRequest(contract_id=str(uuid.uuid4())),
                     metadata=h.ADMIN).code() == grpc.StatusCode.NOT_FOUND
    assert svc.counts() == before


def test_parallel_runs_never_spend_beyond_the_reservation_and_a_repeated_run_counts_once(svc, h, travel):
    _member, act, c = _contract(svc, h)
    travel(END)
    results: list[object] = []
    barrier = threading.Barrier(12)

    def pay(reference: str) -> None:
        barrier.wait()
        try:
            results.append(_pay(svc, h, c.contract_id, 50_000, reference, END))
        except grpc.RpcError as exc:
            results.append(exc)

    # 8 distinct runs of 50,000 gross on a 200,000 contract (room for 4) + the first one 4 more times
    references = [f"R{i}" for i in range(8)] + ["R0"] * 4
    threads = [threading.Thread(target=pay, args=(r,)) for r in references]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if isinstance(r, pb.RecordPayrollResponse) and not r.already_recorded]
    refused = [r for r in results if isinstance(r, grpc.RpcError)]
    assert len(ok) == 4, [r.details() for r in refused]
    assert all(r.code() == grpc.StatusCode.FAILED_PRECONDITION for r in refused)
    budget = _budget(svc, h, act)
    assert budget.reserved_cents == 0 and budget.balance_cents == 935_000 - COST
    assert sum(e.amount_cents for e in budget.entries if e.kind == "payroll") == COST
    assert len(svc.outbox(subject=c.contract_id, name="contract.payroll_recorded")) == 4
    assert len(svc.outbox(subject=c.contract_id, name="contract.activated")) == 1


def test_one_payroll_run_may_pay_two_contracts_and_the_statement_shows_what_was_paid(svc, h, travel):
    member = h.admit(svc, language="en")
    act = h.funded_activity(svc, member, 1_000_000)
    first, second = (svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms(gross=100_000)),
        metadata=member.md) for _ in range(2))
    this_year = cooperative_today().year
    st = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=this_year),
                               metadata=member.md)
    assert (st.contracts_paid, st.gross_salaries_cents, st.employer_social_charges_cents) == (0, 0, 0)  # reserved only
    assert st.budget_out_cents == 65_000  # the revenue contribution; a reservation is not spent
    travel(END)
    _pay(svc, h, first.contract_id, 100_000, "RUN-2031-03", END)
    _pay(svc, h, second.contract_id, 40_000, "RUN-2031-03", END)
    st = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=2031), metadata=member.md)
    # 140,000 gross: social 27 % = 37,800; employment 7.5 % of 177,800 = 13,335
    assert (st.contracts_paid, st.gross_salaries_cents) == (2, 140_000)
    assert (st.employer_social_charges_cents, st.employment_contribution_cents) == (37_800, 13_335)
    assert st.budget_out_cents == 140_000 + 37_800 + 13_335
    assert st.revenue_excl_vat_cents == 0  # the invoice was issued in another year
    assert "Employment contracts paid: 2" in st.text
