"""Domain objects and rows <-> protobuf messages (the API and the event contract),
and the parsing of request fields into domain values (every failure is INVALID_ARGUMENT)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from coop.billing.v1 import billing_pb2 as pb
from coop.billing.v1 import events_pb2
from coop_billing.domain import redistribution as rd
from coop_billing.domain.budget import ContractCost
from coop_billing.domain.checks import (
    NACE,
    check_cents,
    check_text,
    parse_date,
    parse_decimal,
    parse_optional_date,
)
from coop_billing.domain.contract import ContractState, ContractTerms, StoredContract
from coop_billing.domain.invoice import InvoiceLine, InvoiceState, StoredInvoice
from coop_billing.domain.vat import Client
from coop_domain.errors import DomainError, InvalidArgument
from coop_platform.pbtypes import to_timestamp

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


# ------------------------------------------------------------------ request parsing







def line_from_pb(line: pb.InvoiceLine) -> InvoiceLine:
    description = check_text(line.description, "description")
    quantity = parse_decimal(line.quantity or "1", "quantity")
    if quantity > 1_000_000:
        raise InvalidArgument("quantity is absurdly large (max 1000000)", {"field": "quantity"})
    check_cents(line.unit_price_cents, "unit_price_cents", allow_zero=True)
    return InvoiceLine(description, quantity, line.unit_price_cents, line.vat_rate or "21")


def lines_from_pb(lines: Iterable[pb.InvoiceLine], field: str = "lines") -> list[InvoiceLine]:
    """Every line checked; a refusal names the request field of its line ("lines[2].vat_rate")."""
    out = []
    for n, line in enumerate(lines):
        try:
            out.append(line_from_pb(line))
        except DomainError as refused:
            path = f"{field}[{n}].{refused.field}" if refused.field else f"{field}[{n}]"
            raise type(refused)(refused.message, field=path, reason=refused.reason, **refused.detail) from None
    return out


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


# ------------------------------------------------------------------ responses

timestamp = to_timestamp  # the API's Timestamp of a stored datetime (coop_platform.pbtypes)



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


# ------------------------------------------------------------------ redistribution specs

def envelope_from_pb(spec: pb.EnvelopeSpec) -> rd.Envelope:
    check_cents(spec.amount_cents, "envelope.amount_cents")
    if not 0 <= spec.retained_bp <= 10_000:
        raise InvalidArgument("retained_bp is between 0 and 10000", {"field": "envelope.retained_bp"})
    check_cents(spec.min_revenue_cents, "envelope.min_revenue_cents", allow_zero=True)
    return rd.Envelope(spec.amount_cents, spec.retained_bp, spec.min_revenue_cents or 1,
                       parse_optional_date(spec.reference_start, "envelope.reference_start"),
                       parse_optional_date(spec.reference_end, "envelope.reference_end"))


def _weight(value: str, name: str) -> Decimal:
    weight = parse_decimal(value, name)
    if weight < 0 or weight > 1000 or weight != weight.quantize(Decimal("0.0001")):
        raise InvalidArgument(f"{name} must be between 0 and 1000 with at most 4 decimals", {"field": name})
    return weight


def _key(part: pb.KeyPart) -> Any:
    if part.kind == "pro_rata_revenue":
        return rd.ProRataRevenue()
    if part.kind == "equal":
        return rd.EqualShares()
    if part.kind in ("sector_revenue", "sector_head"):
        if len(part.sector_weights) > 1000:
            raise InvalidArgument("at most 1000 sector weights", {"field": "sector_weights"})
        weights = {}
        for code, value in part.sector_weights.items():
            if not NACE.match(code.strip()):
                raise InvalidArgument(f"sector {code!r} is not a NACE code", {"field": "sector_weights"})
            weights[code.strip()] = _weight(value, "sector_weights")
        return rd.SectorWeighted(weights, "revenue" if part.kind == "sector_revenue" else "head",
                                 _weight(part.default_weight or "1", "default_weight"))
    raise InvalidArgument("key kind must be pro_rata_revenue, equal, sector_revenue or sector_head",
                          {"field": "kind"})


def scenario_from_pb(spec: pb.ScenarioSpec) -> rd.Scenario:
    name = check_text(spec.name, "scenario.name", limit=100)
    if not spec.parts or len(spec.parts) > 10:
        raise InvalidArgument("a scenario has 1 to 10 key parts", {"field": "scenario.parts"})
    if len(spec.parts) == 1:
        key = _key(spec.parts[0])
    else:
        for part in spec.parts:
            if not 0 < part.share <= 10_000:
                raise InvalidArgument("each part of a mix has a share in 1..10000", {"field": "share"})
        key = rd.Mixed(tuple((p.share, _key(p)) for p in spec.parts))
    check_cents(spec.floor_cents, "floor_cents", allow_zero=True)
    check_cents(spec.cap_cents, "cap_cents", allow_zero=True)
    return rd.Scenario(name, key, spec.floor_cents, spec.cap_cents or None)


def spec_json(spec: Any) -> str:
    return json.dumps(json_format.MessageToDict(spec), sort_keys=True)


# ------------------------------------------------------------------ answers kept for retries

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class ProtoReply(Generic[M]):
    """A use case's answer as the API gives it, and as a retry with the same request_id gets it
    back (service_layer.ports.Reply)."""

    message_type: type[M]
    convert: Callable[[Any], M]

    def of(self, result: Any) -> M:
        return self.convert(result)

    def dumps(self, answer: M) -> bytes:
        return answer.SerializeToString()

    def loads(self, data: bytes) -> M:
        return self.message_type.FromString(data)


def invoice_reply(stored: StoredInvoice) -> pb.Invoice:
    """The invoice as just written: the message its invoice.issued event carries, when it has one."""
    return stored.issued_message or invoice_to_pb(stored)


INVOICE_REPLY = ProtoReply(pb.Invoice, invoice_reply)
CONTRACT_REPLY = ProtoReply(pb.Contract, contract_to_pb)
SHARE_FEE_REPLY = ProtoReply(pb.ShareFee, lambda view: share_fee_to_pb(view.fee, view.member_number, view.payments))
