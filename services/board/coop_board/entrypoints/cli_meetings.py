"""`coop board ...` commands of the meetings family (entrypoints/cli.py): the secretary's common
tasks over MeetingService.

    coop board schedule --title-fr T --title-nl T --title-en T --starts-at 2027-04-01T18:00:00+02:00
                        (--place P | --video-link https://...)
    coop board agenda show MEETING_ID
    coop board agenda add MEETING_ID --title-fr T --title-nl T --title-en T [--kind other]
                        [--source other] [--closed] [--consent] [--ref R] [--dossier-version N]
    coop board agenda publish MEETING_ID [--freeze]
    coop board attendance MEETING_ID dir-1=present dir-2=remote dir-3=excused:dir-1 ...
                        (status present, remote, excused or absent; ":holder" names a written proxy)

Each write sends a new request id, or --request-id to retry one. The token: COOP_TOKEN, or else a
development token with the admin role (services in development mode only). Exit status 0 on
success, 1 when the service refuses, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from datetime import datetime

import grpc

from coop.board.v1 import common_pb2
from coop.board.v1 import meetings_pb2 as pb
from coop.board.v1 import meetings_pb2_grpc as pb_grpc
from coop_cli.rpc import add_connection_arguments, refused

Stub = pb_grpc.MeetingServiceStub
Command = Callable[[Stub, list[tuple[str, str]], argparse.Namespace], int]
STATUSES = {"present": pb.ATTENDANCE_STATUS_PRESENT, "remote": pb.ATTENDANCE_STATUS_REMOTE,
            "excused": pb.ATTENDANCE_STATUS_EXCUSED, "absent": pb.ATTENDANCE_STATUS_ABSENT}
SOURCES = {"statutory": 1, "dossier": 2, "member_concern": 3, "member_initiative": 4, "other": 5}




def run(args: argparse.Namespace, stub: Stub | None = None, metadata: list[tuple[str, str]] | None = None) -> int:
    """Run the parsed command (tests hand in a stub and metadata)."""
    from coop_cli.main import cli_metadata
    from coop_platform.channels import open_channel

    channel = None
    try:
        if stub is None:
            channel = open_channel(args.target)
            stub = Stub(channel)
        return args.command_run(stub, metadata or cli_metadata(("admin",), tenant=args.tenant), args)
    except grpc.RpcError as exc:
        return refused(exc)
    finally:
        if channel is not None:
            channel.close()


def _request_id(args: argparse.Namespace) -> str:
    return args.request_id or str(uuid.uuid4())


def _title(args: argparse.Namespace) -> common_pb2.LocalizedText:
    return common_pb2.LocalizedText(fr=args.title_fr, nl=args.title_nl, en=args.title_en)


def _line(it: pb.AgendaItem) -> str:
    flags = ("closed " if it.visibility == 2 else "") + ("consent " if it.consent else "") + \
        ("forced " if it.forced else "")
    return f"  {it.position:2}. [{it.kind or '-'}] {flags}{it.title.en or it.title.fr}  ({it.item_id})"


def _schedule(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    from coop_platform.pbtypes import to_timestamp

    try:
        starts = datetime.fromisoformat(args.starts_at)
    except ValueError:
        print(f"error: --starts-at {args.starts_at!r} is not an ISO 8601 instant", file=sys.stderr)
        return 2
    if starts.tzinfo is None:
        print("error: --starts-at needs a UTC offset (e.g. +02:00)", file=sys.stderr)
        return 2
    m = stub.ScheduleMeeting(pb.ScheduleMeetingRequest(meeting=pb.Meeting(
        title=_title(args), starts_at=to_timestamp(starts), place=args.place or "", video_link=args.video_link or ""),
        request_id=_request_id(args)), metadata=md, timeout=30).meeting
    print(f"meeting {m.meeting_id} scheduled for {m.starts_at.ToDatetime().isoformat()}Z; agenda freezes at "
          f"{m.agenda_freezes_at.ToDatetime().isoformat()}Z")
    for it in m.items:
        print(_line(it))
    return 0


def _show(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    m = stub.GetMeeting(pb.GetMeetingRequest(meeting_id=args.meeting_id), metadata=md, timeout=30).meeting
    state = "frozen" if m.agenda_frozen else f"version {m.agenda_version}" if m.agenda_version else "not published"
    print(f"{m.title.en or m.title.fr} — {m.starts_at.ToDatetime().isoformat()}Z, {m.place or 'video'}; "
          f"agenda {state}")
    for it in m.items:
        print(_line(it))
    return 0


def _add(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    item = pb.AgendaItem(title=_title(args), source=SOURCES[args.source], kind=args.kind, ref=args.ref or "",
                         visibility=2 if args.closed else 1, consent=args.consent,
                         dossier_version=args.dossier_version or 0)
    added = stub.AddAgendaItem(pb.AddAgendaItemRequest(meeting_id=args.meeting_id, item=item,
                                                       request_id=_request_id(args)), metadata=md, timeout=30).item
    print(_line(added))
    return 0


def _publish(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    m = stub.PublishAgenda(pb.PublishAgendaRequest(meeting_id=args.meeting_id, request_id=_request_id(args)),
                           metadata=md, timeout=30).meeting
    if args.freeze:
        m = stub.FreezeAgenda(pb.FreezeAgendaRequest(meeting_id=args.meeting_id, request_id=str(uuid.uuid4())),
                              metadata=md, timeout=30).meeting
    print(f"agenda version {m.agenda_version} published" + (", frozen" if m.agenda_frozen else ""))
    return 0


def parse_attendance(values: list[str]) -> list[pb.Attendance]:
    lines = []
    for value in values:
        director, _, rest = value.partition("=")
        status, _, holder = rest.partition(":")
        if not director or status not in STATUSES:
            raise SystemExit(f"error: {value!r}: expected DIRECTOR=STATUS[:PROXY_HOLDER], STATUS one of "
                             f"{', '.join(STATUSES)}")
        lines.append(pb.Attendance(director_id=director, status=STATUSES[status], proxy_holder_id=holder))
    return lines


def _attendance(stub: Stub, md: list[tuple[str, str]], args: argparse.Namespace) -> int:
    m = stub.RecordAttendance(pb.RecordAttendanceRequest(meeting_id=args.meeting_id,
                                                         attendance=parse_attendance(args.lines),
                                                         request_id=_request_id(args)), metadata=md, timeout=30).meeting
    here = sum(1 for a in m.attendance if a.status in (pb.ATTENDANCE_STATUS_PRESENT, pb.ATTENDANCE_STATUS_REMOTE))
    print(f"attendance recorded: {here} of {len(m.attendance)} directors present or remote")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this family's `coop board <verb>` subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    add_connection_arguments(common, "board")
    common.add_argument("--request-id", default="", help="retry a write with the request id it printed or was given")

    def command(parent: argparse._SubParsersAction, name: str, helptext: str, run_it: Command) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=helptext, description=helptext, parents=[common])
        p.set_defaults(func=run, command_run=run_it)
        return p

    def titles(p: argparse.ArgumentParser) -> None:
        for lang in ("fr", "nl", "en"):
            p.add_argument(f"--title-{lang}", required=True)

    p = command(commands, "schedule", "schedule a board meeting (the convocation goes to the sitting directors)",
                _schedule)
    titles(p)
    p.add_argument("--starts-at", required=True, help="ISO 8601 with offset, e.g. 2027-04-01T18:00:00+02:00")
    p.add_argument("--place")
    p.add_argument("--video-link")
    agenda = commands.add_parser("agenda", help="a meeting's agenda: show, add an item, publish")
    asub = agenda.add_subparsers(dest="agenda_command", required=True)
    command(asub, "show", "the agenda as you may read it", _show).add_argument("meeting_id")
    p = command(asub, "add", "add an item to an agenda that is not frozen", _add)
    p.add_argument("meeting_id")
    titles(p)
    p.add_argument("--kind", default="other")
    p.add_argument("--source", default="other", choices=sorted(SOURCES))
    p.add_argument("--ref")
    p.add_argument("--dossier-version", type=int)
    p.add_argument("--closed", action="store_true", help="a closed item (personnel, contracts, legal)")
    p.add_argument("--consent", action="store_true", help="a routine item of the consent block")
    p = command(asub, "publish", "publish the agenda (or its change) to the convened directors", _publish)
    p.add_argument("meeting_id")
    p.add_argument("--freeze", action="store_true", help="freeze it now, before its freeze time")
    p = command(commands, "attendance", "record attendance: DIRECTOR=present|remote|excused|absent[:PROXY_HOLDER]",
                _attendance)
    p.add_argument("meeting_id")
    p.add_argument("lines", nargs="+")
