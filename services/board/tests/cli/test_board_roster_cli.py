"""`coop board roster` and `coop board mandates` against a running board api: the secretary's
and the admin's view of who sits, from the command line, with the elections CLI's conventions
(tokens, --target, exit status 0 / 1 refused / 2 bad usage)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from google.type.date_pb2 import Date

from coop.board.v1 import events_pb2
from coop.board.v1 import roster_pb2 as pb
from coop.board.v1 import roster_pb2_grpc as pb_grpc
from coop_board.entrypoints.grpc_api import build
from coop_platform.auth import issue_token
from coop_platform.channels import open_channel
from coop_platform.config import Settings
from coop_platform.grpc_server import start_server
from coop_platform.migrations import upgrade
from coop_testkit import bearer


@pytest.fixture()
def api(tmp_path):
    url = f"sqlite:///{tmp_path / 'board.db'}"
    upgrade("board", url)
    settings = Settings(service_name="board", database_url=url, dev_mode=True, served_tenants=("coop", "other"),
                        grpc_port=0)
    engine, register, _ = build(settings, lambda: datetime(2028, 1, 1, tzinfo=UTC))
    running = start_server(settings, register, engine, port=0)
    yield f"127.0.0.1:{running.port}"
    running.stop(0)
    engine.dispose()


def coop(target: str, *args: str, token: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COOP_BOARD_ADDR": target, "COOP_DEV_MODE": "1"}
    env.pop("COOP_TOKEN", None)
    if token:
        env["COOP_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "coop_cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def _load(target: str) -> str:
    channel = open_channel(target)
    stub = pb_grpc.RosterServiceStub(channel)
    admin = bearer("adm", "admin")
    ids = []
    for director in ("ann", "bob"):
        ids.append(stub.CreateMandate(pb.CreateMandateRequest(
            director_id=director, start_date=Date(year=2027, month=5, day=15),
            end_date=Date(year=2031, month=5, day=15)), metadata=admin, timeout=10).mandate.mandate_id)
    stub.EndMandate(pb.EndMandateRequest(mandate_id=ids[1], ended_on=Date(year=2028, month=3, day=1),
                                         reason=events_pb2.MANDATE_END_REASON_RESIGNATION), metadata=admin, timeout=10)
    channel.close()
    return ids[1]


def test_the_roster_on_a_day_and_the_mandates_from_the_command_line(api) -> None:
    ended = _load(api)
    today = coop(api, "board", "roster")  # the api's today: 2028-01-01
    assert today.returncode == 0, today.stderr
    assert "board on 2028-01-01: 2 of 20 seats filled; composition BROKEN" in today.stdout
    assert "seat-01  ann  unknown  2027-05-15..2031-05-15  STANDING_UNKNOWN CATEGORY_UNKNOWN" in today.stdout
    assert "seat-03  vacant" in today.stdout and "USERS_NOT_MAJORITY" in today.stdout
    later = coop(api, "board", "roster", "--on", "2028-03-01")
    assert "1 of 20 seats filled" in later.stdout and "seat-02  vacant since 2028-03-01" in later.stdout
    listed = coop(api, "board", "mandates")
    assert listed.returncode == 0 and listed.stdout.count("loaded") == 2
    assert f"{ended}  seat-02  bob  2027-05-15..2031-05-15  loaded  ended 2028-03-01 (resignation)" in listed.stdout
    assert coop(api, "board", "mandates", "--director", "ann").stdout.count("\n") == 1
    member = coop(api, "board", "roster", token=issue_token("mem", ["member"]))
    assert member.returncode == 0 and "STANDING_UNKNOWN" not in member.stdout
    other = coop(api, "board", "roster", "--tenant", "other")
    assert other.returncode == 0 and "0 of 20 seats filled" in other.stdout


def test_refusals_and_bad_usage_have_their_exit_status(api) -> None:
    teller = coop(api, "board", "roster", token=issue_token("t", ["teller"]))
    assert teller.returncode == 1 and "PERMISSION_DENIED" in teller.stderr and "Traceback" not in teller.stderr
    assert coop(api, "board", "roster", "--on", "2028-02-30").returncode == 2
    shown = coop(api, "board", "roster", "--help")
    assert shown.returncode == 0 and "coop board mandates" in shown.stdout
