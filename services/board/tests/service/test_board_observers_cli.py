"""`coop board observers open | list | check-in`: the secretary's observer tasks from the command
line, against the running api."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from board_observers_helpers import ObserversApi, observers_api
from board_svc_helpers import START

from coop_cli.main import main


@pytest.fixture(scope="module")
def api(pg_url: str) -> Iterator[ObserversApi]:
    with observers_api(pg_url) as running:
        yield running


def test_the_secretary_opens_lists_and_checks_in_from_the_command_line(api, capsys) -> None:
    api.clock.set(START)
    meeting_id = api.new_meeting()
    where = ["--meeting", meeting_id, "--target", api.target]
    deadline = (START + timedelta(days=7)).isoformat()
    assert main(["board", "observers", "open", *where, "--seats", "1", "--deadline", deadline]) == 0
    code = api.register(meeting_id, 1).check_in_code
    waiting = api.register(meeting_id, 2)
    assert main(["board", "observers", "check-in", *where, code]) == 0
    assert main(["board", "observers", "list", *where]) == 0
    out = capsys.readouterr().out
    assert "1/1 seats taken, 1 waiting" in out
    lines = [line for line in out.splitlines() if line.startswith(("seated", "waiting"))]
    assert lines[-2].split()[:2] == ["seated", "mem-1"] and lines[-2].endswith("checked-in")
    assert lines[-1].split()[:3] == ["waiting", "#1", "mem-2"]
    assert waiting.registration.registration_id in lines[-1]


def test_a_refusal_exits_1_with_its_reason(api, capsys) -> None:
    assert main(["board", "observers", "list", "--meeting", "no-such-meeting", "--target", api.target]) == 1
    assert "MEETING_NOT_FOUND" in capsys.readouterr().err
    assert main(["board", "observers", "open", "--meeting", "m", "--target", api.target, "--seats", "1",
                 "--deadline", "tomorrow"]) == 2
