"""Billing admin commands that need no running api: `python -m coop_billing.entrypoints.cli`.

    bill-share-fees --year 2027 [--amount-cents 3000]   bill the annual share of every active member
"""

from __future__ import annotations

import argparse
import sys

from coop_billing import SERVICE_NAME
from coop_billing.adapters.repository import BillingUnitOfWork
from coop_billing.domain.errors import DomainError
from coop_billing.service_layer import services
from coop_platform.config import load_settings
from coop_platform.db import make_engine, make_session_factory
from coop_platform.migrations import upgrade


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
