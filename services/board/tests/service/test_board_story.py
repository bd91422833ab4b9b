"""The issue's story told once through the board's api, every family real (issue 11, "Done when").

The api runs on PostgreSQL (the `env` fixture) with the real repositories of the five families
and no stand-in: the mandates come from the roster's handler of `election.results_published`
(and one from an admin), the secretary is elected by the board and recorded from that decision,
the meetings' votes reach the dossiers through `dossier_hooks`, the approval of the minutes
reaches the minutes through `minutes_hooks` from an `approve_minutes` item that `agenda_hooks`
put on the next meeting. The test clock moves time (agenda freezes, meeting days).

The database is shared by the session: the story lives in 2971, after every other test's dates
(the roster's tests elect officers from 2100 on, ten years apart, and an office's new term may not
start before an existing one), and never counts rows of the tenant as a whole.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from board_svc_helpers import BoardEnv
from google.protobuf.field_mask_pb2 import FieldMask
from google.type.date_pb2 import Date
from roster_svc_helpers import refused
from sqlalchemy import text

from coop.board.v1 import common_pb2 as cpb
from coop.board.v1 import dossiers_pb2 as dpb
from coop.board.v1 import dossiers_pb2_grpc as dgrpc
from coop.board.v1 import meetings_pb2 as mpb
from coop.board.v1 import meetings_pb2_grpc as mgrpc
from coop.board.v1 import minutes_pb2 as npb
from coop.board.v1 import minutes_pb2_grpc as ngrpc
from coop.board.v1 import observers_pb2 as opb
from coop.board.v1 import observers_pb2_grpc as ogrpc
from coop.board.v1 import roster_pb2 as rpb
from coop.board.v1 import roster_pb2_grpc as rgrpc
from coop_board.adapters.events_in_roster import apply_results_event
from coop_board.entrypoints.roster_settings import roster_settings
from coop_board.service_layer.roster_handlers import apply_member_fact
from coop_domain.membership import MemberChanged
from coop_platform.envelope import make_envelope
from coop_platform.pbtypes import to_timestamp
from coop_testkit import bearer

ELECTED = [f"story-dir-{n}" for n in range(1, 6)]   # by the Assembly of 2971
LOADED = "story-dir-6"                               # a mandate loaded by an admin
DIRECTORS = [*ELECTED, LOADED]
SECRETARY_ID = ELECTED[0]
AMENDER = ELECTED[2]
MEMBER_ID = "story-member-1"
MANAGER_ID = "story-manager-1"

ADMIN = bearer("story-admin", "admin")
SECRETARY = bearer(SECRETARY_ID, "secretary", "director")
MANAGEMENT = bearer(MANAGER_ID, "management")
MEMBER = bearer(MEMBER_ID, "member")

TERM = (date(2971, 5, 15), date(2975, 5, 15))
MEETING_1 = datetime(2971, 6, 1, 18, 0, tzinfo=UTC)
MEETING_2 = datetime(2971, 7, 6, 18, 0, tzinfo=UTC)
MEETING_3 = datetime(2971, 9, 7, 18, 0, tzinfo=UTC)
KEYS = ["per member", "per share", "per year of membership", "per consumption", "flat plus share"]


def rid() -> str:
    return str(uuid.uuid4())


def lt(en: str) -> cpb.LocalizedText:
    return cpb.LocalizedText(fr=f"{en} [fr]", nl=f"{en} [nl]", en=en)


def d(day: date) -> Date:
    return Date(year=day.year, month=day.month, day=day.day)


def director(director_id: str) -> list[tuple[str, str]]:
    return bearer(director_id, "director")


class Board:
    """The five services' stubs and the steps the story repeats."""

    def __init__(self, env: BoardEnv) -> None:
        self.env = env
        self.roster = env.stub(rgrpc.RosterServiceStub)
        self.meetings = env.stub(mgrpc.MeetingServiceStub)
        self.dossiers = env.stub(dgrpc.DossierServiceStub)
        self.minutes = env.stub(ngrpc.MinutesServiceStub)
        self.observers = env.stub(ogrpc.ObserverServiceStub)

    def at(self, moment: datetime) -> None:
        self.env.clock.set(moment)

    def in_unit(self, work) -> Any:
        """What the worker does in its inbox transaction: `work(uow)`, committed."""
        uow = self.env.uow_factory()
        with uow:
            result = work(uow)
            uow.commit()
        return result

    def meeting(self, meeting_id: str, metadata=ADMIN) -> mpb.Meeting:
        return self.meetings.GetMeeting(mpb.GetMeetingRequest(meeting_id=meeting_id), metadata=metadata,
                                        timeout=10).meeting

    def schedule(self, starts_at: datetime, title: str, metadata) -> mpb.Meeting:
        return self.meetings.ScheduleMeeting(mpb.ScheduleMeetingRequest(meeting=mpb.Meeting(
            title=lt(title), starts_at=to_timestamp(starts_at), place="Rue de la Coopérative 1, Bruxelles"),
            request_id=rid()), metadata=metadata, timeout=10).meeting

    def add(self, meeting_id: str, item: mpb.AgendaItem, metadata) -> mpb.AgendaItem:
        return self.meetings.AddAgendaItem(mpb.AddAgendaItemRequest(meeting_id=meeting_id, item=item),
                                           metadata=metadata, timeout=10).item

    def attendance(self, meeting_id: str, present: list[str], excused: list[str], metadata) -> mpb.Meeting:
        lines = [mpb.Attendance(director_id=x, status=mpb.ATTENDANCE_STATUS_PRESENT) for x in present]
        lines += [mpb.Attendance(director_id=x, status=mpb.ATTENDANCE_STATUS_EXCUSED) for x in excused]
        return self.meetings.RecordAttendance(mpb.RecordAttendanceRequest(meeting_id=meeting_id, attendance=lines),
                                              metadata=metadata, timeout=10).meeting

    def vote(self, meeting_id: str, item_id: str, subject: int, metadata, *, subject_id: str = "",
             ballots: dict[str, int]) -> mpb.Vote:
        """Open a vote, each director casts their own ballot, close it."""
        vote = self.meetings.OpenVote(mpb.OpenVoteRequest(meeting_id=meeting_id, item_id=item_id, subject=subject,
                                                          subject_id=subject_id), metadata=metadata, timeout=10).vote
        for who, choice in ballots.items():
            self.meetings.CastVote(mpb.CastVoteRequest(meeting_id=meeting_id, vote_id=vote.vote_id, choice=choice),
                                   metadata=director(who), timeout=10)
        closed = self.meetings.CloseVote(mpb.CloseVoteRequest(meeting_id=meeting_id, vote_id=vote.vote_id),
                                         metadata=metadata, timeout=10).vote
        assert closed.quorum.met and not closed.open
        return closed

    def decide(self, meeting_id: str, item_id: str, vote_id: str, metadata, **kw) -> mpb.Decision:
        return self.meetings.Decide(mpb.DecideRequest(meeting_id=meeting_id, item_id=item_id, vote_id=vote_id, **kw),
                                    metadata=metadata, timeout=10).decision

    def dossier(self, dossier_id: str, version: int = 0) -> dpb.GetDossierResponse:
        return self.dossiers.GetDossier(dpb.GetDossierRequest(dossier_id=dossier_id, version=version),
                                        metadata=MANAGEMENT, timeout=10)


