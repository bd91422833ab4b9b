"""`coop board initiatives ...`: the secretary's and management's initiative tasks over the
board's gRPC api (members use the portal).

    coop board initiatives list [--status collecting] [--json]
    coop board initiatives show ID [--json]
    coop board initiatives count ID
    coop board initiatives decide ID --admissible
    coop board initiatives decide ID --refuse --reason-fr TEXT --reason-nl TEXT --reason-en TEXT
    coop board initiatives signers ID [--json]          (the secretary in office only)
    coop board initiatives publish-outcome ID --kind rejected --text-fr TEXT --text-nl TEXT --text-en TEXT

The token: COOP_TOKEN (the secretary's or management's, from the cooperative's identity
provider), or else a development token with the "admin" role for --tenant (only services in
development mode accept it). Address: --target or COOP_BOARD_ADDR (default 127.0.0.1:50054).
Exit status 0 on success, 1 when the service refuses, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable

from google.protobuf import json_format

from coop.board.v1 import common_pb2 as cpb
from coop.board.v1 import initiatives_pb2 as pb
from coop.board.v1 import initiatives_pb2_grpc as pb_grpc
from coop_cli.rpc import add_connection_arguments, call_service

Stub = pb_grpc.InitiativeServiceStub
STATUSES = {name.removeprefix("INITIATIVE_STATUS_").lower(): number
            for name, number in pb.InitiativeStatus.items() if number}
STATUS_NAMES = {number: name for name, number in STATUSES.items()}
KINDS = {name.removeprefix("INITIATIVE_OUTCOME_KIND_").lower(): number
         for name, number in cpb.InitiativeOutcomeKind.items() if number}


def _run(args: argparse.Namespace, command: Callable[[Stub, list[tuple[str, str]], argparse.Namespace], int]) -> int:
    return call_service(args, Stub, command)


def _line(i: pb.Initiative) -> str:
    title = getattr(i.title, i.language, "") if i.language else ""
    overdue = " OVERDUE" if i.overdue else ""
    return (f"{STATUS_NAMES.get(i.status, '?'):<11} {i.signature_count:>7}/{i.threshold:<7} "
            f"{i.initiative_id}  {title}{overdue}")


def list_initiatives(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    token, rows = "", []
    while True:
        page = stub.ListInitiatives(pb.ListInitiativesRequest(status=STATUSES.get(args.status or "", 0),
                                                              page_token=token, page_size=500), metadata=md, timeout=30)
        rows.extend(page.initiatives)
        token = page.next_page_token
        if not token:
            break
    if args.json:
        print(json.dumps([json_format.MessageToDict(i) for i in rows], indent=2, ensure_ascii=False))
        return 0
    for i in rows:
        print(_line(i))
    return 0


def show(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    found = stub.GetInitiative(pb.GetInitiativeRequest(initiative_id=args.id), metadata=md, timeout=30).initiative
    if args.json:
        print(json.dumps(json_format.MessageToDict(found), indent=2, ensure_ascii=False))
        return 0
    print(_line(found))
    print("promoters: " + ", ".join(p.member_id for p in found.promoters))
    if found.HasField("forced_item"):
        print(f"forced item {found.forced_item.item_id} on meeting {found.forced_item.meeting_id}; outcome due "
              f"{found.outcome_due_at.ToJsonString()}")
    return 0


def count(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    c = stub.GetSignatureCount(pb.GetSignatureCountRequest(initiative_id=args.id), metadata=md, timeout=30)
    print(f"{c.signature_count}/{c.threshold} {STATUS_NAMES.get(c.status, '?')}")
    return 0


def decide(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    if args.admissible == args.refuse:
        print("error: give --admissible or --refuse", file=sys.stderr)
        return 2
    reason = cpb.LocalizedText(fr=args.reason_fr or "", nl=args.reason_nl or "", en=args.reason_en or "")
    found = stub.DecideAdmissibility(pb.DecideAdmissibilityRequest(
        initiative_id=args.id, admissible=args.admissible, refusal_reason=reason, request_id=str(uuid.uuid4())),
        metadata=md, timeout=30).initiative
    print(_line(found))
    return 0


def signers(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    token, rows, page = "", [], None
    while True:
        page = stub.ListInitiativeSigners(pb.ListInitiativeSignersRequest(initiative_id=args.id, page_token=token,
                                                                          page_size=1000), metadata=md, timeout=60)
        rows.extend(page.signers)
        token = page.next_page_token
        if not token:
            break
    if args.json:
        print(json.dumps([json_format.MessageToDict(s) for s in rows], indent=2))
        return 0
    print(f"{page.signature_count} signatures, {page.verified_count} of members in good standing")
    for s in rows:
        print(f"{s.member_id:<24} {s.signed_at.ToJsonString()}{'' if s.in_good_standing else ' NOT IN GOOD STANDING'}")
    return 0


def publish_outcome(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    text = cpb.LocalizedText(fr=args.text_fr, nl=args.text_nl, en=args.text_en)
    found = stub.PublishInitiativeOutcome(pb.PublishInitiativeOutcomeRequest(
        initiative_id=args.id, kind=KINDS[args.kind], text=text, request_id=str(uuid.uuid4())),
        metadata=md, timeout=30).initiative
    print(_line(found))
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add `coop board initiatives <verb>`."""
    common = argparse.ArgumentParser(add_help=False)
    add_connection_arguments(common, "board")
    initiatives = commands.add_parser("initiatives", help="member initiatives: list, admissibility, signers, outcome",
                                      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = initiatives.add_subparsers(dest="initiatives_command", required=True)

    def verb(name: str, helptext: str, run: Callable[..., int], with_id: bool = True) -> argparse.ArgumentParser:
        p = verbs.add_parser(name, help=helptext, description=helptext, parents=[common])
        p.set_defaults(func=lambda args: _run(args, run))
        if with_id:
            p.add_argument("id", help="initiative id")
        return p

    p = verb("list", "initiatives, newest first", list_initiatives, with_id=False)
    p.add_argument("--status", choices=sorted(STATUSES))
    p.add_argument("--json", action="store_true", help="the whole answer as JSON")
    verb("show", "one initiative", show).add_argument("--json", action="store_true")
    verb("count", "the public signature count", count)
    p = verb("decide", "admissible, or refused with a reason in FR, NL and EN (secretary or management)", decide)
    p.add_argument("--admissible", action="store_true")
    p.add_argument("--refuse", action="store_true")
    for lang in ("fr", "nl", "en"):
        p.add_argument(f"--reason-{lang}", help=f"the refusal's reason in {lang.upper()}")
    verb("signers", "who signed, with their standing now (the secretary in office)", signers).add_argument(
        "--json", action="store_true")
    p = verb("publish-outcome", "the board's outcome in FR, NL and EN (secretary)", publish_outcome)
    p.add_argument("--kind", required=True, choices=sorted(KINDS))
    for lang in ("fr", "nl", "en"):
        p.add_argument(f"--text-{lang}", required=True, help=f"the outcome in {lang.upper()}")
