"""`coop board dossiers ...`: read the board's dossiers over the board's gRPC api.

    coop board dossiers list [--status draft|submitted|sent_back|decided]
    coop board dossiers show DOSSIER_ID [--version N] [--changes] [--json] [--language en]

`show` prints a version (the latest by default) with its proposals (recommended ones marked),
documents and amendments; `--changes` prints what changed against the previous version and why.

The token: COOP_TOKEN (from the cooperative's identity provider), or else a development token for
--tenant (default "coop") with the "admin" role, which only services in development mode accept.
Exit status 0 on success, 1 when the service refuses, 2 for bad usage.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from google.protobuf import json_format

from coop.board.v1 import dossiers_pb2 as pb
from coop.board.v1 import dossiers_pb2_grpc as pb_grpc
from coop_cli.rpc import add_connection_arguments, call_service, enum_word

Stub = pb_grpc.DossierServiceStub
STATUSES = {"draft": pb.DOSSIER_STATUS_DRAFT, "submitted": pb.DOSSIER_STATUS_SUBMITTED,
            "sent_back": pb.DOSSIER_STATUS_SENT_BACK, "decided": pb.DOSSIER_STATUS_DECIDED}




def _run(args: argparse.Namespace, command: Callable[[Stub, list[tuple[str, str]], argparse.Namespace], int]) -> int:
    return call_service(args, Stub, command)


def _line(d: pb.Dossier, language: str) -> str:
    status = enum_word(pb.DossierStatus, d.status, "DOSSIER_STATUS_")
    due = ""
    if d.status == pb.DOSSIER_STATUS_SENT_BACK:
        day = d.last_send_back.due_date
        due = f"  due {day.year:04d}-{day.month:02d}-{day.day:02d}"
    return f"{d.dossier_id}  {status:9}  v{d.latest_version}{due}  {getattr(d.title, language)}"


def _list(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    token = ""
    while True:
        page = stub.ListDossiers(pb.ListDossiersRequest(status=STATUSES.get(args.status or "", 0), page_size=200,
                                                        page_token=token), metadata=md, timeout=30)
        for d in page.dossiers:
            print(_line(d, args.language))
        token = page.next_page_token
        if not token:
            return 0


def _show(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    lang = args.language
    if args.changes:
        answer = stub.GetVersionChanges(pb.GetVersionChangesRequest(dossier_id=args.dossier_id, version=args.version),
                                        metadata=md, timeout=30)
        if args.json:
            print(json_format.MessageToJson(answer, preserving_proto_field_name=True))
            return 0
        print(f"dossier {answer.dossier_id} version {answer.version}")
        if answer.HasField("answers_send_back"):
            print(f"answers the send back of version {answer.answers_send_back.version}: "
                  f"{getattr(answer.answers_send_back.reasons, lang)}")
        print(f"what changed and why: {getattr(answer.change_note, lang) or '(version 1)'}")
        for c in answer.changes:
            kind = enum_word(pb.ProposalChangeKind, c.kind, "PROPOSAL_CHANGE_KIND_")
            print(f"\n[{kind}] {c.proposal_id or c.previous_proposal_id}"
                  + (f" (revises {c.previous_proposal_id})" if c.proposal_id and c.previous_proposal_id else ""))
            for diff in (getattr(c.title_diff, lang), getattr(c.text_diff, lang)):
                if diff:
                    print(diff)
        return 0
    answer = stub.GetDossier(pb.GetDossierRequest(dossier_id=args.dossier_id, version=args.version),
                             metadata=md, timeout=30)
    if args.json:
        print(json_format.MessageToJson(answer, preserving_proto_field_name=True))
        return 0
    print(_line(answer.dossier, lang))
    if not answer.HasField("version"):
        print("no version submitted yet")
        return 0
    v = answer.version
    print(f"version {v.version} submitted by {v.submitted_by} at {v.submit_time.ToJsonString()}")
    for p in v.proposals:
        mark = "*" if p.recommended else " "
        status = enum_word(pb.ProposalStatus, p.status, "PROPOSAL_STATUS_")
        print(f" {mark} {p.position}. [{status}] {getattr(p.title, lang)}  ({p.proposal_id})")
        print(f"      {getattr(p.text_to_vote, lang)}")
        if p.recommended:
            print(f"      recommended: {getattr(p.recommendation_rationale, lang)}")
    for doc in v.documents:
        print(f"   document {doc.filename} ({doc.media_type}, {doc.size_bytes} bytes, sha256 {doc.sha256})")
    for a in answer.amendments:
        status = enum_word(pb.ProposalStatus, a.status, "PROPOSAL_STATUS_")
        print(f"   amendment {a.amendment_id} level {a.level} to {a.parent_id} by {a.author_id} [{status}]")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this family's `coop board <verb>` subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    add_connection_arguments(common, "board")
    common.add_argument("--language", choices=("fr", "nl", "en"), default="en", help="language of the texts shown")
    dossiers = commands.add_parser("dossiers", help="dossiers brought by the delegated administration: list, show",
                                   description=(__doc__ or "").split("\n\n", 1)[1],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = dossiers.add_subparsers(dest="action", required=True)
    p = sub.add_parser("list", help="the tenant's dossiers, oldest first", parents=[common])
    p.add_argument("--status", choices=sorted(STATUSES))
    p.set_defaults(func=lambda args: _run(args, _list))
    p = sub.add_parser("show", help="one dossier's version, or what changed in it (--changes)", parents=[common])
    p.add_argument("dossier_id")
    p.add_argument("--version", type=int, default=0, help="a version number (default: the latest)")
    p.add_argument("--changes", action="store_true", help="what changed against the previous version and why")
    p.add_argument("--json", action="store_true", help="the whole answer as JSON")
    p.set_defaults(func=lambda args: _run(args, _show))
