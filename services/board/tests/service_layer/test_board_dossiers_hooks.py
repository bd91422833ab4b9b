"""The dossier hooks the meetings family calls, and the dossier use cases, on in-memory fakes:
the meetings family's unit is open around a hook, the hook never commits, and a refused hook
leaves nothing behind when the caller's unit rolls back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from board_fakes import FakeUnitOfWork
from board_fakes_dossiers import FakeDocumentStore

from coop_board.domain.dossiers import ProposalDraft
from coop_board.domain.dossiers_events import DossierSentBack, DossierSubmitted
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import dossier_hooks as hooks
from coop_board.service_layer import dossiers, dossiers_amendments, dossiers_documents
from coop_board.service_layer.dossiers import Upload
from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from coop_domain.principal import Principal

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
MGR = Principal("mgr-1", "coop", frozenset({"management"}))
DIRECTOR = Principal("dir-1", "coop", frozenset({"director"}))
MEMBER = Principal("mem-1", "coop", frozenset({"member"}))
MAX = 1024


def lt(text: str) -> LocalizedText:
    return LocalizedText(fr=f"{text} fr", nl=f"{text} nl", en=text)


def five_keys() -> list[ProposalDraft]:
    return [ProposalDraft(lt(f"Key {i}"), lt(f"Redistribute by key {i}"), i in (1, 3),
                          lt(f"why {i}") if i in (1, 3) else LocalizedText()) for i in range(5)]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    unit = FakeUnitOfWork()
    unit.roster.seat(DIRECTOR.subject, date(2000, 1, 1), date(2100, 1, 1))  # directors amend while sitting
    return unit


def submit(uow: FakeUnitOfWork, store: FakeDocumentStore | None = None):
    d = dossiers.create_dossier(uow, MGR, lt("COVID envelope"), AT)
    view = dossiers.submit_version(uow, MGR, store or FakeDocumentStore(), d.dossier_id, five_keys(), [],
                                   [Upload("keys.pdf", "application/pdf", b"%PDF keys")], LocalizedText(), MAX, AT)
    return view


def test_submission_publishes_dossier_submitted_with_two_recommended(uow) -> None:
    view = submit(uow)
    event = uow.published[-1]
    assert isinstance(event, DossierSubmitted) and event.version.number == 1
    assert sum(p.recommended for p in event.version.proposals) == 2
    assert len(view.documents) == 1 and view.documents[0].sha256 and view.documents[0].size == 9


def test_proposals_for_vote_lists_amendments_before_their_proposal(uow) -> None:
    view = submit(uow)
    p1 = view.version.proposals[1].proposal_id
    _, a1 = dossiers_amendments.propose_amendment(uow, DIRECTOR, p1, lt("amended"), AT)
    refs = hooks.proposals_for_vote(uow, "coop", view.dossier.dossier_id, 1)
    ids = [r.subject_id for r in refs]
    assert len(refs) == 6 and ids.index(a1.amendment_id) == ids.index(p1) - 1
    ref = hooks.subject(uow, "coop", a1.amendment_id)
    assert (ref.level, ref.parent_id, ref.status, ref.recommended) == (1, p1, "open", False)
    assert hooks.subject(uow, "coop", p1).recommended is True
    with pytest.raises(NotFound):
        hooks.subject(uow, "other", p1)
    with pytest.raises(NotFound):
        hooks.proposals_for_vote(uow, "other", view.dossier.dossier_id, 1)


def test_record_outcome_inside_the_callers_unit_adopted_amendment_becomes_the_text(uow) -> None:
    view = submit(uow)
    p1 = view.version.proposals[1].proposal_id
    _, a1 = dossiers_amendments.propose_amendment(uow, DIRECTOR, p1, lt("amended"), AT)
    commits = uow.commits
    with uow:
        hooks.record_outcome(uow, "coop", a1.amendment_id, "adopted", "dec-1", AT)
        assert uow.commits == commits  # the hook does not commit
        uow.commit()
    ref = hooks.subject(uow, "coop", p1)
    assert ref.text == lt("amended") and ref.status == "open"
    with uow:
        hooks.record_outcome(uow, "coop", p1, "adopted", "dec-2", AT)
        uow.commit()
    assert hooks.subject(uow, "coop", p1).status == "adopted"
    with pytest.raises(FailedPrecondition) as e:
        dossiers_amendments.propose_amendment(uow, DIRECTOR, p1, lt("too late"), AT)
    assert e.value.reason == "AMENDED_SUBJECT_ADOPTED"


def test_a_refused_outcome_leaves_nothing_when_the_caller_rolls_back(uow) -> None:
    view = submit(uow)
    p0, p1 = (p.proposal_id for p in view.version.proposals[:2])
    dossiers_amendments.propose_amendment(uow, DIRECTOR, p1, lt("amended"), AT)
    with pytest.raises(FailedPrecondition) as e, uow:
        hooks.record_outcome(uow, "coop", p0, "rejected", "dec", AT)   # the meeting's first vote passes
        hooks.record_outcome(uow, "coop", p1, "adopted", "dec", AT)    # its amendment is pending
    assert e.value.reason == "AMENDMENTS_PENDING"
    assert hooks.subject(uow, "coop", p0).status == "open"


def test_send_back_publishes_and_returns_the_dossier_to_management_with_its_due_date(uow) -> None:
    view = submit(uow)
    dossier_id = view.dossier.dossier_id
    with uow:
        hooks.send_back(uow, "coop", dossier_id, 1, lt("Revise the keys"), date(2027, 4, 15), "m1", "i1", "d1", AT)
        uow.commit()
    event = uow.published[-1]
    assert isinstance(event, DossierSentBack) and event.send_back.due_on == date(2027, 4, 15)
    got = dossiers.get_dossier(uow, MGR, dossier_id)
    assert got.dossier.status == "sent_back" and got.dossier.due_on == date(2027, 4, 15)
    assert {hooks.subject(uow, "coop", p.proposal_id).status for p in view.version.proposals} == {"rejected"}
    v1 = got.version
    drafts = [ProposalDraft(lt("Key 1b"), lt("Revised key 1"), True, lt("why"), revises=v1.proposals[1].proposal_id),
              ProposalDraft(lt("Key 6"), lt("A sixth key"))]
    v2 = dossiers.submit_version(uow, MGR, FakeDocumentStore(), dossier_id, drafts, [], [], lt("Key 1 revised"),
                                 MAX, AT)
    assert v2.version.number == 2 and dossiers.get_dossier(uow, DIRECTOR, dossier_id, 1).version == v1
    changes = dossiers.version_changes(uow, DIRECTOR, dossier_id, 2)
    assert changes.answers.reasons == lt("Revise the keys") and changes.change_note == lt("Key 1 revised")
    assert sorted(c.kind for c in changes.changes) == ["dropped"] * 4 + ["new", "revised"]
    with pytest.raises(FailedPrecondition) as e, uow:
        hooks.send_back(uow, "coop", dossier_id, 1, lt("again"), date(2027, 5, 1), "m2", "i2", "d2", AT)
    assert e.value.reason == "VERSION_NOT_BEFORE_BOARD"


def test_only_a_director_sitting_that_day_amends(uow) -> None:
    view = submit(uow)
    p1 = view.version.proposals[1].proposal_id
    with pytest.raises(FailedPrecondition) as e:
        dossiers_amendments.propose_amendment(uow, Principal("dir-9", "coop", frozenset({"director"})), p1,
                                              lt("not sitting"), AT)
    assert (e.value.reason, e.value.field) == ("NOT_A_SITTING_DIRECTOR", "parent_id")
    assert hooks.amendment_lines(uow, "coop", view.dossier.dossier_id, 1) == []


def test_members_and_other_tenants_see_no_dossier(uow) -> None:
    view = submit(uow)
    with pytest.raises(PermissionDenied):
        dossiers.get_dossier(uow, MEMBER, view.dossier.dossier_id)
    with pytest.raises(NotFound):
        dossiers.get_dossier(uow, Principal("adm", "other", frozenset({"admin"})), view.dossier.dossier_id)
    with pytest.raises(PermissionDenied):
        dossiers_amendments.propose_amendment(uow, MGR, view.version.proposals[0].proposal_id, lt("x"), AT)


def test_a_tampered_document_is_refused_on_download(uow) -> None:
    store = FakeDocumentStore()
    view = submit(uow, store)
    doc = view.documents[0]
    assert dossiers_documents.get_document(uow, DIRECTOR, store, doc.document_id)[1] == b"%PDF keys"
    store.files[doc.sha256] = b"%PDF forged"
    with pytest.raises(FailedPrecondition) as e:
        dossiers_documents.get_document(uow, DIRECTOR, store, doc.document_id)
    assert e.value.reason == "DOCUMENT_HASH_MISMATCH"


def test_a_refused_submission_writes_no_version_and_stores_no_file(uow) -> None:
    store = FakeDocumentStore()
    d = dossiers.create_dossier(uow, MGR, lt("t"), AT)
    with pytest.raises(InvalidArgument):
        dossiers.submit_version(uow, MGR, store, d.dossier_id, five_keys()[:1], [], [Upload("a.pdf", "", b"x")],
                                LocalizedText(), MAX, AT)
    assert not store.files and dossiers.get_dossier(uow, MGR, d.dossier_id).version is None
    assert not uow.dossiers.docs


def test_version_before_board_and_amendment_lines_for_the_agenda_and_the_record(uow) -> None:
    view = submit(uow)
    dossier_id = view.dossier.dossier_id
    assert hooks.version_before_board(uow, "coop", dossier_id) == (1, lt("COVID envelope"))
    p1 = view.version.proposals[1].proposal_id
    _, a1 = dossiers_amendments.propose_amendment(uow, DIRECTOR, p1, lt("amended"), AT)
    lines = hooks.amendment_lines(uow, "coop", dossier_id, 1)
    assert [(x.amendment_id, x.proposal_id, x.author_id, x.level, x.outcome) for x in lines] == [
        (a1.amendment_id, p1, "dir-1", 1, "pending")]
    assert "+amended" in lines[0].diff.en
    with uow:
        hooks.send_back(uow, "coop", dossier_id, 1, lt("no"), date(2027, 4, 1), "m", "i", "d", AT)
        uow.commit()
    assert hooks.amendment_lines(uow, "coop", dossier_id, 1)[0].outcome == "rejected"
    with pytest.raises(FailedPrecondition) as e:
        hooks.version_before_board(uow, "coop", dossier_id)
    assert e.value.reason == "DOSSIER_NOT_BEFORE_BOARD"


def test_a_send_back_on_a_closed_item_publishes_no_reasons() -> None:
    from coop_board.adapters.events_out import translate

    uow = FakeUnitOfWork()
    view = submit(uow)
    with uow:
        hooks.send_back(uow, "coop", view.dossier.dossier_id, 1, lt("Personnel matter"), date(2027, 4, 1), "m",
                        "i", "d", AT, closed=True)
        uow.commit()
    name, message, subject = translate(uow.published[-1])
    assert name == "dossier.sent_back" and not message.HasField("reasons") and message.due_date.year == 2027
    assert dossiers.get_dossier(uow, MGR, view.dossier.dossier_id).dossier.send_backs[-1].reasons == lt(
        "Personnel matter")
