"""`coop board questions list | show | answer | refer`: management's and the secretary's work on
members' questions from the command line, against the running api."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from board_questions_helpers import QuestionsApi, questions_api
from board_svc_helpers import START

from coop_cli.main import main


@pytest.fixture(scope="module")
def api(pg_url: str) -> Iterator[QuestionsApi]:
    with questions_api(pg_url) as running:
        yield running


def test_list_answer_refer_and_show_from_the_command_line(api: QuestionsApi, capsys) -> None:
    api.clock.set(START)
    assembly = api.new_assembly()
    top = api.submit(assembly, 1, "Why did the board leave the venue?\nSecond line", public=True)
    other = api.submit(assembly, 2, "Pourquoi ?", language="fr")
    api.support(top.question_id, 3)
    where = ["--target", api.target]
    assert main(["board", "questions", "list", "--assembly", assembly, *where]) == 0
    out = capsys.readouterr().out
    assert "2 question(s)" in out
    rows = [line.split() for line in out.splitlines() if top.question_id in line or other.question_id in line]
    assert rows[0][:4] == ["1", "unanswered", "en", "mem-1"] and rows[1][:4] == ["0", "unanswered", "fr", "(anonymous)"]
    assert "Why did the board leave the venue?" in out and "Second line" not in out
    assert main(["board", "questions", "answer", top.question_id, "--mode", "writing", "--fr", "Réponse",
                 "--nl", "Antwoord", "--en", "Answer", *where]) == 0
    assert main(["board", "questions", "answer", other.question_id, "--mode", "plenary", *where]) == 0
    assert main(["board", "questions", "refer", other.question_id, "--title-fr", "Salle", "--title-nl", "Zaal",
                 "--title-en", "Venue", *where]) == 0
    assert "agenda item item-" in capsys.readouterr().out
    assert main(["board", "questions", "show", top.question_id, "--json", *where]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["status"], shown["answer"]["nl"], shown["supportCount"]) == \
        ("QUESTION_STATUS_ANSWERED_IN_WRITING", "Antwoord", 1)
    assert main(["board", "questions", "list", "--assembly", assembly, "--filter", "unanswered", "--json", *where]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_refusal_exits_1_with_its_reason(api: QuestionsApi, capsys) -> None:
    q = api.submit(api.new_assembly(), 1)
    assert main(["board", "questions", "answer", q.question_id, "--mode", "writing", "--fr", "seulement",
                 "--target", api.target]) == 1
    assert "TRANSLATION_MISSING" in capsys.readouterr().err
    assert main(["board", "questions", "list", "--assembly", "no-such-assembly", "--target", api.target]) == 1
    assert "ASSEMBLY_NOT_FOUND" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["board", "questions", "answer", q.question_id, "--mode", "aloud", "--target", api.target])
    assert exc.value.code == 2
