"""coop.board.v1 MeetingService messages <-> the meetings family's domain values."""

from __future__ import annotations

from datetime import date

from coop.board.v1 import common_pb2
from coop.board.v1 import meetings_pb2 as pb
from coop_board.adapters.events_out_meetings import SOURCES, text
from coop_board.domain.decisions import Action, Decision
from coop_board.domain.meetings import AgendaItem
from coop_board.domain.texts import LocalizedText
from coop_board.domain.votes import Vote
from coop_board.service_layer.meeting_access import MeetingView
from coop_domain.errors import InvalidArgument
from coop_platform.pbtypes import from_date, to_date, to_timestamp

SOURCE_OF = {v: k for k, v in SOURCES.items()}
STATUS = {"scheduled": 1, "in_session": 2, "closed": 3, "cancelled": 4}
MODES = {"per_proposal": 1, "choose_one": 2}
MAJORITY = {"simple": 1, "two_thirds": 2}
ATTENDANCE = {"present": 1, "remote": 2, "excused": 3, "absent": 4}
SUBJECTS = {"proposal": 1, "amendment": 2, "item": 3, "consent": 4, "choice": 5, "send_back": 6}
CHOICES = {"for": 1, "against": 2, "abstain": 3}


def lt(value: common_pb2.LocalizedText) -> LocalizedText:
    return LocalizedText(value.fr.strip(), value.nl.strip(), value.en.strip())


def _enum(value: int, table: dict[str, int], field: str, *, default: str | None = None) -> str:
    if value == 0 and default is not None:
        return default
    for name, number in table.items():
        if number == value:
            return name
    raise InvalidArgument(f"{field} is required ({', '.join(table)})", field=field, reason="INVALID_ENUM")


def item_from_pb(it: pb.AgendaItem, field: str = "item", *, partial: bool = False) -> AgendaItem:
    kind = it.kind.strip() or ("dossier" if it.source == 2 else "other")
    return AgendaItem(
        it.item_id, 0, lt(it.title), _enum(it.source, SOURCES, f"{field}.source", default="other" if partial else None), kind, it.ref.strip(),
        "closed" if it.visibility == 2 else "open", it.consent, _enum(it.vote_mode, MODES, f"{field}.vote_mode",
                                                                     default="per_proposal"),
        it.secret, _enum(it.majority, MAJORITY, f"{field}.majority", default=""), lt(it.text), it.dossier_version)


def item_to_pb(it: AgendaItem, redacted: bool = False) -> pb.AgendaItem:
    out = pb.AgendaItem(item_id=it.item_id, position=it.position, title=text(it.title), source=SOURCES[it.source],
                        visibility=2 if it.closed else 1, redacted=redacted, decision_id=it.decision_id or "",
                        consent=it.consent, forced=it.forced)
    if not redacted:
        out.kind, out.ref, out.vote_mode, out.secret = it.kind, it.ref, MODES[it.vote_mode], it.secret
        out.majority, out.dossier_version, out.pulled_by = MAJORITY.get(it.majority, 0), it.dossier_version, \
            it.pulled_by or ""
        out.text.CopyFrom(text(it.text))
    return out


def _ballot(director: str, choice: str) -> pb.Ballot:
    if choice in CHOICES:
        return pb.Ballot(director_id=director, choice=CHOICES[choice])
    return pb.Ballot(director_id=director, choice=4, proposal_id=choice)


def choice_from_pb(choice: int, proposal_id: str, field: str = "choice") -> str:
    if choice == 4:
        if not proposal_id:
            raise InvalidArgument("a proposal choice names the proposal", field="proposal_id",
                                  reason="PROPOSAL_REQUIRED")
        return proposal_id
    return _enum(choice, CHOICES, field)


def counts_pb(counts: dict[str, int]) -> common_pb2.VoteCounts:
    return common_pb2.VoteCounts(in_favour=counts.get("for", 0), against=counts.get("against", 0),
                                 abstentions=counts.get("abstain", 0))


