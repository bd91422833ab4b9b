"""Digestible notices (minutes, decisions) are not sent one by one: each member gets one digest
per period, daily or weekly as they chose, at most one even with two digest jobs at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from coop_domain.membership import MemberChanged, MemberContact
from coop_notifications.domain.catalog import NOTIFICATIONS
from coop_notifications.domain.digest import period_start
from coop_notifications.domain.ledger import Channel, State
from coop_notifications.service_layer.digests import run_digests
from coop_notifications.service_layer.notify import notify
from coop_notifications.service_layer.recipients import apply_member_fact

MONDAY = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def _member(uowf, mid: str) -> str:
    with uowf() as uow:
        apply_member_fact(uow, MemberChanged(mid, MONDAY, status="active", contact=MemberContact(
            mid, "N", f"{mid}@example.org", "fr")))
        uow.commit()
    return mid


def _minutes(uowf, event_id: str, members: list[str], at: datetime) -> None:
    with uowf() as uow:
        notify(uow, NOTIFICATIONS["board_minutes_published"], tenant="coop", event_id=event_id, members=members,
               context={"minutes_id": event_id}, now=at)
        uow.commit()


def test_periods_end_at_midnight_and_on_monday() -> None:
    assert period_start("daily", MONDAY).isoformat() == "2027-02-28"
    assert period_start("weekly", MONDAY).isoformat() == "2027-02-22"
    assert period_start("weekly", MONDAY + timedelta(days=6)).isoformat() == "2027-02-22"


def test_digestible_mail_waits_for_the_digest_and_is_never_claimed_alone(uowf) -> None:
    _member(uowf, "d1")
    _minutes(uowf, "min-1", ["d1"], MONDAY)
    with uowf() as uow:
        assert uow.ledger.claim_due(MONDAY + timedelta(days=3), "w", timedelta(minutes=5), 10) == []
    assert run_digests(uowf, MONDAY + timedelta(hours=5)) == 0  # the day has not ended
    assert run_digests(uowf, MONDAY + timedelta(days=1, minutes=1)) == 1
    with uowf() as uow:
        (gathered,) = [d for d in uow.ledger.of_event("min-1") if d.channel == Channel.EMAIL]
        (digest,) = uow.ledger.claim_due(MONDAY + timedelta(days=1, minutes=2), "w", timedelta(minutes=5), 10)
    assert gathered.state == State.DELIVERED and digest.delivery_key in gathered.last_detail
    assert digest.notification == "digest" and digest.recipient_id == "d1"
    assert digest.context["period"] == "daily" and digest.context["period_start"] == "2027-03-01"
    assert [i["notification"] for i in digest.context["items"]] == ["board_minutes_published"]


def test_a_weekly_member_gets_one_digest_for_the_whole_week(uowf) -> None:
    _member(uowf, "w1")
    with uowf() as uow:
        uow.digest_frequencies.set("coop", "w1", "weekly", MONDAY)
        uow.commit()
    for day in range(5):
        _minutes(uowf, f"wk-{day}", ["w1"], MONDAY + timedelta(days=day))
    assert run_digests(uowf, MONDAY + timedelta(days=3)) == 0  # the week is not over
    assert run_digests(uowf, MONDAY + timedelta(days=7, hours=1)) == 1
    assert run_digests(uowf, MONDAY + timedelta(days=7, hours=2)) == 0
    with uowf() as uow:
        (digest,) = uow.ledger.claim_due(MONDAY + timedelta(days=8), "w", timedelta(minutes=5), 10)
    assert len(digest.context["items"]) == 5 and digest.context["period_start"] == "2027-03-01"


def test_two_digest_jobs_at_once_make_one_digest_per_member(uowf) -> None:
    members = [_member(uowf, f"c{i}") for i in range(20)]
    _minutes(uowf, "min-c", members, MONDAY)
    made: list[int] = []
    start = threading.Barrier(2)

    def job() -> None:
        start.wait()
        made.append(run_digests(uowf, MONDAY + timedelta(days=1, hours=1)))

    threads = [threading.Thread(target=job) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(made) == 20
    with uowf() as uow:
        digests = uow.ledger.claim_due(MONDAY + timedelta(days=2), "w", timedelta(minutes=5), 100)
    assert sorted(d.recipient_id for d in digests) == sorted(members)
