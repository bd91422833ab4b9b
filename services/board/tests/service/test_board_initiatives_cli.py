"""`coop board initiatives list | show | count | decide | signers | publish-outcome`: the
secretary's and management's initiative tasks from the command line, against the running api
(the agenda and assembly hooks are recording fakes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from board_initiatives_helpers import SECRETARY_ID, InitiativesApi, initiatives_api
from board_svc_helpers import START

from coop.board.v1 import initiatives_pb2 as pb
from coop_board.service_layer import initiative_hooks
from coop_cli.main import main
from coop_testkit import bearer


@pytest.fixture(scope="module")
def api(pg_url: str) -> Iterator[InitiativesApi]:
    with initiatives_api(pg_url) as running:
        yield running


@pytest.fixture
def secretary_token(monkeypatch: pytest.MonkeyPatch) -> None:
    token = bearer(SECRETARY_ID, "secretary", "director")[0][1].removeprefix("Bearer ")
    monkeypatch.setenv("COOP_TOKEN", token)


def test_admissibility_signers_and_outcome_from_the_command_line(api, capsys, secretary_token) -> None:
    api.clock.set(START)
    iid = api.submitted()
    target = ["--target", api.target]
    assert main(["board", "initiatives", "decide", iid, "--admissible", *target]) == 0
    for n in (10, 11, 12):
        api.sign(iid, n)
    assert main(["board", "initiatives", "count", iid, *target]) == 0
    assert main(["board", "initiatives", "signers", iid, *target]) == 0
    assert main(["board", "initiatives", "list", "--status", "qualified", *target]) == 0
    out = capsys.readouterr().out
    assert "3/3 qualified" in out
    assert "3 signatures, 3 of members in good standing" in out and "mem-11" in out
    assert any(line.startswith("qualified") and iid in line for line in out.splitlines())
    uow = api.uow_factory()
    with uow:
        initiative_hooks.initiative_discussed(uow, "coop", iid, api.get(iid).forced_item.meeting_id, None, START)
        uow.commit()
    assert main(["board", "initiatives", "publish-outcome", iid, "--kind", "rejected", "--text-fr", "Non",
                 "--text-nl", "Nee", "--text-en", "No", *target]) == 0
    assert api.get(iid).status == pb.INITIATIVE_STATUS_CLOSED


def test_a_refusal_exits_1_with_its_reason_and_bad_usage_2(api, capsys, secretary_token) -> None:
    iid = api.submitted()
    assert main(["board", "initiatives", "decide", iid, "--refuse", "--reason-fr", "Non", "--target", api.target]) == 1
    assert "MISSING_LANGUAGE" in capsys.readouterr().err
    assert main(["board", "initiatives", "decide", iid, "--target", api.target]) == 2
