"""`coop board schedule | agenda show|add|publish | attendance` against the api on PostgreSQL."""

from __future__ import annotations

import pytest
from meetings_svc_helpers import ADMIN, board_setup  # noqa: F401 - fixture

from coop.board.v1 import meetings_pb2_grpc as pb_grpc
from coop_cli.main import build_parser

pytestmark = pytest.mark.usefixtures("board_setup")


def coop(env, capsys, *argv: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(["board", *argv])
    status = args.func(args, env.stub(pb_grpc.MeetingServiceStub), ADMIN)
    out = capsys.readouterr()
    return status, out.out, out.err


def test_the_secretary_schedules_builds_publishes_and_records_attendance(env, capsys) -> None:
    status, out, _ = coop(env, capsys, "schedule", "--title-fr", "CA d'avril", "--title-nl", "RvB april",
                          "--title-en", "April board", "--starts-at", "2027-04-01T18:00:00+02:00", "--place", "Namur")
    assert status == 0 and out.startswith("meeting ")
    meeting_id = out.split()[1]
    status, out, _ = coop(env, capsys, "agenda", "add", meeting_id, "--title-fr", "Contrat", "--title-nl", "Contract",
                          "--title-en", "Contract", "--closed")
    assert status == 0 and "closed" in out
    status, out, _ = coop(env, capsys, "agenda", "publish", meeting_id, "--freeze")
    assert status == 0 and "version 1 published, frozen" in out
    status, out, _ = coop(env, capsys, "agenda", "show", meeting_id)
    assert status == 0 and "Contract" in out and "frozen" in out
    status, out, _ = coop(env, capsys, "attendance", meeting_id, "dir-01=present", "dir-02=remote",
                          "dir-03=excused:dir-01")
    assert status == 0 and "2 of 3 directors present or remote" in out


def test_a_refusal_prints_the_reason_and_the_field(env, capsys) -> None:
    status, _, err = coop(env, capsys, "schedule", "--title-fr", "x", "--title-nl", "x", "--title-en", "",
                          "--starts-at", "2030-01-01T10:00:00+00:00", "--place", "Namur")
    assert status == 1 and "TITLE_MISSING" in err and "meeting.title.en" in err
