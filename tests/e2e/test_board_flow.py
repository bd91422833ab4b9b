"""The board's story end to end, through the real processes (issue 11, "Done when"): members
admitted and in good standing in membership; an election of five board seats run by the
elections service, whose election.results_published reaches the board worker through RabbitMQ
and creates the mandates; then, through the board api's gRPC: the secretary elected by a board
decision; a meeting convened; a dossier of five proposals, two recommended, rejected as a whole
and sent back; version 2 amended and one proposal adopted at the next meeting; the minutes of
the first meeting translated, approved at the second through its approve_minutes item and
published in French, Dutch and English; a member registered as observer, and reading the
published minutes and a decision in their language.

Written once against `board_platform` (conftest.py): docker-compose.yml where a Docker engine
exists, the processes `make run` starts where none does. Real time, no test clock: the meetings
are scheduled days ahead and their agendas frozen by hand (FreezeAgenda); a session may be held
before its start instant (the service does not refuse it), which is what lets the story run in
minutes. In a Compose stack, earlier tests' elections may have seated other directors: they are
recorded absent, and the quorum counts them.
"""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from board_helpers import d, lt, reason_of, rid
from election_helpers import Coop, Plan, localized, seconds_until, utcnow
from google.protobuf.field_mask_pb2 import FieldMask

from coop.board.v1 import common_pb2 as cpb
from coop.board.v1 import dossiers_pb2 as dpb
from coop.board.v1 import meetings_pb2 as bpb
from coop.board.v1 import minutes_pb2 as npb
from coop.board.v1 import observers_pb2 as opb
from coop.board.v1 import roster_pb2 as rpb
from coop.elections.v1 import elections_pb2 as epb
from coop_platform.pbtypes import to_timestamp
from coop_platform.rich_status import details_of
from coop_testkit import bearer, wait_until

pytestmark = [pytest.mark.rabbitmq]

FOR, AGAINST, ABSTAIN = bpb.VOTE_CHOICE_FOR, bpb.VOTE_CHOICE_AGAINST, bpb.VOTE_CHOICE_ABSTAIN
KEYS = ["per member", "per share", "per year of membership", "per consumption", "flat plus share"]


def elect_the_board(coop: Coop, tick: float, candidates: list[str], voters: list[str]) -> tuple[str, Plan]:
    """An election of five board seats: the candidates stand, every voter votes for all of
    them; the elections worker opens, closes and publishes the results."""
    plan = Plan.from_now(tick)
    election = coop.elections.CreateElection(epb.CreateElectionRequest(
        texts=localized("Conseil d'administration"),
        questions=[epb.QuestionSpec(question_id="board", method=epb.METHOD_PLURALITY, texts=localized("Sièges"),
                                    seats=len(candidates), mandate_years=4),
                   epb.QuestionSpec(question_id="accounts", method=epb.METHOD_RESOLUTION, texts=localized("Comptes"))],
        window=epb.VotingWindowSpec(opens_at=plan.opens.isoformat(), assembly_day=plan.assembly_day.isoformat(),
                                    closes_local=plan.local_close.strftime("%H:%M"), time_zone=plan.zone),
        roll_cutoff=plan.opens.isoformat(), nominations_open=plan.created.isoformat(),
        nominations_close=plan.opens.isoformat()), metadata=coop.admin, timeout=15)
    eid = election.election_id
    for member_id in candidates:
        coop.stand(eid, member_id)
    for member_id in set(voters) - set(candidates):  # standing proves the projection has them
        coop.stand(eid, member_id)
        coop.withdraw(eid, member_id)
    wait_until(lambda: _open(coop, eid), timeout=seconds_until(plan.opens) + tick + 30, interval=0.2,
               message="the elections worker opening the vote")
    for member_id in voters:
        assert coop.on_roll(eid, member_id)
        coop.vote(eid, member_id, candidates, "yes")
    return eid, plan


def _open(coop: Coop, eid: str) -> bool:
    return coop.elections.GetElection(epb.ElectionRef(election_id=eid), metadata=coop.admin,
                                      timeout=15).status == epb.ELECTION_STATUS_OPEN