FOR, AGAINST, ABSTAIN = mpb.VOTE_CHOICE_FOR, mpb.VOTE_CHOICE_AGAINST, mpb.VOTE_CHOICE_ABSTAIN


def test_the_board_rejects_a_dossier_amends_and_adopts_its_second_version_and_members_read_the_minutes(
    env: BoardEnv,
) -> None:
    board = Board(env)
    settings = roster_settings({})

    # -- 1. The Assembly of 2971 elects five directors; an admin loads a sixth mandate. ----------
    board.at(datetime(2971, 5, 16, 9, 0, tzinfo=UTC))
    for member_id in [*DIRECTORS, MEMBER_ID]:
        board.in_unit(lambda uow, m=member_id: apply_member_fact(uow, MemberChanged(
            m, datetime(2971, 5, 1, tzinfo=UTC), status="active", category="user", in_good_standing=True)))
    results = make_envelope("elections", "election.results_published", {
        "electionId": "story-election-2971", "tenant": "coop", "electedMemberIds": ELECTED,
        "seats": [{"questionId": "board", "electedMemberIds": ELECTED, "mandateStart": TERM[0].isoformat(),
                   "mandateEnd": TERM[1].isoformat()}]})
    board.in_unit(lambda uow: apply_results_event(uow, results, settings))
    board.in_unit(lambda uow: apply_results_event(uow, results, settings))  # the same results again: nothing new
    loaded = board.roster.CreateMandate(rpb.CreateMandateRequest(
        request_id=rid(), director_id=LOADED, start_date=d(TERM[0]), end_date=d(TERM[1])),
        metadata=ADMIN, timeout=10)
    assert loaded.composition.ok
    roster = board.roster.GetRoster(rpb.GetRosterRequest(on_date=d(date(2971, 6, 1))), metadata=ADMIN, timeout=10)
    assert sorted(x.director_id for x in roster.directors) == sorted(DIRECTORS)
    assert {x.mandate.election_id for x in roster.directors if x.director_id in ELECTED} == {"story-election-2971"}
    assert roster.composition.ok and roster.composition.users == 6
    assert not [x for x in roster.directors if list(x.flags)]
    before = board.roster.GetRoster(rpb.GetRosterRequest(on_date=d(TERM[0] - timedelta(days=1))), metadata=ADMIN,
                                    timeout=10)
    assert not set(DIRECTORS) & {x.director_id for x in before.directors}  # the day before: not sitting yet

    # Without an elected secretary, the secretary's token runs nothing.
    assert refused(board.schedule, MEETING_1, "refused", SECRETARY).reason == "NOT_THE_SECRETARY"

    # -- 2. Management brings the COVID envelope: five keys, two recommended. --------------------
    dossier = board.dossiers.CreateDossier(dpb.CreateDossierRequest(
        title=lt("COVID compensation envelope"), request_id=rid()), metadata=MANAGEMENT, timeout=10).dossier
    v1 = board.dossiers.SubmitDossierVersion(dpb.SubmitDossierVersionRequest(
        dossier_id=dossier.dossier_id, request_id=rid(),
        proposals=[dpb.ProposalInput(title=lt(f"Key {n + 1}: {k}"), text=lt(f"Redistribute 60% of the envelope {k}."),
                                     recommended=n in (1, 3),
                                     recommendation_rationale=lt(f"Fair {k}") if n in (1, 3) else None)
                   for n, k in enumerate(KEYS)],
        documents=[dpb.DocumentUpload(filename="envelope.pdf", media_type="application/pdf",
                                      content=b"%PDF the envelope of 2971")]),
        metadata=MANAGEMENT, timeout=10).version
    assert v1.version == 1 and len(v1.proposals) == 5
    assert [p.recommended for p in v1.proposals] == [False, True, False, True, False]
    assert len(v1.documents) == 1 and len(v1.documents[0].sha256) == 64

    # -- 3. Meeting 1 convened by an admin: the secretary's election, the dossier, a closed item. -
    m1 = board.schedule(MEETING_1, "Board of June 2971", ADMIN)
    elect = board.add(m1.meeting_id, mpb.AgendaItem(
        title=lt("Election of the secretary"), source=cpb.ITEM_SOURCE_OTHER, kind="elect_officer", ref="secretary",
        visibility=cpb.ITEM_VISIBILITY_OPEN, text=lt(f"{SECRETARY_ID} is elected secretary of the board.")), ADMIN)
    item_v1 = board.add(m1.meeting_id, mpb.AgendaItem(
        title=lt("COVID compensation envelope"), source=cpb.ITEM_SOURCE_DOSSIER, kind="dossier",
        ref=dossier.dossier_id, dossier_version=1, visibility=cpb.ITEM_VISIBILITY_OPEN,
        vote_mode=mpb.VOTE_MODE_PER_PROPOSAL), ADMIN)
    contract = board.add(m1.meeting_id, mpb.AgendaItem(
        title=lt("Cleaning contract"), source=cpb.ITEM_SOURCE_OTHER, kind="other",
        visibility=cpb.ITEM_VISIBILITY_CLOSED, text=lt("Sign with CleanCo for 48,000 euros a year.")), ADMIN)
    published = board.meetings.PublishAgenda(mpb.PublishAgendaRequest(meeting_id=m1.meeting_id), metadata=ADMIN,
                                             timeout=10).meeting
    assert published.agenda_version == 1 and not published.agenda_frozen

    # A member reads the published agenda: the open items only.
    seen = board.meeting(m1.meeting_id, MEMBER)
    assert {i.item_id for i in seen.items} == {elect.item_id, item_v1.item_id}
    assert "CleanCo" not in str(seen) and "Cleaning" not in str(seen)
    assert not seen.attendance and not seen.place.startswith("https")

    # Seven days before, the agenda freezes by itself; no vote before that.
    board.at(MEETING_1 - timedelta(days=8))
    assert not board.meeting(m1.meeting_id).agenda_frozen
    board.at(MEETING_1 - timedelta(days=6))
    assert board.meeting(m1.meeting_id).agenda_frozen
    assert refused(board.add, m1.meeting_id, mpb.AgendaItem(title=lt("late"), kind="other",
                                                            source=cpb.ITEM_SOURCE_OTHER), ADMIN).reason \
        == "AGENDA_FROZEN"

    # -- 4. Meeting 1 in session: five present, one excused (quorum 4 of 6). --------------------
    board.at(MEETING_1 + timedelta(minutes=5))
    session = board.attendance(m1.meeting_id, DIRECTORS[:5], [DIRECTORS[5]], ADMIN)
    assert session.status == mpb.MEETING_STATUS_IN_SESSION

    # The board elects its secretary; an admin records the term from the decision.
    vote = board.vote(m1.meeting_id, elect.item_id, mpb.VOTE_SUBJECT_ITEM, ADMIN,
                      ballots={x: FOR for x in DIRECTORS[:5]})
    assert vote.outcome == "adopted" and vote.quorum.present == 5 and vote.quorum.required == 4
    decision = board.decide(m1.meeting_id, elect.item_id, vote.vote_id, ADMIN)
    assert decision.kind == mpb.DECISION_KIND_ADOPTED and decision.item_kind == "elect_officer"
    term = board.roster.ElectOfficer(rpb.ElectOfficerRequest(
        request_id=rid(), office=rpb.OFFICE_SECRETARY, director_id=SECRETARY_ID,
        start_date=d(MEETING_1.date()), end_date=d(TERM[1]), decision_id=decision.decision_id),
        metadata=ADMIN, timeout=10).term
    assert term.director_id == SECRETARY_ID
    officers = board.roster.GetRoster(rpb.GetRosterRequest(on_date=d(MEETING_1.date())), metadata=MEMBER,
                                      timeout=10).officers
    assert [(o.office, o.director_id) for o in officers] == [(rpb.OFFICE_SECRETARY, SECRETARY_ID)]

    # From now on the secretary runs the meeting. A director declares an interest in the contract.
    board.meetings.DeclareInterest(mpb.DeclareInterestRequest(
        meeting_id=m1.meeting_id, item_id=contract.item_id, statement="My brother works for CleanCo."),
        metadata=director(DIRECTORS[4]), timeout=10)

    # The board votes none of the five keys: it rejects them all and sends the dossier back.
    assert refused(board.meetings.OpenVote, mpb.OpenVoteRequest(
        meeting_id=m1.meeting_id, item_id=item_v1.item_id, subject=mpb.VOTE_SUBJECT_ITEM),
        metadata=SECRETARY, timeout=10).reason == "VOTE_ON_PROPOSALS"
    vote = board.vote(m1.meeting_id, item_v1.item_id, mpb.VOTE_SUBJECT_SEND_BACK, SECRETARY,
                      ballots={DIRECTORS[0]: FOR, DIRECTORS[1]: FOR, DIRECTORS[2]: FOR, DIRECTORS[3]: AGAINST,
                               DIRECTORS[4]: ABSTAIN})
    assert vote.outcome == "adopted"
    assert (vote.counts.in_favour, vote.counts.against, vote.counts.abstentions) == (3, 1, 1)
    reasons = cpb.LocalizedText(fr="Aucune clé ne tient compte des coopérateurs récents.",
                                nl="Geen enkele sleutel houdt rekening met recente coöperanten.")  # no English yet
    sent_back = board.decide(m1.meeting_id, item_v1.item_id, vote.vote_id, SECRETARY, send_back=True,
                             reasons=reasons, due_date=d(date(2971, 6, 20)))
    assert sent_back.kind == mpb.DECISION_KIND_SENT_BACK and sent_back.dossier_id == dossier.dossier_id
    after = board.dossier(dossier.dossier_id)
    assert after.dossier.status == dpb.DOSSIER_STATUS_SENT_BACK
    assert after.dossier.last_send_back.due_date == d(date(2971, 6, 20))
    assert after.dossier.last_send_back.decision_id == sent_back.decision_id
    assert [p.status for p in after.version.proposals] == [dpb.PROPOSAL_STATUS_REJECTED] * 5

    # The closed item: a show of hands recorded by the secretary, without the recused director.
    vote = board.meetings.OpenVote(mpb.OpenVoteRequest(meeting_id=m1.meeting_id, item_id=contract.item_id,
                                                       subject=mpb.VOTE_SUBJECT_ITEM), metadata=SECRETARY,
                                   timeout=10).vote
    assert refused(board.meetings.CastVote, mpb.CastVoteRequest(meeting_id=m1.meeting_id, vote_id=vote.vote_id,
                                                                choice=FOR),
                   metadata=director(DIRECTORS[4]), timeout=10).reason == "DIRECTOR_RECUSED"
    board.meetings.RecordVotes(mpb.RecordVotesRequest(meeting_id=m1.meeting_id, vote_id=vote.vote_id, ballots=[
        mpb.Ballot(director_id=x, choice=FOR) for x in DIRECTORS[:4]]), metadata=SECRETARY, timeout=10)
    vote = board.meetings.CloseVote(mpb.CloseVoteRequest(meeting_id=m1.meeting_id, vote_id=vote.vote_id),
                                    metadata=SECRETARY, timeout=10).vote
    assert vote.quorum.recused_director_ids == [DIRECTORS[4]] and vote.quorum.eligible == 5
    closed_decision = board.decide(m1.meeting_id, contract.item_id, vote.vote_id, SECRETARY)
    assert closed_decision.closed and list(closed_decision.recused_director_ids) == [DIRECTORS[4]]
    closed = board.meetings.CloseMeeting(mpb.CloseMeetingRequest(meeting_id=m1.meeting_id), metadata=SECRETARY,
                                         timeout=10).meeting
    assert closed.status == mpb.MEETING_STATUS_CLOSED

    # -- 5. The next meeting is convened; the minutes of the first are drafted and translated. ---
    board.at(datetime(2971, 6, 3, 9, 0, tzinfo=UTC))
    m2 = board.schedule(MEETING_2, "Board of July 2971", SECRETARY)
    minutes = board.minutes.DraftMinutes(npb.DraftMinutesRequest(meeting_id=m1.meeting_id), metadata=SECRETARY,
                                         timeout=10).minutes
    assert minutes.status == npb.MINUTES_STATUS_DRAFT
    assert [(x.part, list(x.languages)) for x in minutes.missing] == [(f"sections[item:{item_v1.item_id}].body", ["en"])]
    tasks = board.minutes.ListTranslationTasks(npb.ListTranslationTasksRequest(), metadata=SECRETARY,
                                               timeout=10).tasks
    task = next(t for t in tasks if t.minutes_id == minutes.minutes_id)
    assert list(task.languages) == ["en"] and task.due_date == d(date(2971, 6, 10)) and not task.overdue
    assert refused(board.minutes.PublishMinutes, npb.PublishMinutesRequest(minutes_id=minutes.minutes_id),
                   metadata=SECRETARY, timeout=10).reason == "MINUTES_NOT_APPROVED"
    sections = {s.section_id: s for s in minutes.sections}
    dossier_section = sections[f"item:{item_v1.item_id}"]
    assert dossier_section.body.en == "" and "coopérateurs récents" in dossier_section.body.fr
    english = dossier_section.body.fr.replace("Aucune clé ne tient compte des coopérateurs récents.",
                                              "No key takes recent members into account.")
    edited = board.minutes.UpdateMinutes(npb.UpdateMinutesRequest(
        minutes=npb.Minutes(minutes_id=minutes.minutes_id, sections=[npb.MinutesSection(
            section_id=dossier_section.section_id, body=cpb.LocalizedText(en=english))]),
        update_mask=FieldMask(paths=["sections.en"])), metadata=SECRETARY, timeout=10).minutes
    assert not edited.missing
    assert minutes.minutes_id not in {t.minutes_id for t in board.minutes.ListTranslationTasks(
        npb.ListTranslationTasksRequest(), metadata=SECRETARY, timeout=10).tasks}
    submitted = board.minutes.SubmitMinutesForApproval(npb.SubmitMinutesForApprovalRequest(
        minutes_id=minutes.minutes_id), metadata=SECRETARY, timeout=10).minutes
    assert submitted.status == npb.MINUTES_STATUS_SUBMITTED
    approval = next(i for i in board.meeting(m2.meeting_id).items if i.kind == "approve_minutes"
                    and i.ref == minutes.minutes_id)
    assert submitted.approval_item_id == approval.item_id and approval.consent

    # -- 6. Version 2: what changed and why. -----------------------------------------------------
    board.at(datetime(2971, 6, 15, 9, 0, tzinfo=UTC))
    old = list(v1.proposals)
    v2 = board.dossiers.SubmitDossierVersion(dpb.SubmitDossierVersionRequest(
        dossier_id=dossier.dossier_id, request_id=rid(),
        change_note=lt("Key 2 now counts the years of recent members; key 4 is kept; a new key 6."),
        proposals=[
            dpb.ProposalInput(title=lt("Key 2: per share, recent members counted"),
                              text=lt("Redistribute 60% of the envelope per share, counting members of 2970."),
                              recommended=True, recommendation_rationale=lt("Fair and complete"),
                              revises_proposal_id=old[1].proposal_id),
            dpb.ProposalInput(title=old[3].title, text=old[3].text, recommended=True,
                              recommendation_rationale=old[3].recommendation_rationale,
                              revises_proposal_id=old[3].proposal_id),
            dpb.ProposalInput(title=lt("Key 6: flat"), text=lt("Redistribute 60% of the envelope in equal parts.")),
        ]), metadata=MANAGEMENT, timeout=10).version
    assert v2.version == 2 and len(v2.proposals) == 3
    changes = board.dossiers.GetVersionChanges(dpb.GetVersionChangesRequest(dossier_id=dossier.dossier_id,
                                                                            version=2), metadata=SECRETARY, timeout=10)
    assert changes.change_note.en.startswith("Key 2 now counts")
    assert changes.answers_send_back.decision_id == sent_back.decision_id
    assert changes.answers_send_back.reasons.fr == reasons.fr
    kinds = sorted(dpb.ProposalChangeKind.Name(c.kind) for c in changes.changes)
    assert kinds == sorted(["PROPOSAL_CHANGE_KIND_REVISED", "PROPOSAL_CHANGE_KIND_UNCHANGED",
                            "PROPOSAL_CHANGE_KIND_NEW"] + ["PROPOSAL_CHANGE_KIND_DROPPED"] * 3)
    revised = next(c for c in changes.changes if c.kind == dpb.PROPOSAL_CHANGE_KIND_REVISED)
    assert "+Redistribute 60% of the envelope per share, counting members of 2970." in revised.text_diff.en
    # every version stays readable
    assert len(board.dossier(dossier.dossier_id, 1).version.proposals) == 5
    versions = board.dossiers.ListDossierVersions(dpb.ListDossierVersionsRequest(dossier_id=dossier.dossier_id),
                                                  metadata=SECRETARY, timeout=10).versions
    assert [v.version for v in versions] == [1, 2]

    item_v2 = board.add(m2.meeting_id, mpb.AgendaItem(
        title=lt("COVID compensation envelope, version 2"), source=cpb.ITEM_SOURCE_DOSSIER, kind="dossier",
        ref=dossier.dossier_id, dossier_version=2, visibility=cpb.ITEM_VISIBILITY_OPEN,
        vote_mode=mpb.VOTE_MODE_PER_PROPOSAL), SECRETARY)
    board.meetings.PublishAgenda(mpb.PublishAgendaRequest(meeting_id=m2.meeting_id), metadata=SECRETARY, timeout=10)

    # -- 7. A member in good standing registers to observe the open items. -----------------------
    session = board.observers.OpenToObservers(opb.OpenToObserversRequest(
        meeting_id=m2.meeting_id, seats=10, registration_deadline=to_timestamp(MEETING_2 - timedelta(days=1))),
        metadata=SECRETARY, timeout=10).session
    assert session.seats == 10
    registration = board.observers.RegisterAsObserver(opb.RegisterAsObserverRequest(meeting_id=m2.meeting_id),
                                                      metadata=MEMBER, timeout=10)
    assert registration.registration.status == opb.OBSERVER_STATUS_SEATED and registration.check_in_code
    agenda = board.observers.GetObserverAgenda(opb.GetObserverAgendaRequest(meeting_id=m2.meeting_id),
                                               metadata=MEMBER, timeout=10)
    assert {i.item_id for i in agenda.items} >= {item_v2.item_id, approval.item_id}
    mine = board.observers.ListMyObserverRegistrations(opb.ListMyObserverRegistrationsRequest(), metadata=MEMBER,
                                                       timeout=10).registrations
    assert [r.meeting_id for r in mine] == [m2.meeting_id]

    # -- 8. A director amends the revised key before the meeting. --------------------------------
    key2 = v2.proposals[0]
    amended_text = lt("Redistribute 60% of the envelope per share, counting members of 2970 and 2971.")
    amendment = board.dossiers.ProposeAmendment(dpb.ProposeAmendmentRequest(
        parent_id=key2.proposal_id, text=amended_text, request_id=rid()),
        metadata=director(AMENDER), timeout=10).amendment
    assert amendment.level == 1 and amendment.author_id == AMENDER
    assert "+Redistribute 60% of the envelope per share, counting members of 2970 and 2971." in amendment.diff.en

    # -- 9. Meeting 2: the minutes approved in the consent block; the amendment, then the key. --
    board.at(MEETING_2 + timedelta(minutes=5))
    assert board.meeting(m2.meeting_id).agenda_frozen
    board.attendance(m2.meeting_id, DIRECTORS[1:], [DIRECTORS[0]], SECRETARY)
    vote = board.vote(m2.meeting_id, "", mpb.VOTE_SUBJECT_CONSENT, SECRETARY,
                      ballots={x: FOR for x in DIRECTORS[1:]})
    assert vote.outcome == "adopted" and list(vote.item_ids) == [approval.item_id]
    approved = board.minutes.GetMinutes(npb.GetMinutesRequest(minutes_id=minutes.minutes_id), metadata=SECRETARY,
                                        timeout=10).minutes
    assert approved.status == npb.MINUTES_STATUS_APPROVED and approved.approved_in_meeting_id == m2.meeting_id
    assert refused(board.minutes.UpdateMinutes, npb.UpdateMinutesRequest(
        minutes=npb.Minutes(minutes_id=minutes.minutes_id, title=cpb.LocalizedText(en="Changed")),
        update_mask=FieldMask(paths=["title.en"])), metadata=SECRETARY, timeout=10).reason == "MINUTES_APPROVED"

    assert refused(board.meetings.OpenVote, mpb.OpenVoteRequest(
        meeting_id=m2.meeting_id, item_id=item_v2.item_id, subject=mpb.VOTE_SUBJECT_PROPOSAL,
        subject_id=key2.proposal_id), metadata=SECRETARY, timeout=10).reason == "AMENDMENTS_PENDING"
    vote = board.vote(m2.meeting_id, item_v2.item_id, mpb.VOTE_SUBJECT_PROPOSAL, SECRETARY,
                      subject_id=amendment.amendment_id, ballots={x: FOR for x in DIRECTORS[1:]})
    assert vote.subject == mpb.VOTE_SUBJECT_AMENDMENT and vote.outcome == "adopted"
    vote = board.vote(m2.meeting_id, item_v2.item_id, mpb.VOTE_SUBJECT_PROPOSAL, SECRETARY,
                      subject_id=key2.proposal_id,
                      ballots={DIRECTORS[1]: FOR, DIRECTORS[2]: FOR, DIRECTORS[3]: FOR, DIRECTORS[4]: AGAINST,
                               DIRECTORS[5]: FOR})
    assert vote.outcome == "adopted"
    adopted = board.decide(m2.meeting_id, item_v2.item_id, vote.vote_id, SECRETARY,
                           effective_date=d(date(2971, 9, 1)), actions=[mpb.FollowUpActionSpec(
                               description=lt("Pay the members"), owner_id=MANAGER_ID, due_date=d(date(2971, 10, 1)))])
    assert adopted.kind == mpb.DECISION_KIND_ADOPTED and adopted.proposal_id == key2.proposal_id
    assert adopted.adopted_text == amended_text
    decided = board.dossier(dossier.dossier_id)
    assert decided.dossier.status == dpb.DOSSIER_STATUS_DECIDED
    statuses = {p.proposal_id: p.status for p in decided.version.proposals}
    assert statuses[key2.proposal_id] == dpb.PROPOSAL_STATUS_ADOPTED
    assert next(p for p in decided.version.proposals if p.proposal_id == key2.proposal_id).text_to_vote \
        == amended_text
    assert refused(board.dossiers.ProposeAmendment, dpb.ProposeAmendmentRequest(
        parent_id=key2.proposal_id, text=lt("Too late.")), metadata=director(AMENDER), timeout=10).reason \
        == "AMENDED_SUBJECT_ADOPTED"
    board.meetings.CloseMeeting(mpb.CloseMeetingRequest(meeting_id=m2.meeting_id), metadata=SECRETARY, timeout=10)

    # -- 10. The approved minutes of meeting 1 are published in three languages. ----------------
    board.at(MEETING_2 + timedelta(days=1))
    out = board.minutes.PublishMinutes(npb.PublishMinutesRequest(minutes_id=minutes.minutes_id),
                                       metadata=SECRETARY, timeout=10).minutes
    assert out.status == npb.MINUTES_STATUS_PUBLISHED

    # An error is found in the published minutes: an erratum, voted and published the same way.
    erratum = board.minutes.CreateErratum(npb.CreateErratumRequest(
        minutes_id=minutes.minutes_id, correction=lt("The meeting started at 18:15, not 18:00."),
        visibility=cpb.ITEM_VISIBILITY_OPEN), metadata=SECRETARY, timeout=10).erratum
    assert erratum.kind == npb.MINUTES_KIND_ERRATUM and erratum.erratum_of == minutes.minutes_id
    assert board.minutes.SubmitMinutesForApproval(npb.SubmitMinutesForApprovalRequest(
        minutes_id=erratum.minutes_id), metadata=SECRETARY, timeout=10).minutes.approval_item_id == ""

    # -- 11. The minutes of meeting 2 (with the amendment) go to meeting 3 and are published. -----
    minutes_2 = board.minutes.DraftMinutes(npb.DraftMinutesRequest(meeting_id=m2.meeting_id), metadata=SECRETARY,
                                           timeout=10).minutes
    body_2 = next(s.body for s in minutes_2.sections if s.item_id == item_v2.item_id)
    assert f"Amendment (level 1) by {AMENDER}: {amended_text.en}" in body_2.en, body_2.en  # minuted
    assert not minutes_2.missing
    pending = board.minutes.SubmitMinutesForApproval(npb.SubmitMinutesForApprovalRequest(
        minutes_id=minutes_2.minutes_id), metadata=SECRETARY, timeout=10).minutes
    assert pending.approval_item_id == ""  # no meeting convened yet: it waits for the next one
    m3 = board.schedule(MEETING_3, "Board of September 2971", SECRETARY)
    approvals_3 = {i.ref: i.item_id for i in m3.items if i.kind == "approve_minutes"}
    assert set(approvals_3) >= {minutes_2.minutes_id, erratum.minutes_id}  # both were waiting for it
    board.meetings.PublishAgenda(mpb.PublishAgendaRequest(meeting_id=m3.meeting_id), metadata=SECRETARY, timeout=10)
    board.meetings.FreezeAgenda(mpb.FreezeAgendaRequest(meeting_id=m3.meeting_id), metadata=SECRETARY, timeout=10)
    board.at(MEETING_3 + timedelta(minutes=5))
    board.attendance(m3.meeting_id, DIRECTORS, [], SECRETARY)
    vote = board.vote(m3.meeting_id, "", mpb.VOTE_SUBJECT_CONSENT, SECRETARY, ballots={x: FOR for x in DIRECTORS})
    assert set(vote.item_ids) >= {approvals_3[minutes_2.minutes_id], approvals_3[erratum.minutes_id]}
    assert vote.outcome == "adopted"
    for minutes_id in (minutes_2.minutes_id, erratum.minutes_id):
        board.minutes.PublishMinutes(npb.PublishMinutesRequest(minutes_id=minutes_id), metadata=SECRETARY,
                                     timeout=10)
    assert board.minutes.GetMinutes(npb.GetMinutesRequest(minutes_id=minutes.minutes_id), metadata=SECRETARY,
                                    timeout=10).minutes.errata_ids == [erratum.minutes_id]

    # The follow-up action of the adopted key: overdue once its day passed, done by its owner.
    board.at(datetime(2971, 10, 2, 9, 0, tzinfo=UTC))
    overdue = board.meetings.ListActions(mpb.ListActionsRequest(overdue_only=True, owner_id=MANAGER_ID),
                                         metadata=MANAGEMENT, timeout=10).actions
    assert [(a.decision_id, a.overdue) for a in overdue] == [(adopted.decision_id, True)]
    done = board.meetings.CompleteAction(mpb.CompleteActionRequest(action_id=overdue[0].action_id),
                                         metadata=MANAGEMENT, timeout=10).action
    assert done.done_date == d(date(2971, 10, 2)) and not done.overdue

    # -- 12. A member lists and reads them, and the adopted key, in each language. ---------------
    window = {"from_date": d(date(2971, 1, 1)), "to_date": d(date(2971, 12, 31))}
    for lang in ("fr", "nl", "en"):
        listed = board.minutes.ListPublishedMinutes(npb.ListPublishedMinutesRequest(language=lang, **window),
                                                    metadata=MEMBER, timeout=10).minutes
        assert {m.minutes_id for m in listed} == {minutes_2.minutes_id, minutes.minutes_id, erratum.minutes_id}
        assert listed[0].minutes_id == minutes_2.minutes_id  # newest meeting first
        assert next(m for m in listed if m.minutes_id == erratum.minutes_id).erratum_of == minutes.minutes_id
        first = next(m for m in listed if m.minutes_id == minutes.minutes_id)
        assert first.language == lang and first.meeting_date == d(MEETING_1.date())
        shown = "\n".join(f"{s.heading}\n{s.body}" for s in first.sections)
        assert "CleanCo" not in shown and "brother" not in shown  # the closed item: its title and the fact only
        assert getattr(lt("Cleaning contract"), lang) in shown
        assert "No key takes recent members into account." in shown if lang == "en" else True
        found = board.minutes.SearchPublishedDecisions(npb.SearchPublishedDecisionsRequest(
            language=lang, query="envelope" if lang == "en" else "", **window), metadata=MEMBER, timeout=10).decisions
        assert adopted.decision_id in {x.decision_id for x in found}
        decision_read = board.minutes.GetPublishedDecision(npb.GetPublishedDecisionRequest(
            decision_id=adopted.decision_id, language=lang), metadata=MEMBER, timeout=10).decision
        assert decision_read.adopted_text == getattr(amended_text, lang)
        assert (decision_read.counts.in_favour, decision_read.counts.against) == (4, 1)
        assert decision_read.effective_date == d(date(2971, 9, 1))
        secret = board.minutes.GetPublishedDecision(npb.GetPublishedDecisionRequest(
            decision_id=closed_decision.decision_id, language=lang), metadata=MEMBER, timeout=10).decision
        assert secret.closed and not secret.adopted_text and not secret.counts.in_favour
    html = board.minutes.RenderMinutes(npb.RenderMinutesRequest(minutes_id=minutes.minutes_id, language="nl",
                                                                format=npb.RENDER_FORMAT_HTML),
                                       metadata=MEMBER, timeout=10)
    assert b"CleanCo" not in html.content and b"Cleaning contract [nl]" in html.content
    pdf = board.minutes.RenderMinutes(npb.RenderMinutesRequest(minutes_id=minutes.minutes_id, language="fr",
                                                               format=npb.RENDER_FORMAT_PDF),
                                      metadata=MEMBER, timeout=10)
    assert pdf.content.startswith(b"%PDF") and pdf.content_type == "application/pdf"
    # the member never reads a draft, nor a dossier
    assert refused(board.minutes.GetMinutes, npb.GetMinutesRequest(minutes_id=minutes.minutes_id),
                   metadata=MEMBER, timeout=10).reason == "ROLE_REQUIRED"

    # -- 13. What the story told the platform (board.events, through the outbox): ids only. -------
    ours = (dossier.dossier_id, m1.meeting_id, m2.meeting_id, m3.meeting_id, *DIRECTORS)
    with env.engine.connect() as conn:
        rows = conn.execute(text("SELECT routing_key, body FROM outbox ORDER BY seq")).all()
    told = [(r.routing_key, r.body) for r in rows if any(x in r.body for x in ours)]
    assert {k for k, _ in told} >= {"mandate.started", "meeting.scheduled", "meeting.agenda_published",
                                    "dossier.submitted", "dossier.sent_back", "decision.adopted",
                                    "minutes.published"}
    assert sum(k == "mandate.started" for k, _ in told) == 6
    assert not [b for _, b in told if "CleanCo" in b or "brother" in b]  # no closed item's content
