"""Billing admin commands.

Through the running api (`coop statements ...`, gRPC):
    coop statements --year 2026 --out statements/ [--format html|text|pdf] [--language fr]
        every member's yearly statement written as one file per member, with a progress bar;
        an interrupted run resumes where it stopped (the files already written are kept)

Straight on the database, no api needed (`python -m coop_billing.entrypoints.cli`):
    bill-share-fees --year 2027 [--amount-cents 3000]   bill the annual share of every active member
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
from coop_billing.adapters.repository import BillingUnitOfWork
from coop_billing.domain.errors import DomainError
from coop_billing.service_layer import services
from coop_platform.cli_main import cli_metadata
from coop_platform.config import load_settings
from coop_platform.db import make_engine, make_session_factory
from coop_platform.migrations import upgrade

STATEMENT_FORMATS = {"html": "html", "text": "txt", "pdf": "pdf"}


def write_statements(stub: pb_grpc.BillingServiceStub, metadata: list[tuple[str, str]], year: int, out: Path,
                     fmt: str = "html", language: str = "", quiet: bool = False) -> int:
    """Stream every statement of `year` into `out`/<member_id>-<year>.<ext>; returns how many were
    written. Resumes after the last file an earlier, interrupted run wrote (member-id order)."""
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
    stub = pb_grpc.BillingServiceStub(grpc.insecure_channel(args.target))
    try:
        written = write_statements(stub, cli_metadata(), args.year, Path(args.out), args.format, args.language,
                                   args.quiet)
    except grpc.RpcError as exc:
        print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    print(f"{written} statements for {args.year} written to {args.out}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`coop statements`: registered in coop_platform.cli_main.SERVICE_COMMANDS."""
    p = sub.add_parser("statements", help="write every member's yearly statement (one file each)")
    p.add_argument("--target", default=os.environ.get("COOP_BILLING_ADDR", "127.0.0.1:50052"),
                   help="billing api address")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--out", required=True, help="directory for the files (created if needed)")
    p.add_argument("--format", choices=sorted(STATEMENT_FORMATS), default="html")
    p.add_argument("--language", default="", help="fr, nl or en for all; default: each member's own")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_statements)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coop_billing.entrypoints.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    bill = sub.add_parser("bill-share-fees", help="bill the annual share to every active member")
    bill.add_argument("--year", type=int, required=True)
    bill.add_argument("--amount-cents", type=int, default=0)
    args = parser.parse_args(argv)
    settings = load_settings(SERVICE_NAME, "api")
    upgrade(SERVICE_NAME, settings.database_url)
    sessions = make_session_factory(make_engine(settings.database_url))
    try:
        billed, already = services.bill_share_fees(lambda: BillingUnitOfWork(sessions), args.year,
                                                   args.amount_cents)
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.year}: billed {billed} share fees, {already} were already billed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