def test_an_elected_board_sends_a_dossier_back_adopts_its_second_version_and_a_member_reads_the_minutes(
    board_platform, coop, board
) -> None:
    tick = board_platform.elections_tick_seconds
    admin, management = board.admin, board.management

    # -- 1. Membership: five candidates and a member, all in good standing. ---------------------
    candidates = [coop.admit(name, pay=True) for name in ("Ana", "Bert", "Chloe", "Dirk", "Els")]
    member_id = coop.admit("Fien", pay=True)
    member = bearer(member_id, "member")

    # -- 2. The Assembly elects them; the results create the board's mandates. ------------------
    eid, plan = elect_the_board(coop, tick, candidates, [*candidates, member_id])
    day = plan.assembly_day

    def seated() -> list[rpb.SittingDirector]:
        return list(board.roster.GetRoster(rpb.GetRosterRequest(on_date=d(day)), metadata=admin,
                                           timeout=15).directors)

    wait_until(lambda: set(candidates) <= {x.director_id for x in seated()},
               timeout=seconds_until(plan.closes) + tick + 60, interval=0.5,
               message="the board worker creating the mandates from election.results_published")
    # member.admitted and share.paid reached the board worker too: categories known, standing good
    wait_until(lambda: all(not list(x.flags) for x in seated() if x.director_id in candidates), timeout=60,
               interval=0.5, message="the board worker projecting the directors' membership")
    sitting = seated()
    ours = {x.director_id: x for x in sitting if x.director_id in candidates}
    assert {x.category for x in ours.values()} == {rpb.DIRECTOR_CATEGORY_USER}
    assert {x.mandate.election_id for x in ours.values()} == {eid}
    assert {(x.mandate.start_date.year, x.mandate.end_date.year) for x in ours.values()} == {(day.year, day.year + 4)}
    others = [x.director_id for x in sitting if x.director_id not in candidates]  # earlier tests' elections
    assert len(candidates) > (len(candidates) + len(others)) / 2, "too many other directors for a quorum"
    secretary_id, amender = candidates[0], candidates[2]
    secretary = bearer(secretary_id, "secretary", "director")

    # -- 3. Management submits the COVID envelope: five keys, two recommended. ------------------
    dossier = board.dossiers.CreateDossier(dpb.CreateDossierRequest(title=lt("COVID compensation envelope"),
                                                                    request_id=rid()),
                                           metadata=management, timeout=15).dossier
    v1 = board.dossiers.SubmitDossierVersion(dpb.SubmitDossierVersionRequest(
        dossier_id=dossier.dossier_id, request_id=rid(),
        proposals=[dpb.ProposalInput(title=lt(f"Key {n + 1}: {k}"), text=lt(f"Redistribute 60% of the envelope {k}."),
                                     recommended=n in (1, 3),
                                     recommendation_rationale=lt(f"Fair {k}") if n in (1, 3) else None)
                   for n, k in enumerate(KEYS)],
        documents=[dpb.DocumentUpload(filename="envelope.pdf", media_type="application/pdf",
                                      content=f"%PDF envelope {rid()}".encode())]),
        metadata=management, timeout=15).version
    assert v1.version == 1 and [p.recommended for p in v1.proposals] == [False, True, False, True, False]

    # -- 4. Meeting 1 convened by an admin ten days ahead; its agenda published and frozen. -----
    now = utcnow()
    m1 = board.schedule(now + timedelta(days=10), "Board, first meeting", admin)
    elect = board.add(m1.meeting_id, bpb.AgendaItem(
        title=lt("Election of the secretary"), source=cpb.ITEM_SOURCE_OTHER, kind="elect_officer", ref="secretary",
        visibility=cpb.ITEM_VISIBILITY_OPEN, text=lt(f"{secretary_id} is elected secretary.")), admin)
    item_v1 = board.add(m1.meeting_id, bpb.AgendaItem(
        title=lt("COVID compensation envelope"), source=cpb.ITEM_SOURCE_DOSSIER, kind="dossier",
        ref=dossier.dossier_id, dossier_version=1, visibility=cpb.ITEM_VISIBILITY_OPEN), admin)
    contract = board.add(m1.meeting_id, bpb.AgendaItem(
        title=lt("Cleaning contract"), source=cpb.ITEM_SOURCE_OTHER, kind="other",
        visibility=cpb.ITEM_VISIBILITY_CLOSED, text=lt("Sign with CleanCo for 48,000 euros a year.")), admin)
    frozen = board.publish_and_freeze(m1.meeting_id, admin)
    assert frozen.agenda_frozen and frozen.agenda_version >= 1
    seen = board.get(m1.meeting_id, member)
    assert {i.item_id for i in seen.items} == {elect.item_id, item_v1.item_id} and "CleanCo" not in str(seen)

    # -- 5. In session: the board elects its secretary, sends the dossier back, decides in camera.
    board.attendance(m1.meeting_id, candidates, others, admin)
    vote = board.vote(m1.meeting_id, elect.item_id, bpb.VOTE_SUBJECT_ITEM, admin, {x: FOR for x in candidates})
    elected = board.decide(m1.meeting_id, elect.item_id, vote.vote_id, admin)
    assert elected.kind == bpb.DECISION_KIND_ADOPTED
    board.roster.ElectOfficer(rpb.ElectOfficerRequest(
        request_id=rid(), office=rpb.OFFICE_SECRETARY, director_id=secretary_id, start_date=d(day),
        end_date=ours[secretary_id].mandate.end_date, decision_id=elected.decision_id), metadata=admin, timeout=15)

    vote = board.vote(m1.meeting_id, item_v1.item_id, bpb.VOTE_SUBJECT_SEND_BACK, secretary,
                      {candidates[0]: FOR, candidates[1]: FOR, candidates[2]: FOR, candidates[3]: AGAINST,
                       candidates[4]: ABSTAIN})
    assert (vote.outcome, vote.counts.in_favour, vote.counts.against) == ("adopted", 3, 1)
    reasons = cpb.LocalizedText(fr="Aucune clé ne tient compte des coopérateurs récents.",
                                nl="Geen enkele sleutel houdt rekening met recente coöperanten.")
    sent_back = board.decide(m1.meeting_id, item_v1.item_id, vote.vote_id, secretary, send_back=True,
                             reasons=reasons, due_date=d(now.date() + timedelta(days=14)))
    assert sent_back.kind == bpb.DECISION_KIND_SENT_BACK
    back = board.dossier(dossier.dossier_id)
    assert back.dossier.status == dpb.DOSSIER_STATUS_SENT_BACK
    assert [p.status for p in back.version.proposals] == [dpb.PROPOSAL_STATUS_REJECTED] * 5

    vote = board.vote(m1.meeting_id, contract.item_id, bpb.VOTE_SUBJECT_ITEM, secretary, {x: FOR for x in candidates})
    closed_decision = board.decide(m1.meeting_id, contract.item_id, vote.vote_id, secretary)
    assert closed_decision.closed
    board.meetings.CloseMeeting(bpb.CloseMeetingRequest(meeting_id=m1.meeting_id, request_id=rid()),
                                metadata=secretary, timeout=15)

    # -- 6. The secretary convenes meeting 2, drafts and translates the minutes of meeting 1. ---
    m2 = board.schedule(now + timedelta(days=20), "Board, second meeting", secretary)
    draft = board.minutes.DraftMinutes(npb.DraftMinutesRequest(meeting_id=m1.meeting_id, request_id=rid()),
                                       metadata=secretary, timeout=15).minutes
    assert [list(x.languages) for x in draft.missing] == [["en"]]  # the reasons were given in fr and nl
    section = next(s for s in draft.sections if s.item_id == item_v1.item_id)
    english = section.body.fr.replace(reasons.fr, "No key takes recent members into account.")
    edited = board.minutes.UpdateMinutes(npb.UpdateMinutesRequest(
        minutes=npb.Minutes(minutes_id=draft.minutes_id, sections=[npb.MinutesSection(
            section_id=section.section_id, body=cpb.LocalizedText(en=english))]),
        update_mask=FieldMask(paths=["sections.en"])), metadata=secretary, timeout=15).minutes
    assert not edited.missing
    submitted = board.minutes.SubmitMinutesForApproval(npb.SubmitMinutesForApprovalRequest(
        minutes_id=draft.minutes_id, request_id=rid()), metadata=secretary, timeout=15).minutes
    approval = next(i for i in board.get(m2.meeting_id, secretary).items if i.kind == "approve_minutes"
                    and i.ref == draft.minutes_id)
    assert submitted.approval_item_id == approval.item_id

    # -- 7. Version 2, what changed and why, on the agenda of meeting 2. ------------------------
    old = list(v1.proposals)
    v2 = board.dossiers.SubmitDossierVersion(dpb.SubmitDossierVersionRequest(
        dossier_id=dossier.dossier_id, request_id=rid(),
        change_note=lt("Key 2 now counts recent members; key 4 is kept; a new flat key."),
        proposals=[
            dpb.ProposalInput(title=lt("Key 2: per share, recent members counted"),
                              text=lt("Redistribute 60% of the envelope per share, counting recent members."),
                              recommended=True, recommendation_rationale=lt("Fair and complete"),
                              revises_proposal_id=old[1].proposal_id),
            dpb.ProposalInput(title=old[3].title, text=old[3].text, recommended=True,
                              recommendation_rationale=old[3].recommendation_rationale,
                              revises_proposal_id=old[3].proposal_id),
            dpb.ProposalInput(title=lt("Key 6: flat"), text=lt("Redistribute 60% of the envelope in equal parts.")),
        ]), metadata=management, timeout=15).version
    changes = board.dossiers.GetVersionChanges(dpb.GetVersionChangesRequest(dossier_id=dossier.dossier_id, version=2),
                                               metadata=secretary, timeout=15)
    assert changes.answers_send_back.decision_id == sent_back.decision_id
    assert sorted(dpb.ProposalChangeKind.Name(c.kind).rsplit("_", 1)[1] for c in changes.changes) \
        == ["DROPPED", "DROPPED", "DROPPED", "NEW", "REVISED", "UNCHANGED"]
    assert len(board.dossier(dossier.dossier_id, 1).version.proposals) == 5  # version 1 kept
    item_v2 = board.add(m2.meeting_id, bpb.AgendaItem(
        title=lt("COVID compensation envelope, version 2"), source=cpb.ITEM_SOURCE_DOSSIER, kind="dossier",
        ref=dossier.dossier_id, dossier_version=2, visibility=cpb.ITEM_VISIBILITY_OPEN), secretary)

    # -- 8. The member registers to observe meeting 2 (once the board knows their standing). ----
    board.meetings.PublishAgenda(bpb.PublishAgendaRequest(meeting_id=m2.meeting_id, request_id=rid()),
                                 metadata=secretary, timeout=15)
    board.observers.OpenToObservers(opb.OpenToObserversRequest(
        meeting_id=m2.meeting_id, seats=5, registration_deadline=to_timestamp(now + timedelta(days=19)),
        request_id=rid()), metadata=secretary, timeout=15)
    registered: list[opb.RegisterAsObserverResponse] = []

    def register() -> bool:
        try:
            registered.append(board.observers.RegisterAsObserver(opb.RegisterAsObserverRequest(
                meeting_id=m2.meeting_id, request_id=rid()), metadata=member, timeout=15))
        except grpc.RpcError as exc:
            if details_of(exc).reason == "NOT_IN_GOOD_STANDING":
                return False
            raise
        return True

    wait_until(register, timeout=60, interval=0.5, message="the board worker projecting the member's standing")
    assert registered[0].registration.status == opb.OBSERVER_STATUS_SEATED and registered[0].check_in_code
    agenda = board.observers.GetObserverAgenda(opb.GetObserverAgendaRequest(meeting_id=m2.meeting_id),
                                               metadata=member, timeout=15)
    assert {i.item_id for i in agenda.items} == {approval.item_id, item_v2.item_id}

    # -- 9. A director amends the revised key; meeting 2 approves the minutes, the amendment, the key.
    key2 = v2.proposals[0]
    amended = lt("Redistribute 60% of the envelope per share, counting recent members and staff.")
    amendment = board.dossiers.ProposeAmendment(dpb.ProposeAmendmentRequest(
        parent_id=key2.proposal_id, text=amended, request_id=rid()), metadata=board.director(amender),
        timeout=15).amendment
    board.meetings.FreezeAgenda(bpb.FreezeAgendaRequest(meeting_id=m2.meeting_id, request_id=rid()),
                                metadata=secretary, timeout=15)
    board.attendance(m2.meeting_id, candidates, others, secretary)
    vote = board.vote(m2.meeting_id, "", bpb.VOTE_SUBJECT_CONSENT, secretary, {x: FOR for x in candidates})
    assert list(vote.item_ids) == [approval.item_id]
    approved = board.minutes.GetMinutes(npb.GetMinutesRequest(minutes_id=draft.minutes_id), metadata=secretary,
                                        timeout=15).minutes
    assert approved.status == npb.MINUTES_STATUS_APPROVED and approved.approved_in_meeting_id == m2.meeting_id
    assert reason_of(lambda: board.meetings.OpenVote(bpb.OpenVoteRequest(
        meeting_id=m2.meeting_id, item_id=item_v2.item_id, subject=bpb.VOTE_SUBJECT_PROPOSAL,
        subject_id=key2.proposal_id, request_id=rid()), metadata=secretary, timeout=15)) == "AMENDMENTS_PENDING"
    vote = board.vote(m2.meeting_id, item_v2.item_id, bpb.VOTE_SUBJECT_PROPOSAL, secretary,
                      {x: FOR for x in candidates}, subject_id=amendment.amendment_id)
    assert vote.subject == bpb.VOTE_SUBJECT_AMENDMENT and vote.outcome == "adopted"
    vote = board.vote(m2.meeting_id, item_v2.item_id, bpb.VOTE_SUBJECT_PROPOSAL, secretary,
                      {**{x: FOR for x in candidates}, candidates[4]: AGAINST}, subject_id=key2.proposal_id)
    adopted = board.decide(m2.meeting_id, item_v2.item_id, vote.vote_id, secretary)
    assert adopted.kind == bpb.DECISION_KIND_ADOPTED and adopted.proposal_id == key2.proposal_id
    assert adopted.adopted_text == amended
    assert board.dossier(dossier.dossier_id).dossier.status == dpb.DOSSIER_STATUS_DECIDED
    board.meetings.CloseMeeting(bpb.CloseMeetingRequest(meeting_id=m2.meeting_id, request_id=rid()),
                                metadata=secretary, timeout=15)

    # -- 10. Published in three languages; the member reads them in theirs. ---------------------
    published = board.minutes.PublishMinutes(npb.PublishMinutesRequest(minutes_id=draft.minutes_id, request_id=rid()),
                                             metadata=secretary, timeout=15).minutes
    assert published.status == npb.MINUTES_STATUS_PUBLISHED
    for lang in ("fr", "nl", "en"):
        listed = board.minutes.ListPublishedMinutes(npb.ListPublishedMinutesRequest(
            language=lang, from_date=d(now.date()), to_date=d(now.date() + timedelta(days=30))),
            metadata=member, timeout=15).minutes
        mine = next(m for m in listed if m.minutes_id == draft.minutes_id)
        shown = "\n".join(f"{s.heading}\n{s.body}" for s in mine.sections)
        assert mine.language == lang and getattr(lt("Cleaning contract"), lang) in shown
        assert "CleanCo" not in shown
        assert getattr(lt("COVID compensation envelope"), lang) in shown
        decision = board.minutes.GetPublishedDecision(npb.GetPublishedDecisionRequest(
            decision_id=elected.decision_id, language=lang), metadata=member, timeout=15).decision
        assert decision.adopted_text == f"{secretary_id} is elected secretary." + ("" if lang == "en" else f" [{lang}]")
        hidden = board.minutes.GetPublishedDecision(npb.GetPublishedDecisionRequest(
            decision_id=closed_decision.decision_id, language=lang), metadata=member, timeout=15).decision
        assert hidden.closed and not hidden.adopted_text
    assert "No key takes recent members into account." in shown  # the secretary's translation
