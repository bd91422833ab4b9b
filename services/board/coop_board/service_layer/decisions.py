"""Use cases of decisions: adopt one proposal (or an item's motion), or reject all and send the
dossier back; follow-up actions and their owners. A decision rests on a closed vote of its item,
taken with a quorum, on a frozen agenda."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from coop_board.domain import roles
from coop_board.domain.decisions import Action, Decision, check_action
from coop_board.domain.events_meetings import DecisionAdopted
from coop_board.domain.meetings import AgendaItem, Meeting
from coop_board.domain.texts import LocalizedText
from coop_board.domain.votes import Vote
from coop_board.service_layer import dossier_hooks, minutes_hooks
from coop_board.service_layer import meeting_access as access
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.clock import local_date
from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal


@dataclass(frozen=True)
class ActionSpec:
    description: LocalizedText
    owner_id: str
    due_on: date | None


@dataclass(frozen=True)
class Decide:
    item_id: str
    vote_id: str
    send_back: bool = False
    adopted_text: LocalizedText = field(default_factory=LocalizedText)  # items without a dossier
    effective_on: date | None = None
    reasons: LocalizedText = field(default_factory=LocalizedText)       # send back
    due_on: date | None = None                                          # send back
    actions: tuple[ActionSpec, ...] = ()


def _new_decision(m: Meeting, item: AgendaItem, vote: Vote, kind: str, text: LocalizedText, proposal_id: str | None,
                  effective_on: date | None, now: datetime) -> Decision:
    q = vote.quorum
    return Decision(str(uuid.uuid4()), m.tenant, m.meeting_id, item.item_id, item.kind, kind, item.title, text,
                    item.closed, vote.vote_id, proposal_id, item.ref if item.source == "dossier" else None,
                    dict(vote.counts), dict(vote.ballots), q.recused if q else (), effective_on or local_date(m.starts_at),
                    now)


def _conclude(uow: BoardUnitOfWork, m: Meeting, item: AgendaItem, d: Decision, now: datetime) -> None:
    item.decision_id = d.decision_id
    if d.adopted and item.kind == "approve_minutes" and item.ref:
        minutes_hooks.minutes_approved(uow, m.tenant, item.ref, d.decision_id, m.meeting_id, now)
    uow.meetings.add_decision(d)
    uow.publish(DecisionAdopted(d))


def consent_decisions(uow: BoardUnitOfWork, m: Meeting, vote: Vote, now: datetime) -> list[Decision]:
    """The consent block adopted: one decision per item of the block, its motion as the text."""
    out = []
    for item_id in vote.item_ids:
        item = m.item(item_id)
        d = _new_decision(m, item, vote, "adopted", item.text, None, None, now)
        _conclude(uow, m, item, d, now)
        out.append(d)
    return out


def decide(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, spec: Decide, now: datetime) -> Decision:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        item = m.item(spec.item_id)
        m.require_frozen(now)
        if item.decision_id:
            raise FailedPrecondition("the item was decided", field="item_id", reason="ITEM_DECIDED")
        vote = m.vote(spec.vote_id)
        if item.item_id not in vote.item_ids or vote.subject == "consent":
            raise InvalidArgument("the vote is not on this item", field="vote_id", reason="VOTE_NOT_ON_ITEM")
        if vote.status != "closed" or vote.quorum is None or not vote.quorum.met:
            raise FailedPrecondition("a decision rests on a closed vote taken with a quorum", field="vote_id",
                                     reason="VOTE_NOT_CLOSED")
        if not vote.adopted:
            raise FailedPrecondition("the vote did not adopt", field="vote_id", reason="VOTE_NOT_ADOPTED")
        if spec.send_back != (vote.subject == "send_back"):
            raise FailedPrecondition("send back on a send-back vote, adopt on another", field="vote_id",
                                     reason="WRONG_VOTE_SUBJECT")
        for n, a in enumerate(spec.actions):
            check_action(a.description, a.owner_id, a.due_on, n)
        if spec.send_back:
            if spec.reasons.empty:
                raise InvalidArgument("sending back says why", field="reasons", reason="REASONS_MISSING")
            if spec.due_on is None or spec.due_on <= local_date(now):
                raise InvalidArgument("the revised dossier is due at a future date", field="due_date",
                                      reason="DUE_DATE_NOT_IN_FUTURE")
            d = _new_decision(m, item, vote, "sent_back", LocalizedText(), None, spec.effective_on, now)
            d.send_back_reasons, d.send_back_due_on = spec.reasons, spec.due_on
            dossier_hooks.send_back(uow, m.tenant, item.ref, item.dossier_version, spec.reasons, spec.due_on,
                                    m.meeting_id, item.item_id, d.decision_id, now, closed=item.closed)
        elif item.source == "dossier":
            proposal_id = vote.subject_id if vote.subject == "proposal" else (
                vote.outcome.removeprefix("chosen:") if vote.subject == "choice" else None)
            if proposal_id is None:
                raise FailedPrecondition("an adopted amendment is not a decision: vote the proposal",
                                         field="vote_id", reason="WRONG_VOTE_SUBJECT")
            ref = dossier_hooks.subject(uow, m.tenant, proposal_id)
            d = _new_decision(m, item, vote, "adopted", ref.text, proposal_id, spec.effective_on, now)
            dossier_hooks.record_outcome(uow, m.tenant, proposal_id, "adopted", d.decision_id, now)
        else:
            text = item.text if spec.adopted_text.empty else spec.adopted_text
            if text.empty:
                raise InvalidArgument("the adopted text is missing", field="adopted_text",
                                      reason="ADOPTED_TEXT_MISSING")
            d = _new_decision(m, item, vote, "adopted", text, None, spec.effective_on, now)
        d.actions = [Action(str(uuid.uuid4()), m.tenant, d.decision_id, m.meeting_id, a.description, a.owner_id,
                            a.due_on, closed=item.closed) for a in spec.actions if a.due_on]
        _conclude(uow, m, item, d, now)
        uow.meetings.save(m)
        uow.commit()
        return d


def redacted(caller: Principal, d: Decision) -> bool:
    """Management reads closed decisions of dossiers only; the others show title and fact."""
    return d.closed and not caller.has(roles.DIRECTOR, roles.SECRETARY, roles.ADMIN) and d.dossier_id is None


def list_decisions(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, requested: int,
                   token: str, *, today: date | None = None) -> tuple[list[Decision], str]:
    access.require_board_reader(caller)
    size = page_size(requested, default=50)
    position = decode_page_token(token, "decisions", 2)
    after = (datetime.fromisoformat(position[0]), str(position[1])) if position else None
    with uow:
        uow.read_only()
        access.require_board_reader(access.seated(uow, caller, today))
        if meeting_id:
            access.load(uow, caller, meeting_id)
        found = uow.meetings.decisions(caller.tenant, meeting_id or None, after, size + 1)
    last = found[size - 1] if len(found) > size else None
    return found[:size], (encode_page_token("decisions", last.decided_at.isoformat(), last.decision_id)
                          if last else "")


def list_actions(uow: BoardUnitOfWork, caller: Principal, overdue_only: bool, owner_id: str, requested: int,
                 token: str, today: date) -> tuple[list[Action], str]:
    access.require_board_reader(caller)
    size = page_size(requested, default=50)
    position = decode_page_token(token, "actions", 2)
    after = (date.fromisoformat(position[0]), str(position[1])) if position else None
    with uow:
        uow.read_only()
        access.require_board_reader(access.seated(uow, caller, today))
        found = uow.meetings.actions(caller.tenant, overdue_on=today if overdue_only else None,
                                     owner_id=owner_id or None, after=after, limit=size + 1)
    last = found[size - 1] if len(found) > size else None
    return found[:size], (encode_page_token("actions", last.due_on.isoformat(), last.action_id) if last else "")


def complete_action(uow: BoardUnitOfWork, caller: Principal, action_id: str, now: datetime) -> Action:
    with uow:
        access.require_board_reader(caller)
        a = uow.meetings.get_action(caller.tenant, action_id, for_update=True) if action_id else None
        if a is None or a.tenant != caller.tenant:
            raise NotFound(f"no action {action_id}", field="action_id", reason="ACTION_NOT_FOUND")
        if not (caller.has(roles.MANAGEMENT) and caller.subject == a.owner_id):
            if not caller.has(roles.ADMIN, roles.SECRETARY):
                raise PermissionDenied("only the action's owner, the secretary or an admin marks it done",
                                       reason="NOT_THE_OWNER")
            access.require_runner(uow, caller, now)
        a.mark_done(local_date(now))
        uow.meetings.save_action(a)
        uow.commit()
        return a


def overdue_action_counts(uow: BoardUnitOfWork, caller: Principal, today: date) -> dict[str, int]:
    """Per tenant, how many follow-up actions are overdue (the worker's gauge; no person named)."""
    caller.require(roles.ADMIN)
    with uow:
        return uow.meetings.overdue_action_counts(today)
