"""The billing worker: membership events feed the standing projection and bill the share (once);
the outbox relay publishes billing's events."""

import time
import uuid

from sqlalchemy import text

from coop_platform.amqp import ConfirmingPublisher
from coop_platform.envelope import dumps, make_envelope
from coop_testkit import AMQP_URL, bound_queue, cooperative_today, drain


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _query(sql, **params):
    from coop_billing.entrypoints import worker

    with worker.engine().connect() as conn:
        return conn.execute(text(sql), params).all()


def _drain_subject(queue, subject, timeout=20.0):
    """Events about one subject (the broker is shared: other members' events pass by too)."""
    got, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline and not got:
        got = [e for e in drain(queue, expect=1000, timeout=1.0) if e["subject"] == subject]
    time.sleep(0.3)
    return got + [e for e in drain(queue, expect=1000, timeout=0.5) if e["subject"] == subject]


def _admitted(member_id):
    return make_envelope("membership", "member.admitted", {"member": {
        "memberId": member_id, "memberNumber": "M000123", "givenName": "Lou", "familyName": "Reed",
        "preferredLanguage": "en", "status": "MEMBER_STATUS_ACTIVE"}}, subject=member_id)


def _publish(envelope):
    publisher = ConfirmingPublisher(AMQP_URL)
    try:
        name = envelope["type"].split(".", 2)[2].rsplit(".", 1)[0]
        publisher.publish("membership.events", name, dumps(envelope), envelope["id"], None)
    finally:
        publisher.close()


def test_member_admitted_from_the_bus_bills_the_share_once_and_relays_share_fee_billed(running_worker):
    member_id = str(uuid.uuid4())
    envelope = _admitted(member_id)
    with bound_queue("billing", "share_fee.billed") as queue:
        _publish(envelope)
        _publish(envelope)  # a re-published duplicate
        assert _wait(lambda: _query("SELECT 1 FROM share_fees WHERE member_id = :m", m=member_id))
        got = _drain_subject(queue, member_id)
    time.sleep(0.5)  # give the duplicate time to be (not) applied
    fees = _query("SELECT year, amount_cents, state FROM share_fees WHERE member_id = :m", m=member_id)
    assert [tuple(f) for f in fees] == [(cooperative_today().year, 3000, "billed")]
    member = _query("SELECT member_number, given_name, status FROM members WHERE member_id = :m", m=member_id)
    assert [tuple(r) for r in member] == [("M000123", "Lou", "active")]
    assert len(got) == 1 and got[0]["data"]["fee"]["amountCents"] == "3000"
    assert _query("SELECT count(*) FROM processed_events WHERE event_id = :e", e=envelope["id"])[0][0] == 1


def test_status_changed_and_share_paid_update_standing_in_event_time_order(running_worker):
    """The handlers' effects, run the way the handlers run them (process_once with the worker's
    unit of work); the shared broker is busy with other members' events, so no hook races them."""
    from coop_billing.entrypoints import worker
    from coop_billing.entrypoints.membership_events import handle as handle_event

    def handle(name, envelope):
        return handle_event(worker.uow_factory, name, envelope)

    member_id = str(uuid.uuid4())
    handle("member.admitted", _admitted(member_id))
    newer = make_envelope("membership", "share.paid", {
        "share": {"memberId": member_id, "year": 2026, "amountCents": "3000"}, "memberNumber": "M000123",
        "inGoodStanding": True})
    older = make_envelope("membership", "member.status_changed", {
        "memberId": member_id, "toStatus": "MEMBER_STATUS_ACTIVE", "inGoodStanding": False})
    older["time"] = "2000-01-01T00:00:00.000000Z"  # arrives late, says less
    assert handle("share.paid", newer)
    assert handle("member.status_changed", older)
    assert not handle("member.status_changed", older)  # duplicate
    row = _query("SELECT in_good_standing, status FROM members WHERE member_id = :m", m=member_id)[0]
    assert tuple(row) == (True, "active")
    suspended = make_envelope("membership", "member.status_changed", {
        "memberId": member_id, "toStatus": "MEMBER_STATUS_SUSPENDED", "inGoodStanding": False})
    handle("member.status_changed", suspended)
    row = _query("SELECT in_good_standing, status FROM members WHERE member_id = :m", m=member_id)[0]
    assert tuple(row) == (False, "suspended")
    assert _query("SELECT count(*) FROM share_fees WHERE member_id = :m", m=member_id)[0][0] == 1


def test_member_erased_from_the_bus_takes_the_names_out_of_the_projection(running_worker):
    member_id = str(uuid.uuid4())
    _publish(_admitted(member_id))
    assert _wait(lambda: _query("SELECT 1 FROM members WHERE member_id = :m AND given_name = 'Lou'", m=member_id))
    _publish(make_envelope("membership", "member.erased", {
        "memberId": member_id, "memberNumber": "M000123", "erasedAt": "2026-06-01T12:00:00Z"}, subject=member_id))
    assert _wait(lambda: _query("SELECT 1 FROM members WHERE member_id = :m AND erased_at IS NOT NULL",
                                m=member_id))
    row = _query("SELECT member_number, given_name, family_name FROM members WHERE member_id = :m", m=member_id)
    assert tuple(row[0]) == ("M000123", "", "")
