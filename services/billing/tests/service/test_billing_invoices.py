"""Clients, activities, invoices, payments, credit notes and the ledger, over gRPC on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import grpc

from coop.billing.v1 import billing_pb2 as pb
from coop_testkit import cooperative_today


def test_clients_are_deduplicated_by_vat_number(svc, h):
    first = svc.stub.CreateClient(pb.CreateClientRequest(
        name="Client A", country="BE", address="Rue 1", vat_number="BE 0403.170.701"), metadata=h.ADMIN)
    again = svc.stub.CreateClient(pb.CreateClientRequest(
        name="Client A bis", country="BE", address="Rue 2", vat_number="be0403170701"), metadata=h.ADMIN)
    assert first.client.vat_number == "BE0403170701" and not first.already_existed
    assert again.already_existed and again.client.client_id == first.client.client_id
    err = h.code_of(svc.stub.CreateClient, pb.CreateClientRequest(
        name="Bad", country="BE", address="Rue", vat_number="BE0403170702"), metadata=h.ADMIN)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "mod-97" in err.details()
    fr = svc.stub.CreateClient(pb.CreateClientRequest(
        name="Client FR", country="FR", address="Paris", vat_number="FR40303265045"), metadata=h.ADMIN)
    assert fr.client.vat_number == "FR40303265045"


def test_a_foreign_vat_number_with_a_wrong_check_key_is_refused_and_gets_no_reverse_charge(svc, h):
    before = svc.counts()
    err = h.code_of(svc.stub.CreateClient, pb.CreateClientRequest(
        name="Faux SARL", country="FR", address="Paris", vat_number="FR99000000000"), metadata=h.ADMIN)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "check digits" in err.details()
    assert svc.counts() == before
    member = h.admit(svc)
    act = h.activity(svc, member)
    real = svc.stub.CreateClient(pb.CreateClientRequest(
        name="Vrai SA", country="FR", address="Paris", vat_number="FR23334175221"), metadata=h.ADMIN).client
    inv = h.issued_invoice(svc, member, act, real, h.line(price=10_000, vat="reverse_charge"))
    assert inv.vat_cents == 0


def test_invoice_lifecycle_contribution_and_ledger(svc, h):
    member = h.admit(svc)
    act = h.activity(svc, member)
    cl = h.client(svc)
    draft = svc.stub.CreateInvoice(pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id,
        lines=[h.line(price=100_000, qty="2")]), metadata=member.md)
    assert draft.state == pb.INVOICE_STATE_DRAFT and draft.number == ""
    draft = svc.stub.AddInvoiceLines(pb.AddInvoiceLinesRequest(
        invoice_id=draft.invoice_id, lines=[h.line(price=3333, qty="1.5", vat="6", text_="Travel")]),
        metadata=member.md)
    assert draft.net_cents == 200_000 + 5000 and draft.vat_cents == 42_000 + 300
    issued = svc.stub.IssueInvoice(pb.IssueInvoiceRequest(invoice_id=draft.invoice_id), metadata=member.md)
    assert issued.state == pb.INVOICE_STATE_ISSUED
    assert issued.number.startswith(f"{cooperative_today().year}-")
    assert issued.contribution_cents == 13_325 and issued.contribution_rate_bp == 650  # 6.5 % of 205,000
    # issued is not paid: nothing reaches the budget yet (a client who never pays inflates nothing)
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    assert budget.balance_cents == 0 and list(budget.entries) == []
    # an issued invoice is never edited
    err = h.code_of(svc.stub.AddInvoiceLines, pb.AddInvoiceLinesRequest(
        invoice_id=issued.invoice_id, lines=[h.line()]), metadata=member.md)
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    # under-payment: the paid part of the net (and of the contribution) reaches the budget
    part = svc.stub.RecordPayment(pb.RecordPaymentRequest(
        invoice_id=issued.invoice_id, payment_id="bank-1", amount_cents=100_000), metadata=h.TELLER)
    assert part.state == pb.INVOICE_STATE_PARTIALLY_PAID and part.due_cents == issued.total_cents - 100_000
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    # 205,000 x 100,000 / 247,300 = 82,895 (half up); 13,325 x 100,000 / 247,300 = 5,388
    assert [(e.kind, e.amount_cents) for e in budget.entries] == [("invoice", 82_895), ("revenue_contribution", 5_388)]
    # the same payment twice changes nothing
    again = svc.stub.RecordPayment(pb.RecordPaymentRequest(
        invoice_id=issued.invoice_id, payment_id="bank-1", amount_cents=100_000), metadata=h.TELLER)
    assert again.paid_cents == 100_000
    # over-payment: the rest of the invoice, exactly; the excess is the client's credit, not revenue
    paid = svc.stub.RecordPayment(pb.RecordPaymentRequest(
        invoice_id=issued.invoice_id, payment_id="bank-2", amount_cents=200_000), metadata=h.TELLER)
    assert paid.state == pb.INVOICE_STATE_PAID
    assert paid.credit_balance_cents == 300_000 - issued.total_cents and paid.due_cents == 0
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    assert budget.balance_cents == 205_000 - 13_325 and budget.available_cents == budget.balance_cents
    assert [(e.kind, e.reference, e.on) for e in budget.entries][2:] == [
        ("invoice", issued.number, cooperative_today().isoformat()),
        ("revenue_contribution", issued.number, cooperative_today().isoformat())]
    assert h.code_of(svc.stub.RecordPayment, pb.RecordPaymentRequest(
        invoice_id=issued.invoice_id, payment_id="bank-3", amount_cents=1), metadata=h.TELLER
    ).code() == grpc.StatusCode.FAILED_PRECONDITION
    # members do not record payments
    assert h.code_of(svc.stub.RecordPayment, pb.RecordPaymentRequest(
        invoice_id=issued.invoice_id, payment_id="bank-4", amount_cents=1), metadata=member.md
    ).code() == grpc.StatusCode.PERMISSION_DENIED
    # the credit note reverses what the payments credited, to the cent
    cancelled = svc.stub.CancelInvoice(pb.CancelInvoiceRequest(
        invoice_id=issued.invoice_id, reason="wrong client"), metadata=h.ADMIN)
    assert cancelled.state == pb.INVOICE_STATE_CANCELLED
    assert cancelled.credit_note_number.startswith("CN-") and cancelled.credit_balance_cents == 300_000
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    assert budget.balance_cents == 0 and len(budget.entries) == 6
    assert [(e.kind, e.amount_cents) for e in budget.entries][4:] == [
        ("credit_note", 205_000), ("contribution_reversal", 13_325)]
    assert h.code_of(svc.stub.CancelInvoice, pb.CancelInvoiceRequest(
        invoice_id=issued.invoice_id, reason="again"), metadata=h.ADMIN).code() == grpc.StatusCode.FAILED_PRECONDITION
    names = [e["type"] for e in svc.outbox(subject=issued.invoice_id)]
    assert names == ["coop.billing.invoice.issued.v1", "coop.billing.invoice.cancelled.v1"]


def test_member_not_in_good_standing_cannot_issue_and_nothing_is_written(svc, h):
    member = h.admit(svc, good=False)
    act = h.activity(svc, member)
    draft = svc.stub.CreateInvoice(pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=h.client(svc).client_id,
        lines=[h.line()]), metadata=member.md)
    before = svc.counts()
    err = h.code_of(svc.stub.IssueInvoice, pb.IssueInvoiceRequest(invoice_id=draft.invoice_id), metadata=member.md)
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "good standing" in err.details()
    assert svc.counts() == before
    h.set_standing(svc, member.member_id, True)
    assert svc.stub.IssueInvoice(pb.IssueInvoiceRequest(invoice_id=draft.invoice_id),
                                 metadata=member.md).state == pb.INVOICE_STATE_ISSUED


def _numbers_issued_at_once(calls) -> list[str]:
    """Run the issuing calls all at once (one thread each, released together); their numbers."""
    numbers: list[str] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(len(calls))

    def run(call) -> None:
        barrier.wait()
        try:
            numbers.append(call().number)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    return numbers


def _assert_one_gapless_sequence(svc, numbers: list[str], count: int) -> None:
    """These numbers are consecutive, and the whole year's sequence has no gap and no duplicate."""
    sequences = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert len(set(sequences)) == count and sequences == list(range(sequences[0], sequences[0] + count))
    every = sorted(int(n.rsplit("-", 1)[1]) for n in svc.engine.connect().execute(
        __import__("sqlalchemy").text("SELECT number FROM invoices WHERE year = :y"),
        {"y": cooperative_today().year}).scalars())
    assert every == list(range(1, len(every) + 1))


