"""Where two families of the board meet, through the api on PostgreSQL with no stand-in: the
faults the families' own tests (each with the others faked) could not see. Dates in 2069, away
from the other tests' (the database is shared by the session)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from board_svc_helpers import BoardEnv
from google.type.date_pb2 import Date
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
from coop_board.service_layer.roster_handlers import apply_member_fact
from coop_domain.membership import MemberChanged
from coop_platform.pbtypes import to_timestamp
from coop_testkit import bearer

ADMIN = bearer("together-admin", "admin")
MANAGEMENT = bearer("together-manager", "management")


def lt(en: str) -> cpb.LocalizedText:
    return cpb.LocalizedText(fr=f"{en} (fr)", nl=f"{en} (nl)", en=en)


def schedule(env: BoardEnv, starts_at: datetime) -> mpb.Meeting:
    return env.stub(mgrpc.MeetingServiceStub).ScheduleMeeting(mpb.ScheduleMeetingRequest(
        meeting=mpb.Meeting(title=lt("Board"), starts_at=to_timestamp(starts_at), place="Head office"),
        request_id=str(uuid.uuid4())), metadata=ADMIN, timeout=10).meeting


def seat(env: BoardEnv, director: str, start: Date, end: Date) -> None:
    env.stub(rgrpc.RosterServiceStub).CreateMandate(rpb.CreateMandateRequest(
        request_id=str(uuid.uuid4()), director_id=director, start_date=start, end_date=end), metadata=ADMIN, timeout=10)


def hold(env: BoardEnv, meeting_id: str, directors: list[str]) -> None:
    """The meeting sits (every director present) and closes: its record is final for the minutes."""
    meetings = env.stub(mgrpc.MeetingServiceStub)
    meetings.RecordAttendance(mpb.RecordAttendanceRequest(meeting_id=meeting_id, request_id=str(uuid.uuid4()),
                                                          attendance=[mpb.Attendance(
                                                              director_id=d, status=mpb.ATTENDANCE_STATUS_PRESENT)
                                                              for d in directors]), metadata=ADMIN, timeout=10)
    meetings.CloseMeeting(mpb.CloseMeetingRequest(meeting_id=meeting_id, request_id=str(uuid.uuid4())),
                          metadata=ADMIN, timeout=10)


def test_minutes_submitted_for_approval_go_on_the_next_meeting_after_the_api_clocks_now(env: BoardEnv) -> None:
    """The approval item goes on the next meeting whose agenda is open *now*, as the api's clock
    says: not as the machine's wall clock says (which found meetings long past, or closed)."""
    minutes = env.stub(ngrpc.MinutesServiceStub)
    env.clock.set(datetime(2069, 2, 1, 9, 0, tzinfo=UTC))
    held = schedule(env, datetime(2069, 2, 2, 18, 0, tzinfo=UTC))
    env.clock.set(datetime(2069, 2, 3, 9, 0, tzinfo=UTC))
    seat(env, "together-held-1", Date(year=2069, month=1, day=1), Date(year=2069, month=3, day=1))
    hold(env, held.meeting_id, ["together-held-1"])
    following = schedule(env, datetime(2069, 4, 20, 18, 0, tzinfo=UTC))
    draft = minutes.DraftMinutes(npb.DraftMinutesRequest(meeting_id=held.meeting_id), metadata=ADMIN,
                                 timeout=10).minutes
    submitted = minutes.SubmitMinutesForApproval(npb.SubmitMinutesForApprovalRequest(minutes_id=draft.minutes_id),
                                                 metadata=ADMIN, timeout=10).minutes
    agenda = env.stub(mgrpc.MeetingServiceStub).GetMeeting(mpb.GetMeetingRequest(meeting_id=following.meeting_id),
                                                           metadata=ADMIN, timeout=10).meeting.items
    assert [(i.kind, i.ref, i.item_id) for i in agenda] == [("approve_minutes", draft.minutes_id,
                                                             submitted.approval_item_id)]


