"""Minutes use cases on the in-memory fakes: access by role and tenant, drafting from the
record, approval through the agenda, errata, translation tasks, publication and the reads."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fakes import FakeUnitOfWork
from fakes_minutes import SECRET, FakeOfficers, FakePublishedReads, FakeRecords, make_record

from coop_board.domain.minutes import Edit
from coop_board.domain.minutes_events import MinutesPublished
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import agenda_hooks, minutes, minutes_hooks, minutes_reads
from coop_domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from coop_domain.principal import Principal

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SECRETARY = Principal("dir-2", "coop", frozenset({"secretary", "director"}))
ADMIN = Principal("ops", "coop", frozenset({"admin"}))
DIRECTOR = Principal("dir-1", "coop", frozenset({"director"}))
MANAGEMENT = Principal("mgmt-1", "coop", frozenset({"management"}))
MEMBER = Principal("m-42", "coop", frozenset({"member"}))
OTHER = Principal("ops", "other", frozenset({"admin"}))


@pytest.fixture
def uow(monkeypatch) -> FakeUnitOfWork:
    u = FakeUnitOfWork()
    u.meetings = FakeRecords(make_record(items=4), make_record("meeting-nl", items=2, missing=("nl",)))
    u.roster = FakeOfficers("dir-2")
    monkeypatch.setattr(agenda_hooks, "add_minutes_approval_item",
                        lambda uow, tenant, minutes_id, title, now=None: f"approve-{minutes_id}")
    return u


def approve(uow, minutes_id: str) -> None:
    with uow:
        minutes_hooks.minutes_approved(uow, "coop", minutes_id, "dec-1", "meeting-2", NOW)
        uow.commit()


def published(uow, meeting_id="meeting-1"):
    m = minutes.draft_minutes(uow, SECRETARY, meeting_id, NOW)
    minutes.submit_for_approval(uow, SECRETARY, m.minutes_id, NOW)
    approve(uow, m.minutes_id)
    return minutes.publish_minutes(uow, SECRETARY, m.minutes_id, NOW)


def test_the_secretary_drafts_minutes_from_the_record(uow) -> None:
    m = minutes.draft_minutes(uow, SECRETARY, "meeting-1", NOW)
    assert m.status == "draft" and len(m.sections) == 5 and uow.commits == 1
    with pytest.raises(AlreadyExists) as err:
        minutes.draft_minutes(uow, ADMIN, "meeting-1", NOW)
    assert err.value.reason == "MINUTES_ALREADY_DRAFTED"


def test_a_director_with_the_secretary_role_but_not_the_office_is_refused(uow) -> None:
    uow.roster = FakeOfficers("dir-5")
    with pytest.raises(PermissionDenied) as err:
        minutes.draft_minutes(uow, SECRETARY, "meeting-1", NOW)
    assert err.value.reason == "NOT_THE_SECRETARY"


@pytest.mark.parametrize("caller", [DIRECTOR, MANAGEMENT, MEMBER])
def test_only_the_secretary_or_an_admin_writes(uow, caller) -> None:
    with pytest.raises(PermissionDenied):
        minutes.draft_minutes(uow, caller, "meeting-1", NOW)


def test_another_tenants_admin_finds_nothing(uow) -> None:
    m = minutes.draft_minutes(uow, SECRETARY, "meeting-1", NOW)
    with pytest.raises(NotFound):
        minutes.draft_minutes(uow, OTHER, "meeting-1", NOW)
    with pytest.raises(NotFound):
        minutes.get_minutes(uow, OTHER, m.minutes_id)


def test_board_readers_read_drafts_members_do_not(uow) -> None:
    m = minutes.draft_minutes(uow, SECRETARY, "meeting-1", NOW)
    for caller in (DIRECTOR, MANAGEMENT, ADMIN, SECRETARY):
        assert minutes.get_minutes(uow, caller, m.minutes_id)[0].minutes_id == m.minutes_id
    with pytest.raises(PermissionDenied):
        minutes.get_minutes(uow, MEMBER, m.minutes_id)


def test_submission_puts_an_approval_item_and_approval_freezes_the_minutes(uow) -> None:
    m = minutes.draft_minutes(uow, SECRETARY, "meeting-1", NOW)
    m, item = minutes.submit_for_approval(uow, SECRETARY, m.minutes_id, NOW)
    assert item == f"approve-{m.minutes_id}" and m.status == "submitted"
    approve(uow, m.minutes_id)
    stored = uow.minutes.get("coop", m.minutes_id)
    assert stored.status == "approved" and stored.approval_decision_id == "dec-1"
    commits = uow.commits
    with pytest.raises(FailedPrecondition) as err:
        minutes.update_minutes(uow, SECRETARY, m.minutes_id, [Edit("sections", "attendance", "fr", "x")], NOW)
    assert err.value.reason == "MINUTES_APPROVED" and uow.commits == commits
    assert uow.minutes.get("coop", m.minutes_id) == stored


def test_a_missing_translation_is_a_task_with_a_due_date_closed_once_translated(uow) -> None:
    m = minutes.draft_minutes(uow, SECRETARY, "meeting-nl", NOW, translation_days=10)
    tasks, _ = minutes.list_translation_tasks(uow, DIRECTOR, 0, "")
    assert [t.minutes_id for t in tasks] == [m.minutes_id]
    assert tasks[0].due_on == date(2027, 3, 11) and tasks[0].languages == ("nl",)
    edits = [Edit("sections", s.section_id, "nl", "vertaald") for s in m.sections if not s.body.nl]
    edits += [Edit("decisions", d.decision_id, "nl", "vertaald") for d in m.decisions if not d.closed]
    minutes.update_minutes(uow, SECRETARY, m.minutes_id, edits, NOW)
    assert minutes.list_translation_tasks(uow, DIRECTOR, 0, "")[0] == []
    with pytest.raises(PermissionDenied):
        minutes.list_translation_tasks(uow, MEMBER, 0, "")


def test_publishing_with_a_language_missing_writes_nothing(uow) -> None:
    m = minutes.draft_minutes(uow, SECRETARY, "meeting-nl", NOW)
    minutes.submit_for_approval(uow, SECRETARY, m.minutes_id, NOW)
    approve(uow, m.minutes_id)
    commits, events = uow.commits, list(uow.published)
    with pytest.raises(FailedPrecondition) as err:
        minutes.publish_minutes(uow, SECRETARY, m.minutes_id, NOW)
    assert err.value.reason == "TRANSLATION_MISSING" and err.value.metadata["missing_languages"] == "nl"
    assert uow.commits == commits and uow.published == events and not uow.minutes.docs


def test_publication_writes_every_language_and_one_event_without_texts(uow) -> None:
    m = published(uow)
    assert m.status == "published" and len(uow.minutes.docs) == 3 and len(uow.minutes.decisions) == 12
    [event] = [e for e in uow.published if isinstance(e, MinutesPublished)]
    assert event.minutes_id == m.minutes_id and event.meeting_date == date(2027, 2, 15)
    assert SECRET not in repr(event)


def test_members_list_search_and_read_published_material_in_their_language(uow) -> None:
    published(uow)
    reads = FakePublishedReads(uow.minutes)
    rows, token = minutes_reads.list_published_minutes(reads, MEMBER, "nl", None, None, "", 0, "")
    assert len(rows) == 1 and rows[0].language == "nl" and token == ""
    found, token = minutes_reads.search_published_decisions(reads, MEMBER, "fr", None, None, "topic 3", 0, "")
    assert [d.decision_id for d in found] == ["meeting-1-decision-3"]
    folded, _ = minutes_reads.search_published_decisions(reads, MEMBER, "fr", None, None, "DÉCISION ON TÔPIC 3", 0, "")
    assert [d.decision_id for d in folded] == ["meeting-1-decision-3"]  # case and accents folded
    assert minutes_reads.search_published_decisions(reads, MEMBER, "en", None, None, SECRET.lower(), 0, "")[0] == []
    page, token = minutes_reads.search_published_decisions(reads, MEMBER, "en", None, None, "", 3, "")
    rest, last = minutes_reads.search_published_decisions(reads, MEMBER, "en", None, None, "", 3, token)
    assert len(page) == 3 and len(rest) == 1 and last == ""
    one = minutes_reads.get_published_decision(reads, MEMBER, "meeting-1-decision-1", "en")
    assert one.adopted_text == "Adopted budget text 1 [en]" and one.in_favour == 5
    with pytest.raises(NotFound):
        minutes_reads.get_published_decision(reads, OTHER, "meeting-1-decision-1", "en")
    with pytest.raises(InvalidArgument) as err:
        minutes_reads.get_published_decision(reads, MEMBER, "meeting-1-decision-1", "de")
    assert err.value.field == "language"
    assert minutes_reads.list_published_minutes(reads, MEMBER, "en", date(2027, 3, 1), None, "", 0, "")[0] == []


def test_an_erratum_is_voted_and_published_like_minutes_and_links_to_them(uow) -> None:
    m = published(uow)
    e = minutes.create_erratum(uow, SECRETARY, m.minutes_id, LocalizedText("corr", "corr", "corr"), "open", NOW)
    minutes.submit_for_approval(uow, SECRETARY, e.minutes_id, NOW)
    approve(uow, e.minutes_id)
    e = minutes.publish_minutes(uow, SECRETARY, e.minutes_id, NOW)
    assert e.erratum_of == m.minutes_id
    assert minutes.get_minutes(uow, DIRECTOR, m.minutes_id)[1] == [e.minutes_id]
