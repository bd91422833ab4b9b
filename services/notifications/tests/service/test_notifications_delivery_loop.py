"""The delivery loop (service_layer/delivery.py) against PostgreSQL, with a scripted Sender and a
minimal renderer standing in for the templates (tests only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from coop_domain.clock import FixedClock
from coop_domain.membership import MemberChanged, MemberContact, MemberErased
from coop_notifications.adapters.events_in import effect_for
from coop_notifications.domain.catalog import NOTIFICATIONS
from coop_notifications.domain.ledger import Channel, State
from coop_notifications.domain.mail import OutgoingMail, RenderedMessage, SendOutcome
from coop_notifications.entrypoints import metrics
from coop_notifications.service_layer.delivery import MailSettings, deliver_batch, record_bounce
from coop_notifications.service_layer.handlers import ProjectionRolls
from coop_notifications.service_layer.notify import notify
from coop_notifications.service_layer.recipients import apply_member_fact
from coop_platform.envelope import make_envelope
from coop_platform.inbox import process_once

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SETTINGS = MailSettings(domain="coop.test", batch_size=50)


def render(name: str, language: str, context: dict) -> RenderedMessage:
    if context.get("boom"):
        raise KeyError("boom")
    return RenderedMessage(f"[{language}] {name}", f"<p>{context}</p>", str(context))


@dataclass
class ScriptedSender:
    replies: dict[str, SendOutcome] = field(default_factory=dict)  # address -> outcome
    sent: list[OutgoingMail] = field(default_factory=list)

    def send(self, mail: OutgoingMail) -> SendOutcome:
        self.sent.append(mail)
        return self.replies.get(mail.to_address, SendOutcome("submitted", 250, "ok"))


@dataclass
class Voted(ProjectionRolls):
    who: set[str] = field(default_factory=set)

    def voted(self, uow, tenant, election_id, voter_ids):
        return self.who & set(voter_ids)


def _member(uowf, mid: str, language: str = "nl", email: bool = True) -> str:
    with uowf() as uow:
        apply_member_fact(uow, MemberChanged(mid, NOW, status="active", in_good_standing=True, contact=MemberContact(
            mid.upper(), "Name", f"{mid}@example.org" if email else "", language)))
        uow.commit()
    return mid


def _notify(uowf, name: str, event_id: str, members: list[str], context: dict | None = None) -> None:
    with uowf() as uow:
        notify(uow, NOTIFICATIONS[name], tenant="coop", event_id=event_id, members=members,
               context=context or {"x": 1}, now=NOW)
        uow.commit()


def _run(uowf, sender, clock=None, rolls=None, settings=SETTINGS):
    return deliver_batch(uowf, sender, render, rolls or ProjectionRolls(), settings, "w1", clock or (lambda: NOW),
                         on_outcome=metrics.count_outcome)


def _email_rows(uowf, event_id: str) -> dict:
    with uowf() as uow:
        return {d.recipient_id: d for d in uow.ledger.of_event(event_id) if d.channel == Channel.EMAIL}


def test_a_welcome_is_sent_once_in_the_members_language_with_a_stable_message_id(uowf) -> None:
    _notify(uowf, "member_welcome", "ev-w", [_member(uowf, "ana", "nl")])
    sender = ScriptedSender()
    assert _run(uowf, sender).outcomes == {"submitted": 1}
    assert _run(uowf, sender).claimed == 0
    (mail,) = sender.sent
    row = _email_rows(uowf, "ev-w")["ana"]
    assert row.state == State.SUBMITTED
    assert mail.message_id == f"<{row.delivery_key}@coop.test>" and mail.language == "nl"
    assert mail.rendered.subject == "[nl] member_welcome" and mail.to_address == "ana@example.org"
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.headers["List-Unsubscribe"].startswith("<https://") and row.delivery_key in mail.return_path


def test_legal_notices_go_first_and_carry_no_unsubscribe_link(uowf) -> None:
    ids = [_member(uowf, f"m{i}") for i in range(3)]
    _notify(uowf, "election_reminder", "ev-r", ids)
    _notify(uowf, "assembly_convocation", "ev-ga", ids)
    sender = ScriptedSender()
    _run(uowf, sender, settings=MailSettings(domain="coop.test", batch_size=3))
    assert [m.rendered.subject for m in sender.sent] == ["[nl] assembly_convocation"] * 3
    assert all(m.headers == {} for m in sender.sent)


def test_a_worker_killed_after_claiming_leaves_rows_that_are_resent_with_the_same_message_id(uowf) -> None:
    _notify(uowf, "member_welcome", "ev-k", [_member(uowf, "bo")])
    with uowf() as uow:  # the dead worker's claim
        uow.ledger.claim_due(NOW, "dead", SETTINGS.lease, 10)
        uow.commit()
    sender = ScriptedSender()
    assert _run(uowf, sender).claimed == 0  # its lease still holds
    assert _run(uowf, sender, clock=lambda: NOW + SETTINGS.lease).outcomes == {"submitted": 1}
    assert sender.sent[0].message_id == f"<{_email_rows(uowf, 'ev-k')['bo'].delivery_key}@coop.test>"


def test_a_4xx_defers_with_backoff_and_a_5xx_suppresses_the_address(uowf) -> None:
    _member(uowf, "late"), _member(uowf, "gone")
    _notify(uowf, "member_welcome", "ev-f", ["late", "gone"])
    sender = ScriptedSender({"late@example.org": SendOutcome("deferred", 451, "greylisted"),
                             "gone@example.org": SendOutcome("rejected", 550, "no such user")})
    assert _run(uowf, sender).outcomes == {"deferred": 1, "suppressed": 1}
    rows = _email_rows(uowf, "ev-f")
    assert rows["late"].state == State.DEFERRED and rows["late"].due_at == NOW + timedelta(seconds=30)
    assert rows["gone"].state == State.SUPPRESSED and rows["gone"].last_code == 550
    sender.replies.clear()
    clock = FixedClock(NOW + timedelta(seconds=30))
    assert _run(uowf, sender, clock=clock).outcomes == {"submitted": 1}
    _notify(uowf, "member_status_changed", "ev-f2", ["gone"])
    before = len(sender.sent)
    assert _run(uowf, sender, clock=clock).outcomes == {"suppressed": 1}  # not even tried
    assert len(sender.sent) == before


def test_an_invalid_address_is_suppressed_without_trying(uowf) -> None:
    with uowf() as uow:
        apply_member_fact(uow, MemberChanged("bad", NOW, status="active", contact=MemberContact(
            "BAD", "B", "not an address", "fr")))
        uow.commit()
    _notify(uowf, "member_welcome", "ev-inv", ["bad"])
    sender = ScriptedSender()
    assert _run(uowf, sender).outcomes == {"suppressed": 1} and sender.sent == []
    assert _email_rows(uowf, "ev-inv")["bad"].last_detail == "invalid e-mail address"


def test_a_template_error_suppresses_that_row_only(uowf) -> None:
    _notify(uowf, "member_welcome", "ev-bad", [_member(uowf, "x1")], {"boom": True})
    _notify(uowf, "member_welcome", "ev-ok", [_member(uowf, "x2")])
    result = _run(uowf, ScriptedSender())
    assert result.template_errors == 1 and result.outcomes == {"suppressed": 1, "submitted": 1}
    assert "template error" in _email_rows(uowf, "ev-bad")["x1"].last_detail


def test_the_reminder_is_rechecked_so_who_voted_meanwhile_gets_nothing(uowf) -> None:
    ids = [_member(uowf, n) for n in ("v1", "v2", "v3")]
    _notify(uowf, "election_reminder", "ev-rem", ids, {"election_id": "el-1"})
    sender = ScriptedSender()
    _run(uowf, sender, rolls=Voted(who={"v2"}))
    assert sorted(m.to_address for m in sender.sent) == ["v1@example.org", "v3@example.org"]
    assert _email_rows(uowf, "ev-rem")["v2"].last_detail == "voted meanwhile"


def _consume(uowf, name: str, data: dict) -> str:
    """One elections event through the worker's own effect and the inbox, as the worker takes it."""
    envelope = make_envelope("elections", name, data)
    effect = effect_for("elections", name, ProjectionRolls(), lambda: NOW)
    assert process_once(uowf, f"notifications.on_{name.replace('.', '_')}", envelope, effect)
    return envelope["id"]


