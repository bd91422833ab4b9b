"""The meetings family's events on the board's translator (adapters/events_out.py). A closed
item's content never leaves: the agenda event and decision.adopted carry its title only."""

from __future__ import annotations

from coop.board.v1 import common_pb2, events_pb2
from coop_board.adapters.events_out import translate
from coop_board.domain.events_meetings import AgendaPublished, DecisionAdopted, MeetingScheduled
from coop_board.domain.texts import LocalizedText
from coop_platform.pbtypes import to_date, to_timestamp

SOURCES = {"statutory": 1, "dossier": 2, "member_concern": 3, "member_initiative": 4, "other": 5}


def text(t: LocalizedText | None) -> common_pb2.LocalizedText:
    return common_pb2.LocalizedText(**t.as_dict()) if t else common_pb2.LocalizedText()


@translate.register
def _scheduled(event: MeetingScheduled):
    m = event.meeting
    return "meeting.scheduled", events_pb2.MeetingScheduled(
        meeting_id=m.meeting_id, tenant=m.tenant, title=text(m.title), starts_at=to_timestamp(m.starts_at),
        place=m.place, has_video_link=bool(m.video_link), agenda_frozen_at=to_timestamp(m.freezes_at),
        convened_director_ids=list(event.convened), revision=m.revision,
        cancelled=m.status == "cancelled"), m.meeting_id


@translate.register
def _agenda(event: AgendaPublished):
    m = event.meeting
    return "meeting.agenda_published", events_pb2.AgendaPublished(
        meeting_id=m.meeting_id, tenant=m.tenant, starts_at=to_timestamp(m.starts_at),
        agenda_version=m.agenda_version, convened_director_ids=list(event.convened), frozen=event.frozen,
        items=[events_pb2.AgendaItemSummary(item_id=it.item_id, position=it.position, title=text(it.title),
                                            source=SOURCES[it.source], visibility=2 if it.closed else 1,
                                            consent=it.consent) for it in m.items]), m.meeting_id


@translate.register
def _decision(event: DecisionAdopted):
    d = event.decision
    return "decision.adopted", events_pb2.DecisionAdopted(
        decision_id=d.decision_id, tenant=d.tenant, meeting_id=d.meeting_id, item_id=d.item_id, title=text(d.title),
        adopted_text=text(None if d.closed else d.adopted_text),
        counts=None if d.closed else common_pb2.VoteCounts(
            in_favour=d.counts.get("for", 0), against=d.counts.get("against", 0),
            abstentions=d.counts.get("abstain", 0)),
        effective_date=to_date(d.effective_on), closed=d.closed, dossier_id="" if d.closed else d.dossier_id or "",
        proposal_id="" if d.closed else d.proposal_id or "", sent_back=not d.adopted,
        item_kind=d.item_kind), d.decision_id