def test_the_draft_minutes_of_a_dossier_item_record_its_amendments_with_author_and_text(env: BoardEnv) -> None:
    """The meeting's record carries the amendments of the dossier's version (dossier_hooks), so
    the minutes name each amendment, its author and its text."""
    dossiers = env.stub(dgrpc.DossierServiceStub)
    env.clock.set(datetime(2069, 5, 1, 9, 0, tzinfo=UTC))
    seat(env, "together-dir-1", Date(year=2069, month=4, day=1), Date(year=2069, month=7, day=1))  # amends while sitting
    dossier = dossiers.CreateDossier(dpb.CreateDossierRequest(title=lt("Solar roofs")), metadata=MANAGEMENT,
                                     timeout=10).dossier
    version = dossiers.SubmitDossierVersion(dpb.SubmitDossierVersionRequest(
        dossier_id=dossier.dossier_id, proposals=[dpb.ProposalInput(title=lt(f"Roof {n}"), text=lt(f"Build roof {n}."))
                                                  for n in (1, 2)]), metadata=MANAGEMENT, timeout=10).version
    dossiers.ProposeAmendment(dpb.ProposeAmendmentRequest(parent_id=version.proposals[0].proposal_id,
                                                          text=lt("Build roof 1 before winter.")),
                              metadata=bearer("together-dir-1", "director"), timeout=10)
    meeting = schedule(env, datetime(2069, 6, 10, 18, 0, tzinfo=UTC))
    item = env.stub(mgrpc.MeetingServiceStub).AddAgendaItem(mpb.AddAgendaItemRequest(
        meeting_id=meeting.meeting_id, item=mpb.AgendaItem(
            title=lt("Solar roofs"), source=cpb.ITEM_SOURCE_DOSSIER, kind="dossier", ref=dossier.dossier_id,
            dossier_version=1, visibility=cpb.ITEM_VISIBILITY_OPEN)), metadata=ADMIN, timeout=10).item
    hold(env, meeting.meeting_id, ["together-dir-1"])
    draft = env.stub(ngrpc.MinutesServiceStub).DraftMinutes(npb.DraftMinutesRequest(meeting_id=meeting.meeting_id),
                                                            metadata=ADMIN, timeout=10).minutes
    body = next(s.body for s in draft.sections if s.item_id == item.item_id)
    assert "Amendment (level 1) by together-dir-1: Build roof 1 before winter." in body.en
    assert "Amendement (niveau 1) van together-dir-1: Build roof 1 before winter. (nl)" in body.nl


def test_a_closed_dossier_item_sent_back_tells_no_reasons_in_its_event(env: BoardEnv) -> None:
    """A closed item's content never reaches an event: dossier.sent_back of a closed dossier item
    carries no reasons (the meetings family tells the dossiers family the item is closed)."""
    roster, meetings = env.stub(rgrpc.RosterServiceStub), env.stub(mgrpc.MeetingServiceStub)
    env.clock.set(datetime(2069, 8, 1, 9, 0, tzinfo=UTC))
    directors = [f"together-closed-{n}" for n in range(3)]
    for director in directors:
        roster.CreateMandate(rpb.CreateMandateRequest(request_id=str(uuid.uuid4()), director_id=director,
                                                      start_date=Date(year=2069, month=7, day=1),
                                                      end_date=Date(year=2069, month=12, day=31)),
                             metadata=ADMIN, timeout=10)
    dossier = env.stub(dgrpc.DossierServiceStub).CreateDossier(dpb.CreateDossierRequest(title=lt("Director pay")),
                                                               metadata=MANAGEMENT, timeout=10).dossier
    env.stub(dgrpc.DossierServiceStub).SubmitDossierVersion(dpb.SubmitDossierVersionRequest(
        dossier_id=dossier.dossier_id, proposals=[dpb.ProposalInput(title=lt(f"Scale {n}"), text=lt(f"Scale {n}."))
                                                  for n in (1, 2)]), metadata=MANAGEMENT, timeout=10)
    meeting = schedule(env, datetime(2069, 9, 1, 18, 0, tzinfo=UTC))
    item = meetings.AddAgendaItem(mpb.AddAgendaItemRequest(meeting_id=meeting.meeting_id, item=mpb.AgendaItem(
        title=lt("Director pay"), source=cpb.ITEM_SOURCE_DOSSIER, kind="dossier", ref=dossier.dossier_id,
        dossier_version=1, visibility=cpb.ITEM_VISIBILITY_CLOSED)), metadata=ADMIN, timeout=10).item
    meetings.PublishAgenda(mpb.PublishAgendaRequest(meeting_id=meeting.meeting_id), metadata=ADMIN, timeout=10)
    meetings.FreezeAgenda(mpb.FreezeAgendaRequest(meeting_id=meeting.meeting_id), metadata=ADMIN, timeout=10)
    meetings.RecordAttendance(mpb.RecordAttendanceRequest(meeting_id=meeting.meeting_id, attendance=[
        mpb.Attendance(director_id=x, status=mpb.ATTENDANCE_STATUS_PRESENT) for x in directors]),
        metadata=ADMIN, timeout=10)
    vote = meetings.OpenVote(mpb.OpenVoteRequest(meeting_id=meeting.meeting_id, item_id=item.item_id,
                                                 subject=mpb.VOTE_SUBJECT_SEND_BACK), metadata=ADMIN, timeout=10).vote
    meetings.RecordVotes(mpb.RecordVotesRequest(meeting_id=meeting.meeting_id, vote_id=vote.vote_id, ballots=[
        mpb.Ballot(director_id=x, choice=mpb.VOTE_CHOICE_FOR) for x in directors]), metadata=ADMIN, timeout=10)
    meetings.CloseVote(mpb.CloseVoteRequest(meeting_id=meeting.meeting_id, vote_id=vote.vote_id), metadata=ADMIN,
                       timeout=10)
    meetings.Decide(mpb.DecideRequest(meeting_id=meeting.meeting_id, item_id=item.item_id, vote_id=vote.vote_id,
                                      send_back=True, reasons=lt("The pay of director Janssens is confidential"),
                                      due_date=Date(year=2069, month=10, day=1)), metadata=ADMIN, timeout=10)
    with env.engine.connect() as conn:
        bodies = [r.body for r in conn.execute(text(
            "SELECT body FROM outbox WHERE routing_key = 'dossier.sent_back' ORDER BY seq")).all()
            if dossier.dossier_id in r.body]
    assert len(bodies) == 1
    assert "Janssens" not in bodies[0] and json.loads(bodies[0])["data"]["dossierId"] == dossier.dossier_id


