"""`coop board minutes draft|show|publish` against a running board api on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from board_minutes_svc_helpers import ROLES, world  # noqa: F401

from coop.board.v1 import minutes_pb2 as pb
from coop_board.entrypoints.grpc_api import build
from coop_cli.main import main
from coop_platform.config import Settings
from coop_platform.grpc_server import start_server


@pytest.fixture
def target(env, world) -> Iterator[str]:  # noqa: F811
    settings = Settings(service_name="board", database_url=env.pg_url, dev_mode=True, served_tenants=("coop",),
                        grpc_port=0, grpc_workers=4)
    engine, register, _ = build(settings, env.clock)
    running = start_server(settings, register, engine, port=0, health_interval=30)
    try:
        yield f"127.0.0.1:{running.port}"
    finally:
        running.stop(grace=1)
        engine.dispose()


def test_the_secretary_drafts_shows_and_publishes_minutes_from_the_command_line(world, target, capsys) -> None:  # noqa: F811
    meeting = world.meeting(items=2)
    assert main(["board", "minutes", "draft", meeting, "--target", target, "--language", "en"]) == 0
    out = capsys.readouterr().out
    minutes_id = out.split()[1]
    assert "DRAFT" in out and "[item:" in out and "(closed)" in out
    assert main(["board", "minutes", "draft", meeting, "--target", target]) == 0  # a retry: the same draft
    assert capsys.readouterr().out.split()[1] == minutes_id

    assert main(["board", "minutes", "publish", minutes_id, "--target", target]) == 1
    assert "MINUTES_NOT_APPROVED" in capsys.readouterr().err
    world.stub.SubmitMinutesForApproval(pb.SubmitMinutesForApprovalRequest(minutes_id=minutes_id),
                                        metadata=ROLES["secretary"])
    world.approve(minutes_id)
    assert main(["board", "minutes", "publish", minutes_id, "--target", target]) == 0
    assert f"published {minutes_id}" in capsys.readouterr().out
    assert main(["board", "minutes", "show", minutes_id, "--target", target, "--json"]) == 0
    assert '"status": "MINUTES_STATUS_PUBLISHED"' in capsys.readouterr().out
