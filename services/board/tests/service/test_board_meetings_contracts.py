"""What other families read of meetings on PostgreSQL (MeetingRepository.summary, .record,
.decision_summary; agenda_hooks.add_minutes_approval_item), and retries of a ballot."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from board_svc_helpers import START
from meetings_svc_helpers import (  # noqa: F401
    ADMIN,
    DIRECTORS,
    OTHER,
    T,
    board_setup,
    director,
    item,
    ready,
    rid,
    schedule,
)

from coop.board.v1 import meetings_pb2 as pb
from coop.board.v1 import meetings_pb2_grpc as pb_grpc
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import agenda_hooks

pytestmark = pytest.mark.usefixtures("board_setup")


@pytest.fixture
def stub(env) -> pb_grpc.MeetingServiceStub:
    return env.stub(pb_grpc.MeetingServiceStub)


def test_a_retried_ballot_answers_the_first_answer_and_counts_once(env, stub):
    mid, (it,) = ready(stub, [item(text=T)])
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    request = pb.CastVoteRequest(meeting_id=mid, vote_id=vote.vote_id, choice=pb.VOTE_CHOICE_FOR, request_id=rid())
    first = stub.CastVote(request, metadata=director("dir-05"))
    again = stub.CastVote(request, metadata=director("dir-05"))
    assert first == again and again.vote.counts.in_favour == 1
    other = pb.CastVoteRequest(meeting_id=mid, vote_id=vote.vote_id, choice=pb.VOTE_CHOICE_AGAINST,
                               request_id=request.request_id)
    with pytest.raises(grpc.RpcError) as exc:
        stub.CastVote(other, metadata=director("dir-05"))
    assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_the_record_summary_and_decision_summary_of_a_meeting(env, stub):
    mid, (it, closed) = ready(stub, [item(text=T), item("elect_officer", ref="chair", visibility=2, secret=True,
                                                        text=T)])
    stub.DeclareInterest(pb.DeclareInterestRequest(meeting_id=mid, item_id=it.item_id, statement="a supplier"),
                         metadata=director("dir-09"))
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    stub.RecordVotes(pb.RecordVotesRequest(meeting_id=mid, vote_id=vote.vote_id, ballots=[
        pb.Ballot(director_id=d, choice=pb.VOTE_CHOICE_FOR) for d in DIRECTORS[:8]]), metadata=ADMIN)
    stub.CloseVote(pb.CloseVoteRequest(meeting_id=mid, vote_id=vote.vote_id), metadata=ADMIN)
    decision = stub.Decide(pb.DecideRequest(meeting_id=mid, item_id=it.item_id, vote_id=vote.vote_id),
                           metadata=ADMIN).decision
    uow = env.uow_factory()
    with uow:
        record = uow.meetings.record("coop", mid)
        summary = uow.meetings.summary("coop", mid)
        dsum = uow.meetings.decision_summary("coop", decision.decision_id)
        assert uow.meetings.record("other", mid) is None
    assert summary.agenda_frozen and summary.has_open_items and summary.status == "in_session"
    assert record.sitting_director_ids == tuple(DIRECTORS) and record.secretary_id == "dir-01"
    first = record.items[0]
    assert first.declarations[0].director_id == "dir-09" and first.votes[0].recused == ("dir-09",)
    assert first.votes[0].quorum_met and first.votes[0].tally.for_ == 8 and first.decision.adopted_text == \
        LocalizedText("fr", "nl", "en")
    assert record.items[1].closed and record.items[1].decision is None
    assert dsum.adopted and dsum.meeting_id == mid and dsum.item_kind == "other"


def test_minutes_go_on_the_next_open_agenda_or_wait_for_one(env, stub):
    uow = env.uow_factory()
    with uow:
        # no meeting of the tenant starts after that day: the item waits for the next one scheduled
        waiting = agenda_hooks.add_minutes_approval_item(uow, "other", "minutes-x", LocalizedText("PV", "NV", "M"),
                                                         START + timedelta(days=3650))
        uow.commit()
    assert waiting is None
    joined = stub.ScheduleMeeting(pb.ScheduleMeetingRequest(meeting=pb.Meeting(
        title=T, starts_at=schedule(stub).starts_at, place="Gent")), metadata=OTHER).meeting
    assert ("approve_minutes", "minutes-x") in [(i.kind, i.ref) for i in joined.items]
    schedule(stub, days=50)
    with uow:
        item_id = agenda_hooks.add_minutes_approval_item(uow, "coop", "minutes-7", LocalizedText("PV", "NV", "M"),
                                                         START + timedelta(days=1))
        uow.commit()
    found = [i for m in stub.ListMeetings(pb.ListMeetingsRequest(page_size=1000), metadata=ADMIN).meetings
             for i in m.items if i.item_id == item_id]
    assert found and found[0].kind == "approve_minutes" and found[0].ref == "minutes-7" and found[0].consent


def test_concurrent_retries_of_one_ballot_answer_alike_and_count_once(env, stub):
    import threading

    mid, (it,) = ready(stub, [item(text=T)])
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    request = pb.CastVoteRequest(meeting_id=mid, vote_id=vote.vote_id, choice=pb.VOTE_CHOICE_AGAINST,
                                 request_id=rid())
    answers, barrier = [], threading.Barrier(6)

    def send() -> None:
        barrier.wait()
        answers.append(stub.CastVote(request, metadata=director("dir-06")))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 6 and all(a == answers[0] for a in answers) and answers[0].vote.counts.against == 1
    others = [pb.CastVoteRequest(meeting_id=mid, vote_id=vote.vote_id, choice=pb.VOTE_CHOICE_FOR, request_id=rid())
              for _ in DIRECTORS]
    done: list[str] = []
    barrier = threading.Barrier(len(DIRECTORS))

    def vote_as(d: str, r: pb.CastVoteRequest) -> None:
        barrier.wait()
        try:
            stub.CastVote(r, metadata=director(d))
            done.append("ok")
        except grpc.RpcError as exc:
            done.append(exc.code().name)

    threads = [threading.Thread(target=vote_as, args=(d, r)) for d, r in zip(DIRECTORS, others, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(done) == ["ALREADY_EXISTS"] + ["ok"] * (len(DIRECTORS) - 1)  # dir-06 had voted
    got = stub.GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=ADMIN).meeting.votes[0]
    assert got.voters == len(DIRECTORS) and got.counts.in_favour == len(DIRECTORS) - 1


def test_the_ballots_key_refuses_a_second_ballot_from_a_concurrent_transaction(env):
    """Below the meeting's row lock, the storage itself: two transactions insert one director's
    ballot at once; the second waits for the first and is refused when it commits."""
    import threading

    from coop_domain.errors import AlreadyExists

    first, second = env.uow_factory(), env.uow_factory()
    inserted, outcome = threading.Event(), []
    vote_id = rid()

    def hold_then_commit() -> None:
        with first:
            first.meetings.add_ballots("coop", "m-x", vote_id, ["dir-07"])
            inserted.set()
            threading.Event().wait(0.3)  # the other transaction is now waiting on this row
            first.commit()

    holder = threading.Thread(target=hold_then_commit)
    holder.start()
    inserted.wait(5)
    with second:
        try:
            second.meetings.add_ballots("coop", "m-x", vote_id, ["dir-07"])
            outcome.append("inserted")
        except AlreadyExists:
            outcome.append("refused")
    holder.join()
    assert outcome == ["refused"]
    with env.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM board_vote_ballots WHERE vote_id = :v"),
                            {"v": vote_id}).scalar_one() == 1