def test_a_reminder_is_not_sent_to_a_member_who_voted_after_the_closing_soon_event(uowf) -> None:
    """The whole path: election.closing_soon names three non-voters; one of them votes before the
    batch (election.voted into the projection); the real re-check leaves that one out."""
    ids = [_member(uowf, n) for n in ("r1", "r2", "r3")]
    closes = (NOW + timedelta(days=1)).isoformat()
    soon = _consume(uowf, "election.closing_soon", {
        "electionId": "el-9", "tenant": "coop", "closesAt": closes, "nonVoters": ids})
    _consume(uowf, "election.voted", {"electionId": "el-9", "tenant": "coop", "voterId": "r2",
                                      "votedAt": (NOW + timedelta(minutes=1)).isoformat()})
    _consume(uowf, "election.voted", {"electionId": "el-other", "tenant": "coop", "voterId": "r3",
                                      "votedAt": NOW.isoformat()})  # another election's vote: not this one
    sender = ScriptedSender()
    assert _run(uowf, sender).outcomes == {"submitted": 2, "suppressed": 1}
    assert sorted(m.to_address for m in sender.sent) == ["r1@example.org", "r3@example.org"]
    rows = _email_rows(uowf, soon)
    assert (rows["r2"].state, rows["r2"].last_detail) == (State.SUPPRESSED, "voted meanwhile")


