"""Member participation end to end, through the real processes (issue 12, "Done when"):
members admitted and in good standing in membership, projected by the board worker; then,
through the board api's gRPC:

- a member drafts an initiative, three co-promoters join, management finds it admissible and
  members sign; it qualifies and is forced onto the next board meeting's agenda, where the board
  cannot remove it; the board discusses it (a vote and a decision) and the secretary publishes
  the outcome in French, Dutch and English before its deadline;
- a second initiative is admissible by default (nobody decided in time), gets one signature of
  the three it needs and expires; signing after the close is refused;
- a third qualifies onto a meeting a minute ahead and its outcome is not published: it turns
  overdue, in the board worker's `coop_board_outcomes_overdue` gauge and in
  `initiative.outcome_overdue` on `board.events`;
- a General Assembly is scheduled and convened: one `assembly.convened` per member on the bus;
  members register with a workshop whose waiting list moves up when a seat frees; questions are
  submitted, supported and answered.

Written once against `board_platform` (conftest.py): docker-compose.yml where a Docker engine
exists, the processes `make run` starts where none does. Real time, no test clock: conftest.py
gives the board processes initiative windows of seconds (BOARD_PARTICIPATION_ENV: admissibility
15 s, collection 60 s, outcome 30 s after the meeting, a threshold of 3 signatures, a timer
ticking every second, agendas that freeze only when the meeting starts). The directors' mandates
are created by an admin (CreateMandate) for a window of days of their own, so that the board of
test_board_flow.py (Compose: same database) and this one never sit together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import grpc
import pytest
from board_helpers import Board, d, lt, reason_of, rid
from election_helpers import parse_instant, utcnow

from coop.board.v1 import assembly_pb2 as apb
from coop.board.v1 import assembly_pb2_grpc as agrpc
from coop.board.v1 import common_pb2 as cpb
from coop.board.v1 import initiatives_pb2 as ipb
from coop.board.v1 import initiatives_pb2_grpc as igrpc
from coop.board.v1 import meetings_pb2 as bpb
from coop.board.v1 import questions_pb2 as qpb
from coop.board.v1 import questions_pb2_grpc as qgrpc
from coop.board.v1 import roster_pb2 as rpb
from coop_platform.pbtypes import to_timestamp
from coop_platform.rich_status import details_of
from coop_testkit import bearer, cooperative_today, wait_until

pytestmark = [pytest.mark.rabbitmq]

FOR = bpb.VOTE_CHOICE_FOR
S = ipb.InitiativeStatus
T = TypeVar("T")
# Until the board worker has projected a member admitted a moment ago (membership's events).
NOT_YET = ("NOT_A_MEMBER", "NOT_IN_GOOD_STANDING")
# The first day of the directors' mandates, from today: far from test_board_flow.py's meetings.
MANDATE_OFFSET_DAYS = 40


class Participation:
    """The board api's participation services as the member portal and the secretary call them."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.initiatives = igrpc.InitiativeServiceStub(channel)
        self.assemblies = agrpc.AssemblyServiceStub(channel)
        self.questions = qgrpc.QuestionServiceStub(channel)

    def initiative(self, initiative_id: str, metadata) -> ipb.Initiative:
        return self.initiatives.GetInitiative(ipb.GetInitiativeRequest(initiative_id=initiative_id),
                                              metadata=metadata, timeout=15).initiative

    def status(self, initiative_id: str, metadata) -> int:
        return self.initiative(initiative_id, metadata).status

    def draft(self, author: str, title: str) -> ipb.Initiative:
        request = ipb.DraftInitiativeRequest(
            language="fr", title=cpb.LocalizedText(fr=title), text=cpb.LocalizedText(fr=f"{title} : le texte."),
            question=cpb.LocalizedText(fr=f"Le conseil adopte-t-il « {title} » ?"), request_id=rid())
        return once_projected(lambda: self.initiatives.DraftInitiative(request, metadata=member(author),
                                                                       timeout=15).initiative)

    def committee(self, initiative_id: str, author: str, promoters: list[str]) -> ipb.Initiative:
        """The author invites the co-promoters, who accept; the author submits."""
        self.initiatives.InvitePromoters(ipb.InvitePromotersRequest(initiative_id=initiative_id, member_ids=promoters),
                                         metadata=member(author), timeout=15)
        for p in promoters:
            once_projected(lambda p=p: self.initiatives.AnswerPromoterInvitation(
                ipb.AnswerPromoterInvitationRequest(initiative_id=initiative_id, accept=True), metadata=member(p),
                timeout=15))
        return self.initiatives.SubmitInitiative(ipb.SubmitInitiativeRequest(initiative_id=initiative_id,
                                                                             request_id=rid()),
                                                 metadata=member(author), timeout=15).initiative

    def sign(self, initiative_id: str, signer: str) -> ipb.SignInitiativeResponse:
        return self.initiatives.SignInitiative(ipb.SignInitiativeRequest(initiative_id=initiative_id,
                                                                         request_id=rid()),
                                               metadata=member(signer), timeout=15)


