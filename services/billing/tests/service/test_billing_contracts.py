"""Employment contracts: reservation under a lock on the activity, amend/cancel, payroll events."""

from __future__ import annotations

import threading

import grpc

from coop.billing.v1 import billing_pb2 as pb
from coop_testkit import cooperative_today

# gross 200,000 -> social 27 % = 54,000 -> employer cost 254,000 -> employment 7.5 % = 19,050
COST = 254_000 + 19_050


def test_contract_reserves_its_full_cost_and_reports_a_shortfall(svc, h):
    member = h.admit(svc)
    act = h.funded_activity(svc, member, 1_000_000)  # budget: 1,000,000 - 65,000 contribution
    created = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()), metadata=member.md)
    assert created.state == pb.CONTRACT_STATE_RESERVED and created.revision == 1
    assert created.cost.employer_cost_cents == 254_000 and created.cost.total_cents == COST
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    assert budget.reserved_cents == COST and budget.available_cents == 935_000 - COST
    before = svc.counts()
    err = h.code_of(svc.stub.RequestContract, pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms(gross=1_000_000)),
        metadata=member.md)
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    # cost of 1,000,000 gross: 1,270,000 + 95,250 = 1,365,250; available 661,950
    assert "703300 cents missing" in err.details()
    assert svc.counts() == before  # nothing half-written


def test_twenty_parallel_requests_never_overspend_one_budget(svc, h):
    member = h.admit(svc)
    act = h.funded_activity(svc, member, 1_000_000)  # 935,000 available: room for 3 contracts of 273,050
    results: list[object] = []
    barrier = threading.Barrier(20)

    def ask() -> None:
        barrier.wait()
        try:
            results.append(svc.stub.RequestContract(pb.RequestContractRequest(
                member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()),
                metadata=member.md, timeout=60))
        except grpc.RpcError as exc:
            results.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if isinstance(r, pb.Contract)]
    refused = [r for r in results if isinstance(r, grpc.RpcError)]
    assert len(ok) == 3 and len(refused) == 17
    assert all(r.code() == grpc.StatusCode.FAILED_PRECONDITION and "missing" in r.details() for r in refused)
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    assert budget.reserved_cents == 3 * COST and budget.available_cents == 935_000 - 3 * COST >= 0
    assert len(svc.outbox(name="contract.created")) >= 3


def test_amend_and_cancel_move_the_reservation_and_publish_self_contained_events(svc, h):
    member = h.admit(svc, given="Jan", family="Peeters", language="nl")
    act = h.funded_activity(svc, member, 1_000_000)
    c = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()), metadata=member.md)
    amended = svc.stub.AmendContract(pb.AmendContractRequest(
        contract_id=c.contract_id, terms=h.terms(gross=100_000, committee="200", title="Sound engineer")),
        metadata=member.md)
    assert amended.revision == 2 and amended.reserved_cents == 127_000 + 9525
    too_big = h.code_of(svc.stub.AmendContract, pb.AmendContractRequest(
        contract_id=c.contract_id, terms=h.terms(gross=5_000_000)), metadata=member.md)
    assert too_big.code() == grpc.StatusCode.FAILED_PRECONDITION and "missing" in too_big.details()
    cancelled = svc.stub.CancelContract(pb.CancelContractRequest(contract_id=c.contract_id, reason="gig cancelled"),
                                        metadata=member.md)
    assert cancelled.state == pb.CONTRACT_STATE_CANCELLED and cancelled.reserved_cents == 0
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    assert budget.reserved_cents == 0 and budget.available_cents == 935_000
    assert h.code_of(svc.stub.CancelContract, pb.CancelContractRequest(contract_id=c.contract_id, reason="x"),
                     metadata=member.md).code() == grpc.StatusCode.FAILED_PRECONDITION
    events = svc.outbox(subject=c.contract_id)
    assert [e["type"] for e in events] == [
        "coop.billing.contract.created.v1", "coop.billing.contract.amended.v1", "coop.billing.contract.cancelled.v1"]
    created, amend, cancel = (e["data"] for e in events)
    # no names in the events (personal data the payroll asks membership for): ids and language only
    # (the deprecated name fields are printed empty, like every proto3 field without presence)
    assert created["employee"] == {"memberId": member.member_id, "memberNumber": member.number,
                                   "givenName": "", "familyName": "", "preferredLanguage": "nl"}
    t = created["contract"]["terms"]
    assert (t["startDate"], t["endDate"], t["days"], t["grossCents"], t["jobTitle"], t["jointCommittee"]) == (
        "2031-03-01", "2031-03-31", 10, "200000", "Musician", "304")
    assert amend["contract"]["terms"]["jobTitle"] == "Sound engineer"
    assert amend["previousTerms"]["grossCents"] == "200000" and amend["reservationDeltaCents"] == str(136_525 - COST)
    assert cancel["reason"] == "gig cancelled" and cancel["releasedCents"] == "136525"
    assert all(e["source"] == "/coop/billing" and e["specversion"] == "1.0" for e in events)


def test_contracts_cannot_change_on_or_after_their_start(svc, h):
    member = h.admit(svc)
    act = h.funded_activity(svc, member, 1_000_000)
    err = h.code_of(svc.stub.RequestContract, pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id,
        terms=h.terms(start=cooperative_today(), end=cooperative_today(), days=1)), metadata=member.md)
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_hours_based_contract_and_listing(svc, h):
    member = h.admit(svc)
    act = h.funded_activity(svc, member, 1_000_000)
    t = h.terms()
    t.days, t.hours = 0, "37.5"
    c = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=t), metadata=member.md)
    assert c.terms.hours == "37.5" and c.terms.days == 0
    page = svc.stub.ListContracts(pb.ListContractsRequest(member_id=member.member_id), metadata=member.md)
    assert [x.contract_id for x in page.contracts] == [c.contract_id]
