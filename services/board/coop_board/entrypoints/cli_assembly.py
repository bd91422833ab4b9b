"""`coop board assembly ...`: the secretary's General Assembly tasks over the board's gRPC api.

    coop board assembly schedule --title "FR|NL|EN" --starts-at 2027-06-12T10:00:00+02:00 --place PLACE
                                 --deadline 2027-06-05T23:59:00+02:00 --election ELECTION_ID
                                 [--document "TITLE_FR|TITLE_NL|TITLE_EN|REF_FR|REF_NL|REF_EN"]...
    coop board assembly list [--json]
    coop board assembly show ASSEMBLY_ID [--json]
    coop board assembly workshop --assembly ID --title "FR|NL|EN" --capacity N --language fr
                                 --starts-at ISO --ends-at ISO
    coop board assembly convene ASSEMBLY_ID [--follow]
    coop board assembly progress ASSEMBLY_ID [--no-follow] [--interval SECONDS]
    coop board assembly attendees --assembly ID --workshop ID [--json]
    coop board assembly check-in --assembly ID CODE
    coop board assembly figures ASSEMBLY_ID

`convene --follow` and `progress` draw the convocation's progress bar (sent / total) until every
convocation is out (the worker sends them). The token: COOP_TOKEN (the secretary's), or else a
development token with the "admin" role for --tenant. Address: --target or COOP_BOARD_ADDR.
Exit status 0 on success, 1 when the service refuses, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from google.protobuf import json_format
from tqdm import tqdm

from coop.board.v1 import assembly_pb2 as pb
from coop.board.v1 import assembly_pb2_grpc as pb_grpc
from coop.board.v1 import common_pb2
from coop_cli.rpc import add_connection_arguments, call_service
from coop_platform.pbtypes import to_timestamp

Stub = pb_grpc.AssemblyServiceStub
Metadata = list[tuple[str, str]]
STATUS = {v: k.removeprefix("ASSEMBLY_STATUS_").lower() for k, v in pb.AssemblyStatus.items()}


class Usage(ValueError):
    """A bad argument: exit status 2."""


def _instant(value: str, flag: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise Usage(f"{flag} {value!r} is not an ISO 8601 instant") from None
    if at.tzinfo is None:
        raise Usage(f"{flag} needs a UTC offset (e.g. +00:00)")
    return at


def _texts(value: str, flag: str, count: int = 3) -> list[str]:
    parts = value.split("|")
    if len(parts) != count:
        raise Usage(f"{flag} takes {count} texts separated by '|' (fr|nl|en)")
    return parts


def _text(values: list[str]) -> common_pb2.LocalizedText:
    return common_pb2.LocalizedText(fr=values[0], nl=values[1], en=values[2])


def _run(command: Callable[[Stub, Metadata, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return call_service(args, Stub, command)
        except Usage as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return run


def _summary(a: pb.Assembly, language: str = "en") -> str:
    c = a.convocation
    return (f"{a.assembly_id}  {STATUS.get(a.status, '?'):<10} {a.starts_at.ToDatetime().isoformat()}Z  "
            f"{getattr(a.title, language)} ({a.place}); convocations {c.sent}/{c.total}; {a.registered} registered")


def schedule(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    documents = []
    for value in args.document:
        parts = _texts(value, "--document", 6)
        documents.append(pb.AssemblyDocument(title=_text(parts[:3]), reference=_text(parts[3:])))
    answer = stub.ScheduleAssembly(pb.ScheduleAssemblyRequest(
        title=_text(_texts(args.title, "--title")), starts_at=to_timestamp(_instant(args.starts_at, "--starts-at")),
        place=args.place, registration_deadline=to_timestamp(_instant(args.deadline, "--deadline")),
        election_id=args.election, documents=documents, request_id=str(uuid.uuid4())), metadata=md, timeout=30)
    print(_summary(answer.assembly))
    for item in answer.assembly.agenda:
        print(f"  {item.position}. {item.title.en}" + (f" [{item.ref}]" if item.ref else ""))
    return 0


def list_assemblies(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    token, rows = "", []
    while True:
        page = stub.ListAssemblies(pb.ListAssembliesRequest(page_size=100, page_token=token), metadata=md, timeout=30)
        rows.extend(page.assemblies)
        token = page.next_page_token
        if not token:
            break
    if args.json:
        print(json.dumps([json_format.MessageToDict(a) for a in rows], indent=2))
    else:
        for a in rows:
            print(_summary(a))
    return 0


def show(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    a = stub.GetAssembly(pb.GetAssemblyRequest(assembly_id=args.assembly_id), metadata=md, timeout=30).assembly
    if args.json:
        print(json_format.MessageToJson(a))
        return 0
    print(_summary(a))
    for item in a.agenda:
        print(f"  {item.position}. {item.title.en}" + (f" [{item.ref}]" if item.ref else ""))
    return 0


def add_workshop(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    w = stub.AddWorkshop(pb.AddWorkshopRequest(
        assembly_id=args.assembly, title=_text(_texts(args.title, "--title")), capacity=args.capacity,
        language=args.language, starts_at=to_timestamp(_instant(args.starts_at, "--starts-at")),
        ends_at=to_timestamp(_instant(args.ends_at, "--ends-at")), request_id=str(uuid.uuid4())),
        metadata=md, timeout=30).workshop
    print(f"{w.workshop_id}  {w.language}  capacity {w.capacity}  {w.title.en}")
    return 0


def follow(stub: Stub, md: Metadata, assembly_id: str, interval: float, once: bool = False) -> pb.Assembly:
    """Draw sent / total until the convocation is complete (or once)."""
    a = stub.GetAssembly(pb.GetAssemblyRequest(assembly_id=assembly_id), metadata=md, timeout=30).assembly
    bar = tqdm(total=a.convocation.total, unit="member", desc="convocations", file=sys.stdout)
    try:
        while True:
            bar.total = max(a.convocation.total, a.convocation.sent)
            bar.update(a.convocation.sent - bar.n)
            if once or a.convocation.HasField("completed_at") or not a.convocation.HasField("convened_at"):
                return a
            time.sleep(interval)
            a = stub.GetAssembly(pb.GetAssemblyRequest(assembly_id=assembly_id), metadata=md, timeout=30).assembly
    finally:
        bar.close()


def convene(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    a = stub.ConveneAssembly(pb.ConveneAssemblyRequest(assembly_id=args.assembly_id, request_id=str(uuid.uuid4())),
                             metadata=md, timeout=30).assembly
    print(f"convening {a.assembly_id}: {a.convocation.total} members to convene")
    if args.follow:
        follow(stub, md, a.assembly_id, args.interval)
    return 0


def progress(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    a = follow(stub, md, args.assembly_id, args.interval, once=args.no_follow)
    print(f"{STATUS.get(a.status, '?')}: {a.convocation.sent}/{a.convocation.total} convocations sent")
    return 0


def attendees(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    token, rows, workshop = "", [], None
    while True:
        page = stub.ListWorkshopRegistrations(pb.ListWorkshopRegistrationsRequest(
            assembly_id=args.assembly, workshop_id=args.workshop, page_size=1000, page_token=token),
            metadata=md, timeout=30)
        workshop = workshop or page.workshop
        rows.extend(page.attendees)
        token = page.next_page_token
        if not token:
            break
    if args.json:
        print(json.dumps({"workshop": json_format.MessageToDict(workshop),
                          "attendees": [json_format.MessageToDict(r) for r in rows]}, indent=2))
        return 0
    print(f"workshop {workshop.workshop_id}: {workshop.seated}/{workshop.capacity} seated, {workshop.waiting} waiting")
    for r in rows:
        where = "seated" if r.seated else f"waiting #{r.waiting_position}"
        print(f"{where:<12} {r.member_id:<24} {r.registration_id}")
    return 0


def check_in(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    r = stub.CheckInAtAssembly(pb.CheckInAtAssemblyRequest(assembly_id=args.assembly, check_in_code=args.code,
                                                           request_id=str(uuid.uuid4())), metadata=md,
                               timeout=30).registration
    print(f"checked in {r.member_id} {r.registration_id}")
    return 0


def figures(stub: Stub, md: Metadata, args: argparse.Namespace) -> int:
    f = stub.GetAttendanceFigures(pb.GetAttendanceFiguresRequest(assembly_id=args.assembly_id), metadata=md,
                                  timeout=30)
    print(f"registered {f.registered}: in person {f.in_person_registered} (present {f.in_person_present}), "
          f"remote {f.remote}")
    for w in f.workshops:
        print(f"  {w.workshop_id}  {w.seated}/{w.capacity} seated, {w.waiting} waiting, {w.present} present  "
              f"{w.title.en}")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add `coop board assembly <verb>`."""
    common = argparse.ArgumentParser(add_help=False)
    add_connection_arguments(common, "board")
    assembly = commands.add_parser("assembly", help="the General Assembly: schedule, workshops, convene, attendance",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = assembly.add_subparsers(dest="assembly_command", required=True)

    def verb(name: str, helptext: str, run: Callable[..., int]) -> argparse.ArgumentParser:
        p = verbs.add_parser(name, help=helptext, description=helptext, parents=[common])
        p.set_defaults(func=_run(run))
        return p

    p = verb("schedule", "schedule an Assembly (statutory items added)", schedule)
    p.add_argument("--title", required=True, help="FR|NL|EN")
    p.add_argument("--starts-at", required=True)
    p.add_argument("--place", required=True)
    p.add_argument("--deadline", required=True, help="registration deadline, ISO 8601 with offset")
    p.add_argument("--election", required=True, help="the board election's id (elections service)")
    p.add_argument("--document", action="append", default=[], help="TITLE_FR|TITLE_NL|TITLE_EN|REF_FR|REF_NL|REF_EN")
    verb("list", "the Assemblies, latest first", list_assemblies).add_argument("--json", action="store_true")
    p = verb("show", "one Assembly with its agenda and convocation progress", show)
    p.add_argument("assembly_id")
    p.add_argument("--json", action="store_true")
    p = verb("workshop", "add a workshop", add_workshop)
    p.add_argument("--assembly", required=True)
    p.add_argument("--title", required=True, help="FR|NL|EN")
    p.add_argument("--capacity", type=int, required=True)
    p.add_argument("--language", choices=("fr", "nl", "en"), required=True)
    p.add_argument("--starts-at", required=True)
    p.add_argument("--ends-at", required=True)
    for name, helptext, run in (("convene", "convene the Assembly (the worker sends the convocations)", convene),
                                ("progress", "the convocation's progress bar", progress)):
        p = verb(name, helptext, run)
        p.add_argument("assembly_id")
        p.add_argument("--interval", type=float, default=1.0, help="seconds between two looks (default 1)")
        if name == "convene":
            p.add_argument("--follow", action="store_true", help="draw the progress bar until every one is sent")
        else:
            p.add_argument("--no-follow", action="store_true", help="draw it once")
    p = verb("attendees", "a workshop's members: seated, then waiting in order", attendees)
    p.add_argument("--assembly", required=True)
    p.add_argument("--workshop", required=True)
    p.add_argument("--json", action="store_true")
    p = verb("check-in", "check an in-person member in with their code", check_in)
    p.add_argument("--assembly", required=True)
    p.add_argument("code")
    verb("figures", "attendance figures", figures).add_argument("assembly_id")
