"""`coop board assembly ...`: the secretary's General Assembly tasks from the command line, against
the running api; the convocation's progress bar follows the worker's batches to the end."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from board_assembly_helpers import RULES, AssemblyApi, assembly_api
from board_svc_helpers import START

from coop_board.service_layer.assembly import send_convocations
from coop_cli.main import main


@pytest.fixture(scope="module")
def api() -> Iterator[AssemblyApi]:
    with assembly_api("coop_board_assembly_cli") as running:
        running.add_members(1200)
        yield running


def _ids(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]


def test_the_secretary_schedules_convenes_and_follows_the_convocation(api: AssemblyApi, capsys) -> None:
    api.clock.set(START)
    at = ["--target", api.target]
    starts = (START + timedelta(days=40)).isoformat()
    assert main(["board", "assembly", "schedule", *at, "--title", "AG 2027|AV 2027|GA 2027", "--starts-at", starts,
                 "--place", "Brussels", "--deadline", (START + timedelta(days=35)).isoformat(), "--election", "el-9",
                 "--document", "Comptes|Rekeningen|Accounts|/fr/a.pdf|/nl/a.pdf|/en/a.pdf"]) == 0
    out = capsys.readouterr().out
    assembly_id = _ids(out)[0]
    assert "3. Election of the board of directors [el-9]" in out
    ws = (START + timedelta(days=40, hours=5)).isoformat()
    we = (START + timedelta(days=40, hours=7)).isoformat()
    assert main(["board", "assembly", "workshop", *at, "--assembly", assembly_id, "--title", "Lire|Lezen|Reading",
                 "--capacity", "1", "--language", "nl", "--starts-at", ws, "--ends-at", we]) == 0
    workshop_id = _ids(capsys.readouterr().out)[0]
    assert main(["board", "assembly", "convene", *at, assembly_id]) == 0
    assert "1200 members to convene" in capsys.readouterr().out

    def worker() -> None:  # the worker's job, batch after batch, while the bar follows
        while send_convocations(api.uow_factory(), START, RULES) is not None:
            pass
    job = threading.Thread(target=worker)
    job.start()
    assert main(["board", "assembly", "progress", *at, assembly_id, "--interval", "0.05"]) == 0
    job.join()
    out = capsys.readouterr().out
    assert "convocations" in out and "1200/1200" in out and "convened: 1200/1200 convocations sent" in out

    code = api.register(assembly_id, 1, (workshop_id,)).check_in_code
    api.register(assembly_id, 2, (workshop_id,))
    assert main(["board", "assembly", "check-in", *at, "--assembly", assembly_id, code]) == 0
    assert main(["board", "assembly", "attendees", *at, "--assembly", assembly_id, "--workshop", workshop_id]) == 0
    assert main(["board", "assembly", "figures", *at, assembly_id]) == 0
    out = capsys.readouterr().out
    assert "checked in mem-1" in out and "1/1 seated, 1 waiting" in out
    listed = [line.split() for line in out.splitlines() if line.startswith(("seated", "waiting"))]
    assert [row[:2] for row in listed] == [["seated", "mem-1"], ["waiting", "#1"]] and listed[1][2] == "mem-2"
    assert "registered 2: in person 2 (present 1), remote 0" in out


def test_bad_usage_exits_2_and_a_refusal_exits_1(api: AssemblyApi, capsys) -> None:
    assert main(["board", "assembly", "schedule", "--target", api.target, "--title", "only one", "--starts-at",
                 START.isoformat(), "--place", "x", "--deadline", START.isoformat(), "--election", "e"]) == 2
    assert main(["board", "assembly", "show", "--target", api.target, "no-such-assembly"]) == 1
    assert "ASSEMBLY_NOT_FOUND" in capsys.readouterr().err
