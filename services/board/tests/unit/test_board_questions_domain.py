"""The rules of members' questions to the General Assembly, on the pure domain: text and
language, who may take part, answering and referring once, the author's visibility, the window
before the Assembly; and the family's settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coop_board.domain.links import AssemblySummary
from coop_board.domain.questions import (
    ANY_MEMBER,
    GOOD_STANDING,
    IN_PLENARY,
    IN_WRITING,
    PLENARY,
    WRITING,
    check_may_take_part,
    check_open_for_questions,
    new_question,
)
from coop_board.domain.texts import LocalizedText
from coop_board.entrypoints.settings_questions import question_rules
from coop_domain.errors import DomainError

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
FULL = LocalizedText(fr="Réponse", nl="Antwoord", en="Answer")


def _question(text: str = "Why did the board leave the venue?", **kw):
    args = dict(question_id="q-1", tenant="coop", assembly_id="ga-1", author_id="mem-1", language="en",
                text=text, author_public=False, at=NOW, max_chars=2000)
    args.update(kw)
    return new_question(**args)


def _reason(call) -> tuple[str, str, str | None]:
    with pytest.raises(DomainError) as exc:
        call()
    return exc.value.status_name, exc.value.reason, exc.value.field


def _assembly(status: str = "convened", starts_in: timedelta = timedelta(days=10)) -> AssemblySummary:
    return AssemblySummary("ga-1", "coop", FULL, NOW + starts_in, NOW + starts_in - timedelta(days=3), status)


def test_a_question_is_stored_trimmed_in_its_language_unanswered_and_without_support() -> None:
    q = _question("  Pourquoi ?  \n", language="fr")
    assert (q.text, q.language, q.status, q.support_count, q.answered, q.referred) == \
        ("Pourquoi ?", "fr", "unanswered", 0, False, False)


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_an_empty_text_after_trimming_is_refused(text: str) -> None:
    assert _reason(lambda: _question(text)) == ("INVALID_ARGUMENT", "TEXT_EMPTY", "text")


def test_the_length_limit_counts_characters_after_trimming() -> None:
    assert _question("é" * 2000 + "   ").text == "é" * 2000
    assert _reason(lambda: _question("é" * 2001)) == ("INVALID_ARGUMENT", "TEXT_TOO_LONG", "text")
    assert _reason(lambda: _question("abcd", max_chars=3)) == ("INVALID_ARGUMENT", "TEXT_TOO_LONG", "text")


@pytest.mark.parametrize("language", ["", "de", "FR", "english"])
def test_a_language_other_than_fr_nl_en_is_refused(language: str) -> None:
    assert _reason(lambda: _question(language=language)) == ("INVALID_ARGUMENT", "LANGUAGE_UNKNOWN", "language")


def test_the_author_is_shown_to_others_only_when_public_and_always_to_themself() -> None:
    hidden, public = _question(), _question(author_public=True)
    assert (hidden.author_for("mem-2"), hidden.author_for("mem-1")) == (None, "mem-1")
    assert (public.author_for("mem-2"), public.author_for("mem-1")) == ("mem-1", "mem-1")


def test_a_member_does_not_support_their_own_question() -> None:
    q = _question()
    q.check_supportable_by("mem-2")
    assert _reason(lambda: q.check_supportable_by("mem-1")) == ("FAILED_PRECONDITION", "OWN_QUESTION", "question_id")


def test_an_answer_in_writing_needs_three_languages_and_is_given_once() -> None:
    q = _question()
    for partial, field in ((LocalizedText(fr="R", en="A"), "answer.nl"), (LocalizedText(), "answer.fr")):
        assert _reason(lambda p=partial: q.answer_with(WRITING, p, "mgmt-1", NOW)) == \
            ("INVALID_ARGUMENT", "TRANSLATION_MISSING", field)
    answered = q.answer_with(WRITING, LocalizedText(fr=" Réponse ", nl="Antwoord", en="Answer"), "mgmt-1", NOW)
    assert (answered.status, answered.answer.fr, answered.answered_by, answered.answered_at) == \
        (IN_WRITING, "Réponse", "mgmt-1", NOW)
    assert _reason(lambda: answered.answer_with(PLENARY, LocalizedText(), "sec-1", NOW)) == \
        ("FAILED_PRECONDITION", "ALREADY_ANSWERED", "question_id")


def test_an_answer_in_the_plenary_takes_no_note_or_a_note_in_three_languages() -> None:
    q = _question()
    assert q.answer_with(PLENARY, LocalizedText(), "sec-1", NOW).status == IN_PLENARY
    assert q.answer_with(PLENARY, FULL, "sec-1", NOW).answer == FULL
    assert _reason(lambda: q.answer_with(PLENARY, LocalizedText(en="note"), "sec-1", NOW)) == \
        ("INVALID_ARGUMENT", "TRANSLATION_MISSING", "answer.fr")


def test_an_answer_without_a_mode_is_refused() -> None:
    assert _reason(lambda: _question().answer_with("", FULL, "sec-1", NOW)) == \
        ("INVALID_ARGUMENT", "ANSWER_MODE_REQUIRED", "mode")


def test_a_question_is_referred_once_with_its_item_or_pending() -> None:
    pending = _question().refer(None, "sec-1", NOW)
    assert (pending.referred, pending.referral_item_id) == (True, None)
    assert _question().refer("item-9", "sec-1", NOW).referral_item_id == "item-9"
    assert _reason(lambda: pending.refer("item-1", "sec-1", NOW)) == \
        ("FAILED_PRECONDITION", "ALREADY_REFERRED", "question_id")


def test_questions_in_advance_close_when_the_assembly_starts_is_held_or_is_cancelled() -> None:
    for status in ("scheduled", "convening", "convened"):
        check_open_for_questions(_assembly(status), NOW)
    assert _reason(lambda: check_open_for_questions(_assembly("held"), NOW))[1] == "ASSEMBLY_HELD"
    assert _reason(lambda: check_open_for_questions(_assembly(starts_in=timedelta(0)), NOW))[1] == "ASSEMBLY_HELD"
    assert _reason(lambda: check_open_for_questions(_assembly("cancelled"), NOW))[1] == "ASSEMBLY_CANCELLED"


def test_good_standing_is_required_unless_the_setting_opens_questions_to_every_member() -> None:
    check_may_take_part(GOOD_STANDING, True)
    for standing in (False, None):
        assert _reason(lambda s=standing: check_may_take_part(GOOD_STANDING, s)) == \
            ("FAILED_PRECONDITION", "NOT_IN_GOOD_STANDING", None)
        check_may_take_part(ANY_MEMBER, standing)


def test_settings_default_to_2000_characters_and_members_in_good_standing() -> None:
    assert question_rules({}) == question_rules({"COOP_BOARD_QUESTION_MAX_CHARS": "2000"})
    rules = question_rules({"COOP_BOARD_QUESTION_MAX_CHARS": "500", "COOP_BOARD_QUESTIONS_OPEN_TO": "members"})
    assert (question_rules({}).max_chars, question_rules({}).open_to) == (2000, GOOD_STANDING)
    assert (rules.max_chars, rules.open_to) == (500, ANY_MEMBER)


@pytest.mark.parametrize(("name", "value"), [("COOP_BOARD_QUESTION_MAX_CHARS", "0"),
                                             ("COOP_BOARD_QUESTION_MAX_CHARS", "lots"),
                                             ("COOP_BOARD_QUESTIONS_OPEN_TO", "everyone")])
def test_a_bad_question_setting_stops_the_process_naming_it(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        question_rules({name: value})
