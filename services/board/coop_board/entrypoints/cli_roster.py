"""`coop board ...` commands of the roster family (entrypoints/cli.py), over the board's api:

    coop board roster [--on DATE]      who sat on the board that day (default today): seats,
                                       categories, offices, flags, vacancies, the composition rule
    coop board mandates [--director ID] [--seat SEAT] [--covering DATE]
                                       every mandate, oldest first

The token: COOP_TOKEN (one from your tenant's identity provider), or else a development token for
--tenant (default "coop") with the "admin" role, which only services in development mode accept.
The api: --target or COOP_BOARD_ADDR (default 127.0.0.1:50054); TLS: COOP_TLS_CA and
COOP_TLS_SERVER_NAME. Exit status 0 on success, 1 when the service refuses, 2 for bad usage.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date

from google.type.date_pb2 import Date

from coop.board.v1 import events_pb2
from coop.board.v1 import roster_pb2 as pb
from coop.board.v1 import roster_pb2_grpc as pb_grpc
from coop_cli.rpc import add_connection_arguments, call_service, enum_word
from coop_platform.pbtypes import to_date

Stub = pb_grpc.RosterServiceStub
Metadata = list[tuple[str, str]]


def _day(value: Date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}" if value.year else "-"




def _run(args: argparse.Namespace, command: Callable[[Stub, list[tuple[str, str]], argparse.Namespace], int]) -> int:
    return call_service(args, Stub, command)


def _roster(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    answer = stub.GetRoster(pb.GetRosterRequest(on_date=to_date(args.on)), metadata=md, timeout=30)
    c = answer.composition
    print(f"board on {_day(answer.on_date)}: {len(answer.directors)} of {answer.seats} seats filled; "
          f"composition {'ok' if c.ok else 'BROKEN'} ({c.users} users, {c.permanent_staff} permanent staff, "
          f"{c.external_partners} external partners, {c.unknown_category} unknown)")
    offices: dict[str, list[str]] = {}
    for term in answer.officers:
        offices.setdefault(term.director_id, []).append(enum_word(pb.Office, term.office, "OFFICE_"))
    for d in answer.directors:
        flags = [enum_word(pb.DirectorFlag, f, "DIRECTOR_FLAG_").upper() for f in d.flags]
        print("  ".join(filter(None, [
            d.mandate.seat_id, d.director_id, enum_word(pb.DirectorCategory, d.category, "DIRECTOR_CATEGORY_"),
            f"{_day(d.mandate.start_date)}..{_day(d.mandate.end_date)}",
            ",".join(offices.get(d.director_id, [])), " ".join(flags)])))
    for v in answer.vacancies:
        print(f"{v.seat_id}  vacant" + (f" since {_day(v.since)}" if v.since.year else ""))
    for v in c.violations:
        print(f"composition rule broken: {v.rule}: {v.description}")
    return 0


def _mandates(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    token = ""
    while True:
        page = stub.ListMandates(pb.ListMandatesRequest(
            page_token=token, director_id=args.director or "", seat_id=args.seat or "",
            covering=to_date(args.covering)), metadata=md, timeout=30)
        for m in page.mandates:
            ended = ""
            if m.ended_on.year:
                reason = enum_word(events_pb2.MandateEndReason, m.end_reason, "MANDATE_END_REASON_")
                ended = f"  ended {_day(m.ended_on)}" + (f" ({reason})" if m.end_reason else "")
            print(f"{m.mandate_id}  {m.seat_id}  {m.director_id}  {_day(m.start_date)}..{_day(m.end_date)}"
                  f"  {'election ' + m.election_id if m.election_id else 'loaded'}{ended}")
        token = page.next_page_token
        if not token:
            return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this family's `coop board <verb>` subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    add_connection_arguments(common, "board")
    text = (__doc__ or "").split("\n\n", 1)[1]
    p = commands.add_parser("roster", parents=[common], help="who sat on the board on a day (default today)",
                            description=text, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--on", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD", help="the day")
    p.set_defaults(func=lambda args: _run(args, _roster))
    p = commands.add_parser("mandates", parents=[common], help="the board's mandates, oldest first",
                            description=text, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--director", help="only this director's (member id)")
    p.add_argument("--seat", help="only this seat's (seat-01 ...)")
    p.add_argument("--covering", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="only the mandates covering this day")
    p.set_defaults(func=lambda args: _run(args, _mandates))
