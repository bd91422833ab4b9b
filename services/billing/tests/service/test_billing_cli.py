"""The billing admin commands for payroll: record-payroll and complete-contract, on the database."""

from __future__ import annotations

from datetime import date

import pytest

from coop.billing.v1 import billing_pb2 as pb
from coop_billing.entrypoints import cli


@pytest.fixture
def run(svc, monkeypatch, capsys):
    monkeypatch.setenv("COOP_DATABASE_URL", svc.url)

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_record_payroll_and_complete_contract_from_the_command_line(svc, h, travel, run):
    member = h.admit(svc)
    act = h.funded_activity(svc, member, 1_000_000)
    c = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()), metadata=member.md)
    travel(date(2031, 3, 31))
    pay = ("record-payroll", c.contract_id, "--gross-cents", "100000", "--reference", "CLI-1",
           "--paid-on", "2031-03-31")
    code, out, _ = run(*pay)
    assert code == 0
    assert "payroll CLI-1 recorded: gross 100000 + charges 27000 + employment contribution 9525 = 136525" in out
    assert "active, gross paid 100000 of 200000, spent 136525, still reserved 136525" in out
    code, out, _ = run(*pay)
    assert code == 0 and "was already recorded" in out

    before = svc.counts()
    code, _, err = run("record-payroll", c.contract_id, "--gross-cents", "100001", "--reference", "CLI-2")
    assert code == 2 and "beyond its reservation" in err
    code, _, err = run("record-payroll", c.contract_id, "--gross-cents", "1", "--reference", "CLI-2",
                       "--paid-on", "31/03/2031")
    assert code == 2 and "not an ISO date" in err
    code, _, err = run("record-payroll", "nope", "--gross-cents", "1", "--reference", "CLI-2")
    assert code == 2 and "not a UUID" in err
    assert svc.counts() == before
    code, out, _ = run("complete-contract", c.contract_id)  # on its end date
    assert code == 0 and "completed, spent 136525 cents, released 136525 cents" in out


def test_complete_contract_from_the_command_line_releases_the_rest(svc, h, travel, run):
    member = h.admit(svc)
    act = h.funded_activity(svc, member, 1_000_000)
    c = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()), metadata=member.md)
    travel(date(2031, 3, 30))
    before = svc.counts()
    code, _, err = run("complete-contract", c.contract_id)
    assert code == 2 and "ends on 2031-03-31" in err
    assert svc.counts() == before
    travel(date(2031, 3, 31))
    code, out, _ = run("complete-contract", c.contract_id)
    assert code == 0 and "completed, spent 0 cents, released 273050 cents" in out
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=h.ADMIN)
    assert budget.reserved_cents == 0 and budget.available_cents == 935_000
