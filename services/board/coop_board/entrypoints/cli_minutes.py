"""`coop board minutes ...`: the secretary's minutes tasks over the board's gRPC api.

    coop board minutes draft MEETING_ID        draft the minutes from the meeting's record
    coop board minutes show MINUTES_ID [--json] status, sections, what is missing
    coop board minutes publish MINUTES_ID      publish approved minutes in FR, NL and EN

The token: COOP_TOKEN (the secretary's, from the identity provider), or else a development token
with the "admin" role for --tenant, which only services in development mode accept. A retried
draft or publish answers the first result (the request id is derived from the command). Exit
status 0 on success, 1 when the service refuses, 2 for bad usage."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable

from google.protobuf import json_format

from coop.board.v1 import minutes_pb2 as pb
from coop.board.v1 import minutes_pb2_grpc as pb_grpc
from coop_cli.rpc import add_connection_arguments, call_service

Stub = pb_grpc.MinutesServiceStub
STATUS = {v: k for k, v in pb.MinutesStatus.items()}


def _request_id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "coop-board-minutes:" + ":".join(parts)))




def _run(args: argparse.Namespace, command: Callable[[Stub, list[tuple[str, str]], argparse.Namespace], int]) -> int:
    return call_service(args, Stub, command)


def _summary(m: pb.Minutes, language: str) -> str:
    lines = [f"minutes {m.minutes_id}  meeting {m.meeting_id}  {STATUS[m.status].removeprefix('MINUTES_STATUS_')}"
             f"  revision {m.revision}", getattr(m.title, language)]
    for s in m.sections:
        closed = " (closed)" if s.visibility == 2 else ""
        lines.append(f"  [{s.section_id}]{closed} {getattr(s.title, language)}")
    for missing in m.missing:
        lines.append(f"  missing {','.join(missing.languages)}: {missing.part}")
    return "\n".join(lines)


def _draft(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    m = stub.DraftMinutes(pb.DraftMinutesRequest(meeting_id=args.meeting_id,
                                                 request_id=_request_id("draft", args.tenant, args.meeting_id)),
                          metadata=md, timeout=30).minutes
    print(_summary(m, args.language))
    return 0


def _show(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    m = stub.GetMinutes(pb.GetMinutesRequest(minutes_id=args.minutes_id), metadata=md, timeout=30).minutes
    print(json_format.MessageToJson(m) if args.json else _summary(m, args.language))
    return 0


def _publish(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    m = stub.PublishMinutes(pb.PublishMinutesRequest(
        minutes_id=args.minutes_id, request_id=_request_id("publish", args.tenant, args.minutes_id)),
        metadata=md, timeout=30).minutes
    print(f"published {m.minutes_id} (meeting {m.meeting_id}) in fr, nl, en")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add `coop board minutes draft|show|publish`."""
    minutes = commands.add_parser("minutes", help="draft, show and publish the board's minutes")
    verbs = minutes.add_subparsers(dest="minutes_command", required=True)
    for name, arg, func, help_text in (
            ("draft", "meeting_id", _draft, "draft a meeting's minutes from its record"),
            ("show", "minutes_id", _show, "show minutes: status, sections, missing translations"),
            ("publish", "minutes_id", _publish, "publish approved minutes to members in FR, NL and EN")):
        p = verbs.add_parser(name, help=help_text)
        p.add_argument(arg)
        add_connection_arguments(p, "board")
        p.add_argument("--language", choices=("fr", "nl", "en"), default="fr")
        if name == "show":
            p.add_argument("--json", action="store_true", help="the whole minutes as JSON")
        p.set_defaults(func=lambda args, f=func: _run(args, f))
