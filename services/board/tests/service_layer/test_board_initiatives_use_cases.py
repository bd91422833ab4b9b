"""Initiatives' use cases (service_layer/initiatives*.py) on the in-memory fakes, with recording
fakes substituted for the hooks other families own (agenda_hooks.force_initiative_item,
assembly_hooks.refer_initiative_to_assembly): access, the rules by reason, nothing written on a
refusal, the events (promoters' ids, never a signer's), the timers run twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from board_fakes import FakeUnitOfWork
from board_fakes_initiatives import RecordingAgenda, RecordingAssembly, StandInBoard

from coop_board.domain.initiatives import (
    CollectionOpened,
    InitiativeAdmissible,
    InitiativeExpired,
    InitiativeQualified,
    InitiativeRules,
    InitiativeSubmitted,
    OutcomeOverdue,
    OutcomePublished,
    ThresholdProgress,
)
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import agenda_hooks, assembly_hooks, initiative_hooks
from coop_board.service_layer import initiatives as uc
from coop_board.service_layer import initiatives_collection as col
from coop_board.service_layer.ports_initiatives import CountView
from coop_domain.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied
from coop_domain.principal import Principal

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
RULES = InitiativeRules(promoters=3, admissibility_days=14, collection_days=30, threshold_count=6,
                        max_delay_days=60, outcome_days=20)
SECRETARY = Principal("sec-1", "coop", frozenset({"secretary", "director"}))
MANAGEMENT = Principal("mgmt-1", "coop", frozenset({"management"}))
ADMIN = Principal("admin-1", "coop", frozenset({"admin"}))
DIRECTOR = Principal("dir-1", "coop", frozenset({"director"}))
ALL = LocalizedText("fr", "nl", "en")


def member(n: int | str) -> Principal:
    return Principal(f"mem-{n}", "coop", frozenset({"member"}))


@pytest.fixture
def agenda(monkeypatch: pytest.MonkeyPatch) -> RecordingAgenda:
    fake = RecordingAgenda()
    monkeypatch.setattr(agenda_hooks, "force_initiative_item", fake)
    return fake


@pytest.fixture
def assembly(monkeypatch: pytest.MonkeyPatch) -> RecordingAssembly:
    fake = RecordingAssembly()
    monkeypatch.setattr(assembly_hooks, "refer_initiative_to_assembly", fake)
    return fake


@pytest.fixture
def uow() -> FakeUnitOfWork:
    u = FakeUnitOfWork()
    u.roster = StandInBoard()  # type: ignore[assignment]
    for n in range(1, 21):
        u.members.set(f"mem-{n}", "user")
    return u


def drafted(uow: FakeUnitOfWork) -> str:
    view = uc.draft_initiative(uow, member(1), "fr", LocalizedText(fr="Titre"), LocalizedText(fr="Texte"),
                               LocalizedText(fr="Question"), NOW, RULES)
    return view.initiative.initiative_id


def submitted(uow: FakeUnitOfWork) -> str:
    iid = drafted(uow)
    uc.invite_promoters(uow, member(1), iid, ["mem-2", "mem-3", "mem-4"], NOW)
    for n in (2, 3, 4):
        uc.answer_invitation(uow, member(n), iid, True, NOW)
    uc.submit_initiative(uow, member(1), iid, NOW, RULES)
    return iid


def collecting(uow: FakeUnitOfWork) -> str:
    iid = submitted(uow)
    uc.decide_admissibility(uow, SECRETARY, iid, True, LocalizedText(), NOW, RULES)
    return iid


def test_a_draft_is_private_to_its_committee_until_submitted(uow) -> None:
    iid = drafted(uow)
    uc.invite_promoters(uow, member(1), iid, ["mem-2"], NOW)
    assert uc.get_initiative(uow, member(2), iid).full_committee
    for outsider in (member(9), SECRETARY, ADMIN):
        with pytest.raises(NotFound):
            uc.get_initiative(uow, outsider, iid)
    assert uc.list_initiatives(uow, member(9), None, False, 0, "")[0] == []
    assert [v.initiative.initiative_id for v in uc.list_initiatives(uow, member(2), None, True, 0, "")[0]] == [iid]


def test_submitted_is_the_boards_to_read_and_public_once_admissible(uow) -> None:
    iid = submitted(uow)
    assert uc.get_initiative(uow, SECRETARY, iid).initiative.status == "submitted"
    with pytest.raises(NotFound):
        uc.get_initiative(uow, member(9), iid)
    uc.decide_admissibility(uow, MANAGEMENT, iid, True, LocalizedText(), NOW, RULES)
    view = uc.get_initiative(uow, member(9), iid)
    assert view.initiative.status == "collecting" and not view.full_committee
    kinds = [type(e) for e in uow.published]
    assert kinds == [InitiativeSubmitted, InitiativeAdmissible, CollectionOpened]
    assert uow.published[0].promoter_ids == ("mem-1", "mem-2", "mem-3", "mem-4")


def test_a_member_or_director_cannot_decide_admissibility(uow) -> None:
    iid = submitted(uow)
    for caller in (member(2), DIRECTOR):
        with pytest.raises(PermissionDenied):
            uc.decide_admissibility(uow, caller, iid, True, LocalizedText(), NOW, RULES)
    assert uc.get_initiative(uow, SECRETARY, iid).initiative.status == "submitted"


def test_signatures_count_once_per_member_and_marks_are_published_once(uow, agenda) -> None:
    iid = collecting(uow)
    signed = [col.sign(uow, member(n), iid, NOW) for n in (5, 6)]
    assert [s.signature_count for s in signed] == [1, 2]
    with pytest.raises(AlreadyExists) as exc:
        col.sign(uow, member(5), iid, NOW)
    assert exc.value.reason == "ALREADY_SIGNED"
    assert col.withdraw(uow, member(6), iid, NOW) == 1
    col.sign(uow, member(6), iid, NOW)
    marks = [e.percent for e in uow.published if isinstance(e, ThresholdProgress)]
    assert marks == [33], "33% of 6 reached once, not again after the withdrawal and the new signature"
    assert col.my_signature(uow, member(6), iid) is not None and col.my_signature(uow, member(7), iid) is None


def test_the_deciding_signature_asks_to_settle_and_settling_qualifies_and_forces_the_item(uow, agenda) -> None:
    iid = collecting(uow)
    results = [col.sign(uow, member(n), iid, NOW) for n in range(5, 11)]
    assert [r.settle for r in results] == [False] * 5 + [True]
    assert col.settle(uow, "coop", iid, NOW, RULES) == "qualified"
    assert col.settle(uow, "coop", iid, NOW, RULES) == "", "settling twice changes nothing"
    assert len(agenda.calls) == 1 and agenda.calls[0]["promoter_ids"] == ("mem-1", "mem-2", "mem-3", "mem-4")
    assert agenda.calls[0]["max_delay_days"] == 60
    qualified = [e for e in uow.published if isinstance(e, InitiativeQualified)]
    assert len(qualified) == 1 and qualified[0].outcome_due_at == NOW + timedelta(days=30)
    assert [e.percent for e in uow.published if isinstance(e, ThresholdProgress)] == [33, 66, 100]
    col.sign(uow, member(11), iid, NOW)  # the collection stays open until its deadline
    assert uc.get_initiative(uow, member(1), iid).signature_count == 7


def test_signers_who_lost_good_standing_are_discounted_at_verification(uow, agenda) -> None:
    iid = collecting(uow)
    for n in range(5, 11):
        col.sign(uow, member(n), iid, NOW)
    uow.members.set("mem-5", "user", good=False)
    assert col.settle(uow, "coop", iid, NOW, RULES) == "", "6 signatures, 5 verified: not qualified"
    assert uc.get_initiative(uow, member(1), iid).initiative.status == "collecting"
    rows, _, total, verified = col.list_signers(uow, SECRETARY, iid, 0, "", NOW)
    assert (total, verified) == (6, 5)
    assert {s.member_id for s in rows if not s.in_good_standing} == {"mem-5"}
    col.sign(uow, member(11), iid, NOW)
    assert col.settle(uow, "coop", iid, NOW, RULES) == "qualified"


def test_signing_is_refused_to_non_members_members_not_in_good_standing_and_after_the_close(uow, agenda) -> None:
    iid = collecting(uow)
    uow.members.set("mem-12", "user", good=False)
    with pytest.raises(FailedPrecondition) as exc:
        col.sign(uow, member("nobody"), iid, NOW)
    assert exc.value.reason == "NOT_A_MEMBER"
    with pytest.raises(FailedPrecondition) as exc:
        col.sign(uow, member(12), iid, NOW)
    assert exc.value.reason == "NOT_IN_GOOD_STANDING"
    with pytest.raises(FailedPrecondition) as exc:
        col.sign(uow, member(5), iid, NOW + timedelta(days=30))
    assert exc.value.reason == "COLLECTION_CLOSED"
    assert uc.get_initiative(uow, member(1), iid).signature_count == 0


def test_expiry_at_the_deadline_runs_once(uow, agenda) -> None:
    iid = collecting(uow)
    col.sign(uow, member(5), iid, NOW)
    later = NOW + timedelta(days=30)
    assert col.settle(uow, "coop", iid, later, RULES) == "expired"
    assert col.settle(uow, "coop", iid, later, RULES) == ""
    assert len([e for e in uow.published if isinstance(e, InitiativeExpired)]) == 1 and agenda.calls == []


def test_the_outcome_after_the_meeting_referred_to_the_assembly_closes_it(uow, agenda, assembly) -> None:
    iid = collecting(uow)
    for n in range(5, 11):
        col.sign(uow, member(n), iid, NOW)
    col.settle(uow, "coop", iid, NOW, RULES)
    with pytest.raises(FailedPrecondition) as exc:
        uc.publish_outcome(uow, SECRETARY, iid, "rejected", ALL, NOW)
    assert exc.value.reason == "MEETING_NOT_HELD"
    with uow:
        initiative_hooks.initiative_discussed(uow, "coop", iid, "meeting-1", "dec-1", NOW + timedelta(days=10))
        uow.commit()
    with pytest.raises(PermissionDenied):
        uc.publish_outcome(uow, MANAGEMENT, iid, "rejected", ALL, NOW)
    view = uc.publish_outcome(uow, SECRETARY, iid, "referred_to_assembly", ALL, NOW + timedelta(days=11))
    assert view.initiative.status == "closed" and view.initiative.outcome.assembly_id == "assembly-1"
    assert assembly.calls[0]["initiative_id"] == iid
    event = uow.published[-1]
    assert isinstance(event, OutcomePublished) and event.outcome.assembly_id == "assembly-1" and not event.late


def test_overdue_is_flagged_once_and_counted_until_the_outcome(uow, agenda) -> None:
    iid = collecting(uow)
    for n in range(5, 11):
        col.sign(uow, member(n), iid, NOW)
    col.settle(uow, "coop", iid, NOW, RULES)
    due = NOW + timedelta(days=30)
    assert not col.flag_overdue(uow, "coop", iid, due - timedelta(seconds=1))
    assert col.flag_overdue(uow, "coop", iid, due) and not col.flag_overdue(uow, "coop", iid, due)
    assert [type(e) for e in uow.published].count(OutcomeOverdue) == 1
    assert uow.initiatives.overdue_counts() == {"coop": 1}
    assert uc.get_initiative(uow, member(9), iid).initiative.overdue()


def test_admissibility_by_default_after_the_delay_is_recorded_and_runs_once(uow) -> None:
    iid = submitted(uow)
    assert not uc.default_admissibility(uow, "coop", iid, NOW + timedelta(days=13), RULES)
    assert uc.default_admissibility(uow, "coop", iid, NOW + timedelta(days=14), RULES)
    assert not uc.default_admissibility(uow, "coop", iid, NOW + timedelta(days=14), RULES)
    view = uc.get_initiative(uow, member(9), iid)
    assert view.initiative.admissible_by_default and view.initiative.decided_by is None
    assert [e.by_default for e in uow.published if isinstance(e, InitiativeAdmissible)] == [True]


def test_the_signers_are_the_secretarys_only(uow) -> None:
    iid = collecting(uow)
    for caller in (ADMIN, DIRECTOR, MANAGEMENT, member(1)):
        with pytest.raises(PermissionDenied):
            col.list_signers(uow, caller, iid, 0, "", NOW)
    assert col.list_signers(uow, SECRETARY, iid, 0, "", NOW)[2] == 0


class CountingReads:
    """SignatureCountReads over the fake repository, counting its statements."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow, self.statements = uow, 0

    def signature_count(self, tenant: str, initiative_id: str) -> CountView | None:
        self.statements += 1
        found = self.uow.initiatives.get(tenant, initiative_id)
        if found is None or found.status == "draft":
            return None
        return CountView(initiative_id, found.status, self.uow.initiatives.count(tenant, initiative_id),
                         found.threshold, found.closes_at)


def test_watchers_asking_together_share_one_read_and_a_submitted_count_is_the_boards(uow) -> None:
    iid, pending = collecting(uow), submitted(uow)
    col.sign(uow, member(5), iid, NOW)
    reads = CountingReads(uow)
    answers = col.signature_counts(reads, [(member(n), iid) for n in range(1, 11)] + [(member(1), pending),
                                                                                     (SECRETARY, pending)])
    assert [a.signature_count for a in answers[:10]] == [1] * 10
    assert isinstance(answers[10], NotFound) and answers[11].status == "submitted"
    assert reads.statements == 2, "one read per initiative, not per watcher"