def test_a_reminder_still_due_after_the_close_is_not_sent(uowf) -> None:
    """The results empty the projection of who voted (events_in.forget_election_at_results): a late
    reminder (deferred past the close, say) goes to nobody rather than to voters."""
    ids = [_member(uowf, n) for n in ("late1", "late2")]
    _notify(uowf, "election_reminder", "ev-late", ids, {"election_id": "el-8", "closes_at": NOW.isoformat()})
    _notify(uowf, "election_reminder", "ev-due", ids, {"election_id": "el-7",
                                                        "closes_at": (NOW + timedelta(seconds=1)).isoformat()})
    sender = ScriptedSender()
    assert _run(uowf, sender).outcomes == {"submitted": 2, "suppressed": 2}
    assert {d.last_detail for d in _email_rows(uowf, "ev-late").values()} == {"voting closed"}
    assert {d.state for d in _email_rows(uowf, "ev-due").values()} == {State.SUBMITTED}


def test_an_erased_or_addressless_member_gets_no_mail_and_legal_notices_go_to_the_postal_list(uowf) -> None:
    _member(uowf, "er"), _member(uowf, "nomail", email=False)
    _notify(uowf, "assembly_convocation", "ev-ga2", ["er", "nomail"])
    with uowf() as uow:
        apply_member_fact(uow, MemberErased("er", NOW + timedelta(seconds=1)))
        uow.commit()
    sender = ScriptedSender()
    _run(uowf, sender)
    assert sender.sent == []
    with uowf() as uow:
        postal = {d.recipient_id for d in uow.ledger.postal_fallback("coop")}
        inbox = uow.ledger.inbox_page("coop", "nomail", 10, "", False)[0]
    assert postal == {"er", "nomail"} and [d.notification for d in inbox] == ["assembly_convocation"]


def test_a_bounce_marks_the_row_and_suppresses_the_address(uowf) -> None:
    _notify(uowf, "member_welcome", "ev-b", [_member(uowf, "bb")])
    _run(uowf, ScriptedSender())
    key = _email_rows(uowf, "ev-b")["bb"].delivery_key
    assert record_bounce(uowf(), key, "5.1.1 user unknown", NOW).state == State.BOUNCED
    assert record_bounce(uowf(), key, "again", NOW) is None
    with uowf() as uow:
        assert uow.suppressions.is_suppressed("BB@example.org")


def test_the_gauges_show_the_queue_per_class_and_the_oldest_pending_legal_notice(uowf) -> None:
    ids = [_member(uowf, f"g{i}") for i in range(2)]
    _notify(uowf, "assembly_convocation", "ev-g", ids)
    _notify(uowf, "election_reminder", "ev-g2", ids[:1])
    read = metrics.refresh_gauges(uowf(), NOW + timedelta(minutes=10))
    assert read["depth_legal"] == 2 and read["depth_reminder"] == 1 and read["depth_digestible"] == 0
    assert read["oldest_legal_age"] == 600
    _run(uowf, ScriptedSender())
    assert metrics.refresh_gauges(uowf(), NOW)["oldest_legal_age"] == 0
