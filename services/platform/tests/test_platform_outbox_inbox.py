"""Outbox relay and inbox against real databases (SQLite and PostgreSQL) and the real broker."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from coop_platform.amqp import ConfirmingPublisher
from coop_platform.db import make_session_factory
from coop_platform.inbox import claim_event, process_once
from coop_platform.outbox import OutboxRelay, pending_count
from coop_platform.unit_of_work import UnitOfWork
from coop_testkit import AMQP_URL, bound_queue, drain


def _emit(engine, count: int) -> list[str]:
    sessions = make_session_factory(engine)
    ids = []
    with UnitOfWork(sessions, "membership") as uow:
        for i in range(count):
            ids.append(uow.emit("member.updated", {"n": i}, subject=str(i)))
        uow.commit()
    return ids


def test_relay_publishes_pending_rows_in_order_with_message_id_and_marks_them_sent(engine):
    with bound_queue("membership", "member.updated") as queue:
        ids = _emit(engine, 5)
        relay = OutboxRelay(engine, lambda: ConfirmingPublisher(AMQP_URL))
        assert relay.run_once() == 5
        assert pending_count(engine) == 0
        got = drain(queue, expect=5)
    assert [e["id"] for e in got] == ids
    assert all(e["type"] == "coop.membership.member.updated.v1" for e in got)


def test_a_commit_of_more_events_than_one_insert_statement_holds_keeps_them_all_in_order(engine):
    from coop_platform.outbox import _OUTBOX_CHUNK

    count = 2 * _OUTBOX_CHUNK + 7  # three statements on PostgreSQL, the last one short
    ids = _emit(engine, count)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT event_id, exchange, routing_key, body, attempts, published_at, created_at "
                                 "FROM outbox ORDER BY seq")).all()
    assert [r.event_id for r in rows] == ids
    assert {(r.exchange, r.routing_key, r.attempts, r.published_at) for r in rows} == {
        ("membership.events", "member.updated", 0, None)}
    assert [json.loads(r.body)["data"] for r in rows] == [{"n": i} for i in range(count)]
    assert all(r.created_at is not None for r in rows)


def test_a_rolled_back_command_leaves_no_event(engine):
    sessions = make_session_factory(engine)
    with UnitOfWork(sessions, "membership") as uow:
        uow.emit("member.updated", {"n": 1})
        # no commit: the unit of work rolls back on exit
    assert pending_count(engine) == 0


def test_relay_keeps_rows_pending_while_the_broker_is_unreachable(engine):
    _emit(engine, 3)
    relay = OutboxRelay(engine, lambda: ConfirmingPublisher("amqp://guest:guest@127.0.0.1:1/", connect_timeout=0.5))
    with pytest.raises(Exception):  # noqa: B017 - any connection error
        relay.run_once()
    assert pending_count(engine) == 3


def test_relay_failing_mid_batch_marks_only_the_confirmed_rows(engine):
    _emit(engine, 4)

    class BrokerWentAway(ConnectionError):
        confirmed = 2  # the broker confirmed the first two messages of the batch, then vanished

    class FlakyPublisher:
        def publish_many(self, messages):
            raise BrokerWentAway("broker went away")

    relay = OutboxRelay(engine, FlakyPublisher)
    with pytest.raises(ConnectionError):
        relay.run_once()
    assert pending_count(engine) == 2
    with engine.connect() as conn:
        errors = conn.execute(text("select count(*) from outbox where last_error is not null")).scalar_one()
    assert errors == 1


def test_claim_event_accepts_an_event_once_per_consumer(engine):
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        assert claim_event(session, "c1", "e1") is True
        assert claim_event(session, "c1", "e1") is False
        assert claim_event(session, "c2", "e1") is True


def test_process_once_applies_the_effect_once_and_rolls_back_the_claim_when_the_effect_fails(engine):
    sessions = make_session_factory(engine)
    with engine.begin() as conn:
        conn.execute(text("create table effects (event_id varchar(64))"))
    envelope = {"id": "evt-1", "type": "coop.billing.share.paid.v1", "source": "/coop/billing", "specversion": "1.0"}
    calls = {"n": 0}

    def failing_effect(uow, env):
        uow.session.execute(text("insert into effects values (:e)"), {"e": env["id"]})
        calls["n"] += 1
        raise RuntimeError("consumer crashed before commit")

    def effect(uow, env):
        uow.session.execute(text("insert into effects values (:e)"), {"e": env["id"]})

    def uow_factory():
        return UnitOfWork(sessions, "membership")

    with pytest.raises(RuntimeError):
        process_once(uow_factory, "test.consumer", envelope, failing_effect)
    assert process_once(uow_factory, "test.consumer", envelope, effect) is True
    assert process_once(uow_factory, "test.consumer", envelope, effect) is False
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(text("effects"))).scalar_one() == 1


def test_relay_publishes_json_envelopes_as_persistent_messages(engine):
    from kombu import Connection

    with bound_queue("membership", "member.updated") as queue:
        _emit(engine, 1)
        OutboxRelay(engine, lambda: ConfirmingPublisher(AMQP_URL)).run_once()
        with Connection(AMQP_URL) as conn:
            import time

            message = None
            for _ in range(100):
                message = queue(conn.default_channel).get(no_ack=True)
                if message:
                    break
                time.sleep(0.02)
    assert message is not None
    assert message.properties["delivery_mode"] == 2
    assert message.content_type == "application/json"
    assert json.loads(message.body)["id"] == message.properties["message_id"]


def test_confirming_publisher_confirms_a_whole_batch_in_one_wait():
    from coop_platform.envelope import dumps, make_envelope

    with bound_queue("membership", "member.updated") as queue:
        publisher = ConfirmingPublisher(AMQP_URL)
        try:
            envs = [make_envelope("membership", "member.updated", {"n": i}) for i in range(50)]
            confirmed = publisher.publish_many(
                [("membership.events", "member.updated", dumps(e), e["id"], e["correlationid"]) for e in envs])
            assert confirmed == 50
            assert publisher._acked_upto == 50  # every delivery tag of the batch was confirmed
        finally:
            publisher.close()
        got = drain(queue, expect=50)
    assert [g["id"] for g in got] == [e["id"] for e in envs]


def test_confirming_publisher_times_out_instead_of_hanging_when_confirms_never_come(monkeypatch):
    publisher = ConfirmingPublisher(AMQP_URL, confirm_timeout=0.5)
    try:
        # swallow the broker's acks: the publisher must give up, not wait forever
        monkeypatch.setattr(publisher, "_on_ack", lambda *a: None)
        publisher.channel.events["basic_ack"].clear()
        with pytest.raises(TimeoutError):
            publisher.publish("membership.events", "member.updated", "{}", "id-1", None)
    finally:
        publisher.close()


def test_confirming_publisher_counts_out_of_order_single_confirms():
    publisher = ConfirmingPublisher.__new__(ConfirmingPublisher)
    publisher._acked_upto, publisher._acked_beyond = 0, set()
    for tag in (2, 3, 1, 5):
        publisher._on_ack(tag, False)
    assert publisher._acked_upto == 3
    publisher._on_ack(4, False)
    assert publisher._acked_upto == 5
    publisher._on_ack(9, True)  # "multiple": everything up to 9
    assert publisher._acked_upto == 9


def test_relay_polls_fast_while_events_flow_and_slows_down_to_a_bound_when_idle(engine):
    from coop_platform.outbox import IDLE_POLLS_BEFORE_SLOWING as quiet

    relay = OutboxRelay(engine, lambda: None, poll_seconds=0.01, max_idle_poll_seconds=0.05)
    assert relay.idle_delay(0) == 0.01          # events just flowed: short poll
    assert relay.idle_delay(quiet) == 0.01      # a short lull between commits changes nothing
    assert relay.idle_delay(quiet + 1) == 0.02  # then it slows down...
    assert relay.idle_delay(quiet + 50) == 0.05  # ...never beyond the bound (event latency stays low)


def test_the_inbox_forgets_processed_ids_only_after_its_retention(engine):
    from datetime import UTC, datetime, timedelta

    from coop_platform.inbox import purge_inbox

    with make_session_factory(engine)() as session:
        claim_event(session, "c1", "old")
        claim_event(session, "c1", "new")
        session.commit()
    later = datetime.now(UTC) + timedelta(days=30, minutes=1)
    assert purge_inbox(engine, timedelta(days=31), now=later) == 0
    with make_session_factory(engine)() as session:  # backdate one row: it alone goes
        session.execute(text("UPDATE processed_events SET processed_at = :at WHERE event_id = 'old'"),
                        {"at": datetime.now(UTC) - timedelta(days=40)})
        session.commit()
    assert purge_inbox(engine, timedelta(days=30)) == 1
    with make_session_factory(engine)() as session:
        assert claim_event(session, "c1", "new") is False  # still known: a redelivery is skipped
        assert claim_event(session, "c1", "old") is True


def test_the_inbox_must_outlive_the_dead_letters_it_may_see_replayed(monkeypatch):
    from coop_platform.delivery import DeliverySettings

    monkeypatch.setenv("COOP_INBOX_RETENTION_DAYS", "7")
    monkeypatch.setenv("COOP_DEAD_LETTER_RETENTION_DAYS", "14")
    with pytest.raises(ValueError, match="COOP_INBOX_RETENTION_DAYS"):
        DeliverySettings.from_env()


def test_a_worker_refuses_to_start_when_its_inbox_would_forget_before_its_dead_letters(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "COOP_DATA_DIR": str(tmp_path), "COOP_DATABASE_URL": "", "COOP_METRICS_PORT": "0",
           "COOP_INBOX_RETENTION_DAYS": "3", "COOP_DEAD_LETTER_RETENTION_DAYS": "14"}
    done = subprocess.run([sys.executable, "-m", "coop_membership.entrypoints.worker"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "refusing to start" in done.stderr and "COOP_INBOX_RETENTION_DAYS" in done.stderr