def test_thirty_concurrent_issues_get_gapless_unique_numbers(svc, h):
    member = h.admit(svc)
    act = h.activity(svc, member)
    cl = h.client(svc)
    drafts = h.drafts(svc, member, act, cl, 30)
    numbers = _numbers_issued_at_once(
        [lambda d=d: svc.stub.IssueInvoice(pb.IssueInvoiceRequest(invoice_id=d.invoice_id),
                                            metadata=member.md, timeout=60) for d in drafts])
    _assert_one_gapless_sequence(svc, numbers, 30)


def test_create_with_issue_gives_the_complete_invoice_in_one_call(svc, h):
    member = h.admit(svc)
    act = h.activity(svc, member)
    today = cooperative_today()  # (an earlier date would come before the year's latest invoice: refused)
    issued = svc.stub.CreateInvoice(pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=h.client(svc).client_id,
        lines=[h.line(price=100_000, qty="2"), h.line(price=3333, qty="1.5", vat="6", text_="Travel")],
        issue=True, issued_on=today.isoformat()), metadata=member.md)
    assert issued.state == pb.INVOICE_STATE_ISSUED and issued.number.startswith(f"{today.year}-")
    assert issued.issued_on == today.isoformat()
    assert issued.due_on == (today + timedelta(days=30)).isoformat()
    assert issued.net_cents == 205_000 and issued.contribution_cents == 13_325
    stored = svc.stub.GetInvoice(pb.GetInvoiceRequest(invoice_id=issued.invoice_id), metadata=member.md)
    assert stored == issued
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    assert budget.balance_cents == 0  # until the client pays
    h.pay(svc, issued)
    budget = svc.stub.GetBudget(pb.GetBudgetRequest(activity_id=act.activity_id), metadata=member.md)
    assert budget.balance_cents == 205_000 - 13_325
    assert [(e.kind, e.reference) for e in budget.entries] == [
        ("invoice", issued.number), ("revenue_contribution", issued.number)]
    assert [e["type"] for e in svc.outbox(subject=issued.invoice_id)] == ["coop.billing.invoice.issued.v1"]


