"""Invoice use cases on the fakes: access decided on what the unit reads, numbering, payments
with request_ids, credit notes, pages."""

from __future__ import annotations

import pytest

from coop_billing.domain import events
from coop_billing.domain.errors import MemberNotYetKnown, NotInGoodStanding
from coop_billing.domain.invoice import InvoiceLine
from coop_billing.service_layer import invoice_issuing, invoices
from coop_domain.errors import NotFound, PermissionDenied
from coop_platform.idempotency import IdempotencyKey, IdempotentRequest
from coop_testkit import cooperative_today


def _line(price: int = 100_000) -> InvoiceLine:
    return InvoiceLine("Concert", "1", price, "21")


def _issue(uow, f, member, activity_id, client_id, price=100_000, **kw):
    new = invoice_issuing.new_invoice(member.caller, member.member_id, activity_id, client_id, [_line(price)],
                                      issue=True, **kw)
    return invoice_issuing.create_invoice(uow, new, f.fakes.PickleReply())


def test_a_member_creates_and_issues_an_invoice_numbered_in_its_year_and_published(uow, f):
    member = f.admit(uow)
    activity_id, client_id = f.activity_and_client(uow, member)
    stored = _issue(uow, f, member, activity_id, client_id)
    assert str(stored.invoice.number) == f"{cooperative_today().year}-000001"
    assert stored.contribution_cents == 6_500  # 6.5 % of the net amount
    assert [e.stored.invoice.invoice_id for e in uow.published(events.InvoiceIssued)] == [stored.invoice.invoice_id]


def test_nobody_invoices_for_another_member(uow, f):
    member, other = f.admit(uow), f.admit(uow)
    activity_id, client_id = f.activity_and_client(uow, member)
    with pytest.raises(PermissionDenied):
        invoice_issuing.new_invoice(other.caller, member.member_id, activity_id, client_id, [_line()])


def test_a_member_not_in_good_standing_cannot_issue_and_nothing_is_written(uow, f):
    member = f.admit(uow, good=False)
    activity_id, client_id = f.activity_and_client(uow, member)
    with pytest.raises(NotInGoodStanding):
        _issue(uow, f, member, activity_id, client_id)
    assert uow.store.invoices == {} and uow.published(events.InvoiceIssued) == []


def test_issuing_a_draft_for_a_member_not_yet_known_asks_to_retry(uow, f):
    member = f.admit(uow)
    activity_id, client_id = f.activity_and_client(uow, member)
    draft = invoice_issuing.create_invoice(uow, invoice_issuing.new_invoice(
        member.caller, member.member_id, activity_id, client_id, [_line()]), f.fakes.PickleReply())
    del uow.store.members[member.member_id]  # as if the projection had not heard of the member yet
    with pytest.raises(MemberNotYetKnown) as refused:
        invoices.issue_invoice(uow, member.caller, draft.invoice.invoice_id)
    assert refused.value.retry_after_seconds > 0


def test_a_batch_numbers_the_accepted_invoices_and_refuses_one_alone(uow, f):
    member = f.admit(uow)
    activity_id, client_id = f.activity_and_client(uow, member)
    good = invoice_issuing.new_invoice(member.caller, member.member_id, activity_id, client_id, [_line()], issue=True)
    unknown_client = invoice_issuing.NewInvoice(member.caller, member.member_id, activity_id,
                                                "00000000-0000-0000-0000-000000000000", good.lines, good.issued_on)
    results = invoice_issuing.create_invoices(uow, [good, unknown_client, good], f.fakes.PickleReply())
    assert isinstance(results[1], NotFound)
    assert [r.invoice.number.sequence for r in (results[0], results[2])] == [1, 2]


def test_a_payment_with_a_request_id_is_recorded_once_and_credits_the_budget(uow, f):
    member = f.admit(uow)
    activity_id, client_id = f.activity_and_client(uow, member)
    stored = _issue(uow, f, member, activity_id, client_id)
    key = IdempotentRequest(IdempotencyKey("coop", "teller-1", "RecordPayment", "r-1"), "fingerprint")
    reply = f.fakes.PickleReply()
    first = invoices.record_payment(uow, f.TELLER, stored.invoice.invoice_id, "BANK-1", 121_000, None, reply,
                                    request=key)
    again = invoices.record_payment(uow, f.TELLER, stored.invoice.invoice_id, "BANK-1", 121_000, None, reply,
                                    request=key)
    assert first.invoice.state.value == "paid" and again.invoice.payments == first.invoice.payments
    assert len(uow.store.invoices[stored.invoice.invoice_id].invoice.payments) == 1
    balance, reserved = uow.activities.balances(activity_id)
    assert (balance, reserved) == (100_000 - 6_500, 0)
    with pytest.raises(PermissionDenied):
        invoices.record_payment(uow, member.caller, stored.invoice.invoice_id, "BANK-2", 1, None, reply)


def test_cancelling_by_credit_note_reverses_the_budget_and_is_published(uow, f):
    member = f.admit(uow)
    activity_id, client_id = f.activity_and_client(uow, member)
    stored = _issue(uow, f, member, activity_id, client_id)
    invoices.record_payment(uow, f.TELLER, stored.invoice.invoice_id, "BANK-1", 121_000, None, f.fakes.PickleReply())
    cancelled = invoices.cancel_invoice(uow, member.caller, stored.invoice.invoice_id, "wrong client")
    assert cancelled.invoice.state.value == "cancelled" and cancelled.invoice.credit_note is not None
    assert uow.activities.balances(activity_id) == (0, 0)
    assert len(uow.published(events.InvoiceCancelled)) == 1


def test_invoices_are_listed_in_pages_to_their_member_only(uow, f):
    member, other = f.admit(uow), f.admit(uow)
    activity_id, client_id = f.activity_and_client(uow, member)
    made = {_issue(uow, f, member, activity_id, client_id, price=1_000 + n).invoice.invoice_id for n in range(5)}
    seen, token = [], ""
    while True:
        page, token = invoices.list_invoices(uow, member.caller, member.member_id, 0, token, 2)
        seen += [s.invoice.invoice_id for s in page]
        if not token:
            break
    assert set(seen) == made and len(seen) == 5
    with pytest.raises(PermissionDenied):
        invoices.list_invoices(uow, other.caller, member.member_id, 0, "", 2)
    assert len(invoices.list_invoices(uow, f.ADMIN, member.member_id, 0, "", 10)[0]) == 5
