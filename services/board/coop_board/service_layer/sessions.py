"""Use cases of a meeting in session: attendance and proxies, declarations of interest, votes.

The quorum is checked at the moment of each vote (opening, every ballot, closing) on the roster
of the meeting's day, without the directors recused on the item. A director votes only while
sitting, present (or through the written proxy they hold) and not recused; one ballot per
director and vote (a unique key in storage too)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

from coop_board.domain import roles
from coop_board.domain.meetings import Meeting, MeetingRules
from coop_board.domain.votes import Vote
from coop_board.domain.voting import PRESENT, Quorum, quorum
from coop_board.service_layer import dossier_hooks
from coop_board.service_layer import meeting_access as access
from coop_board.service_layer.decisions import consent_decisions
from coop_board.service_layer.meetings import new_id
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.clock import local_date
from coop_domain.errors import DomainError, FailedPrecondition, InvalidArgument
from coop_domain.principal import Principal


def quorum_of(m: Meeting, item_ids: tuple[str, ...], rules: MeetingRules) -> Quorum:
    return quorum(m.sitting, m.attendance, m.recused_on(item_ids), proxies=m.proxies,
                  count_proxies=rules.proxies_count_for_quorum, num=rules.quorum_num, den=rules.quorum_den)


def require_quorum(m: Meeting, item_ids: tuple[str, ...], rules: MeetingRules) -> Quorum:
    q = quorum_of(m, item_ids, rules)
    if not q.met:
        raise FailedPrecondition(f"no quorum: {q.eligible_present} of {q.eligible} directors who may vote are "
                                 f"present, {q.required} needed", field="vote_id", reason="QUORUM_NOT_MET",
                                 present=q.eligible_present, required=q.required)
    return q


def record_attendance(uow: BoardUnitOfWork, caller: Principal, meeting_id: str,
                      lines: list[tuple[str, str, str | None]], rules: MeetingRules, now: datetime) -> Meeting:
    """lines: (director id, status, proxy holder id or None), all or nothing."""
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        if not lines:
            raise InvalidArgument("attendance lists at least one director", field="attendance",
                                  reason="ATTENDANCE_EMPTY")
        sitting = set(access.sitting_ids(uow, m))
        m.chair_id = uow.roster.officer_on(m.tenant, "chair", local_date(m.starts_at))
        m.secretary_id = uow.roster.officer_on(m.tenant, "secretary", local_date(m.starts_at))
        for director_id, status, holder in lines:
            m.record_attendance(director_id, status, holder, rules, sitting)
        uow.meetings.save(m)
        uow.commit()
        return m


def declare_interest(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, item_id: str, statement: str,
                     now: datetime) -> Meeting:
    with uow:
        m = access.load(uow, caller, meeting_id, for_update=True)
        access.require_sitting_director(caller, access.sitting_ids(uow, m))
        m.declare(caller.subject, item_id, statement, now)
        uow.meetings.save(m)
        uow.commit()
        return m


@dataclass(frozen=True)
class OpenVote:
    item_id: str
    subject: str          # "proposal" (or amendment), "item", "consent", "choice", "send_back"
    subject_id: str = ""  # proposal or amendment id


def open_vote(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, spec: OpenVote, rules: MeetingRules,
              now: datetime) -> Vote:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        access.sitting_ids(uow, m)
        vote = _new_vote(uow, m, spec, now)
        if any(v.status == "open" for v in m.votes):
            raise FailedPrecondition("another vote is open: close it first", field="item_id",
                                     reason="VOTE_IN_PROGRESS")
        require_quorum(m, vote.item_ids, rules)
        m.votes.append(vote)
        uow.meetings.save(m)
        uow.commit()
        return vote


def _new_vote(uow: BoardUnitOfWork, m: Meeting, spec: OpenVote, now: datetime) -> Vote:
    if spec.subject == "consent":
        items = m.consent_items()
        if not items:
            raise FailedPrecondition("the consent block is empty", field="subject", reason="CONSENT_BLOCK_EMPTY")
        m.require_frozen(now)
        return Vote(new_id(), tuple(it.item_id for it in items), "consent", m.meeting_id, m.title, "simple",
                    opened_at=now)
    item = m.item(spec.item_id)
    m.require_frozen(now)
    if item.decision_id:
        raise FailedPrecondition("the item was decided", field="item_id", reason="ITEM_DECIDED")
    if item.in_consent_block:
        raise FailedPrecondition("the item is voted in the consent block (pull it out first)", field="item_id",
                                 reason="IN_CONSENT_BLOCK")
    ids = (item.item_id,)
    if spec.subject == "item":
        if item.source == "dossier":
            raise InvalidArgument("a dossier item is voted on its proposals", field="subject",
                                  reason="VOTE_ON_PROPOSALS")
        return Vote(new_id(), ids, "item", item.item_id, item.title, item.majority, item.secret, opened_at=now)
    if item.source != "dossier":
        raise InvalidArgument("only a dossier item has proposals", field="subject", reason="NOT_A_DOSSIER_ITEM")
    refs = dossier_hooks.proposals_for_vote(uow, m.tenant, item.ref, item.dossier_version)
    if spec.subject == "send_back":
        return Vote(new_id(), ids, "send_back", item.item_id, item.title, "simple", item.secret, opened_at=now)
    if spec.subject == "choice":
        options = tuple(r.subject_id for r in refs if r.level == 0 and r.status == "open")
        if len(options) < 2:
            raise FailedPrecondition("choosing needs two open proposals", field="subject", reason="TOO_FEW_PROPOSALS")
        if any(r.level > 0 and r.status == "open" for r in refs):
            raise FailedPrecondition("amendments are voted before the proposals they amend", field="subject",
                                     reason="AMENDMENTS_PENDING")
        return Vote(new_id(), ids, "choice", item.item_id, item.title, item.majority, item.secret, options,
                    opened_at=now)
    if spec.subject != "proposal":
        raise InvalidArgument("subject is proposal, item, consent, choice or send_back", field="subject",
                              reason="INVALID_SUBJECT")
    ref = next((r for r in refs if r.subject_id == spec.subject_id), None)
    if ref is None:
        raise InvalidArgument("not a proposal or amendment of this item's dossier version", field="subject_id",
                              reason="NOT_ON_THIS_ITEM")
    if ref.status != "open":
        raise FailedPrecondition(f"the proposal is {ref.status}", field="subject_id", reason="PROPOSAL_NOT_OPEN")
    if any(r.parent_id == ref.subject_id and r.status == "open" for r in refs):
        raise FailedPrecondition("amendments are voted before the proposal they amend", field="subject_id",
                                 reason="AMENDMENTS_PENDING")
    return Vote(new_id(), ids, "amendment" if ref.level else "proposal", ref.subject_id, ref.title, item.majority,
                item.secret, opened_at=now)


def _check_voter(m: Meeting, vote: Vote, voter: str, holder: str | None, field: str) -> None:
    if voter not in m.sitting:
        raise FailedPrecondition("only directors sitting on the meeting's day vote", field=field,
                                 reason="NOT_A_SITTING_DIRECTOR")
    recused = m.recused_on(vote.item_ids)
    if voter in recused or (holder and holder in recused):
        raise FailedPrecondition("a director who declared an interest neither votes nor counts", field=field,
                                 reason="DIRECTOR_RECUSED")
    if holder is None:
        if m.attendance.get(voter) not in PRESENT:
            raise FailedPrecondition("only a director present (or remote) votes", field=field, reason="NOT_PRESENT")
    elif m.proxies.get(voter) != holder or m.attendance.get(holder) not in PRESENT:
        raise FailedPrecondition("no written proxy of that director to this one", field=field, reason="NO_PROXY")


def _cast(m: Meeting, caller: Principal, vote_id: str, choice: str, on_behalf_of: str, rules: MeetingRules) -> Vote:
    """One ballot on a loaded meeting; refused before anything changes."""
    caller.require(roles.DIRECTOR)
    access.require_sitting_director(caller, m.sitting, "vote_id")
    vote = m.vote(vote_id)
    vote.require_open()
    voter = on_behalf_of or caller.subject
    _check_voter(m, vote, voter, caller.subject if on_behalf_of else None,
                 "on_behalf_of" if on_behalf_of else "vote_id")
    require_quorum(m, vote.item_ids, rules)
    vote.cast(voter, choice)
    return vote


def cast_vote(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, vote_id: str, choice: str,
              on_behalf_of: str, rules: MeetingRules, now: datetime) -> Vote:
    with uow:
        m = access.load(uow, caller, meeting_id, for_update=True)
        access.sitting_ids(uow, m)
        vote = _cast(m, caller, vote_id, choice, on_behalf_of, rules)
        uow.meetings.add_ballots(m.tenant, m.meeting_id, vote.vote_id, [on_behalf_of or caller.subject])
        uow.meetings.save(m)
        uow.commit()
        return vote


@dataclass(frozen=True)
class Ballot:
    caller: Principal
    meeting_id: str
    vote_id: str
    choice: str
    on_behalf_of: str = ""


def cast_votes(uow: BoardUnitOfWork, ballots: list[Ballot], rules: MeetingRules) -> list[Vote | DomainError]:
    """Ballots arriving together (the api's group commit): one lock, read and write per meeting
    and one commit for all; each ballot is accepted or refused alone, in order. The caller's
    unit (joined) commits; a vote snapshot per accepted ballot."""
    results: list[Vote | DomainError] = [DomainError("not run")] * len(ballots)
    with uow:
        groups: dict[tuple[str, str], list[int]] = {}
        for n, b in enumerate(ballots):
            groups.setdefault((b.caller.tenant, b.meeting_id), []).append(n)
        for (tenant, meeting_id) in sorted(groups):  # one lock order for every batch
            try:
                m = access.load(uow, ballots[groups[tenant, meeting_id][0]].caller, meeting_id, for_update=True)
            except DomainError as exc:
                for n in groups[tenant, meeting_id]:
                    results[n] = exc
                continue
            access.sitting_ids(uow, m)
            cast: dict[str, list[str]] = {}
            for n in groups[tenant, meeting_id]:
                b = ballots[n]
                try:
                    vote = _cast(m, b.caller, b.vote_id, b.choice, b.on_behalf_of, rules)
                except DomainError as exc:
                    results[n] = exc
                    continue
                results[n] = copy.deepcopy(vote)
                cast.setdefault(vote.vote_id, []).append(b.on_behalf_of or b.caller.subject)
            for vote_id, voters in cast.items():
                uow.meetings.add_ballots(m.tenant, m.meeting_id, vote_id, voters)
            if cast:
                uow.meetings.save(m)
        uow.commit()
    return results


def record_votes(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, vote_id: str,
                 ballots: list[tuple[str, str, str | None]], counts: dict[str, int], rules: MeetingRules,
                 now: datetime) -> Vote:
    """The secretary records a show of hands (ballots: director, choice, proxy holder or None) or
    a secret vote's counts, in one call, all or nothing."""
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        access.sitting_ids(uow, m)
        vote = m.vote(vote_id)
        vote.require_open()
        q = require_quorum(m, vote.item_ids, rules)
        if counts:
            if ballots:
                raise InvalidArgument("ballots by name or counts, not both", field="counts", reason="BALLOTS_AND_COUNTS")
            vote.add_counts(counts, q.eligible_present)
        else:
            if not ballots:
                raise InvalidArgument("record at least one ballot", field="ballots", reason="BALLOTS_EMPTY")
            if vote.secret:
                raise FailedPrecondition("a secret vote is not recorded by name", field="ballots",
                                         reason="SECRET_VOTE")
            for n, (director, choice, holder) in enumerate(ballots):
                _check_voter(m, vote, director, holder, f"ballots[{n}].director_id")
                vote.check_choice(choice, f"ballots[{n}].choice")
                vote.cast(director, choice)
            uow.meetings.add_ballots(m.tenant, m.meeting_id, vote.vote_id, [b[0] for b in ballots])
        uow.meetings.save(m)
        uow.commit()
        return vote


def close_vote(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, vote_id: str, rules: MeetingRules,
               now: datetime) -> Vote:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        access.sitting_ids(uow, m)
        vote = m.vote(vote_id)
        vote.require_open()
        q = require_quorum(m, vote.item_ids, rules)
        chair = m.chair_id if m.chair_id in m.sitting and m.chair_id not in q.recused else None
        out = vote.close(now, q, chair, rules.casting_vote)
        if vote.subject == "amendment" or (vote.subject == "proposal" and not out.adopted):
            dossier_hooks.record_outcome(uow, m.tenant, vote.subject_id, "adopted" if out.adopted else "rejected",
                                         None, now)
        if vote.subject == "consent" and out.adopted:
            consent_decisions(uow, m, vote, now)
        uow.meetings.save(m)
        uow.commit()
        return vote