def vote_to_pb(v: Vote) -> pb.Vote:
    q = v.quorum
    return pb.Vote(
        vote_id=v.vote_id, item_ids=list(v.item_ids), subject=SUBJECTS[v.subject], subject_id=v.subject_id,
        subject_title=text(v.subject_title), majority=MAJORITY[v.majority], secret=v.secret, options=list(v.options),
        open=v.status == "open", counts=counts_pb(v.counts),
        option_counts=[pb.OptionCount(proposal_id=o, votes=v.counts.get(o, 0)) for o in v.options],
        ballots=[] if v.secret else [_ballot(d, c) for d, c in sorted(v.ballots.items())], voters=len(v.voters),
        quorum=pb.QuorumState(sitting=q.sitting, eligible=q.eligible, present=q.eligible_present, required=q.required,
                              met=q.met, recused_director_ids=list(q.recused)) if q else None,
        outcome=v.outcome, casting_vote_used=v.casting_vote_used, opened_at=to_timestamp(v.opened_at),
        closed_at=to_timestamp(v.closed_at))


def meeting_to_pb(view: MeetingView) -> pb.Meeting:
    m = view.meeting
    out = pb.Meeting(
        meeting_id=m.meeting_id, title=text(m.title), starts_at=to_timestamp(m.starts_at), place=m.place,
        status=STATUS[m.status], revision=m.revision, agenda_version=m.agenda_version, agenda_frozen=view.frozen,
        agenda_freezes_at=to_timestamp(m.freezes_at), items=[item_to_pb(v.item, v.redacted) for v in view.items])
    if view.full:
        out.video_link = m.video_link
        out.attendance.extend(pb.Attendance(director_id=d, status=ATTENDANCE[s], proxy_holder_id=m.proxies.get(d, ""))
                              for d, s in sorted(m.attendance.items()))
        out.declarations.extend(pb.InterestDeclaration(director_id=x.director_id, item_id=x.item_id,
                                                       statement=x.statement, declared_at=to_timestamp(x.at))
                                for x in m.declarations)
        out.votes.extend(vote_to_pb(v) for v in m.votes)
    return out


def action_to_pb(a: Action, today: date, redacted: bool = False) -> pb.FollowUpAction:
    return pb.FollowUpAction(action_id=a.action_id, decision_id=a.decision_id, meeting_id=a.meeting_id,
                             description=None if redacted else text(a.description), owner_id=a.owner_id,
                             due_date=to_date(a.due_on), done_date=to_date(a.done_on), overdue=a.overdue(today))


def decision_to_pb(d: Decision, today: date, redacted: bool = False) -> pb.Decision:
    out = pb.Decision(decision_id=d.decision_id, meeting_id=d.meeting_id, item_id=d.item_id, item_kind=d.item_kind,
                      kind=1 if d.adopted else 2, title=text(d.title), closed=d.closed, redacted=redacted,
                      effective_date=to_date(d.effective_on), decided_at=to_timestamp(d.decided_at))
    if redacted:
        return out
    options = sorted(k for k in d.counts if k not in CHOICES)
    out.adopted_text.CopyFrom(text(d.adopted_text))
    out.vote_id, out.proposal_id, out.dossier_id = d.vote_id or "", d.proposal_id or "", d.dossier_id or ""
    out.counts.CopyFrom(counts_pb(d.counts))
    out.option_counts.extend(pb.OptionCount(proposal_id=o, votes=d.counts[o]) for o in options)
    out.ballots.extend(_ballot(k, c) for k, c in sorted(d.ballots.items()))
    out.recused_director_ids.extend(d.recused)
    out.actions.extend(action_to_pb(a, today) for a in d.actions)
    if d.send_back_reasons:
        out.send_back_reasons.CopyFrom(text(d.send_back_reasons))
        out.send_back_due_date.CopyFrom(to_date(d.send_back_due_on))
    return out


def date_or_none(value, field: str) -> date | None:
    return from_date(value, field=field) if value.year or value.month or value.day else None