def member(member_id: str) -> list[tuple[str, str]]:
    return bearer(member_id, "member")


def once_projected(call: Callable[[], T], timeout: float = 60) -> T:
    """`call` as soon as the board worker has the caller's standing from membership's events."""
    got: list[T] = []

    def attempt() -> bool:
        try:
            got.append(call())
        except grpc.RpcError as exc:
            if details_of(exc).reason in NOT_YET:
                return False
            raise
        return True

    wait_until(attempt, timeout=timeout, interval=0.3, message="the board worker projecting a member's standing")
    return got[0]


def gauge(text: str, name: str, **labels: str) -> float | None:
    """A sample's value in a Prometheus exposition (None when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{re.escape(name)}\{{{re.escape(want)}\}} (\S+)$", text, re.M)
    return float(match.group(1)) if match else None


def of(event_type: str, key: str, value: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e.get("type") == f"coop.board.{event_type}.v1" and (e.get("data") or {}).get(key) == value


@pytest.fixture
def participation(board_platform):
    with grpc.insecure_channel(board_platform.targets["board"]) as channel:
        yield Participation(channel)


def seat_a_board(board: Board, coop, first_day, last_day) -> list[str]:
    """Directors with mandates covering [first_day, last_day), a majority of whoever else sits
    then (Compose: other tests' boards)."""
    others = board.roster.GetRoster(rpb.GetRosterRequest(on_date=d(first_day)), metadata=board.admin,
                                    timeout=15).directors
    directors = [coop.admit(f"Director{n}", pay=True) for n in range(max(3, len(others) + 1))]
    for director_id in directors:
        board.roster.CreateMandate(rpb.CreateMandateRequest(
            request_id=rid(), director_id=director_id, start_date=d(first_day), end_date=d(last_day)),
            metadata=board.admin, timeout=15)
    return directors


def test_initiatives_force_the_agenda_and_owe_an_outcome_and_the_assembly_convenes_every_member(
    board_platform, coop, board, participation, board_events
) -> None:
    admin, management = board.admin, board.management
    p = participation

    # -- 1. Members in good standing; a board seated for a window of days of its own. ---------
    author, promoters = coop.admit("Ines", pay=True), [coop.admit(n, pay=True) for n in ("Jan", "Karim", "Lore")]
    signer_a, signer_b = coop.admit("Mona", pay=True), coop.admit("Noah", pay=True)
    today = cooperative_today()
    first_day = today + timedelta(days=MANDATE_OFFSET_DAYS)
    directors = seat_a_board(board, coop, first_day, first_day + timedelta(days=10))
    sitting = [x.director_id for x in board.roster.GetRoster(rpb.GetRosterRequest(on_date=d(first_day)),
                                                             metadata=admin, timeout=15).directors]
    others = [x for x in sitting if x not in directors]
    assert set(directors) <= set(sitting) and len(directors) > len(sitting) / 2

    # -- 2. The second initiative first: nobody decides its admissibility, few sign. ----------
    lapsing = p.draft(signer_a, "Un jardin partagé")
    lapsing = p.committee(lapsing.initiative_id, signer_a, promoters)
    assert lapsing.status == S.INITIATIVE_STATUS_SUBMITTED

    # -- 3. The first: drafted, three co-promoters join, admissible, members sign. ------------
    m1 = board.schedule(utcnow() + timedelta(days=MANDATE_OFFSET_DAYS + 5), "Board, ordinary meeting", admin)
    drafted = p.draft(author, "Retour sur le site déficitaire")
    assert drafted.status == S.INITIATIVE_STATUS_DRAFT and drafted.required_promoters == 3
    assert reason_of(lambda: p.initiatives.SubmitInitiative(ipb.SubmitInitiativeRequest(
        initiative_id=drafted.initiative_id, request_id=rid()), metadata=member(author), timeout=15)) \
        == "NOT_ENOUGH_PROMOTERS"
    first = p.committee(drafted.initiative_id, author, promoters)
    iid = first.initiative_id
    assert first.status == S.INITIATIVE_STATUS_SUBMITTED
    assert {x.member_id for x in first.promoters if x.status == ipb.PROMOTER_STATUS_ACCEPTED} == set(promoters)
    admissible = p.initiatives.DecideAdmissibility(ipb.DecideAdmissibilityRequest(
        initiative_id=iid, admissible=True, request_id=rid()), metadata=management, timeout=15).initiative
    assert admissible.status == S.INITIATIVE_STATUS_COLLECTING and not admissible.admissible_by_default
    assert admissible.threshold == 3
    p.sign(iid, promoters[0])
    assert reason_of(lambda: p.sign(iid, promoters[0])) == "ALREADY_SIGNED"
    p.sign(iid, promoters[1])
    assert p.sign(iid, author).signature_count == 3

    # -- 4. It qualifies and is forced onto meeting 1, which cannot drop it. -------------------
    wait_until(lambda: p.status(iid, admin) != S.INITIATIVE_STATUS_COLLECTING, timeout=60, interval=0.3,
               message="the first initiative qualifying")
    qualified = p.initiative(iid, admin)
    assert qualified.status == S.INITIATIVE_STATUS_QUALIFIED and qualified.verified_signatures == 3
    assert qualified.forced_item.meeting_id == m1.meeting_id and not qualified.forced_item.extra_meeting
    item_id = qualified.forced_item.item_id
    board_events.wait_for(of("initiative.qualified", "initiativeId", iid))
    forced = next(i for i in board.get(m1.meeting_id, admin).items if i.item_id == item_id)
    assert forced.source == cpb.ITEM_SOURCE_MEMBER_INITIATIVE and forced.ref == iid
    with pytest.raises(grpc.RpcError) as refused:
        board.meetings.RemoveAgendaItem(bpb.RemoveAgendaItemRequest(meeting_id=m1.meeting_id, item_id=item_id,
                                                                    request_id=rid()), metadata=admin, timeout=15)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details_of(refused.value).reason == "FORCED_ITEM"
    assert item_id in {i.item_id for i in board.get(m1.meeting_id, admin).items}

    # -- 5. The board discusses it: a vote, a decision, the meeting closed. --------------------
    board.publish_and_freeze(m1.meeting_id, admin)
    board.attendance(m1.meeting_id, directors, others, admin)
    vote = board.vote(m1.meeting_id, item_id, bpb.VOTE_SUBJECT_ITEM, admin, {x: FOR for x in directors})
    decision = board.decide(m1.meeting_id, item_id, vote.vote_id, admin)
    assert decision.kind == bpb.DECISION_KIND_ADOPTED
    board.meetings.CloseMeeting(bpb.CloseMeetingRequest(meeting_id=m1.meeting_id, request_id=rid()),
                                metadata=admin, timeout=15)
    discussed = p.initiative(iid, admin)
    assert discussed.status == S.INITIATIVE_STATUS_DISCUSSED and discussed.decision_id == decision.decision_id

    # -- 6. The outcome, in three languages, before its deadline. ------------------------------
    assert reason_of(lambda: p.initiatives.PublishInitiativeOutcome(ipb.PublishInitiativeOutcomeRequest(
        initiative_id=iid, kind=cpb.INITIATIVE_OUTCOME_KIND_ADOPTED_AS_PROPOSED,
        text=cpb.LocalizedText(fr="Adopté.", en="Adopted."), request_id=rid()), metadata=admin,
        timeout=15)) == "MISSING_LANGUAGE"
    closed = p.initiatives.PublishInitiativeOutcome(ipb.PublishInitiativeOutcomeRequest(
        initiative_id=iid, kind=cpb.INITIATIVE_OUTCOME_KIND_ADOPTED_AS_PROPOSED,
        text=lt("The board withdraws from the venue as the initiative asks."), request_id=rid()),
        metadata=admin, timeout=15).initiative
    assert closed.status == S.INITIATIVE_STATUS_CLOSED and not closed.overdue
    assert closed.outcome.published_at.ToDatetime() < closed.outcome_due_at.ToDatetime()
    published = board_events.wait_for(of("initiative.outcome_published", "initiativeId", iid))
    assert not published["data"].get("late", False)
    # the second initiative, admissible by default meanwhile, gets one signature of three
    wait_until(lambda: p.status(lapsing.initiative_id, admin) == S.INITIATIVE_STATUS_COLLECTING, timeout=60,
               interval=0.3, message="the second initiative admissible by default")
    assert p.sign(lapsing.initiative_id, author).signature_count == 1
    read = p.initiative(iid, member(signer_b)).outcome.text
    assert (read.fr, read.nl, read.en) == tuple(getattr(lt("The board withdraws from the venue as the initiative "
                                                           "asks."), x) for x in ("fr", "nl", "en"))

    # -- 7. The third qualifies onto a meeting a minute ahead; no outcome follows. -------------
    m2 = board.schedule(utcnow() + timedelta(seconds=45), "Board, extra session", admin)
    third = p.draft(signer_b, "Des assemblées locales")
    third = p.committee(third.initiative_id, signer_b, promoters)
    p.initiatives.DecideAdmissibility(ipb.DecideAdmissibilityRequest(
        initiative_id=third.initiative_id, admissible=True, request_id=rid()), metadata=management, timeout=15)
    for signer in (signer_a, signer_b, promoters[2]):
        p.sign(third.initiative_id, signer)
    wait_until(lambda: p.status(third.initiative_id, admin) == S.INITIATIVE_STATUS_QUALIFIED, timeout=60,
               interval=0.3, message="the third initiative qualifying")
    owed = p.initiative(third.initiative_id, admin)
    assert owed.forced_item.meeting_id == m2.meeting_id and not owed.overdue

    # -- 8. Meanwhile, the General Assembly: scheduled, convened, one convocation per member. --
    # at 08:00 UTC in 30 days, so that its workshop (5 h later) is on the same day whatever the
    # hour this runs; the board election's id: the elections service's, not checked here
    starts = (utcnow() + timedelta(days=30)).replace(hour=8, minute=0, second=0, microsecond=0)
    assembly = p.assemblies.ScheduleAssembly(apb.ScheduleAssemblyRequest(
        title=lt("General Assembly"), starts_at=to_timestamp(starts), place="Tour & Taxis, Bruxelles",
        registration_deadline=to_timestamp(starts - timedelta(days=3)), election_id=rid(), request_id=rid()),
        metadata=admin, timeout=15).assembly
    aid = assembly.assembly_id
    assert {x.kind for x in assembly.agenda} >= {apb.ASSEMBLY_ITEM_KIND_APPROVE_ACCOUNTS,
                                                  apb.ASSEMBLY_ITEM_KIND_DISCHARGE_DIRECTORS}
    workshop = p.assemblies.AddWorkshop(apb.AddWorkshopRequest(
        assembly_id=aid, title=lt("Reading the accounts"), capacity=1, language="fr",
        starts_at=to_timestamp(starts + timedelta(hours=5)), ends_at=to_timestamp(starts + timedelta(hours=6)),
        request_id=rid()), metadata=admin, timeout=15).workshop
    p.assemblies.ConveneAssembly(apb.ConveneAssemblyRequest(assembly_id=aid, request_id=rid()), metadata=admin,
                                 timeout=15)
    wait_until(lambda: p.assemblies.GetAssembly(apb.GetAssemblyRequest(assembly_id=aid), metadata=admin,
                                                 timeout=15).assembly.status == apb.ASSEMBLY_STATUS_CONVENED,
               timeout=120, interval=0.5, message="the board worker sending the convocation")
    convocation = p.assemblies.GetAssembly(apb.GetAssemblyRequest(assembly_id=aid), metadata=admin,
                                           timeout=15).assembly.convocation
    ours = {author, *promoters, signer_a, signer_b, *directors}
    assert convocation.sent == convocation.total >= len(ours)

    def convened() -> list[str]:
        return [e["data"]["memberId"] for e in board_events.seen if of("assembly.convened", "assemblyId", aid)(e)]

    board_events.wait_for(lambda e: len(convened()) >= convocation.total, timeout=60)
    assert len(convened()) == len(set(convened())) == convocation.total and ours <= set(convened())

    # -- 9. Registrations: a workshop of one seat and its waiting list. ------------------------
    def register(who: str) -> apb.RegisterForAssemblyResponse:
        return p.assemblies.RegisterForAssembly(apb.RegisterForAssemblyRequest(
            assembly_id=aid, attendance=apb.ASSEMBLY_ATTENDANCE_IN_PERSON, interpretation_language="nl",
            workshop_ids=[workshop.workshop_id], request_id=rid()), metadata=member(who), timeout=15)

    seated, waiting = register(signer_a), register(signer_b)
    assert seated.check_in_code and [w.seated for w in seated.registration.workshops] == [True]
    assert [(w.seated, w.waiting_position) for w in waiting.registration.workshops] == [(False, 1)]
    assert reason_of(lambda: register(signer_a)) == "ALREADY_REGISTERED"
    moved = p.assemblies.CancelAssemblyRegistration(apb.CancelAssemblyRegistrationRequest(
        registration_id=seated.registration.registration_id, request_id=rid()), metadata=member(signer_a),
        timeout=15)
    assert [x.registration_id for x in moved.promotions] == [waiting.registration.registration_id]
    mine = p.assemblies.GetMyAssemblyRegistration(apb.GetMyAssemblyRegistrationRequest(assembly_id=aid),
                                                  metadata=member(signer_b), timeout=15).registration
    assert [w.seated for w in mine.workshops] == [True] and mine.interpretation_language == "nl"

    # -- 10. Questions: submitted, supported (the most supported first), answered. -------------
    def ask(who: str, text: str, public: bool) -> qpb.Question:
        return p.questions.SubmitQuestion(qpb.SubmitQuestionRequest(
            assembly_id=aid, language="fr", text=text, author_public=public, request_id=rid()),
            metadata=member(who), timeout=15).question

    venue = ask(author, "Pourquoi le conseil s'est-il retiré du site déficitaire ?", False)
    other = ask(signer_a, "Quand les comptes seront-ils publiés ?", True)
    assert reason_of(lambda: ask(signer_b, "   ", False)) == "TEXT_EMPTY"
    for who in (signer_b, promoters[0]):
        p.questions.SupportQuestion(qpb.SupportQuestionRequest(question_id=venue.question_id, request_id=rid()),
                                    metadata=member(who), timeout=15)
    ranked = p.questions.ListQuestions(qpb.ListQuestionsRequest(
        assembly_id=aid, order=qpb.QUESTION_ORDER_MOST_SUPPORTED), metadata=member(signer_b), timeout=15).questions
    assert [q.question_id for q in ranked] == [venue.question_id, other.question_id]
    assert ranked[0].support_count == 2 and not ranked[0].author_member_id
    assert ranked[1].author_member_id == signer_a and ranked[1].status == qpb.QUESTION_STATUS_UNANSWERED
    answered = p.questions.AnswerQuestion(qpb.AnswerQuestionRequest(
        question_id=venue.question_id, mode=qpb.ANSWER_MODE_WRITING,
        answer=lt("The venue lost money for five years; the board's decision is published."), request_id=rid()),
        metadata=admin, timeout=15).question
    assert answered.status == qpb.QUESTION_STATUS_ANSWERED_IN_WRITING and answered.answer.nl

    # -- 11. The second initiative expired; the third's outcome is overdue. --------------------
    wait_until(lambda: p.status(lapsing.initiative_id, admin) == S.INITIATIVE_STATUS_EXPIRED, timeout=120,
               interval=0.5, message="the second initiative expiring")
    expired = p.initiative(lapsing.initiative_id, admin)
    assert expired.admissible_by_default and (expired.signature_count, expired.threshold) == (1, 3)
    assert reason_of(lambda: p.sign(lapsing.initiative_id, signer_b)) == "COLLECTION_CLOSED"
    board_events.wait_for(of("initiative.expired", "initiativeId", lapsing.initiative_id))
    overdue = board_events.wait_for(of("initiative.outcome_overdue", "initiativeId", third.initiative_id),
                                    timeout=180)
    assert overdue["data"]["meetingId"] == m2.meeting_id
    assert set(overdue["data"]["promoterIds"]) == {signer_b, *promoters}
    assert parse_instant(overdue["data"]["flaggedAt"]) >= parse_instant(overdue["data"]["outcomeDueAt"])
    late = p.initiative(third.initiative_id, member(signer_b))
    assert late.overdue and late.status == S.INITIATIVE_STATUS_QUALIFIED
    wait_until(lambda: (gauge(board_platform.metrics_text("board-worker"), "coop_board_outcomes_overdue",
                              tenant="coop") or 0) >= 1,
               timeout=30, interval=0.5, message="coop_board_outcomes_overdue counting the third initiative")
