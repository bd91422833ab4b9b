"""The record minutes are drafted from joins the two families that keep it: the meetings
family's votes and decisions, and the dossiers family's amendments (author, level, text, diff,
outcome). Minutes are drafted only from a closed meeting's final record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from board_fakes import FakeUnitOfWork
from board_fakes_dossiers import FakeDocumentStore
from board_fakes_minutes import FakeOfficers, FakeRecords, make_record

from coop_board.domain.dossiers import ProposalDraft
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import dossiers, dossiers_amendments, minutes
from coop_board.service_layer.meeting_records import full_record
from coop_domain.errors import FailedPrecondition
from coop_domain.principal import Principal

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
MGR = Principal("mgr-1", "coop", frozenset({"management"}))
DIRECTOR = Principal("dir-2", "coop", frozenset({"director"}))
SECRETARY = Principal("dir-2", "coop", frozenset({"secretary", "director"}))


def lt(text: str) -> LocalizedText:
    return LocalizedText(fr=f"{text} fr", nl=f"{text} nl", en=text)


def _dossier_with_an_amendment(uow: FakeUnitOfWork) -> tuple[str, str, str]:
    uow.roster.seat(DIRECTOR.subject, date(2000, 1, 1), date(2100, 1, 1))
    d = dossiers.create_dossier(uow, MGR, lt("Envelope"), AT)
    drafts = [ProposalDraft(lt(f"Key {i}"), lt(f"Redistribute by key {i}"), i == 1, lt("why") if i == 1 else
                            LocalizedText()) for i in range(3)]
    view = dossiers.submit_version(uow, MGR, FakeDocumentStore(), d.dossier_id, drafts, [], [], LocalizedText(),
                                   1024, AT)
    proposal_id = view.version.proposals[0].proposal_id
    _, amendment = dossiers_amendments.propose_amendment(uow, DIRECTOR, proposal_id, lt("Redistribute by need"), AT)
    return d.dossier_id, proposal_id, amendment.amendment_id


def test_the_record_of_a_dossier_item_carries_the_amendments_of_its_version() -> None:
    uow = FakeUnitOfWork()
    dossier_id, proposal_id, amendment_id = _dossier_with_an_amendment(uow)
    base = make_record(items=1, closed_every=0)
    item = replace(base.items[0], dossier_id=dossier_id, dossier_version=1, amendments=())
    uow.meetings = FakeRecords(replace(base, items=(item,)))
    record = full_record(uow, "coop", base.meeting_id)
    assert record is not None
    (line,) = record.items[0].amendments
    assert (line.amendment_id, line.proposal_id, line.author_id, line.level, line.outcome) == (
        amendment_id, proposal_id, "dir-2", 1, "pending")
    assert "+Redistribute by need" in line.diff.en
    assert full_record(uow, "other", base.meeting_id) is None


class _InSession(FakeRecords):
    def summary(self, tenant: str, meeting_id: str):
        found = super().summary(tenant, meeting_id)
        return found and replace(found, status="in_session")


def test_minutes_are_drafted_only_once_the_meeting_is_closed() -> None:
    uow = FakeUnitOfWork()
    uow.meetings = _InSession(make_record())
    uow.roster = FakeOfficers("dir-2")
    with pytest.raises(FailedPrecondition) as refused:
        minutes.draft_minutes(uow, SECRETARY, "meeting-1", AT)
    assert (refused.value.reason, refused.value.field) == ("MEETING_NOT_CLOSED", "meeting_id")
    assert uow.minutes.of_meeting("coop", "meeting-1") is None and uow.commits == 0
