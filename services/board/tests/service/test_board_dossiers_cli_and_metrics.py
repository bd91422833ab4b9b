"""`coop board dossiers list|show` print what the api answers (run on the test api's stub); the
dossier gauges count per status and the overdue send backs."""

from __future__ import annotations

import argparse
import uuid
from datetime import date

import pytest
from board_dossiers_helpers import ROLES, in_meeting, sitting_directors, stub, submit_v1  # noqa: F401

from coop_board.domain.texts import LocalizedText
from coop_board.entrypoints import cli_dossiers
from coop_board.service_layer import dossier_hooks as hooks

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _documents(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COOP_BOARD_DOCUMENTS_DIR", str(tmp_path / "documents"))


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_dossiers.add_commands(parser.add_subparsers(dest="board_command", required=True))
    return parser.parse_args(list(argv))


def test_list_and_show_print_status_versions_proposals_and_changes(env, capsys) -> None:
    v1 = submit_v1(env, title=f"Envelope {uuid.uuid4()}")
    dossier_id = v1.dossier.dossier_id
    in_meeting(env, lambda uow: hooks.send_back(uow, "coop", dossier_id, 1, LocalizedText("fr", "nl", "Revise"),
                                                date(2027, 4, 30), "m", "i", "d", env.clock()))
    assert cli_dossiers._list(stub(env), ROLES["secretary"], parse("dossiers", "list", "--status", "sent_back")) == 0
    out = capsys.readouterr().out
    assert dossier_id in out and "sent_back" in out and "due 2027-04-30" in out
    assert cli_dossiers._show(stub(env), ROLES["secretary"], parse("dossiers", "show", dossier_id,
                                                                   "--language", "nl")) == 0
    out = capsys.readouterr().out
    assert " * 2. [rejected] Key 2: per share (nl)" in out and "document envelope.pdf" in out
    assert cli_dossiers._show(stub(env), ROLES["secretary"], parse("dossiers", "show", dossier_id, "--changes")) == 0
    assert out.count("[new]") == 0 and capsys.readouterr().out.count("[new]") == 5


def test_gauges_count_dossiers_per_status_and_the_overdue_ones(env) -> None:
    from datetime import UTC, datetime

    from coop_board.entrypoints.grpc_dossiers import GAUGES

    def read() -> dict[str, float]:
        return {(s.name + str(s.labels.get("status", ""))): s.value for f in GAUGES.collect() for s in f.samples}

    v1 = submit_v1(env, title=f"Envelope {uuid.uuid4()}")
    in_meeting(env, lambda uow: hooks.send_back(uow, "coop", v1.dossier.dossier_id, 1,
                                                LocalizedText("fr", "nl", "Revise"), date(2027, 4, 30), "m", "i", "d",
                                                env.clock()))
    before = read()
    assert before["coop_board_dossierssent_back"] >= 1
    env.clock.set(datetime(2027, 5, 2, tzinfo=UTC))
    assert read()["coop_board_dossiers_overdue"] >= before["coop_board_dossiers_overdue"] + 1
