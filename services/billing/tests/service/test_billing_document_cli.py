"""`coop invoices ...` and `coop contracts ...`: the back office's commands, run against the api
the way `coop` runs them (parsed by coop's own parser, gRPC with the caller's token)."""

from __future__ import annotations

import io
import json

from coop_billing.entrypoints.cli_documents import run
from coop_cli.main import build_parser
from coop_testkit import cooperative_today


def _coop(svc, metadata, *argv: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(list(argv))
    out, err = io.StringIO(), io.StringIO()
    code = run(args.command_fn, svc.stub, metadata, args, out, err)
    return code, out.getvalue(), err.getvalue()


def test_invoices_are_created_issued_paid_listed_and_shown_from_the_command_line(svc, h):
    member = h.admit(svc)
    act, cl = h.activity(svc, member), h.client(svc)
    code, out, _ = _coop(svc, h.ADMIN, "invoices", "create", "--member", member.member_id, "--activity",
                         act.activity_id, "--client", cl.client_id, "--line", "Concert;1;100000;21",
                         "--line", "Travel;2;5000", "--issue", "--json")
    assert code == 0
    created = json.loads(out)
    assert created["number"].startswith(f"{cooperative_today().year}-") and created["totalCents"] == str(121_000 + 12_100)
    code, out, _ = _coop(svc, h.TELLER, "invoices", "pay", created["invoiceId"], "--bank-reference", "BANK-cli",
                         "--amount-cents", "133100")
    assert code == 0 and " paid " in out
    code, out, _ = _coop(svc, h.ADMIN, "invoices", "list", "--member", member.member_id)
    assert code == 0 and out.count("\n") == 1 and created["number"] in out and "Théâtre du Parc" in out
    code, out, _ = _coop(svc, h.ADMIN, "invoices", "show", created["invoiceId"])
    assert code == 0 and out.startswith(created["invoiceId"])


def test_a_refused_command_prints_the_reason_and_the_field_and_exits_1(svc, h):
    member = h.admit(svc)
    act, cl = h.activity(svc, member), h.client(svc)
    code, out, err = _coop(svc, h.ADMIN, "invoices", "create", "--member", member.member_id, "--activity",
                           act.activity_id, "--client", cl.client_id, "--line", "Concert;1;100000;99")
    assert code == 1 and out == ""
    assert err.startswith("error: INVALID_ARGUMENT") and "vat_rate" in err
    code, _, err = _coop(svc, member.md, "invoices", "list", "--member", h.admit(svc).member_id)
    assert code == 1 and "PERMISSION_DENIED" in err


def test_contracts_are_listed_shown_and_cancelled_from_the_command_line(svc, h):
    from coop.billing.v1 import billing_pb2 as pb

    member = h.admit(svc)
    act = h.funded_activity(svc, member, 1_000_000)
    contract = svc.stub.RequestContract(pb.RequestContractRequest(
        member_id=member.member_id, activity_id=act.activity_id, terms=h.terms()), metadata=member.md)
    code, out, _ = _coop(svc, h.ADMIN, "contracts", "list", "--member", member.member_id)
    assert code == 0 and out.startswith(contract.contract_id) and "reserved" in out
    code, out, _ = _coop(svc, h.ADMIN, "contracts", "show", contract.contract_id, "--json")
    assert code == 0 and json.loads(out)["terms"]["jobTitle"] == "Musician"
    code, out, _ = _coop(svc, h.ADMIN, "contracts", "cancel", contract.contract_id, "--reason", "gig cancelled")
    assert code == 0 and " cancelled " in out


def test_every_command_explains_itself():
    parser = build_parser()
    for noun, verbs in (("invoices", ("list", "show", "create", "issue", "pay", "cancel")),
                        ("contracts", ("list", "show", "cancel", "complete"))):
        for verb in verbs:
            help_text = io.StringIO()
            sub = parser._subparsers._group_actions[0].choices[noun]._subparsers._group_actions[0].choices[verb]
            sub.print_help(help_text)
            assert sub.description and "--json" in help_text.getvalue(), (noun, verb)
