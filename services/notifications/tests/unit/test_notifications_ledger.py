"""The delivery ledger's state machine (domain/ledger.py) and how rows are planned
(service_layer/notify.plan_rows): keys, leases, backoff, suppression, priority classes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coop_notifications.domain import ledger
from coop_notifications.domain.catalog import NOTIFICATIONS, Priority
from coop_notifications.domain.ledger import Channel, IllegalTransition, State
from coop_notifications.service_layer.notify import plan_rows

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _row(priority: Priority = Priority.TRANSACTIONAL, channel: Channel = Channel.EMAIL) -> ledger.Delivery:
    return ledger.new_delivery(tenant="coop", event_id="e1", recipient_id="m1", channel=channel,
                               notification="member_welcome", priority=priority, category="membership",
                               context={}, now=NOW)


def test_the_key_and_message_id_depend_only_on_event_recipient_and_channel() -> None:
    key = ledger.delivery_key("e1", "m1", "email")
    assert key == ledger.delivery_key("e1", "m1", "email") == _row().delivery_key
    assert len({key, ledger.delivery_key("e1", "m1", "inapp"), ledger.delivery_key("e1", "m2", "email"),
                ledger.delivery_key("e2", "m1", "email")}) == 4
    assert ledger.message_id(key, "coop.example") == f"<{key}@coop.example>"


def test_email_starts_pending_and_in_app_is_delivered_by_being_stored() -> None:
    assert _row().state == State.PENDING
    assert _row(channel=Channel.INAPP).state == State.DELIVERED


def test_a_claim_holds_a_lease_and_an_expired_lease_is_claimable_again() -> None:
    claimed = ledger.claim(_row(), "w1", NOW, LEASE)
    assert (claimed.state, claimed.claimed_by, claimed.lease_until) == (State.CLAIMED, "w1", NOW + LEASE)
    assert not claimed.claimable(NOW + LEASE - timedelta(seconds=1))
    with pytest.raises(IllegalTransition):
        ledger.claim(claimed, "w2", NOW + timedelta(minutes=1), LEASE)
    again = ledger.claim(claimed, "w2", NOW + LEASE, LEASE)  # the first worker died
    assert again.claimed_by == "w2"


def test_submitted_then_delivered_or_bounced() -> None:
    sent = ledger.outcome(ledger.claim(_row(), "w1", NOW, LEASE), "submitted", 250, "ok", NOW)
    assert (sent.state, sent.attempts, sent.lease_until) == (State.SUBMITTED, 1, None)
    assert ledger.delivered(sent, NOW).state == State.DELIVERED
    assert ledger.bounced(sent, NOW, "550 user unknown").state == State.BOUNCED


def test_a_deferral_backs_off_exponentially_up_to_a_cap_then_gives_up() -> None:
    row = _row()
    delays = []
    for attempt in range(1, ledger.MAX_ATTEMPTS):
        row = ledger.outcome(ledger.claim(row, "w1", row.due_at, LEASE), "deferred", 451, "try later", row.due_at)
        assert row.state == State.DEFERRED and row.attempts == attempt
        delays.append(ledger.backoff(attempt))
        assert not row.claimable(row.due_at - timedelta(seconds=1)) and row.claimable(row.due_at)
    assert delays[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert max(delays) == ledger.BACKOFF_CAP
    last = ledger.outcome(ledger.claim(row, "w1", row.due_at, LEASE), "deferred", 451, "try later", row.due_at)
    assert last.state == State.SUPPRESSED and "gave up" in last.last_detail


def test_a_permanent_refusal_suppresses_and_a_legal_notice_goes_to_the_postal_list() -> None:
    legal = ledger.outcome(ledger.claim(_row(Priority.LEGAL), "w1", NOW, LEASE), "rejected", 550, "no such user", NOW)
    assert legal.state == State.SUPPRESSED and ledger.needs_postal_fallback(legal)
    other = ledger.outcome(ledger.claim(_row(), "w1", NOW, LEASE), "rejected", 550, "no such user", NOW)
    assert not ledger.needs_postal_fallback(other)


def test_terminal_states_refuse_further_transitions() -> None:
    sent = ledger.submitted(ledger.claim(_row(), "w1", NOW, LEASE), NOW)
    with pytest.raises(IllegalTransition):
        ledger.deferred(sent, NOW, 451, "late")
    with pytest.raises(IllegalTransition):
        ledger.suppressed(ledger.bounced(sent, NOW, "x"), NOW, "x")
    with pytest.raises(ValueError):
        ledger.outcome(ledger.claim(_row(), "w1", NOW, LEASE), "maybe", None, "", NOW)


def test_priority_classes_rank_legal_first() -> None:
    ranks = [_row(p).priority_rank for p in (Priority.LEGAL, Priority.TRANSACTIONAL, Priority.REMINDER,
                                              Priority.DIGESTIBLE)]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4


def _plan(name: str, **kw):
    args = dict(tenant="coop", event_id="e1", members=["a", "b", "c"], context={"x": 1},
                reachable={"a", "b"}, opted_out={"b": {"elections", "legal"}}, now=NOW)
    args.update(kw)
    return {(r.recipient_id, r.channel.value): r for r in plan_rows(NOTIFICATIONS[name], **args)}


def test_an_opt_out_suppresses_the_mail_and_leaves_out_the_in_app_message() -> None:
    rows = _plan("election_invitation")
    assert rows[("a", "email")].state == State.PENDING and ("a", "inapp") in rows
    assert rows[("b", "email")].state == State.SUPPRESSED and ("b", "inapp") not in rows
    assert rows[("b", "email")].last_detail == "opted out"


def test_a_legal_notice_ignores_opt_outs_and_a_member_without_address_gets_in_app_only() -> None:
    rows = _plan("assembly_convocation")
    assert rows[("b", "email")].state == State.PENDING and ("b", "inapp") in rows
    assert rows[("c", "email")].state == State.SUPPRESSED and rows[("c", "inapp")].state == State.DELIVERED
    assert ledger.needs_postal_fallback(rows[("c", "email")])
    assert all(r.priority == Priority.LEGAL for r in rows.values())


def test_each_member_is_planned_once_even_if_listed_twice() -> None:
    assert len(plan_rows(NOTIFICATIONS["member_welcome"], tenant="coop", event_id="e", members=["a", "a"],
                         context={}, reachable={"a"}, opted_out={}, now=NOW)) == 2
