"""Closed years stay closed, credit notes count in their own year, every year's statement
reconciles, invoice numbers follow dates, and a batch never fails for one caller.

Each test runs on a database of its own (own_svc) and moves the service's calendar (travel): it
dates documents in other years and closes years, which the shared database must not see."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import grpc

from coop.billing.v1 import billing_pb2 as pb
from coop_billing.adapters import messages as msg
from coop_billing.adapters.messages import INVOICE_REPLY
from coop_billing.service_layer import invoice_issuing
from coop_domain.errors import DomainError
from coop_testkit import cooperative_today, wait_until

Y = 2030  # the year the scenario closes


def _statement(svc, h, member, year):
    return svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=year), metadata=h.ADMIN)


def _reconciles(st) -> bool:
    """net = gross salaries + left in the budget - share fee, to the cent."""
    return st.net_cents == st.gross_salaries_cents + st.budget_left_cents - st.share_fee_cents


def _invoicing(svc, h):
    """A member in good standing, an activity and a client: (member, activity, client)."""
    member = h.admit(svc)
    return member, h.activity(svc, member), h.client(svc)


def _issue(svc, h, member, act, cl, day: date, price: int) -> pb.Invoice:
    return svc.stub.CreateInvoice(pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id,
        lines=[h.line(price=price, vat="21")], issue=True, issued_on=day.isoformat()), metadata=member.md)


def test_a_credit_note_counts_in_its_own_year_and_every_year_reconciles(own_svc, h, travel):
    svc = own_svc
    member, act, cl = _invoicing(svc, h)
    travel(date(Y, 3, 1))
    kept = _issue(svc, h, member, act, cl, date(Y, 3, 1), 874_798)
    h.pay(svc, kept, paid_on=f"{Y}-03-01")
    credited = _issue(svc, h, member, act, cl, date(Y, 3, 1), 50_001)
    h.pay(svc, credited, paid_on=f"{Y}-03-01")
    svc.stub.BillShareFee(pb.BillShareFeeRequest(member_id=member.member_id, year=Y), metadata=h.ADMIN)
    contract = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id,
        terms=h.terms(gross=200_000, start=date(Y, 9, 1), end=date(Y, 9, 30), days=10)), metadata=member.md)
    travel(date(Y, 9, 30))
    svc.stub.RecordPayroll(pb.RecordPayrollRequest(contract_id=contract.contract_id, payroll_reference="PR-09",
                                                   gross_cents=200_000), metadata=h.PAYROLL)
    before = _statement(svc, h, member, Y)
    assert before.revenue_excl_vat_cents == 924_799 and _reconciles(before)
    assert (before.gross_salaries_cents, before.share_fee_cents) == (200_000, 3000)
    # on 10 February of the next year, a credit note for one of last year's invoices
    travel(date(Y + 1, 2, 10))
    svc.stub.CancelInvoice(pb.CancelInvoiceRequest(invoice_id=credited.invoice_id, reason="returned"),
                           metadata=h.ADMIN)
    after = _statement(svc, h, member, Y)
    after_next = _statement(svc, h, member, Y + 1)
    assert after == before  # the credit note is not last year's: its revenue stays 924,799
    assert after_next.revenue_excl_vat_cents == -50_001 and _reconciles(after_next)
    assert after_next.revenue_contribution_cents == -3_250  # 6.5 % of 50,001, given back this year


def test_a_closed_year_takes_nothing_dated_inside_it_and_its_statement_never_changes(own_svc, h, travel):
    svc = own_svc
    member, act, cl = _invoicing(svc, h)
    other = h.admit(svc)
    travel(date(Y, 12, 1))
    paid = _issue(svc, h, member, act, cl, date(Y, 12, 1), 100_000)
    h.pay(svc, paid, paid_on=f"{Y}-12-01")
    unpaid = _issue(svc, h, member, act, cl, date(Y, 12, 1), 40_000)
    contract = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id,
        terms=h.terms(gross=10_000, start=date(Y, 12, 10), end=date(Y + 1, 1, 31), days=10)), metadata=member.md)
    frozen = _statement(svc, h, member, Y)
    assert _reconciles(frozen)
    travel(date(Y + 1, 1, 10))
    closed = svc.stub.CloseYear(pb.CloseYearRequest(year=Y), metadata=h.ADMIN)
    assert (closed.year, closed.closed_by, closed.already_closed) == (Y, "admin-1", False)
    again = svc.stub.CloseYear(pb.CloseYearRequest(year=Y), metadata=h.ADMIN)
    assert again.already_closed and again.closed_at == closed.closed_at
    # the statements are final: year.closed once (not again on the second closing), no member data
    announced = [e for e in svc.outbox(name="year.closed") if e["data"]["year"] == Y]
    assert [e["data"] for e in announced] == [
        {"year": Y, "closedAt": closed.closed_at.ToDatetime().isoformat() + "Z"}]
    last_day = date(Y, 12, 31).isoformat()  # within the 31 days an invoice may be backdated: only closing refuses it
    before = svc.counts()
    refusals = [
        (svc.stub.CreateInvoice, pb.CreateInvoiceRequest(
            member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id, lines=[h.line()],
            issue=True, issued_on=last_day), member.md),
        (svc.stub.RecordPayment, pb.RecordPaymentRequest(
            invoice_id=unpaid.invoice_id, payment_id="late", amount_cents=1000, paid_on=last_day), h.TELLER),
        (svc.stub.CancelInvoice, pb.CancelInvoiceRequest(invoice_id=paid.invoice_id, reason="x", on=last_day),
         h.ADMIN),
        (svc.stub.RecordPayroll, pb.RecordPayrollRequest(
            contract_id=contract.contract_id, payroll_reference="PR-12", gross_cents=5_000, paid_on=last_day),
         h.PAYROLL),
        (svc.stub.BillShareFee, pb.BillShareFeeRequest(member_id=other.member_id, year=Y), h.ADMIN),
    ]
    for rpc, request, who in refusals:
        err = h.code_of(rpc, request, metadata=who)
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and f"{Y} is closed" in err.details(), rpc
    err = h.code_of(svc.stub.SetRate, pb.SetRateRequest(kind="revenue", effective_from=last_day, basis_points=1),
                    metadata=h.ADMIN)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT  # retroactive in any case
    assert svc.counts() == before
    # the next year goes on: last year's invoices are paid, cancelled, its contract paid, all dated now
    h.pay(svc, unpaid)
    svc.stub.CancelInvoice(pb.CancelInvoiceRequest(invoice_id=paid.invoice_id, reason="dispute"), metadata=h.ADMIN)
    svc.stub.RecordPayroll(pb.RecordPayrollRequest(contract_id=contract.contract_id, payroll_reference="PR-01",
                                                   gross_cents=10_000), metadata=h.PAYROLL)
    assert _statement(svc, h, member, Y) == frozen
    assert _reconciles(_statement(svc, h, member, Y + 1))
    # only an admin closes, and only a year that has ended
    assert h.code_of(svc.stub.CloseYear, pb.CloseYearRequest(year=Y - 1), metadata=member.md
                     ).code() == grpc.StatusCode.PERMISSION_DENIED
    err = h.code_of(svc.stub.CloseYear, pb.CloseYearRequest(year=Y + 1), metadata=h.ADMIN)
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "has not ended" in err.details()


def test_invoice_numbers_follow_dates_within_a_series(own_svc, h, travel):
    svc = own_svc
    member, act, cl = _invoicing(svc, h)
    travel(date(Y, 6, 15))
    june_1 = _issue(svc, h, member, act, cl, date(Y, 6, 1), 1000)
    err = h.code_of(_issue, svc, h, member, act, cl, date(Y, 5, 31), 1000)
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "numbers follow dates" in err.details()
    june_2 = _issue(svc, h, member, act, cl, date(Y, 6, 2), 1000)
    same_day = _issue(svc, h, member, act, cl, date(Y, 6, 2), 1000)
    assert [i.number for i in (june_1, june_2, same_day)] == [f"{Y}-000001", f"{Y}-000002", f"{Y}-000003"]
    # a batch is numbered in date order, and the one dated before the series' latest is refused alone
    requests = [invoice_issuing.new_invoice(h.ADMIN_CALLER, member.member_id, act.activity_id, cl.client_id,
                                     [msg.line_from_pb(h.line())], issue=True, issued_on=day)
                for day in (date(Y, 6, 10), date(Y, 6, 1), date(Y, 6, 5))]
    results = invoice_issuing.create_invoices(svc.uow_factory(), requests, INVOICE_REPLY)
    assert isinstance(results[1], DomainError) and "numbers follow dates" in str(results[1])
    assert [(r.issued_on, r.number) for r in (results[2], results[0])] == [
        (f"{Y}-06-05", f"{Y}-000004"), (f"{Y}-06-10", f"{Y}-000005")]
    # a credit note cannot be dated before the latest one either
    svc.stub.CancelInvoice(pb.CancelInvoiceRequest(invoice_id=june_2.invoice_id, reason="x", on=f"{Y}-06-12"),
                           metadata=h.ADMIN)
    err = h.code_of(svc.stub.CancelInvoice, pb.CancelInvoiceRequest(
        invoice_id=june_1.invoice_id, reason="x", on=f"{Y}-06-11"), metadata=h.ADMIN)
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "numbers follow dates" in err.details()


def test_an_issue_date_far_back_is_refused_at_the_edge_and_a_batch_never_fails_for_one_caller(own_svc, h):
    svc = own_svc
    member, act, cl = _invoicing(svc, h)
    today = cooperative_today()
    for day in (date(1995, 6, 1), today - timedelta(days=32)):
        err = h.code_of(_issue, svc, h, member, act, cl, day, 1000)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "31 days back" in err.details(), day
    # A request that slipped past the edge (built directly, no rate on its date) is refused alone in
    # its batch, before any number is taken: the others are issued in the same call.
    good = invoice_issuing.new_invoice(h.ADMIN_CALLER, member.member_id, act.activity_id, cl.client_id, [msg.line_from_pb(h.line())],
                                issue=True)
    bad = invoice_issuing.NewInvoice(h.ADMIN_CALLER, member.member_id, act.activity_id, cl.client_id, good.lines, date(1995, 6, 1))
    unknown_client = invoice_issuing.NewInvoice(h.ADMIN_CALLER, member.member_id, act.activity_id, str(uuid.uuid4()), good.lines,
                                         today)
    results = invoice_issuing.create_invoices(svc.uow_factory(), [good, bad, unknown_client, good], INVOICE_REPLY)
    assert [type(r).__name__ for r in results] == ["Invoice", "NotFound", "NotFound", "Invoice"]
    assert [r.number for r in results[::3]] == [f"{today.year}-000001", f"{today.year}-000002"]


def _waiting_on_a_lock(svc, fragment: str) -> bool:
    """Whether a backend of the service's database waits on a row lock in a statement like this."""
    return bool(svc.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock' AND query LIKE :q", q=f"%{fragment}%"))


def _answer_once_released(svc, hold, call):
    """Begin a transaction that `hold(uow)` makes hold a year's row, start `call()` in a thread, see
    it wait on that lock, commit, and return its answer (a response or the RpcError)."""
    answer: list[object] = []

    def run() -> None:
        try:
            answer.append(call())
        except grpc.RpcError as exc:
            answer.append(exc)

    with svc.uow_factory() as uow:
        hold(uow)
        thread = threading.Thread(target=run)
        thread.start()
        wait_until(lambda: _waiting_on_a_lock(svc, "fiscal_years"), message="the call waiting on the year's row")
        assert not answer
        uow.commit()
    thread.join(60)
    return answer[0]


def test_closing_a_year_and_a_write_dated_in_it_never_overlap(own_svc, h, travel):
    """Real concurrency on PostgreSQL: CloseYear waits for a write still dated in the year, and a
    write that comes while the year is being closed waits for it, then is refused."""
    svc = own_svc
    member, act, cl = _invoicing(svc, h)
    travel(date(Y, 12, 20))
    invoice = _issue(svc, h, member, act, cl, date(Y, 12, 20), 1000)
    travel(date(Y + 1, 1, 5))
    # 1. a write dated in Y - 1 is under way (its year row held FOR SHARE): closing waits for it
    closed = _answer_once_released(svc, lambda uow: uow.years.fiscal_years([Y - 1]), lambda: svc.stub.CloseYear(
        pb.CloseYearRequest(year=Y - 1), metadata=h.ADMIN, timeout=60))
    assert closed.year == Y - 1 and not closed.already_closed
    # 2. Y is being closed (not committed yet): a payment dated in Y waits for it, then is refused
    refused = _answer_once_released(
        svc, lambda uow: uow.years.close_year(Y, "admin-2", datetime.now(UTC)),
        lambda: svc.stub.RecordPayment(pb.RecordPaymentRequest(
            invoice_id=invoice.invoice_id, payment_id="b-1", amount_cents=100, paid_on=f"{Y}-12-31"),
            metadata=h.TELLER, timeout=60))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION and f"{Y} is closed" in refused.details()
    assert svc.stub.GetInvoice(pb.GetInvoiceRequest(invoice_id=invoice.invoice_id), metadata=h.ADMIN).paid_cents == 0
