"""Billing admin commands.

Through the running api (gRPC, as any client):
    coop statements --year 2026 --out statements/ [--format html|text|pdf] [--language fr]
        every member's yearly statement written as one file per member, with a progress bar;
        an interrupted run resumes where it stopped (the files already written are kept)
    coop invoices list|show|create|issue|pay|cancel ...    members' invoices (cli_documents.py)
    coop contracts list|show|cancel|complete ...           employment contracts (cli_documents.py)

Straight on the database, no api needed (`python -m coop_billing.entrypoints.cli`):
    bill-share-fees --year 2027 [--amount-cents 3000]   bill the annual share of every active member
    record-payroll CONTRACT_ID --gross-cents 150000 --reference PR-2027-03 [--paid-on 2027-03-31]
                                                        record a payroll run paid on a contract
    complete-contract CONTRACT_ID                       complete an ended contract, releasing the rest
    close-year --year 2026                              close a year that has ended (irreversible)
    purge-idempotency-keys                              forget request_ids past their retention
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import grpc
from tqdm import tqdm

from coop.billing.v1 import billing_pb2 as pb
from coop.billing.v1 import billing_pb2_grpc as pb_grpc
from coop_billing import SERVICE_NAME
from coop_billing.adapters.unit_of_work import SqlBillingUnitOfWork
from coop_billing.domain.checks import parse_optional_date
from coop_billing.entrypoints import cli_documents
from coop_billing.service_layer import contracts, share_fees, years
from coop_billing.service_layer.ports import BillingUnitOfWork
from coop_cli.main import cli_metadata
from coop_domain.errors import DomainError
from coop_domain.principal import Principal
from coop_platform.channels import open_channel
from coop_platform.config import load_settings
from coop_platform.db import make_engine, make_session_factory
from coop_platform.migrations import upgrade

STATEMENT_FORMATS = {"html": "html", "text": "txt", "pdf": "pdf"}


def write_statements(stub: pb_grpc.BillingServiceStub, metadata: list[tuple[str, str]], year: int, out: Path,
                     fmt: str = "html", language: str = "", quiet: bool = False,
                     failed: list[tuple[str, str]] | None = None) -> int:
    """Stream every statement of `year` into `out`/<member_id>-<year>.<ext>; returns how many were
    written. Resumes after the last file an earlier, interrupted run wrote (member-id order).
    A member whose statement the service could not produce gets no file; (member id, reason)
    is appended to `failed` and the run goes on."""
    ext = STATEMENT_FORMATS[fmt]
    out.mkdir(parents=True, exist_ok=True)
    done = sorted(p.name.removesuffix(f"-{year}.{ext}") for p in out.glob(f"*-{year}.{ext}"))
    after = done[-1] if done else ""
    stream = stub.StreamStatements(pb.StreamStatementsRequest(
        year=year, language=language, include_pdf=fmt == "pdf", page_token=after), metadata=metadata)
    bar = tqdm(unit="statement", desc=f"statements {year}", disable=quiet, initial=len(done))
    written = 0
    try:
        for statement in stream:
            if bar.total is None:
                bar.total = len(done) + statement.stream_total
                bar.refresh()
            if statement.error:
                if failed is not None:
                    failed.append((statement.member_id, statement.error))
                bar.update(1)
                continue
            body = statement.pdf if fmt == "pdf" else (statement.html if fmt == "html" else statement.text).encode()
            target = out / f"{statement.member_id}-{year}.{ext}"
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(body)
            partial.replace(target)  # a file is either whole or absent: resuming never trusts a half file
            written += 1
            bar.update(1)
    finally:
        bar.close()
    return written


def _statements(args: argparse.Namespace) -> int:
    stub = pb_grpc.BillingServiceStub(open_channel(args.target))
    failed: list[tuple[str, str]] = []
    try:
        written = write_statements(stub, cli_metadata(), args.year, Path(args.out), args.format, args.language,
                                   args.quiet, failed)
    except grpc.RpcError as exc:
        print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    print(f"{written} statements for {args.year} written to {args.out}")
    for member_id, reason in failed:
        print(f"error: no statement for member {member_id}: {reason}", file=sys.stderr)
    return 1 if failed else 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`coop statements`, `coop invoices`, `coop contracts`: found through the billing manifest
    (coop.services)."""
    cli_documents.add_invoice_parsers(sub)
    cli_documents.add_contract_parsers(sub)
    p = sub.add_parser("statements", help="write every member's yearly statement (one file each)",
                       description="Every member's statement of a year, one file each, with a progress bar; "
                                   "an interrupted run resumes where it stopped.")
    cli_documents.api_target(p)
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--out", required=True, help="directory for the files (created if needed)")
    p.add_argument("--format", choices=sorted(STATEMENT_FORMATS), default="html")
    p.add_argument("--language", default="", help="fr, nl or en for all; default: each member's own")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_statements)