def test_create_with_issue_refused_writes_nothing_and_takes_no_number(svc, h):
    late = h.admit(svc, good=False)
    act = h.activity(svc, late)
    cl = h.client(svc)
    before = svc.counts()
    refusals = [
        (late, dict(issue=True), grpc.StatusCode.FAILED_PRECONDITION, "good standing"),
        (late, dict(issue=True, lines=[h.line(price=0)]), grpc.StatusCode.FAILED_PRECONDITION, "good standing"),
        (late, dict(issued_on=cooperative_today().isoformat()), grpc.StatusCode.INVALID_ARGUMENT, "when issuing"),
        (late, dict(issue=True, issued_on=(cooperative_today() + timedelta(days=1)).isoformat()),
         grpc.StatusCode.INVALID_ARGUMENT, "future"),
    ]
    for who, extra, code, words in refusals:
        request = pb.CreateInvoiceRequest(member_id=who.member_id, activity_id=act.activity_id,
                                          client_id=cl.client_id, lines=extra.pop("lines", [h.line()]), **extra)
        err = h.code_of(svc.stub.CreateInvoice, request, metadata=who.md)
        assert (err.code(), words in err.details()) == (code, True), err.details()
    h.set_standing(svc, late.member_id, True)
    for extra, code, words in (
            (dict(lines=[]), grpc.StatusCode.FAILED_PRECONDITION, "without lines"),
            (dict(due_on=(cooperative_today() - timedelta(days=400)).isoformat()),
             grpc.StatusCode.INVALID_ARGUMENT, "due date")):
        request = pb.CreateInvoiceRequest(member_id=late.member_id, activity_id=act.activity_id,
                                          client_id=cl.client_id, lines=extra.pop("lines", [h.line()]),
                                          issue=True, **extra)
        err = h.code_of(svc.stub.CreateInvoice, request, metadata=late.md)
        assert (err.code(), words in err.details()) == (code, True), err.details()
    assert svc.counts() == before
    year = cooperative_today().year
    taken = svc.scalar("SELECT coalesce(max(last_value), 0) FROM number_counters WHERE year = :y", y=year)
    issued = svc.stub.CreateInvoice(pb.CreateInvoiceRequest(
        member_id=late.member_id, activity_id=act.activity_id, client_id=cl.client_id, lines=[h.line()],
        issue=True), metadata=late.md)
    assert int(issued.number.rsplit("-", 1)[1]) == taken + 1


