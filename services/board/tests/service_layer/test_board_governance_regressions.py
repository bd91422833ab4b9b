"""Regressions found by the cross-family property test (test_board_governance_properties.py),
each on the real use cases of several families together on the fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from board_fakes import FakeUnitOfWork

from coop_board.domain.meetings import MeetingRules
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import meetings, minutes, sessions
from coop_domain.principal import Principal

NOW = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)  # years after the wall clock: only the use cases' `now` counts
RULES = MeetingRules()
ADMIN = Principal("admin-1", "coop", frozenset({"admin"}))
SECRETARY = Principal("d0", "coop", frozenset({"secretary", "director"}))


def board() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    for n in range(3):
        uow.roster.seat(f"d{n}", NOW.date() - timedelta(days=100), NOW.date() + timedelta(days=900))
    uow.roster.appoint("secretary", "d0", NOW.date() - timedelta(days=100))
    return uow


def meeting(uow: FakeUnitOfWork, days: int, now: datetime = NOW) -> str:
    spec = meetings.MeetingSpec(LocalizedText("CA", "RvB", "Board"), now + timedelta(days=days), "Brussels", "")
    return meetings.schedule(uow, ADMIN, spec, RULES, now).meeting_id


def test_minutes_submitted_go_to_the_next_meeting_on_the_use_cases_clock_not_the_wall_clock() -> None:
    uow = board()
    held, following = meeting(uow, 10), meeting(uow, 40)
    after = NOW + timedelta(days=10, hours=3)  # the first meeting took place
    sessions.record_attendance(uow, ADMIN, held, [(f"d{n}", "present", None) for n in range(3)], RULES, after)
    meetings.close(uow, ADMIN, held, after)
    drafted = minutes.draft_minutes(uow, SECRETARY, held, after)
    _, item_id = minutes.submit_for_approval(uow, SECRETARY, drafted.minutes_id, after)
    assert item_id is not None
    assert [it.ref for it in uow.meetings.get("coop", following).items if it.kind == "approve_minutes"] == \
        [drafted.minutes_id]
    assert not [it for it in uow.meetings.get("coop", held).items if it.kind == "approve_minutes"]


def test_sending_back_a_closed_items_dossier_publishes_no_reasons() -> None:
    from board_fakes_dossiers import FakeDocumentStore

    from coop_board.adapters.events_out import translate
    from coop_board.domain.dossiers import ProposalDraft
    from coop_board.domain.dossiers_events import DossierSentBack
    from coop_board.domain.meetings import AgendaItem
    from coop_board.service_layer import decisions, dossiers
    from coop_board.service_layer.sessions import OpenVote

    uow = board()
    management = Principal("mgr-1", "coop", frozenset({"management"}))
    text = LocalizedText("t", "t", "t")
    d = dossiers.create_dossier(uow, management, LocalizedText("Contrat", "Contract", "Contract"), NOW)
    dossiers.submit_version(uow, management, FakeDocumentStore(), d.dossier_id,
                            [ProposalDraft(text, text), ProposalDraft(text, text)], [], [], LocalizedText(), 1024, NOW)
    mid = meeting(uow, 10)
    item = meetings.add_item(uow, ADMIN, mid, AgendaItem("", 0, text, "dossier", "dossier", ref=d.dossier_id,
                                                         visibility="closed", dossier_version=1), RULES, NOW)
    meetings.publish_agenda(uow, ADMIN, mid, NOW)
    meetings.freeze(uow, ADMIN, mid, NOW)
    sessions.record_attendance(uow, ADMIN, mid, [(f"d{n}", "present", None) for n in range(3)], RULES, NOW)
    vote = sessions.open_vote(uow, ADMIN, mid, OpenVote(item.item_id, "send_back"), RULES, NOW)
    sessions.record_votes(uow, ADMIN, mid, vote.vote_id, [(f"d{n}", "for", None) for n in range(3)], {}, RULES, NOW)
    sessions.close_vote(uow, ADMIN, mid, vote.vote_id, RULES, NOW)
    reasons = LocalizedText("le fournisseur CONFIDENTIEL", "de leverancier", "the supplier's terms")
    decisions.decide(uow, ADMIN, mid, decisions.Decide(item.item_id, vote.vote_id, send_back=True, reasons=reasons,
                                                       due_on=NOW.date() + timedelta(days=30)), NOW)
    (event,) = [e for e in uow.published if isinstance(e, DossierSentBack)]
    _, message, _ = translate(event)
    assert not message.HasField("reasons")
    assert b"supplier" not in message.SerializeToString()
    assert uow.dossiers.get("coop", d.dossier_id).send_backs[-1].reasons == reasons  # kept for the board