def _operator() -> Principal:
    """Whoever runs these commands on the database: the back office (admin and service)."""
    return Principal(subject=f"cli:{os.environ.get('USER', 'admin')}", roles=frozenset({"admin", "service"}))


def _bill_share_fees(uow: BillingUnitOfWork, args: argparse.Namespace) -> None:
    billed, already = share_fees.bill_share_fees(uow, _operator(), args.year, args.amount_cents)
    print(f"{args.year}: billed {billed} share fees, {already} were already billed")


def _record_payroll(uow: BillingUnitOfWork, args: argparse.Namespace) -> None:
    paid_on = parse_optional_date(args.paid_on or "", "paid_on")
    stored, run, already = contracts.record_payroll(uow, _operator(), args.contract_id, args.reference,
                                                    args.gross_cents, paid_on)
    c = stored.contract
    verb = "was already recorded" if already else "recorded"
    print(f"payroll {run.payroll_reference} {verb}: gross {run.gross_cents} + charges {run.social_charges_cents}"
          f" + employment contribution {run.employment_contribution_cents} = {run.total_cents} cents"
          f" paid on {run.paid_on}")
    print(f"contract {c.contract_id}: {c.state.value}, gross paid {c.gross_paid_cents} of {c.terms.gross_cents},"
          f" spent {c.spent_cents}, still reserved {c.reserved_cents} cents")


def _complete_contract(uow: BillingUnitOfWork, args: argparse.Namespace) -> None:
    stored, released = contracts.complete_contract(uow, _operator(), args.contract_id)
    c = stored.contract
    print(f"contract {c.contract_id}: {c.state.value}, spent {c.spent_cents} cents,"
          f" released {released} cents to the activity budget")


def _close_year(uow: BillingUnitOfWork, args: argparse.Namespace) -> None:
    row, already = years.close_year(uow, _operator(), args.year)
    verb = "was already closed" if already else "is closed"
    print(f"{row.year} {verb} (since {row.closed_at:%Y-%m-%d %H:%M} UTC, by {row.closed_by}): "
          "nothing can be dated inside it any more")


def _purge_idempotency_keys(uow: BillingUnitOfWork, args: argparse.Namespace) -> None:
    print(f"{years.purge_idempotency_keys(uow, _operator())} idempotency keys purged")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coop_billing.entrypoints.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    bill = sub.add_parser("bill-share-fees", help="bill the annual share to every active member")
    bill.add_argument("--year", type=int, required=True)
    bill.add_argument("--amount-cents", type=int, default=0)
    bill.set_defaults(run=_bill_share_fees)
    pay = sub.add_parser("record-payroll", help="record a payroll run paid on a contract (idempotent per reference)")
    pay.add_argument("contract_id")
    pay.add_argument("--gross-cents", type=int, required=True, help="gross salary actually paid in this run")
    pay.add_argument("--reference", required=True, help="the payroll system's run or payslip id")
    pay.add_argument("--paid-on", default="", help="YYYY-MM-DD (default: today)")
    pay.set_defaults(run=_record_payroll)
    done = sub.add_parser("complete-contract", help="complete an ended contract; what is still reserved goes back")
    done.add_argument("contract_id")
    done.set_defaults(run=_complete_contract)
    close = sub.add_parser("close-year", help="close a year that has ended: nothing is dated inside it any more")
    close.add_argument("--year", type=int, required=True)
    close.set_defaults(run=_close_year)
    purge = sub.add_parser("purge-idempotency-keys", help="forget request_ids older than the retention "
                                                          "(COOP_IDEMPOTENCY_RETENTION_HOURS; the worker does it hourly)")
    purge.set_defaults(run=_purge_idempotency_keys)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings(SERVICE_NAME, "api")
    upgrade(SERVICE_NAME, settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        args.run(SqlBillingUnitOfWork(sessions), args)
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
