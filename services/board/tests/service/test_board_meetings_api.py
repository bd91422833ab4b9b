"""MeetingService through gRPC on PostgreSQL: a meeting from convocation to decisions, retries,
concurrent ballots of one director, and the bad input of the issue that is the meetings'."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import grpc
import pytest
from board_svc_helpers import START
from meetings_svc_helpers import (
    ADMIN,
    DIRECTORS,
    MANAGEMENT,
    MEMBER,
    T,
    board_setup,  # noqa: F401 - fixture
    director,
    item,
    ready,
    refused,
    rid,
    schedule,
)
from prometheus_client import REGISTRY
from sqlalchemy import text

from coop.board.v1 import meetings_pb2 as pb
from coop.board.v1 import meetings_pb2_grpc as pb_grpc
from coop_platform.pbtypes import to_date

pytestmark = pytest.mark.usefixtures("board_setup")


@pytest.fixture
def stub(env) -> pb_grpc.MeetingServiceStub:
    return env.stub(pb_grpc.MeetingServiceStub)


def count(env, sql: str, **params) -> int:
    with env.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_a_meeting_from_convocation_to_a_decision_with_an_action(env, stub):
    mid, (it,) = ready(stub, [item(text=T)])
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    for d in DIRECTORS[:6]:
        stub.CastVote(pb.CastVoteRequest(meeting_id=mid, vote_id=vote.vote_id, choice=pb.VOTE_CHOICE_FOR),
                      metadata=director(d))
    closed = stub.CloseVote(pb.CloseVoteRequest(meeting_id=mid, vote_id=vote.vote_id), metadata=ADMIN).vote
    assert closed.outcome == "adopted" and closed.quorum.met and closed.counts.in_favour == 6
    decision = stub.Decide(pb.DecideRequest(
        meeting_id=mid, item_id=it.item_id, vote_id=vote.vote_id,
        actions=[pb.FollowUpActionSpec(description=T, owner_id="mg-1", due_date=to_date(START.date()))]),
        metadata=ADMIN).decision
    assert decision.adopted_text.en == "en" and len(decision.ballots) == 6
    env.clock.set(START + timedelta(days=2))
    overdue = stub.ListActions(pb.ListActionsRequest(overdue_only=True), metadata=ADMIN).actions
    assert decision.actions[0].action_id in [a.action_id for a in overdue]
    uow = env.uow_factory()
    with uow:  # the worker's gauge, counted in SQL: at least this one, and none due later
        assert uow.meetings.overdue_action_counts((START + timedelta(days=2)).date()).get("coop", 0) >= 1
        assert uow.meetings.overdue_action_counts(date(2000, 1, 1)) == {}
    bodies = events(env, "decision.adopted")
    assert [b for b in bodies if decision.decision_id in b][0].count('"en"') >= 1


def events(env, routing_key: str) -> list[str]:
    with env.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT body FROM outbox WHERE routing_key = :k ORDER BY seq"),
                                           {"k": routing_key})]


def test_a_closed_items_content_never_reaches_members_or_events(env, stub):
    mid, (it,) = ready(stub, [item(visibility=2,
                                   text=pb.AgendaItem().text.__class__(fr="SECRET", nl="SECRET", en="SECRET"))])
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    stub.RecordVotes(pb.RecordVotesRequest(meeting_id=mid, vote_id=vote.vote_id, ballots=[
        pb.Ballot(director_id=d, choice=pb.VOTE_CHOICE_FOR) for d in DIRECTORS]), metadata=ADMIN)
    stub.CloseVote(pb.CloseVoteRequest(meeting_id=mid, vote_id=vote.vote_id), metadata=ADMIN)
    d = stub.Decide(pb.DecideRequest(meeting_id=mid, item_id=it.item_id, vote_id=vote.vote_id), metadata=ADMIN)
    assert d.decision.adopted_text.en == "SECRET"
    assert not any("SECRET" in b for k in ("decision.adopted", "meeting.agenda_published") for b in events(env, k))
    assert not stub.GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=MEMBER).meeting.items
    management = stub.GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=MANAGEMENT).meeting.items
    assert management[0].redacted and management[0].text.en == ""


def test_a_retried_write_answers_the_first_answer_and_writes_once(env, stub):
    request = pb.ScheduleMeetingRequest(meeting=schedule(stub), request_id=rid())
    request.meeting.meeting_id = ""
    first = stub.ScheduleMeeting(request, metadata=ADMIN).meeting
    again = stub.ScheduleMeeting(request, metadata=ADMIN).meeting
    assert first.meeting_id == again.meeting_id
    assert count(env, "SELECT count(*) FROM board_meetings WHERE meeting_id = :m", m=first.meeting_id) == 1


def test_concurrent_ballots_of_one_director_count_once(env, stub):
    mid, (it,) = ready(stub, [item(text=T)])
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    results: list[str] = []
    barrier = threading.Barrier(8)

    def cast() -> None:
        barrier.wait()
        try:
            stub.CastVote(pb.CastVoteRequest(meeting_id=mid, vote_id=vote.vote_id, choice=pb.VOTE_CHOICE_FOR),
                          metadata=director("dir-04"))
            results.append("ok")
        except grpc.RpcError as exc:
            results.append(exc.code().name)

    threads = [threading.Thread(target=cast) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1 and set(results) == {"ok", "ALREADY_EXISTS"}
    got = stub.GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=ADMIN).meeting
    assert [v.counts.in_favour for v in got.votes] == [1]
    assert count(env, "SELECT count(*) FROM board_vote_ballots WHERE vote_id = :v", v=vote.vote_id) == 1


def test_a_vote_without_quorum_is_refused_and_nothing_is_written(env, stub):
    mid, (it,) = ready(stub, [item(text=T)], present=DIRECTORS[:4])
    before = REGISTRY.get_sample_value("coop_board_meeting_refusals_total", {"reason": "QUORUM_NOT_MET"}) or 0
    found = refused(stub.OpenVote, pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id,
                                                      subject=pb.VOTE_SUBJECT_ITEM), metadata=ADMIN)
    assert found.code == grpc.StatusCode.FAILED_PRECONDITION and found.reason == "QUORUM_NOT_MET"
    assert "vote_id" in found.field_violations
    assert REGISTRY.get_sample_value("coop_board_meeting_refusals_total", {"reason": "QUORUM_NOT_MET"}) == before + 1
    assert not stub.GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=ADMIN).meeting.votes


def test_quorum_is_checked_again_at_each_ballot(env, stub):
    mid, (it,) = ready(stub, [item(text=T)], present=DIRECTORS[:5])
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    stub.RecordAttendance(pb.RecordAttendanceRequest(meeting_id=mid, attendance=[
        pb.Attendance(director_id="dir-05", status=pb.ATTENDANCE_STATUS_EXCUSED)]), metadata=ADMIN)
    found = refused(stub.CastVote, pb.CastVoteRequest(meeting_id=mid, vote_id=vote.vote_id,
                                                      choice=pb.VOTE_CHOICE_FOR), metadata=director("dir-02"))
    assert found.reason == "QUORUM_NOT_MET"
    assert count(env, "SELECT count(*) FROM board_vote_ballots WHERE vote_id = :v", v=vote.vote_id) == 0


def test_a_recused_director_neither_votes_nor_counts(env, stub):
    mid, (it,) = ready(stub, [item(text=T)])
    stub.DeclareInterest(pb.DeclareInterestRequest(meeting_id=mid, item_id=it.item_id, statement="my employer"),
                         metadata=director("dir-03"))
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    found = refused(stub.CastVote, pb.CastVoteRequest(meeting_id=mid, vote_id=vote.vote_id,
                                                      choice=pb.VOTE_CHOICE_FOR), metadata=director("dir-03"))
    assert found.code == grpc.StatusCode.FAILED_PRECONDITION and found.reason == "DIRECTOR_RECUSED"
    assert "vote_id" in found.field_violations
    closed = stub.CloseVote(pb.CloseVoteRequest(meeting_id=mid, vote_id=vote.vote_id), metadata=ADMIN).vote
    assert closed.quorum.eligible == 8 and list(closed.quorum.recused_director_ids) == ["dir-03"]


def test_a_vote_by_a_non_director_is_refused(env, stub):
    mid, (it,) = ready(stub, [item(text=T)])
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    request = pb.CastVoteRequest(meeting_id=mid, vote_id=vote.vote_id, choice=pb.VOTE_CHOICE_FOR)
    found = refused(stub.CastVote, request, metadata=director("not-on-the-board"))
    assert found.code == grpc.StatusCode.FAILED_PRECONDITION and found.reason == "NOT_A_SITTING_DIRECTOR"
    assert refused(stub.CastVote, request, metadata=MEMBER).code == grpc.StatusCode.PERMISSION_DENIED
    ballots = pb.RecordVotesRequest(meeting_id=mid, vote_id=vote.vote_id, ballots=[
        pb.Ballot(director_id="dir-01", choice=pb.VOTE_CHOICE_FOR),
        pb.Ballot(director_id="stranger", choice=pb.VOTE_CHOICE_FOR)])
    found = refused(stub.RecordVotes, ballots, metadata=ADMIN)
    assert found.reason == "NOT_A_SITTING_DIRECTOR" and "ballots[1].director_id" in found.field_violations
    assert count(env, "SELECT count(*) FROM board_vote_ballots WHERE vote_id = :v", v=vote.vote_id) == 0


def test_a_decision_on_an_item_not_on_a_frozen_agenda_is_refused(env, stub):
    m = schedule(stub)
    it = stub.AddAgendaItem(pb.AddAgendaItemRequest(meeting_id=m.meeting_id, item=item(text=T)), metadata=ADMIN).item
    found = refused(stub.Decide, pb.DecideRequest(meeting_id=m.meeting_id, item_id=it.item_id, vote_id="v"),
                    metadata=ADMIN)
    assert found.code == grpc.StatusCode.FAILED_PRECONDITION and found.reason == "AGENDA_NOT_FROZEN"
    assert "item_id" in found.field_violations
    assert count(env, "SELECT count(*) FROM board_decisions WHERE meeting_id = :m", m=m.meeting_id) == 0


def test_a_dossier_rejected_as_a_whole_is_sent_back_then_version_two_adopted(env, stub, request):
    hooks = request.getfixturevalue("board_setup")
    hooks.add_dossier("covid", 1, 5)
    mid, (it,) = ready(stub, [item("dossier", ref="covid", dossier_version=1)])
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_SEND_BACK),
                         metadata=ADMIN).vote
    stub.RecordVotes(pb.RecordVotesRequest(meeting_id=mid, vote_id=vote.vote_id, ballots=[
        pb.Ballot(director_id=d, choice=pb.VOTE_CHOICE_FOR) for d in DIRECTORS]), metadata=ADMIN)
    stub.CloseVote(pb.CloseVoteRequest(meeting_id=mid, vote_id=vote.vote_id), metadata=ADMIN)
    sent = stub.Decide(pb.DecideRequest(meeting_id=mid, item_id=it.item_id, vote_id=vote.vote_id, send_back=True,
                                        reasons=T, due_date=to_date(START.date() + timedelta(days=90))),
                       metadata=ADMIN).decision
    assert sent.kind == pb.DECISION_KIND_SENT_BACK and ("covid", 1, sent.decision_id) in hooks.sent_back
    p2 = hooks.add_dossier("covid", 2, 3, {1: 1})  # management's version 2, now before the board

    mid, (it,) = ready(stub, [item("dossier", ref="covid", dossier_version=2, vote_mode=pb.VOTE_MODE_CHOOSE_ONE)],
                       days=60)
    found = refused(stub.OpenVote, pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id,
                                                      subject=pb.VOTE_SUBJECT_CHOICE), metadata=ADMIN)
    assert found.reason == "AMENDMENTS_PENDING"
    amendment = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_PROPOSAL,
                                                 subject_id=f"{p2[0]}-a1"), metadata=ADMIN).vote
    assert amendment.subject == pb.VOTE_SUBJECT_AMENDMENT
    stub.RecordVotes(pb.RecordVotesRequest(meeting_id=mid, vote_id=amendment.vote_id, ballots=[
        pb.Ballot(director_id=d, choice=pb.VOTE_CHOICE_AGAINST) for d in DIRECTORS]), metadata=ADMIN)
    stub.CloseVote(pb.CloseVoteRequest(meeting_id=mid, vote_id=amendment.vote_id), metadata=ADMIN)
    choice = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_CHOICE),
                           metadata=ADMIN).vote
    assert list(choice.options) == p2
    for n, d in enumerate(DIRECTORS):
        stub.CastVote(pb.CastVoteRequest(meeting_id=mid, vote_id=choice.vote_id, choice=pb.VOTE_CHOICE_PROPOSAL,
                                         proposal_id=p2[1] if n < 6 else p2[0]), metadata=director(d))
    closed = stub.CloseVote(pb.CloseVoteRequest(meeting_id=mid, vote_id=choice.vote_id), metadata=ADMIN).vote
    assert closed.outcome == f"chosen:{p2[1]}"
    adopted = stub.Decide(pb.DecideRequest(meeting_id=mid, item_id=it.item_id, vote_id=choice.vote_id),
                          metadata=ADMIN).decision
    assert adopted.proposal_id == p2[1] and adopted.adopted_text.nl == "tekst 2"


def test_a_secret_vote_stores_counts_only(env, stub):
    mid, (it,) = ready(stub, [item("elect_officer", ref="chair", secret=True, text=T)])
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    for d, c in (("dir-03", pb.VOTE_CHOICE_FOR), ("dir-04", pb.VOTE_CHOICE_AGAINST)):
        stub.CastVote(pb.CastVoteRequest(meeting_id=mid, vote_id=vote.vote_id, choice=c), metadata=director(d))
    got = stub.GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=ADMIN).meeting.votes[0]
    assert not got.ballots and got.counts.in_favour == 1 and got.voters == 2
    with env.engine.connect() as conn:
        doc = conn.execute(text("SELECT doc::text FROM board_meetings WHERE meeting_id = :m"), {"m": mid}).scalar_one()
    assert '"ballots": {}' in doc and '"dir-03": "for"' not in doc


def test_a_closed_meeting_takes_no_more_votes_and_a_cancellation_is_announced(env, stub):
    mid, (it,) = ready(stub, [item(text=T)])
    stub.CloseMeeting(pb.CloseMeetingRequest(meeting_id=mid), metadata=ADMIN)
    found = refused(stub.OpenVote, pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id,
                                                      subject=pb.VOTE_SUBJECT_ITEM), metadata=ADMIN)
    assert found.reason == "MEETING_CLOSED"
    m = schedule(stub)
    stub.CancelMeeting(pb.CancelMeetingRequest(meeting_id=m.meeting_id), metadata=ADMIN)
    convocations = [b for b in events(env, "meeting.scheduled") if m.meeting_id in b]
    assert len(convocations) == 2 and '"cancelled":true' in convocations[-1].replace(" ", "")


def test_lists_page_with_tokens_and_refuse_a_foreign_token(env, stub):
    for _ in range(3):
        schedule(stub)
    seen, token = [], ""
    while True:
        page = stub.ListMeetings(pb.ListMeetingsRequest(page_size=2, page_token=token), metadata=ADMIN)
        assert len(page.meetings) <= 2
        seen += [m.meeting_id for m in page.meetings]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) >= 3
    found = refused(stub.ListDecisions, pb.ListDecisionsRequest(page_token=token or "bm90LWEtdG9rZW4"),
                    metadata=ADMIN)
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT and found.reason == "INVALID_PAGE_TOKEN"
