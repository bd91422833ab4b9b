"""`coop board observers ...`: the secretary's observer tasks over the board's gRPC api.

    coop board observers open --meeting ID --seats N --deadline 2027-03-08T18:00:00+00:00
    coop board observers list --meeting ID [--include-cancelled] [--json]
    coop board observers check-in --meeting ID CODE

The token: COOP_TOKEN (the secretary's, from the cooperative's identity provider), or else a
development token with the "admin" role for --tenant (only services in development mode accept
it). Address: --target or COOP_BOARD_ADDR (default 127.0.0.1:50054). Exit status 0 on success,
1 when the service refuses, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable
from datetime import datetime

from google.protobuf import json_format

from coop.board.v1 import observers_pb2 as pb
from coop.board.v1 import observers_pb2_grpc as pb_grpc
from coop_cli.rpc import add_connection_arguments, call_service
from coop_platform.pbtypes import to_timestamp

Stub = pb_grpc.ObserverServiceStub
STATUS = {pb.OBSERVER_STATUS_SEATED: "seated", pb.OBSERVER_STATUS_WAITING: "waiting",
          pb.OBSERVER_STATUS_CANCELLED: "cancelled"}




def _run(args: argparse.Namespace, command: Callable[[Stub, list[tuple[str, str]], argparse.Namespace], int]) -> int:
    return call_service(args, Stub, command)


def _line(r: pb.ObserverRegistration) -> str:
    status = STATUS.get(r.status, "?")
    if r.status == pb.OBSERVER_STATUS_WAITING:
        status += f" #{r.waiting_position}"
    checked = " checked-in" if r.HasField("checked_in_at") else ""
    presenter = " presenter" if r.speaking_slot else ""  # an initiative's promoter, outside the limit
    return f"{status:<12} {r.member_id:<24} {r.registration_id}{checked}{presenter}"


def list_observers(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    token, rows, session = "", [], None
    while True:
        page = stub.ListObservers(pb.ListObserversRequest(meeting_id=args.meeting, page_token=token,
                                                          include_cancelled=args.include_cancelled, page_size=500),
                                  metadata=md, timeout=30)
        session = session or page.session
        rows.extend(page.registrations)
        token = page.next_page_token
        if not token:
            break
    if args.json:
        print(json.dumps({"session": json_format.MessageToDict(session),
                          "registrations": [json_format.MessageToDict(r) for r in rows]}, indent=2))
        return 0
    print(f"meeting {session.meeting_id}: {session.seats_taken}/{session.seats} seats taken, "
          f"{session.waiting} waiting")
    for r in rows:
        print(_line(r))
    return 0


def open_session(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    try:
        deadline = datetime.fromisoformat(args.deadline)
    except ValueError:
        print(f"error: --deadline {args.deadline!r} is not an ISO 8601 instant", file=sys.stderr)
        return 2
    if deadline.tzinfo is None:
        print("error: --deadline needs a UTC offset (e.g. +00:00)", file=sys.stderr)
        return 2
    answer = stub.OpenToObservers(pb.OpenToObserversRequest(
        meeting_id=args.meeting, seats=args.seats, registration_deadline=to_timestamp(deadline),
        request_id=str(uuid.uuid4())), metadata=md, timeout=30)
    s = answer.session
    print(f"meeting {s.meeting_id}: {s.seats} seats ({s.seats_taken} taken, {s.waiting} waiting)")
    for rid in answer.promoted_registration_ids:
        print(f"promoted {rid}")
    return 0


def check_in(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    answer = stub.CheckInObserver(pb.CheckInObserverRequest(meeting_id=args.meeting, check_in_code=args.code,
                                                            request_id=str(uuid.uuid4())), metadata=md, timeout=30)
    print(_line(answer.registration))
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add `coop board observers <verb>`."""
    common = argparse.ArgumentParser(add_help=False)
    add_connection_arguments(common, "board")
    common.add_argument("--meeting", required=True, help="meeting id")
    observers = commands.add_parser("observers", help="open sessions: open a meeting to observers, list, check in",
                                    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = observers.add_subparsers(dest="observers_command", required=True)

    def verb(name: str, helptext: str, run: Callable[..., int]) -> argparse.ArgumentParser:
        p = verbs.add_parser(name, help=helptext, description=helptext, parents=[common])
        p.set_defaults(func=lambda args: _run(args, run))
        return p

    p = verb("list", "seat holders, then the waiting list in order (secretary or admin)", list_observers)
    p.add_argument("--include-cancelled", action="store_true", help="also cancelled registrations")
    p.add_argument("--json", action="store_true", help="the whole answer as JSON")
    p = verb("open", "open the meeting's open items to observers, or change its seats and deadline", open_session)
    p.add_argument("--seats", type=int, required=True)
    p.add_argument("--deadline", required=True, help="registration deadline, ISO 8601 with offset")
    verb("check-in", "check a seated observer in with their code", check_in).add_argument("code")