def test_concurrent_one_call_and_two_step_issues_share_one_gapless_sequence(svc, h):
    member = h.admit(svc)
    act = h.activity(svc, member)
    cl = h.client(svc)
    drafts = h.drafts(svc, member, act, cl, 15)
    calls = [lambda d=d: svc.stub.IssueInvoice(pb.IssueInvoiceRequest(invoice_id=d.invoice_id),
                                                metadata=member.md, timeout=60) for d in drafts]
    calls += [lambda i=i: svc.stub.CreateInvoice(pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=cl.client_id,
        lines=[h.line(price=5000 + i)], issue=True), metadata=member.md, timeout=60) for i in range(15)]
    _assert_one_gapless_sequence(svc, _numbers_issued_at_once(calls), 30)


def test_rate_change_applies_from_its_effective_date_and_is_never_retroactive(own_svc, h, travel):
    svc = own_svc  # it issues an invoice dated tomorrow: the shared series would refuse today's after it
    today = cooperative_today()
    tomorrow = today + timedelta(days=1)
    before = svc.counts()
    for day in (today - timedelta(days=1), date(today.year, 1, 1)):  # the past: refused, nothing written
        err = h.code_of(svc.stub.SetRate, pb.SetRateRequest(kind="revenue", effective_from=day.isoformat(),
                                                            basis_points=700), metadata=h.ADMIN)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "never retroactively" in err.details()
    assert svc.counts() == before
    svc.stub.SetRate(pb.SetRateRequest(kind="revenue", effective_from=tomorrow.isoformat(), basis_points=700),
                     metadata=h.ADMIN)
    member = h.admit(svc)
    act = h.activity(svc, member)
    cl = h.client(svc)
    old = h.issued_invoice(svc, member, act, cl, h.line(price=10_000))
    travel(tomorrow)
    new = h.issued_invoice(svc, member, act, cl, h.line(price=10_000))
    assert (old.contribution_rate_bp, old.contribution_cents) == (650, 650)
    assert (new.contribution_rate_bp, new.contribution_cents) == (700, 700)
    assert h.code_of(svc.stub.SetRate, pb.SetRateRequest(
        kind="revenue", effective_from=tomorrow.isoformat(), basis_points=800), metadata=h.ADMIN
    ).code() == grpc.StatusCode.ALREADY_EXISTS


def test_reverse_charge_needs_an_eu_client_with_vat(svc, h):
    member = h.admit(svc)
    act = h.activity(svc, member)
    local = h.client(svc)
    err = h.code_of(svc.stub.CreateInvoice, pb.CreateInvoiceRequest(
        member_id=member.member_id, activity_id=act.activity_id, client_id=local.client_id,
        lines=[h.line(vat="reverse_charge")]), metadata=member.md)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    nl = svc.stub.CreateClient(pb.CreateClientRequest(
        name="NL BV", country="NL", address="Amsterdam", vat_number="NL004495445B01"), metadata=h.ADMIN).client
    inv = h.issued_invoice(svc, member, act, nl, h.line(price=50_000, vat="reverse_charge"))
    assert inv.vat_cents == 0 and inv.total_cents == 50_000


def test_invoices_issued_in_one_batch_keep_their_own_requests_correlation_id(svc, h):
    from coop_billing.adapters.messages import INVOICE_REPLY
    from coop_billing.service_layer import invoice_issuing
    from coop_platform.logs import reset_correlation_id, set_correlation_id

    member = h.admit(svc)
    act = h.activity(svc, member)
    cl = h.client(svc)
    requests = []
    for cid in ("corr-a", "corr-b"):
        token = set_correlation_id(cid)
        try:
            requests.append(invoice_issuing.new_invoice(h.ADMIN_CALLER, member.member_id, act.activity_id,
                                                        cl.client_id, [_domain_line(h)], issue=True))
        finally:
            reset_correlation_id(token)
    token = set_correlation_id("corr-of-the-committing-thread")
    try:
        issued = invoice_issuing.create_invoices(svc.uow_factory(), requests, INVOICE_REPLY)
    finally:
        reset_correlation_id(token)
    for stored, cid in zip(issued, ("corr-a", "corr-b"), strict=True):
        assert [e["correlationid"] for e in svc.outbox(subject=stored.invoice_id)] == [cid]


def _domain_line(h):
    """A test line as the service layer takes it."""
    from coop_billing.adapters import messages as msg

    return msg.line_from_pb(h.line())
