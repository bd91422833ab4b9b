"""Servicers of the meetings family (registered by entrypoints/grpc_api.py): coop.board.v1
MeetingService. Each method turns the request into plain values, runs one use case as the caller
and turns the answer back; every retryable write goes through `answer_once` on one unit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from coop.board.v1 import meetings_pb2 as pb
from coop.board.v1 import meetings_pb2_grpc as pb_grpc
from coop_board.adapters import messages_meetings as msg
from coop_board.domain.meetings import MeetingRules
from coop_board.entrypoints import metrics_meetings as metrics
from coop_board.entrypoints.settings_meetings import meeting_rules
from coop_board.service_layer import decisions, meeting_access, meetings, sessions
from coop_board.service_layer.decisions import ActionSpec, Decide
from coop_domain.clock import local_date, utcnow
from coop_domain.errors import DomainError, InvalidArgument
from coop_platform import idempotency
from coop_platform.batching import Coalescer
from coop_platform.grpc_server import current_principal
from coop_platform.idempotency import answer_once, idempotent_request
from coop_platform.pbtypes import from_timestamp, mask_paths

Clock = Callable[[], datetime]
MEETING_FIELDS = ("title", "starts_at", "place", "video_link")


def _spec(m: pb.Meeting) -> meetings.MeetingSpec:
    return meetings.MeetingSpec(msg.lt(m.title), from_timestamp(m.starts_at, field="meeting.starts_at"), m.place,
                                m.video_link)


class MeetingServicer(pb_grpc.MeetingServiceServicer):
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock = utcnow, rules: MeetingRules | None = None) -> None:
        self.uow = uow_factory
        self.clock = clock
        self.rules = rules or meeting_rules()
        # Directors vote together: their ballots share a transaction and a commit (group commit)
        self.casts = Coalescer("board_cast_vote", self._cast_batch)

    def _write(self, method: str, request: Any, response_type: Any, work: Callable[[Any, Any, datetime], Any]) -> Any:
        uow, caller, now = self.uow(), current_principal(), self.clock()
        key = idempotent_request(caller.tenant, caller.subject, method, request)
        try:
            return answer_once(uow, key, response_type, lambda: work(uow, caller, now))
        except DomainError as exc:
            if exc.reason in metrics.WATCHED:
                metrics.REFUSED.labels(exc.reason).inc()
            raise

    def _view(self, m, caller, now) -> pb.Meeting:
        return msg.meeting_to_pb(meeting_access.visible(caller, m, now))

    # -- meetings
    def ScheduleMeeting(self, request, context):
        def work(uow, caller, now):
            m = meetings.schedule(uow, caller, _spec(request.meeting), self.rules, now)
            metrics.MEETINGS_SCHEDULED.inc()
            return pb.ScheduleMeetingResponse(meeting=self._view(m, caller, now))
        return self._write("ScheduleMeeting", request, pb.ScheduleMeetingResponse, work)

    def GetMeeting(self, request, context):
        now = self.clock()
        view = meetings.get(self.uow(), current_principal(), request.meeting_id, now)
        return pb.GetMeetingResponse(meeting=msg.meeting_to_pb(view))

    def ListMeetings(self, request, context):
        views, token = meetings.list_meetings(self.uow(), current_principal(), request.page_size, request.page_token,
                                              self.clock())
        return pb.ListMeetingsResponse(meetings=[msg.meeting_to_pb(v) for v in views], next_page_token=token)

    def UpdateMeeting(self, request, context):
        paths = mask_paths(request.update_mask, MEETING_FIELDS)

        def work(uow, caller, now):
            m = meetings.update(uow, caller, request.meeting.meeting_id, paths, _spec(request.meeting), self.rules, now)
            return pb.UpdateMeetingResponse(meeting=self._view(m, caller, now))
        return self._write("UpdateMeeting", request, pb.UpdateMeetingResponse, work)

    def CancelMeeting(self, request, context):
        def work(uow, caller, now):
            m = meetings.cancel(uow, caller, request.meeting_id, now)
            return pb.CancelMeetingResponse(meeting=self._view(m, caller, now))
        return self._write("CancelMeeting", request, pb.CancelMeetingResponse, work)

    def CloseMeeting(self, request, context):
        def work(uow, caller, now):
            m = meetings.close(uow, caller, request.meeting_id, now)
            return pb.CloseMeetingResponse(meeting=self._view(m, caller, now))
        return self._write("CloseMeeting", request, pb.CloseMeetingResponse, work)

    # -- agenda
    def AddAgendaItem(self, request, context):
        item = msg.item_from_pb(request.item)

        def work(uow, caller, now):
            added = meetings.add_item(uow, caller, request.meeting_id, item, self.rules, now)
            return pb.AddAgendaItemResponse(item=msg.item_to_pb(added))
        return self._write("AddAgendaItem", request, pb.AddAgendaItemResponse, work)

    def UpdateAgendaItem(self, request, context):
        paths = mask_paths(request.update_mask, meetings.ITEM_FIELDS)
        values = msg.item_from_pb(request.item, partial=True)
        if "majority" in paths and not values.majority:
            values.majority = "simple"

        def work(uow, caller, now):
            item = meetings.update_item(uow, caller, request.meeting_id, request.item.item_id, paths, values, now)
            return pb.UpdateAgendaItemResponse(item=msg.item_to_pb(item))
        return self._write("UpdateAgendaItem", request, pb.UpdateAgendaItemResponse, work)

    def RemoveAgendaItem(self, request, context):
        def work(uow, caller, now):
            meetings.remove_item(uow, caller, request.meeting_id, request.item_id, now)
            return pb.RemoveAgendaItemResponse()
        return self._write("RemoveAgendaItem", request, pb.RemoveAgendaItemResponse, work)

    def ReorderAgendaItems(self, request, context):
        def work(uow, caller, now):
            m = meetings.reorder(uow, caller, request.meeting_id, list(request.item_ids), now)
            return pb.ReorderAgendaItemsResponse(meeting=self._view(m, caller, now))
        return self._write("ReorderAgendaItems", request, pb.ReorderAgendaItemsResponse, work)

    def PublishAgenda(self, request, context):
        def work(uow, caller, now):
            m = meetings.publish_agenda(uow, caller, request.meeting_id, now)
            return pb.PublishAgendaResponse(meeting=self._view(m, caller, now))
        return self._write("PublishAgenda", request, pb.PublishAgendaResponse, work)

    def FreezeAgenda(self, request, context):
        def work(uow, caller, now):
            m = meetings.freeze(uow, caller, request.meeting_id, now)
            return pb.FreezeAgendaResponse(meeting=self._view(m, caller, now))
        return self._write("FreezeAgenda", request, pb.FreezeAgendaResponse, work)

    def PullFromConsent(self, request, context):
        def work(uow, caller, now):
            item = meetings.pull_from_consent(uow, caller, request.meeting_id, request.item_id, now)
            return pb.PullFromConsentResponse(item=msg.item_to_pb(item))
        return self._write("PullFromConsent", request, pb.PullFromConsentResponse, work)

    # -- session
    def RecordAttendance(self, request, context):
        lines = [(a.director_id, msg._enum(a.status, msg.ATTENDANCE, f"attendance[{n}].status"),
                  a.proxy_holder_id or None) for n, a in enumerate(request.attendance)]

        def work(uow, caller, now):
            m = sessions.record_attendance(uow, caller, request.meeting_id, lines, self.rules, now)
            return pb.RecordAttendanceResponse(meeting=self._view(m, caller, now))
        return self._write("RecordAttendance", request, pb.RecordAttendanceResponse, work)

    def DeclareInterest(self, request, context):
        def work(uow, caller, now):
            m = sessions.declare_interest(uow, caller, request.meeting_id, request.item_id, request.statement, now)
            d = m.declarations[-1]
            return pb.DeclareInterestResponse(declaration=pb.InterestDeclaration(
                director_id=d.director_id, item_id=d.item_id, statement=d.statement,
                declared_at=msg.to_timestamp(d.at)))
        return self._write("DeclareInterest", request, pb.DeclareInterestResponse, work)

    def OpenVote(self, request, context):
        subject = msg._enum(request.subject, msg.SUBJECTS, "subject")
        spec = sessions.OpenVote(request.item_id, "proposal" if subject == "amendment" else subject, request.subject_id)

        def work(uow, caller, now):
            vote = sessions.open_vote(uow, caller, request.meeting_id, spec, self.rules, now)
            return pb.OpenVoteResponse(vote=msg.vote_to_pb(vote))
        return self._write("OpenVote", request, pb.OpenVoteResponse, work)

    def CastVote(self, request, context):
        choice = msg.choice_from_pb(request.choice, request.proposal_id)
        caller = current_principal()
        key = idempotent_request(caller.tenant, caller.subject, "CastVote", request)
        try:
            return self.casts.submit((sessions.Ballot(caller, request.meeting_id, request.vote_id, choice,
                                                      request.on_behalf_of), key))
        except DomainError as exc:
            if exc.reason in metrics.WATCHED:
                metrics.REFUSED.labels(exc.reason).inc()
            raise

    def _cast_batch(self, items: list[tuple[sessions.Ballot, Any]]) -> list[Any]:
        """Ballots arriving together: one transaction and one commit (docs/board.md, "Inside the
        service", Storage); each request_id is claimed, answered or given back alone."""
        def work(todo: list[int]) -> list[Any]:
            outcomes: list[Any] = []
            for vote in sessions.cast_votes(uow, [items[n][0] for n in todo], self.rules):
                if isinstance(vote, DomainError):
                    outcomes.append(vote)
                    continue
                metrics.BALLOTS.labels(str(vote.secret).lower()).inc()
                outcomes.append(pb.CastVoteResponse(vote=msg.vote_to_pb(vote)))
            return outcomes

        uow = self.uow()
        results, _ = idempotency.answer_batch(uow, [key for _, key in items], pb.CastVoteResponse, work)
        return results

    def RecordVotes(self, request, context):
        ballots = [(b.director_id, msg.choice_from_pb(b.choice, b.proposal_id, f"ballots[{n}].choice"),
                    b.proxy_holder_id or None) for n, b in enumerate(request.ballots)]
        c = request.counts
        counts = {k: v for k, v in (("for", c.in_favour), ("against", c.against), ("abstain", c.abstentions)) if v}
        for o in request.option_counts:
            if o.votes < 0 or not o.proposal_id:
                raise InvalidArgument("option counts name a proposal and a count", field="option_counts",
                                      reason="INVALID_COUNT")
            counts[o.proposal_id] = counts.get(o.proposal_id, 0) + o.votes

        def work(uow, caller, now):
            vote = sessions.record_votes(uow, caller, request.meeting_id, request.vote_id, ballots, counts,
                                         self.rules, now)
            metrics.BALLOTS.labels(str(vote.secret).lower()).inc(len(ballots) or sum(counts.values()))
            return pb.RecordVotesResponse(vote=msg.vote_to_pb(vote))
        return self._write("RecordVotes", request, pb.RecordVotesResponse, work)

    def CloseVote(self, request, context):
        def work(uow, caller, now):
            vote = sessions.close_vote(uow, caller, request.meeting_id, request.vote_id, self.rules, now)
            metrics.VOTES_CLOSED.labels("adopted" if vote.adopted else "rejected").inc()
            return pb.CloseVoteResponse(vote=msg.vote_to_pb(vote))
        return self._write("CloseVote", request, pb.CloseVoteResponse, work)

    # -- decisions and actions
    def Decide(self, request, context):
        spec = Decide(request.item_id, request.vote_id, request.send_back, msg.lt(request.adopted_text),
                      msg.date_or_none(request.effective_date, "effective_date"), msg.lt(request.reasons),
                      msg.date_or_none(request.due_date, "due_date"),
                      tuple(ActionSpec(msg.lt(a.description), a.owner_id.strip(),
                                       msg.date_or_none(a.due_date, f"actions[{n}].due_date"))
                            for n, a in enumerate(request.actions)))

        def work(uow, caller, now):
            d = decisions.decide(uow, caller, request.meeting_id, spec, now)
            metrics.DECISIONS.labels(d.kind).inc()
            return pb.DecideResponse(decision=msg.decision_to_pb(d, local_date(now)))
        return self._write("Decide", request, pb.DecideResponse, work)

    def ListDecisions(self, request, context):
        caller, today = current_principal(), local_date(self.clock())
        found, token = decisions.list_decisions(self.uow(), caller, request.meeting_id, request.page_size,
                                                request.page_token, today=today)
        return pb.ListDecisionsResponse(
            decisions=[msg.decision_to_pb(d, today, decisions.redacted(caller, d)) for d in found],
            next_page_token=token)

    def ListActions(self, request, context):
        caller, today = current_principal(), local_date(self.clock())
        found, token = decisions.list_actions(self.uow(), caller, request.overdue_only, request.owner_id,
                                              request.page_size, request.page_token, today)
        return pb.ListActionsResponse(actions=[msg.action_to_pb(a, today) for a in found], next_page_token=token)

    def CompleteAction(self, request, context):
        def work(uow, caller, now):
            a = decisions.complete_action(uow, caller, request.action_id, now)
            return pb.CompleteActionResponse(action=msg.action_to_pb(a, local_date(now)))
        return self._write("CompleteAction", request, pb.CompleteActionResponse, work)


# (servicer class taking (uow_factory, clock), add_<Service>Servicer_to_server, service full name)
SERVICERS: list[tuple[Any, Any, str]] = [
    (MeetingServicer, pb_grpc.add_MeetingServiceServicer_to_server, "coop.board.v1.MeetingService")]
