"""Minutes in the domain: drafted from a meeting's record in three languages, edited per
language, immutable once approved, published only complete, closed items redacted."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))

from board_fakes_minutes import SECRET, make_record  # noqa: E402

from coop_board.domain.minutes import Edit, translation_task  # noqa: E402
from coop_board.domain.minutes_draft import draft_erratum, draft_minutes  # noqa: E402
from coop_board.domain.minutes_public import published_rows, render_html, render_text  # noqa: E402
from coop_board.domain.texts import LocalizedText  # noqa: E402
from coop_domain.errors import FailedPrecondition, InvalidArgument  # noqa: E402

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def drafted(**kw):
    return draft_minutes(make_record(**kw), "m-1", NOW, "dir-2")


def approved(**kw):
    m = drafted(**kw)
    m.submit(NOW)
    m.approve("dec-approve", "meeting-2", NOW)
    return m


def test_draft_has_attendance_then_every_item_in_agenda_order_in_three_languages() -> None:
    m = drafted(items=3)
    assert [s.section_id for s in m.sections] == ["attendance", "item:meeting-1-item-1", "item:meeting-1-item-2",
                                                  "item:meeting-1-item-3"]
    att = m.sections[0].body
    assert "Présents: dir-1" in att.fr and "Aanwezig: dir-1" in att.nl and "Present: dir-1" in att.en
    assert "dir-7 represented by dir-1" in att.en
    item = m.sections[1].body
    for needle in ("Quorum: 6 present or represented of 7 sitting, 4 required (met)", "For 5, against 1",
                   "Declaration of interest by dir-3", "Amendment (level 1) by dir-2: Amended text 1 [en]",
                   "Votes by name: dir-1 for, dir-2 against", "Recused: dir-3", "Adopted text: Adopted budget text 1 [en]",
                   "Action: Follow up 1 [en] (owner mgmt-1, due 2027-04-01)", "Effective on 2027-03-01"):
        assert needle in item.en
    assert "Quorum : 6 présents" in item.fr and "Voor 5, tegen 1" in item.nl
    assert m.title.en == "Minutes of the board meeting of 2027-02-15" and m.status == "draft"
    assert [d.decision_id for d in m.decisions] == [f"meeting-1-decision-{n}" for n in (1, 2, 3)]


def test_a_free_text_missing_in_a_language_blanks_that_language_and_is_listed() -> None:
    m = drafted(items=2, missing=("nl",))
    assert m.sections[1].body.nl == "" and m.sections[1].body.fr
    assert m.missing_languages() == ("nl",)
    assert ("sections[item:meeting-1-item-1].body", ("nl",)) in m.missing_parts()
    task = translation_task(m, None, date(2027, 3, 1))
    assert task is not None and task.due_on == date(2027, 3, 8) and task.languages == ("nl",)


def test_closed_item_missing_body_language_does_not_block_publication() -> None:
    m = drafted(items=2)
    m.edit([Edit("sections", "item:meeting-1-item-2", "nl", "")])  # the closed item's body
    assert m.missing_languages() == ()


def test_edits_apply_all_or_nothing() -> None:
    m = drafted(items=2)
    before = m.sections
    with pytest.raises(InvalidArgument) as err:
        m.edit([Edit("sections", "attendance", "fr", "changed"), Edit("sections", "nope", "fr", "x", "f")])
    assert err.value.reason == "UNKNOWN_SECTION" and m.sections == before and m.revision == 1
    m.edit([Edit("sections", "attendance", "fr", "changed")])
    assert m.sections[0].body.fr == "changed" and m.revision == 2


def test_approved_minutes_refuse_any_change_of_an_existing_text() -> None:
    m = approved(items=2)
    with pytest.raises(FailedPrecondition) as err:
        m.edit([Edit("sections", "attendance", "en", "rewritten", "minutes.sections[0].body.en")])
    assert err.value.reason == "MINUTES_APPROVED" and err.value.field == "minutes.sections[0].body.en"
    assert m.sections[0].body.en.startswith("Present:")


def test_approved_minutes_accept_a_missing_translation_only() -> None:
    m = approved(items=1, missing=("en",))
    m.edit([Edit("sections", "item:meeting-1-item-1", "en", "translated"),
            Edit("decisions", "meeting-1-decision-1", "en", "Adopted text translated")])
    assert m.missing_languages() == ()


def test_publication_is_refused_while_a_language_is_missing_naming_it() -> None:
    m = approved(items=2, missing=("nl", "en"))
    with pytest.raises(FailedPrecondition) as err:
        m.publish(NOW)
    assert err.value.reason == "TRANSLATION_MISSING" and err.value.metadata["missing_languages"] == "nl,en"
    assert m.status == "approved"


def test_only_approved_minutes_are_published() -> None:
    m = drafted()
    with pytest.raises(FailedPrecondition) as err:
        m.publish(NOW)
    assert err.value.reason == "MINUTES_NOT_APPROVED"


def test_public_part_redacts_closed_items_to_their_title_and_the_fact_of_a_decision() -> None:
    m = approved(items=4)
    m.publish(NOW)
    docs, decisions = published_rows(m, NOW)
    assert len(docs) == 3 and len(decisions) == 12
    for doc in docs:
        assert SECRET not in doc.text and SECRET not in render_html(doc) and SECRET not in render_text(doc)
        assert SECRET not in doc.search
    en = next(d for d in docs if d.language == "en")
    closed = dict(en.sections)["Item 2. Topic 2 [en]"]
    assert closed == "Closed item: a decision was taken."
    assert "Adopted budget text 1 [en]" in dict(en.sections)["Item 1. Topic 1 [en]"]
    for p in decisions:
        assert SECRET not in p.title and SECRET not in p.adopted_text
        if p.decision_id.endswith("-2"):
            assert p.closed and p.adopted_text == "" and p.in_favour == 0 and p.effective_on is None


def test_html_escapes_every_text() -> None:
    record = make_record(items=1)
    m = draft_minutes(record, "m-1", NOW, "dir-2")
    m.edit([Edit("sections", "attendance", "en", "<script>alert(1)</script>")])
    m.submit(NOW)
    m.approve("d", "mt", NOW)
    m.publish(NOW)
    doc = next(d for d in published_rows(m, NOW)[0] if d.language == "en")
    assert "<script>" not in render_html(doc) and "&lt;script&gt;" in render_html(doc)


def test_erratum_corrects_approved_minutes_only_and_links_to_them() -> None:
    with pytest.raises(FailedPrecondition):
        draft_erratum(drafted(), "e-1", LocalizedText("a", "b", "c"), "open", NOW, "dir-2")
    e = draft_erratum(approved(), "e-1", LocalizedText("a", "b", "c"), "open", NOW, "dir-2")
    assert e.kind == "erratum" and e.erratum_of == "m-1" and e.status == "draft"
    assert e.title.en == "Erratum to the minutes of 2027-02-15"


def test_submit_and_approve_follow_the_order() -> None:
    m = drafted()
    with pytest.raises(FailedPrecondition) as err:
        m.approve("d", "mt", NOW)
    assert err.value.reason == "MINUTES_NOT_SUBMITTED"
    m.submit(NOW)
    with pytest.raises(FailedPrecondition):
        m.submit(NOW)


def test_a_secret_vote_is_minuted_with_its_counts_only() -> None:
    from dataclasses import replace

    record = make_record(items=1)
    item = record.items[0]
    secret_vote = replace(item.votes[0], secret=True, ballots=())
    record = replace(record, items=(replace(item, votes=(secret_vote,)),))
    body = draft_minutes(record, "m-1", NOW, "dir-2").sections[1].body
    assert "Secret vote" in body.en and "Geheime stemming" in body.nl and "Vote secret" in body.fr
    assert "Votes by name" not in body.en and "For 5, against 1, abstentions 0" in body.en


def test_an_overlong_text_is_refused() -> None:
    m = drafted(items=1)
    with pytest.raises(InvalidArgument) as err:
        m.edit([Edit("title", "", "en", "x" * 50_001, "minutes.title.en")])
    assert err.value.reason == "TEXT_TOO_LONG" and err.value.field == "minutes.title.en"
