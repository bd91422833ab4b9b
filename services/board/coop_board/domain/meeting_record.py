"""The views other families read of a meeting (domain/links.py, domain/record.py), built from the
meeting aggregate and its decisions: what the minutes are drafted from."""

from __future__ import annotations

from coop_board.domain.decisions import Decision
from coop_board.domain.links import DecisionSummary, MeetingSummary
from coop_board.domain.meetings import Meeting
from coop_board.domain.record import (
    AttendanceLine,
    DecisionLine,
    FollowUpAction,
    InterestDeclaration,
    ItemRecord,
    MeetingRecord,
    VoteRecord,
    VoteTally,
)
from coop_board.domain.votes import Vote


def summary(m: Meeting, now_frozen: bool) -> MeetingSummary:
    return MeetingSummary(m.meeting_id, m.tenant, m.title, m.starts_at, m.status, now_frozen,
                          any(not it.closed for it in m.items), m.agenda_published)


def decision_summary(d: Decision) -> DecisionSummary:
    return DecisionSummary(d.decision_id, d.tenant, d.meeting_id, d.item_kind, d.adopted, d.effective_on)


def tally(counts: dict[str, int], options: tuple[str, ...] = ()) -> VoteTally:
    return VoteTally(counts.get("for", 0), counts.get("against", 0), counts.get("abstain", 0),
                     tuple((o, counts.get(o, 0)) for o in options))


def vote_record(v: Vote, item_id: str) -> VoteRecord:
    q = v.quorum
    return VoteRecord(
        v.vote_id, item_id, v.subject, v.subject_id, v.subject_title, v.closed_at or v.opened_at,  # type: ignore[arg-type]
        q.sitting if q else 0, q.eligible_present if q else 0, q.required if q else 0, bool(q and q.met),
        v.majority, tally(v.counts, v.options), v.outcome or "pending", v.secret,
        () if v.secret else tuple(sorted(v.ballots.items())), q.recused if q else (), v.casting_vote_used)


def decision_line(d: Decision, options: tuple[str, ...] = ()) -> DecisionLine:
    return DecisionLine(
        d.decision_id, d.item_id, d.kind if d.item_kind != "approve_minutes" or not d.adopted else "approved_minutes",
        d.title, d.adopted_text, d.proposal_id, tally(d.counts, options), d.recused, d.effective_on,
        tuple(FollowUpAction(a.action_id, a.description, a.owner_id, a.due_on, a.done_on) for a in d.actions),
        d.send_back_reasons, d.send_back_due_on)


def record(m: Meeting, decisions: list[Decision]) -> MeetingRecord:
    by_item = {d.item_id: d for d in decisions}
    items = []
    for it in m.items:
        votes = tuple(vote_record(v, it.item_id) for v in m.votes if it.item_id in v.item_ids)
        d = by_item.get(it.item_id)
        items.append(ItemRecord(
            it.item_id, it.position, it.title, it.source, it.visibility, it.consent, it.pulled_by,
            it.ref if it.source == "dossier" else None, it.dossier_version or None,
            tuple(InterestDeclaration(x.director_id, x.item_id, x.statement) for x in m.declarations
                  if x.item_id == it.item_id),
            (), votes, decision_line(d) if d else None))
    attendance = tuple(AttendanceLine(d, s, m.proxies.get(d)) for d, s in sorted(m.attendance.items()))
    return MeetingRecord(m.meeting_id, m.tenant, m.title, m.starts_at, m.place or "video conference",
                         m.chair_id, m.secretary_id, attendance, tuple(items), tuple(m.sitting))
