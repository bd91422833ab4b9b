"""Billing admin commands that need no running api: `python -m coop_billing.entrypoints.cli`.

    bill-share-fees --year 2027 [--amount-cents 3000]   bill the annual share of every active member
    record-payroll CONTRACT_ID --gross-cents 150000 --reference PR-2027-03 [--paid-on 2027-03-31]
                                                        record a payroll run paid on a contract
    complete-contract CONTRACT_ID                       complete an ended contract, releasing the rest
"""

from __future__ import annotations

import argparse
import sys

from coop_billing import SERVICE_NAME
from coop_billing.adapters import messages as msg
from coop_billing.adapters.repository import BillingUnitOfWork
from coop_billing.domain.errors import DomainError
from coop_billing.service_layer import services
from coop_platform.config import load_settings
from coop_platform.db import make_engine, make_session_factory
from coop_platform.migrations import upgrade


def _bill_share_fees(uow_factory: services.UowFactory, args: argparse.Namespace) -> None:
    billed, already = services.bill_share_fees(uow_factory, args.year, args.amount_cents)
    print(f"{args.year}: billed {billed} share fees, {already} were already billed")


def _record_payroll(uow_factory: services.UowFactory, args: argparse.Namespace) -> None:
    paid_on = msg.parse_optional_date(args.paid_on or "", "paid_on")
    stored, run, already = services.record_payroll(uow_factory, args.contract_id, args.reference,
                                                   args.gross_cents, paid_on)
    c = stored.contract
    verb = "was already recorded" if already else "recorded"
    print(f"payroll {run.payroll_reference} {verb}: gross {run.gross_cents} + charges {run.social_charges_cents}"
          f" + employment contribution {run.employment_contribution_cents} = {run.total_cents} cents"
          f" paid on {run.paid_on}")
    print(f"contract {c.contract_id}: {c.state.value}, gross paid {c.gross_paid_cents} of {c.terms.gross_cents},"
          f" spent {c.spent_cents}, still reserved {c.reserved_cents} cents")


def _complete_contract(uow_factory: services.UowFactory, args: argparse.Namespace) -> None:
    stored, released = services.complete_contract(uow_factory, args.contract_id)
    c = stored.contract
    print(f"contract {c.contract_id}: {c.state.value}, spent {c.spent_cents} cents,"
          f" released {released} cents to the activity budget")


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings(SERVICE_NAME, "api")
    upgrade(SERVICE_NAME, settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        args.run(lambda: BillingUnitOfWork(sessions), args)
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
