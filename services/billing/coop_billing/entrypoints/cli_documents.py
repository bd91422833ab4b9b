"""`coop invoices ...` and `coop contracts ...`: the back office's view of members' invoices and
employment contracts, through the running billing api (gRPC, as any client; the api decides who
may do what). Added to `coop` by entrypoints/cli.py's add_parser.

Each command prints one line per record, or the full records as JSON with --json; a refusal
prints the status, the reason and the fields at fault, and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from google.protobuf import json_format

from coop.billing.v1 import billing_pb2 as pb
from coop.billing.v1 import billing_pb2_grpc as pb_grpc
from coop_cli.main import cli_metadata
from coop_platform.channels import open_channel
from coop_platform.rich_status import details_of

Metadata = list[tuple[str, str]]
Command = Callable[[pb_grpc.BillingServiceStub, Metadata, argparse.Namespace], Iterator[Any]]


def _euros(cents: int) -> str:
    return f"{cents / 100:,.2f} EUR"


def invoice_line(i: pb.Invoice) -> str:
    state = pb.InvoiceState.Name(i.state).removeprefix("INVOICE_STATE_").lower()
    return (f"{i.invoice_id}  {i.number or '(draft)':<12} {state:<14} {i.issued_on or '-':<10}  "
            f"total {_euros(i.total_cents):>16}  due {_euros(i.due_cents):>16}  {i.client.name}")


def contract_line(c: pb.Contract) -> str:
    state = pb.ContractState.Name(c.state).removeprefix("CONTRACT_STATE_").lower()
    return (f"{c.contract_id}  {state:<10} {c.terms.start_date} .. {c.terms.end_date}  "
            f"gross {_euros(c.terms.gross_cents):>14}  reserved {_euros(c.reserved_cents):>14}  {c.terms.job_title}")


def _pages(fetch: Callable[[str], Any], items: str) -> Iterator[Any]:
    token = ""
    while True:
        page = fetch(token)
        yield from getattr(page, items)
        token = page.next_page_token
        if not token:
            return


def _parse_line(text: str) -> pb.InvoiceLine:
    """"description;quantity;unit price in cents;VAT rate" (quantity and rate optional: 1 and 21)."""
    parts = [p.strip() for p in text.split(";")]
    if len(parts) not in (3, 4) or not parts[2].lstrip("-").isdigit():
        raise argparse.ArgumentTypeError(f"a line is 'description;quantity;unit_price_cents[;vat_rate]', not {text!r}")
    return pb.InvoiceLine(description=parts[0], quantity=parts[1] or "1", unit_price_cents=int(parts[2]),
                          vat_rate=parts[3] if len(parts) == 4 else "21")


# ------------------------------------------------------------------ invoices

def _invoices_list(stub: pb_grpc.BillingServiceStub, md: Metadata, args: argparse.Namespace) -> Iterator[Any]:
    return _pages(lambda token: stub.ListInvoices(pb.ListInvoicesRequest(
        member_id=args.member, year=args.year, page_token=token, page_size=200), metadata=md), "invoices")


def _invoices_show(stub: pb_grpc.BillingServiceStub, md: Metadata, args: argparse.Namespace) -> Iterator[Any]:
    yield stub.GetInvoice(pb.GetInvoiceRequest(invoice_id=args.invoice_id), metadata=md)


def _invoices_create(stub: pb_grpc.BillingServiceStub, md: Metadata, args: argparse.Namespace) -> Iterator[Any]:
    yield stub.CreateInvoice(pb.CreateInvoiceRequest(
        member_id=args.member, activity_id=args.activity, client_id=args.client, lines=args.line, issue=args.issue,
        issued_on=args.issued_on, due_on=args.due_on, request_id=args.request_id), metadata=md)


def _invoices_issue(stub: pb_grpc.BillingServiceStub, md: Metadata, args: argparse.Namespace) -> Iterator[Any]:
    yield stub.IssueInvoice(pb.IssueInvoiceRequest(invoice_id=args.invoice_id, issued_on=args.issued_on),
                            metadata=md)


def _invoices_pay(stub: pb_grpc.BillingServiceStub, md: Metadata, args: argparse.Namespace) -> Iterator[Any]:
    yield stub.RecordPayment(pb.RecordPaymentRequest(
        invoice_id=args.invoice_id, payment_id=args.bank_reference, amount_cents=args.amount_cents,
        paid_on=args.paid_on, request_id=args.request_id), metadata=md)


def _invoices_cancel(stub: pb_grpc.BillingServiceStub, md: Metadata, args: argparse.Namespace) -> Iterator[Any]:
    yield stub.CancelInvoice(pb.CancelInvoiceRequest(invoice_id=args.invoice_id, reason=args.reason, on=args.on),
                             metadata=md)


# ------------------------------------------------------------------ contracts

def _contracts_list(stub: pb_grpc.BillingServiceStub, md: Metadata, args: argparse.Namespace) -> Iterator[Any]:
    return _pages(lambda token: stub.ListContracts(pb.ListContractsRequest(
        member_id=args.member, page_token=token, page_size=200), metadata=md), "contracts")


def _contracts_show(stub: pb_grpc.BillingServiceStub, md: Metadata, args: argparse.Namespace) -> Iterator[Any]:
    yield stub.GetContract(pb.GetContractRequest(contract_id=args.contract_id), metadata=md)


def _contracts_cancel(stub: pb_grpc.BillingServiceStub, md: Metadata, args: argparse.Namespace) -> Iterator[Any]:
    yield stub.CancelContract(pb.CancelContractRequest(contract_id=args.contract_id, reason=args.reason),
                              metadata=md)


def _contracts_complete(stub: pb_grpc.BillingServiceStub, md: Metadata, args: argparse.Namespace) -> Iterator[Any]:
    yield stub.CompleteContract(pb.CompleteContractRequest(contract_id=args.contract_id), metadata=md)


# ------------------------------------------------------------------ running a command

def run(command: Command, stub: pb_grpc.BillingServiceStub, metadata: Metadata, args: argparse.Namespace,
        out: Any = None, err: Any = None) -> int:
    """Run a command against a stub: its records printed (lines or JSON); 1 on a refusal."""
    out, err = out or sys.stdout, err or sys.stderr
    printed = args.printer
    try:
        for record in command(stub, metadata, args):
            text = json.dumps(json_format.MessageToDict(record), sort_keys=True) if args.json else printed(record)
            print(text, file=out)
    except grpc.RpcError as exc:
        found = details_of(exc)
        print(f"error: {found.code.name}: {found.message}" + (f" [{found.reason}]" if found.reason else ""), file=err)
        for field, why in found.field_violations.items():
            print(f"  {field}: {why}", file=err)
        if found.retry_after_seconds:
            print(f"  retry after {found.retry_after_seconds:g} s", file=err)
        return 1
    return 0


def _main(args: argparse.Namespace) -> int:
    stub = pb_grpc.BillingServiceStub(open_channel(args.target))
    return run(args.command_fn, stub, cli_metadata(), args)


def _command(sub: argparse._SubParsersAction, name: str, fn: Command, printer: Callable[[Any], str],
             help_: str, description: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_, description=description)
    p.add_argument("--json", action="store_true", help="print the full records as JSON (one per line)")
    p.set_defaults(func=_main, command_fn=fn, printer=printer)
    return p


def _retry_key(p: argparse.ArgumentParser) -> None:
    p.add_argument("--request-id", default=str(uuid.uuid4()),
                   help="idempotency key: run the command again with the same one and the write happens once "
                        "(default: a new one per run)")


def _noun(sub: argparse._SubParsersAction, name: str, help_: str, description: str, list_fn: Command,
          printer: Callable[[Any], str], list_description: str) -> tuple[argparse._SubParsersAction, Any]:
    """`coop <name>` with its --target, its verbs, and its `list --member` verb."""
    p = sub.add_parser(name, help=help_, description=description)
    api_target(p)
    verbs = p.add_subparsers(dest="verb", required=True)
    c = _command(verbs, "list", list_fn, printer, f"a member's {name}, oldest first", list_description)
    c.add_argument("--member", required=True, help="the member's id (UUID)")
    return verbs, c


def add_invoice_parsers(sub: argparse._SubParsersAction) -> None:
    verbs, c = _noun(sub, "invoices", "members' invoices: list, show, create, issue, pay, cancel",
                     "Members' invoices, through the billing api. An issued invoice is never edited: it is "
                     "cancelled by a credit note.", _invoices_list, invoice_line,
                     "Every invoice of a member (of one year with --year): id, number, state, issue date, totals.")
    c.add_argument("--year", type=int, default=0, help="only this year's invoices")
    c = _command(verbs, "show", _invoices_show, invoice_line, "one invoice", "One invoice (with --json: its lines, "
                 "payments and credit note).")
    c.add_argument("invoice_id")
    c = _command(verbs, "create", _invoices_create, invoice_line, "a draft invoice, or an issued one with --issue",
                 "Create an invoice for a member's activity and client. --line, repeated, is "
                 "'description;quantity;unit_price_cents[;vat_rate]' (VAT 21 by default: 0, 6, 12, 21 or "
                 "reverse_charge). With --issue it is numbered and its contribution fixed at once.")
    c.add_argument("--member", required=True, help="the member's id (UUID)")
    c.add_argument("--activity", required=True, help="the member's activity id (UUID)")
    c.add_argument("--client", required=True, help="the client id (UUID), see CreateClient")
    c.add_argument("--line", type=_parse_line, action="append", required=True, help="an invoice line (repeat)")
    c.add_argument("--issue", action="store_true", help="issue it now (the member must be in good standing)")
    c.add_argument("--issued-on", default="", help="YYYY-MM-DD, at most 31 days back (default: today)")
    c.add_argument("--due-on", default="", help="YYYY-MM-DD (default: 30 days after issue)")
    _retry_key(c)
    c = _command(verbs, "issue", _invoices_issue, invoice_line, "issue a draft: number it, fix its contribution",
                 "Give a draft its gapless number of the year; numbers follow dates.")
    c.add_argument("invoice_id")
    c.add_argument("--issued-on", default="", help="YYYY-MM-DD (default: today)")
    c = _command(verbs, "pay", _invoices_pay, invoice_line, "record money received on an invoice",
                 "Record a bank transfer on an invoice; its budget is credited. The bank reference is "
                 "recorded once per client and year.")
    c.add_argument("invoice_id")
    c.add_argument("--bank-reference", required=True, help="the transfer's reference")
    c.add_argument("--amount-cents", type=int, required=True)
    c.add_argument("--paid-on", default="", help="YYYY-MM-DD (default: today)")
    _retry_key(c)
    c = _command(verbs, "cancel", _invoices_cancel, invoice_line, "cancel an issued invoice by a credit note",
                 "Cancel an issued invoice by a credit note dated --on (default today).")
    c.add_argument("invoice_id")
    c.add_argument("--reason", required=True)
    c.add_argument("--on", default="", help="YYYY-MM-DD of the credit note (default: today)")


def add_contract_parsers(sub: argparse._SubParsersAction) -> None:
    verbs, _ = _noun(sub, "contracts", "members' employment contracts: list, show, cancel, complete",
                     "Employment contracts, through the billing api. Their full cost is reserved on the "
                     "activity budget when requested (by the member, in the portal).", _contracts_list,
                     contract_line, "Every contract of a member: id, state, period, gross pay, what is still "
                     "reserved.")
    c = _command(verbs, "show", _contracts_show, contract_line, "one contract",
                 "One contract (with --json: its terms, cost and payroll totals).")
    c.add_argument("contract_id")
    c = _command(verbs, "cancel", _contracts_cancel, contract_line, "cancel a contract before its start",
                 "Cancel a contract before its start date; its reservation goes back to the budget.")
    c.add_argument("contract_id")
    c.add_argument("--reason", required=True)
    c = _command(verbs, "complete", _contracts_complete, contract_line, "complete an ended contract",
                 "Complete a contract on or after its end date; what is still reserved goes back to the budget.")
    c.add_argument("contract_id")


def api_target(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default=os.environ.get("COOP_BILLING_ADDR", "127.0.0.1:50052"),
                   help="billing api address (default: $COOP_BILLING_ADDR or 127.0.0.1:50052)")
