"""The board worker's roster section on the real RabbitMQ: election.results_published creates the
mandates once (a redelivery and a second copy under another event id create nothing) and the
mandate.started events reach board.events; membership's events build the standing projection;
the timer records completed terms and sets the gauges."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection, Queue
from nameko.testing.services import worker_factory
from prometheus_client import REGISTRY
from sqlalchemy import text

from coop_board.entrypoints import worker as worker_module
from coop_platform.amqp import ConfirmingPublisher
from coop_platform.envelope import make_envelope
from coop_platform.worker import nameko_config
from coop_testkit import bound_queue, drain, wait_until

AMQP = os.environ["COOP_AMQP_URL"]
START, END = "2027-05-15", "2031-05-15"


def _results(election_id: str, members: list[str], tenant: str = "coop", event_id: str | None = None) -> dict:
    data = {"electionId": election_id, "tenant": tenant, "electedMemberIds": members,
            "seats": [{"questionId": "board", "electedMemberIds": members, "mandateStart": START,
                       "mandateEnd": END}], "mandateStart": START, "mandateEnd": END}
    return make_envelope("elections", "election.results_published", data, subject=election_id, event_id=event_id)


def _publish(envelope: dict, exchange: str = "elections.events", name: str = "election.results_published") -> None:
    publisher = ConfirmingPublisher(AMQP)
    try:
        publisher.publish(exchange, name, json.dumps(envelope), envelope["id"], envelope["correlationid"])
    finally:
        publisher.close()


def _rows(sql: str, **params):
    with worker_module.engine().connect() as conn:
        return conn.execute(text(sql), params).all()


def _duplicates() -> float:
    return REGISTRY.get_sample_value("coop_inbox_duplicates_total",
                                     {"consumer": "board.on_election_results_published"}) or 0.0


def _delete_queues(*names: str) -> None:
    with Connection(AMQP) as conn:
        for name in names:
            with contextlib.suppress(Exception):
                Queue(name)(conn.channel()).delete()


@pytest.fixture
def running_worker(container_factory):
    """The real BoardWorker under a unique service name (its queues are this test's alone)."""
    name = f"board_test_{uuid.uuid4().hex[:8]}"
    cls = type("BoardWorkerUnderTest", (worker_module.BoardWorker,), {"name": name})
    queues = [f"evt-{source}-{event}--{name}.{method}{suffix}"
              for (source, event), method in worker_module.worker_roster.CONSUMED.items()
              for suffix in ("", ".dlq", ".delay-200ms", ".delay-400ms")]
    container = container_factory(cls, {**nameko_config(worker_module.settings()), "max_workers": 4})
    container.start()
    yield name
    container.stop()
    _delete_queues(*queues)


def test_results_published_twice_and_copied_create_the_mandates_once_and_announce_them(running_worker) -> None:
    election_id = f"el-{uuid.uuid4().hex[:8]}"
    elected = [f"m-{uuid.uuid4().hex[:6]}" for _ in range(5)]
    with bound_queue("board", "mandate.started", amqp_url=AMQP) as subscriber:
        envelope, copy = _results(election_id, elected), _results(election_id, elected)
        duplicates = _duplicates()
        _publish(envelope)
        _publish(envelope)  # a redelivery: the same event id
        _publish(copy)      # a second copy under another event id
        ids = {envelope["id"], copy["id"]}
        wait_until(lambda: {r.event_id for r in _rows("SELECT event_id FROM processed_events")} >= ids,
                   timeout=30, message="both event ids processed")
        wait_until(lambda: _duplicates() == duplicates + 1, timeout=30, message="the redelivery skipped")
        started = [e for e in drain(subscriber, expect=6, timeout=5, amqp_url=AMQP)
                   if e["data"].get("electionId") == election_id]
    rows = _rows("SELECT director_id, seat_id FROM board_mandates WHERE election_id = :e ORDER BY seat_id",
                 e=election_id)
    assert sorted(r.director_id for r in rows) == sorted(elected)
    assert len({r.seat_id for r in rows}) == 5
    assert sorted(e["data"]["directorId"] for e in started) == sorted(elected)
    assert all(e["type"] == "coop.board.mandate.started.v1" for e in started)


def test_another_tenants_results_create_no_mandate() -> None:
    worker = worker_factory(worker_module.BoardWorker)
    election_id = f"el-{uuid.uuid4().hex[:8]}"
    worker.on_election_results_published(_results(election_id, ["p1"], tenant="partner-x"))
    assert _rows("SELECT 1 FROM board_mandates WHERE election_id = :e", e=election_id) == []


def test_membership_events_build_the_standing_projection() -> None:
    worker = worker_factory(worker_module.BoardWorker)
    member = f"m-{uuid.uuid4().hex[:6]}"
    worker.on_member_admitted(make_envelope("membership", "member.admitted", {"member": {
        "memberId": member, "category": "MEMBER_CATEGORY_PERMANENT_STAFF", "inGoodStanding": True}}, subject=member))
    worker.on_member_status_changed(make_envelope("membership", "member.status_changed", {
        "memberId": member, "toStatus": "MEMBER_STATUS_SUSPENDED", "inGoodStanding": False}, subject=member))
    assert _rows("SELECT status, category, in_good_standing FROM board_member_standing WHERE member_id = :m",
                 m=member) == [("suspended", "permanent_staff", False)]
    worker.on_member_erased(make_envelope("membership", "member.erased", {"memberId": member}, subject=member))
    assert _rows("SELECT status FROM board_member_standing WHERE member_id = :m", m=member) == [("erased",)]


def test_the_timer_records_completed_terms_and_sets_the_gauges(monkeypatch) -> None:
    worker = worker_factory(worker_module.BoardWorker)
    election_id = f"el-{uuid.uuid4().hex[:8]}"
    worker.on_election_results_published(_results(election_id, [f"t-{uuid.uuid4().hex[:6]}"]))
    monkeypatch.setattr(worker_module, "now", lambda: datetime(2029, 1, 1, tzinfo=UTC))
    worker_factory(worker_module.BoardWorker).roster_timer()
    assert REGISTRY.get_sample_value("coop_board_sitting_directors", {"tenant": "coop"}) >= 1
    assert REGISTRY.get_sample_value("coop_board_vacant_seats", {"tenant": "coop"}) is not None
    assert REGISTRY.get_sample_value("coop_board_composition_ok", {"tenant": "coop"}) in (0.0, 1.0)
    monkeypatch.setattr(worker_module, "now", lambda: datetime(2031, 5, 15, 6, tzinfo=UTC))
    assert worker_factory(worker_module.BoardWorker).roster_timer() >= 1
    ended = _rows("SELECT end_reason, ended_on FROM board_mandates WHERE election_id = :e", e=election_id)
    assert [(r.end_reason, str(r.ended_on)) for r in ended] == [("term_completed", "2031-05-15")]
    bodies = [json.loads(b) for (b,) in _rows("SELECT body FROM outbox WHERE routing_key = 'mandate.ended'")]
    assert any(b["data"]["reason"] == "MANDATE_END_REASON_TERM_COMPLETED" for b in bodies)


def test_the_worker_consumes_the_documented_queues() -> None:
    from nameko.containers import ServiceContainer
    from nameko.testing.utils import get_extension

    from coop_platform.membership_facts import MEMBERSHIP_EVENTS
    from coop_platform.worker import CoopEventHandler

    container = ServiceContainer(worker_module.BoardWorker, {"AMQP_URI": "memory://"})
    for (source, event), method in worker_module.worker_roster.CONSUMED.items():
        handler = get_extension(container, CoopEventHandler, method_name=method)
        assert (handler.source_service, handler.event_type) == (source, event)
    assert {e for s, e in worker_module.worker_roster.CONSUMED if s == "membership"} == set(MEMBERSHIP_EVENTS)


def test_the_roster_timer_interval_comes_from_the_environment_and_is_checked() -> None:
    assert worker_module.worker_roster.tick_seconds("") == 60
    assert worker_module.worker_roster.tick_seconds("0.5") == 0.5
    for bad in ("0", "-1", "7200"):
        with pytest.raises(ValueError, match="COOP_BOARD_ROSTER_TICK_SECONDS"):
            worker_module.worker_roster.tick_seconds(bad)
