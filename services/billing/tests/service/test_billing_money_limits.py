"""Amounts past what int64 carries: refused at the edge as INVALID_ARGUMENT, and a sum that does
not fit never turns a read into INTERNAL nor stops the year-end statement stream."""

from __future__ import annotations

from datetime import date

import grpc
from sqlalchemy import text

from coop.billing.v1 import billing_pb2 as pb
from coop_billing.entrypoints.cli import write_statements
from coop_testkit import cooperative_today

YEAR = cooperative_today().year
INT64_MAX = 2**63 - 1


def test_quantity_times_price_past_int64_is_invalid_argument_and_writes_nothing(svc, h):
    member = h.admit(svc)
    act = h.activity(svc, member)
    cl = h.client(svc)
    before = svc.counts()
    huge = h.line(price=10**13, qty="1000000")  # 10^19 cents: past int64 once multiplied
    for issue in (False, True):
        err = h.code_of(svc.stub.CreateInvoice, pb.CreateInvoiceRequest(
            member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id, lines=[huge],
            issue=issue), metadata=member.md)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "absurdly large" in err.details()
    many = [h.line(price=9 * 10**12, vat="0")] * 2  # each line fits, their total does not
    err = h.code_of(svc.stub.CreateInvoice, pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id, lines=many),
        metadata=member.md)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert svc.counts() == before
    draft = svc.stub.CreateInvoice(pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id,
        lines=[h.line(price=9 * 10**12, vat="0")]), metadata=member.md)
    err = h.code_of(svc.stub.AddInvoiceLines, pb.AddInvoiceLinesRequest(
        invoice_id=draft.invoice_id, lines=[h.line(price=9 * 10**12, vat="0")]), metadata=member.md)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert len(svc.stub.GetInvoice(pb.GetInvoiceRequest(invoice_id=draft.invoice_id),
                                   metadata=member.md).lines) == 1


def test_a_yearly_sum_past_int64_fails_alone_and_the_statement_stream_goes_on(svc, h, tmp_path):
    rich, plain = h.admit(svc), h.admit(svc)
    act = h.activity(svc, rich)
    # Two ledger credits of 6 * 10^18 cents each: a year whose sums no longer fit int64 (only SQL can
    # write them, since every document is capped at 10^13 cents).
    with svc.engine.begin() as conn:
        for n in (1, 2):
            conn.execute(text(
                'INSERT INTO ledger_entries (activity_id, kind, amount_cents, "on", reference, contract_id, '
                "balance_delta, reserved_delta) VALUES (:a, 'invoice', :c, :on, :r, NULL, :c, 0)"),
                {"a": act.activity_id, "c": 6 * 10**18, "on": date(YEAR, 1, 1), "r": f"HUGE-{n}"})
    try:
        err = h.code_of(svc.stub.GetStatement, pb.GetStatementRequest(member_id=rich.member_id, year=YEAR),
                        metadata=h.ADMIN)
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "64-bit" in err.details()
        err = h.code_of(svc.stub.GetBudget, pb.GetBudgetRequest(activity_id=act.activity_id), metadata=h.ADMIN)
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "64-bit" in err.details()
        stream = list(svc.stub.StreamStatements(pb.StreamStatementsRequest(year=YEAR), metadata=h.ADMIN))
        assert len(stream) == svc.scalar("SELECT count(*) FROM members")
        failed = [s for s in stream if s.error]
        assert [(s.member_id, s.year, "64-bit" in s.error) for s in failed] == [(rich.member_id, YEAR, True)]
        good = next(s for s in stream if s.member_id == plain.member_id)
        assert good.html and not good.error
        failures: list[tuple[str, str]] = []  # `coop statements`: no file for it, reported, run goes on
        written = write_statements(svc.stub, h.ADMIN, YEAR, tmp_path, "text", quiet=True, failed=failures)
        assert written == len(stream) - 1 and [m for m, _ in failures] == [rich.member_id]
        assert not (tmp_path / f"{rich.member_id}-{YEAR}.txt").exists()
    finally:
        with svc.engine.begin() as conn:
            conn.execute(text("DELETE FROM ledger_entries WHERE reference LIKE 'HUGE-%'"))