def test_an_observer_reads_no_item_of_an_agenda_not_yet_published(env: BoardEnv) -> None:
    """Members read published material only: a registered observer sees the open items once the
    agenda is published, not the secretary's draft before."""
    env.clock.set(datetime(2069, 10, 1, 9, 0, tzinfo=UTC))
    observer_id = "together-observer-1"
    uow = env.uow_factory()
    with uow:
        apply_member_fact(uow, MemberChanged(observer_id, datetime(2069, 9, 1, tzinfo=UTC), status="active",
                                             category="user", in_good_standing=True))
        uow.commit()
    meetings, observers = env.stub(mgrpc.MeetingServiceStub), env.stub(ogrpc.ObserverServiceStub)
    meeting = schedule(env, datetime(2069, 10, 20, 18, 0, tzinfo=UTC))
    draft = meetings.AddAgendaItem(mpb.AddAgendaItemRequest(meeting_id=meeting.meeting_id, item=mpb.AgendaItem(
        title=lt("A draft item"), kind="other", source=cpb.ITEM_SOURCE_OTHER, visibility=cpb.ITEM_VISIBILITY_OPEN)),
        metadata=ADMIN, timeout=10).item
    observers.OpenToObservers(opb.OpenToObserversRequest(
        meeting_id=meeting.meeting_id, seats=5, registration_deadline=to_timestamp(datetime(2069, 10, 19, tzinfo=UTC)),
        request_id=str(uuid.uuid4())), metadata=ADMIN, timeout=10)
    member = bearer(observer_id, "member")
    observers.RegisterAsObserver(opb.RegisterAsObserverRequest(meeting_id=meeting.meeting_id,
                                                               request_id=str(uuid.uuid4())), metadata=member, timeout=10)
    request = opb.GetObserverAgendaRequest(meeting_id=meeting.meeting_id)
    assert not observers.GetObserverAgenda(request, metadata=member, timeout=10).items
    assert [i.item_id for i in observers.GetObserverAgenda(request, metadata=ADMIN, timeout=10).items] \
        == [draft.item_id]  # the board reads its draft
    meetings.PublishAgenda(mpb.PublishAgendaRequest(meeting_id=meeting.meeting_id), metadata=ADMIN, timeout=10)
    assert [i.item_id for i in observers.GetObserverAgenda(request, metadata=member, timeout=10).items] \
        == [draft.item_id]
