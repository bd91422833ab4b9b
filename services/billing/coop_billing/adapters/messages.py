"""Domain objects and rows <-> protobuf messages (the API and the event contract),
and the parsing of request fields into domain values (every failure is INVALID_ARGUMENT)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from coop.billing.v1 import billing_pb2 as pb
from coop.billing.v1 import events_pb2
from coop_billing.domain.budget import ContractCost
from coop_billing.domain.contract import ContractState, ContractTerms, StoredContract
from coop_billing.domain.invoice import InvoiceLine, InvoiceState, StoredInvoice
from coop_billing.domain.money import MAX_AMOUNT_CENTS
from coop_billing.domain.vat import Client
from coop_domain.errors import FailedPrecondition, InvalidArgument

INVOICE_STATE_TO_PB = {
    InvoiceState.DRAFT: pb.INVOICE_STATE_DRAFT,
    InvoiceState.ISSUED: pb.INVOICE_STATE_ISSUED,
    InvoiceState.PARTIALLY_PAID: pb.INVOICE_STATE_PARTIALLY_PAID,
    InvoiceState.PAID: pb.INVOICE_STATE_PAID,
    InvoiceState.CANCELLED: pb.INVOICE_STATE_CANCELLED,
}
CONTRACT_STATE_TO_PB = {
    ContractState.REQUESTED: pb.CONTRACT_STATE_REQUESTED,
    ContractState.RESERVED: pb.CONTRACT_STATE_RESERVED,
    ContractState.ACTIVE: pb.CONTRACT_STATE_ACTIVE,
    ContractState.COMPLETED: pb.CONTRACT_STATE_COMPLETED,
    ContractState.CANCELLED: pb.CONTRACT_STATE_CANCELLED,
}
SHARE_FEE_STATE_TO_PB = {"billed": pb.SHARE_FEE_STATE_BILLED, "partially_paid": pb.SHARE_FEE_STATE_PARTIALLY_PAID,
                         "paid": pb.SHARE_FEE_STATE_PAID}
MAX_TEXT = 500


# ------------------------------------------------------------------ request parsing

def parse_uuid(value: str, name: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument(f"{name} {value!r} is not a UUID", {"field": name}) from None


def parse_date(value: str, name: str) -> date:
    try:
        parsed = date.fromisoformat(value)
    except (ValueError, TypeError):
        raise InvalidArgument(f"{name} {value!r} is not an ISO date (YYYY-MM-DD)", {"field": name}) from None
    if not 1990 <= parsed.year <= 2200:
        raise InvalidArgument(f"{name} {value} is outside 1990..2200", {"field": name})
    return parsed


def parse_optional_date(value: str, name: str) -> date | None:
    return parse_date(value, name) if value else None


def check_text(value: str, name: str, *, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidArgument(f"{name} is required", {"field": name})
    if len(text) > limit:
        raise InvalidArgument(f"{name} is longer than {limit} characters", {"field": name})
    if "\x00" in text:
        raise InvalidArgument(f"{name} contains a NUL character", {"field": name})
    return text


def parse_decimal(value: str, name: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        raise InvalidArgument(f"{name} {value!r} is not a decimal number", {"field": name}) from None
    if not number.is_finite():
        raise InvalidArgument(f"{name} must be finite", {"field": name})
    return number


MAX_CENTS = MAX_AMOUNT_CENTS
INT64_MAX = 2**63 - 1


def check_cents(value: int, name: str, *, allow_zero: bool = False) -> int:
    if value < 0 or (not allow_zero and value == 0):
        raise InvalidArgument(f"{name} must be {'positive' if not allow_zero else '>= 0'}", {"field": name})
    if value > MAX_CENTS:
        raise InvalidArgument(f"{name} {value} is absurdly large (max {MAX_CENTS})", {"field": name})
    return value


def int64(value: int, name: str) -> int:
    """A stored sum as the API's int64 carries it; FailedPrecondition (never INTERNAL) for a sum
    that does not fit, which the caps on each document make practically unreachable."""
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise FailedPrecondition(f"{name} ({value} cents) does not fit the API's 64-bit integers",
                                 {"field": name})
    return value


def line_from_pb(line: pb.InvoiceLine) -> InvoiceLine:
    description = check_text(line.description, "description")
    quantity = parse_decimal(line.quantity or "1", "quantity")
    if quantity > 1_000_000:
        raise InvalidArgument("quantity is absurdly large (max 1000000)", {"field": "quantity"})
    check_cents(line.unit_price_cents, "unit_price_cents", allow_zero=True)
    return InvoiceLine(description, quantity, line.unit_price_cents, line.vat_rate or "21")


def terms_from_pb(t: pb.ContractTerms) -> ContractTerms:
    start = parse_date(t.start_date, "start_date")
    end = parse_date(t.end_date, "end_date")
    if (end - start).days > 366 * 5:
        raise InvalidArgument("a contract lasts at most five years", {"field": "end_date"})
    if t.days and t.hours:
        raise InvalidArgument("give either days or hours worked, not both", {"field": "days"})
    hours = None
    if t.hours:
        hours = parse_decimal(t.hours, "hours")
        if hours > 24 * 366 * 5:
            raise InvalidArgument("more hours than the period holds", {"field": "hours"})
    check_cents(t.gross_cents, "gross_cents")
    return ContractTerms(
        start, end, t.gross_cents, check_text(t.job_title, "job_title", limit=200),
        check_text(t.joint_committee, "joint_committee", limit=10),
        days=t.days if t.days else None, hours=hours)


# ------------------------------------------------------------------ page tokens

def encode_token(*values: object) -> str:
    if not values:
        return ""
    return base64.urlsafe_b64encode(json.dumps([str(v) for v in values]).encode()).decode()


def decode_token(token: str, arity: int) -> tuple[str, ...]:
    if not token:
        return ()
    try:
        values = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
        if not isinstance(values, list) or len(values) != arity or not all(isinstance(v, str) for v in values):
            raise ValueError
        return tuple(values)
    except (ValueError, UnicodeError, TypeError):
        raise InvalidArgument("page_token is not a token this service issued", {"field": "page_token"}) from None


# ------------------------------------------------------------------ responses

def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts



def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def client_to_pb(client_id: str, client: Client | Any) -> pb.Client:
    return pb.Client(client_id=client_id, name=client.name, country=client.country,
                     address=client.address, vat_number=client.vat_number or "")


def client_row_to_pb(row: Any) -> pb.Client:
    """A client record with who owns it and whether the back office verified it."""
    return pb.Client(client_id=row.client_id, name=row.name, country=row.country, address=row.address,
                     vat_number=row.vat_number or "", verified=row.verified_at is not None,
                     owner_member_id=row.owner_member_id or "")


def activity_to_pb(row: Any) -> pb.Activity:
    return pb.Activity(activity_id=row.activity_id, member_id=row.member_id, name=row.name,
                       sector_code=row.sector_code, created_at=timestamp(row.created_at))


def entry_to_pb(row: Any) -> pb.LedgerEntry:
    return pb.LedgerEntry(entry_id=row.entry_id, kind=row.kind, amount_cents=row.amount_cents,
                          on=row.on.isoformat(), reference=row.reference, contract_id=row.contract_id or "",
                          balance_delta_cents=row.balance_delta, reserved_delta_cents=row.reserved_delta)


def invoice_to_pb(stored: StoredInvoice) -> pb.Invoice:
    inv = stored.invoice
    totals = inv.totals()
    note = inv.credit_note
    return pb.Invoice(
        invoice_id=inv.invoice_id, member_id=inv.member_id, activity_id=inv.activity_id,
        client=client_to_pb(stored.client_id, inv.client), state=INVOICE_STATE_TO_PB[inv.state],
        number=str(inv.number) if inv.number else "", issued_on=_iso(inv.issued_on), due_on=_iso(inv.due_on),
        lines=[pb.InvoiceLine(description=x.description, quantity=str(x.quantity),
                              unit_price_cents=x.unit_price_cents, vat_rate=x.vat_rate.value,
                              net_cents=x.net_cents, vat_cents=x.vat_cents) for x in inv.lines],
        net_cents=totals.net_cents, vat_cents=totals.vat_cents, total_cents=totals.total_cents,
        paid_cents=inv.paid_cents, due_cents=inv.due_cents, credit_balance_cents=inv.credit_balance_cents,
        contribution_cents=stored.contribution_cents, contribution_rate_bp=stored.contribution_rate_bp,
        payments=[pb.Payment(payment_id=p.payment_id, amount_cents=p.amount_cents, paid_on=p.paid_on.isoformat())
                  for p in inv.payments],
        credit_note_number=str(note.number) if note else "", credit_note_on=_iso(note.issued_on if note else None),
        credit_note_reason=note.reason if note else "",
    )


def terms_to_pb(t: ContractTerms) -> pb.ContractTerms:
    return pb.ContractTerms(start_date=t.start.isoformat(), end_date=t.end.isoformat(), days=t.days or 0,
                            hours=str(t.hours) if t.hours is not None else "", gross_cents=t.gross_cents,
                            job_title=t.job_title, joint_committee=t.joint_committee)


def cost_to_pb(cost: ContractCost | None) -> pb.ContractCost:
    if cost is None:
        return pb.ContractCost()
    return pb.ContractCost(gross_cents=cost.gross_cents, social_charges_cents=cost.social_charges_cents,
                           employer_cost_cents=cost.employer_cost_cents,
                           employment_contribution_cents=cost.employment_contribution_cents,
                           total_cents=cost.total_cents)


def contract_to_pb(stored: StoredContract) -> pb.Contract:
    c = stored.contract
    return pb.Contract(contract_id=c.contract_id, member_id=c.member_id, activity_id=c.activity_id,
                       state=CONTRACT_STATE_TO_PB[c.state], terms=terms_to_pb(c.terms), cost=cost_to_pb(c.cost),
                       reserved_cents=c.reserved_cents, revision=stored.revision,
                       created_at=timestamp(stored.created_at), updated_at=timestamp(stored.updated_at),
                       gross_paid_cents=c.gross_paid_cents, spent_cents=c.spent_cents)


def payroll_run_to_pb(row: Any) -> pb.PayrollRun:
    """A payroll_runs row as the API and the contract.payroll_recorded event show it."""
    employer_cost = row.gross_cents + row.social_charges_cents
    return pb.PayrollRun(
        contract_id=row.contract_id, payroll_reference=row.payroll_reference, paid_on=row.paid_on.isoformat(),
        cost=pb.ContractCost(gross_cents=row.gross_cents, social_charges_cents=row.social_charges_cents,
                             employer_cost_cents=employer_cost,
                             employment_contribution_cents=row.employment_contribution_cents,
                             total_cents=row.total_cents),
        recorded_at=timestamp(row.recorded_at))


def employee_from_row(row: Any) -> events_pb2.Employee:
    """The employee as contract events carry it: pseudonymous ids and the language, no names (the
    deprecated name fields stay empty; a payroll system asks membership for names)."""
    return events_pb2.Employee(member_id=row.member_id, member_number=row.member_number,
                               preferred_language=row.preferred_language)


def share_fee_to_pb(row: Any, member_number: str = "", payments: list[Any] | None = None) -> pb.ShareFee:
    return pb.ShareFee(fee_id=row.fee_id, member_id=row.member_id, member_number=member_number, year=row.year,
                       amount_cents=row.amount_cents, number=row.number,
                       state=SHARE_FEE_STATE_TO_PB[row.state], paid_cents=row.paid_cents,
                       bank_reference=row.bank_reference or "", paid_at=timestamp(row.paid_at),
                       due_cents=max(row.amount_cents - row.paid_cents, 0),
                       payments=[pb.ShareFeePayment(bank_reference=p.bank_reference, amount_cents=p.amount_cents,
                                                    recorded_at=timestamp(p.recorded_at)) for p in payments or ()])
