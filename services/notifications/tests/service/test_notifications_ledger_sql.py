"""The ledger in PostgreSQL: one row per event x recipient x channel whatever the replays, and
claims with a lease that two workers never share (FOR UPDATE SKIP LOCKED), legal first."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from coop_domain.membership import MemberChanged, MemberContact
from coop_notifications.domain.catalog import NOTIFICATIONS
from coop_notifications.domain.ledger import Channel, State
from coop_notifications.service_layer.notify import notify
from coop_notifications.service_layer.recipients import apply_member_fact

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _members(uowf, n: int, *, email: bool = True) -> list[str]:
    ids = [f"m{i:04d}" for i in range(n)]
    with uowf() as uow:
        for m in ids:
            apply_member_fact(uow, MemberChanged(m, NOW, status="active", contact=MemberContact(
                m, "Given", f"{m}@example.org" if email else "", "en")))
        uow.commit()
    return ids


def _notify(uowf, name: str, event_id: str, members: list[str]) -> int:
    with uowf() as uow:
        added = notify(uow, NOTIFICATIONS[name], tenant="coop", event_id=event_id, members=members,
                       context={"k": "v"}, now=NOW)
        uow.commit()
    return added


def test_a_replayed_event_creates_no_new_row(uowf) -> None:
    members = _members(uowf, 5)
    assert _notify(uowf, "member_welcome", "ev-1", members) == 10  # e-mail + in-app each
    assert _notify(uowf, "member_welcome", "ev-1", members) == 0
    assert _notify(uowf, "member_welcome", "ev-1", [*members, "m-new"]) == 2
    with uowf() as uow:
        rows = uow.ledger.of_event("ev-1")
    assert len(rows) == 12
    assert len({(r.recipient_id, r.channel) for r in rows}) == 12


def test_claims_take_legal_notices_first_and_hold_a_lease(uowf) -> None:
    members = _members(uowf, 3)
    _notify(uowf, "election_reminder", "ev-rem", members)
    _notify(uowf, "assembly_convocation", "ev-ga", members)
    with uowf() as uow:
        first = uow.ledger.claim_due(NOW, "w1", LEASE, 3)
        uow.commit()
    assert {d.notification for d in first} == {"assembly_convocation"}
    assert all(d.state == State.CLAIMED and d.lease_until == NOW + LEASE and d.channel == Channel.EMAIL
               for d in first)
    with uowf() as uow:
        assert [d.notification for d in uow.ledger.claim_due(NOW, "w2", LEASE, 10)] == ["election_reminder"] * 3
        uow.commit()
    with uowf() as uow:  # nothing due until the leases run out, then everything again
        assert uow.ledger.claim_due(NOW + LEASE - timedelta(seconds=1), "w3", LEASE, 10) == []
        assert len(uow.ledger.claim_due(NOW + LEASE, "w3", LEASE, 10)) == 6
        uow.commit()


def test_two_workers_claiming_at_once_never_get_the_same_row(uowf) -> None:
    members = _members(uowf, 200)
    _notify(uowf, "election_invitation", "ev-open", members)
    claimed: dict[str, list[str]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        start.wait()
        while True:
            with uowf() as uow:
                rows = uow.ledger.claim_due(NOW, name, LEASE, 7)
                uow.commit()
            if not rows:
                return
            claimed[name].extend(d.delivery_key for d in rows)

    threads = [threading.Thread(target=worker, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    both = claimed["a"] + claimed["b"]
    assert len(both) == len(set(both)) == 200


def test_deferred_rows_wait_for_their_backoff(uowf) -> None:
    from coop_notifications.domain import ledger

    _notify(uowf, "member_welcome", "ev-d", _members(uowf, 1))
    with uowf() as uow:
        (row,) = uow.ledger.claim_due(NOW, "w1", LEASE, 10)
        uow.ledger.save(ledger.outcome(row, "deferred", 451, "greylisted", NOW))
        uow.commit()
    with uowf() as uow:
        assert uow.ledger.claim_due(NOW + timedelta(seconds=29), "w1", LEASE, 10) == []
        (again,) = uow.ledger.claim_due(NOW + timedelta(seconds=30), "w1", LEASE, 10)
        assert again.attempts == 1 and again.last_code == 451


def test_the_inbox_pages_newest_first_with_an_unread_count_on_each_backend(any_uowf) -> None:
    members = _members(any_uowf, 2)
    for k in range(7):  # seven notices to m0000 (and m0001), a minute apart
        with any_uowf() as uow:
            notify(uow, NOTIFICATIONS["member_welcome"], tenant="coop", event_id=f"ev-{k}", members=members,
                   context={"k": k}, now=NOW + timedelta(minutes=k))
            uow.commit()
    seen, token = [], ""
    while True:
        with any_uowf() as uow:
            page, token = uow.ledger.inbox_page("coop", "m0000", 3, token, include_archived=False)
        seen += [d.event_id for d in page]
        if not token:
            break
    assert seen == [f"ev-{k}" for k in reversed(range(7))]
    with any_uowf() as uow:
        newest = uow.ledger.inbox_page("coop", "m0000", 1, "", include_archived=False)[0][0]
        uow.ledger.archive("coop", "m0000", [newest.delivery_key], NOW)
        uow.commit()
    with any_uowf() as uow:
        assert uow.ledger.unread_count("coop", "m0000") == 6
        assert uow.ledger.unread_count("coop", "other") == 0
        assert len(uow.ledger.inbox_page("coop", "m0000", 50, "", include_archived=False)[0]) == 6
        assert len(uow.ledger.inbox_page("coop", "m0000", 50, "", include_archived=True)[0]) == 7
        assert uow.ledger.inbox_page("other-coop", "m0000", 50, "", include_archived=True)[0] == []
