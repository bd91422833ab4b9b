"""Fault injection on the producing side (DESIGN D3, issue 2 section 5): the outbox relay dies
between publish and mark, and RabbitMQ becomes unreachable mid-stream. Real PostgreSQL, real
RabbitMQ; events are created through the membership service layer."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, MetaData, func, select

from coop_domain.principal import system_principal
from coop_membership.adapters.unit_of_work import SqlMembershipUnitOfWork
from coop_membership.domain.model import Address, Category, MemberDetails
from coop_membership.service_layer import members
from coop_platform.amqp import ConfirmingPublisher
from coop_platform.db import make_session_factory
from coop_platform.inbox import process_once
from coop_platform.outbox import OutboxRelay, pending_count, quarantined_rows
from coop_platform.tables import outbox_table
from coop_testkit import AMQP_URL, TcpProxy, bound_queue, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

CRASH_RELAY = Path(__file__).with_name("crash_relay.py")
OUTBOX = outbox_table(MetaData())
CONSUMER = "reliability.effect-counter"


def _uow_factory(engine: Engine):
    sessions = make_session_factory(engine)
    return lambda: SqlMembershipUnitOfWork(sessions)


def _details(tag: str) -> MemberDetails:
    return MemberDetails(
        given_name="Reli", family_name=f"Ability {tag}", email=f"reli-{tag}@example.org",
        phone="+32 2 555 01 01", address=Address("Rue Haute 1", "1000", "Bruxelles", "BE"),
        country_of_residence="BE", preferred_language="fr", category=Category.USER,
    )


def _admit(uow_factory, tag: str) -> str:
    """Admit one member: commits member.admitted and member.status_changed in the outbox."""
    return members.register_member(uow_factory(), system_principal("reliability"), _details(tag),
                                   admit=True).member.member_id


def _event_ids(engine: Engine, after_seq: int = 0, up_to_seq: int | None = None) -> list[str]:
    query = select(OUTBOX.c.event_id).where(OUTBOX.c.seq > after_seq).order_by(OUTBOX.c.seq)
    if up_to_seq is not None:
        query = query.where(OUTBOX.c.seq <= up_to_seq)
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def _max_seq(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(OUTBOX.c.seq), 0))).scalar_one()


def _publish_errors() -> float:
    return REGISTRY.get_sample_value("coop_outbox_publish_errors_total") or 0.0


@pytest.mark.parametrize("crash", ["exception_before_mark", "sigkill_before_mark"])
def test_relay_killed_between_publish_and_mark_republishes_and_consumer_applies_effect_once(
    crash, membership_db, consumer_db, collect_deliveries, monkeypatch
):
    url, engine = membership_db
    uow_factory = _uow_factory(engine)
    with bound_queue("membership") as queue:
        for n in range(4):
            _admit(uow_factory, f"{crash}-{n}-{uuid.uuid4().hex[:6]}")
        ids = _event_ids(engine)
        assert len(ids) == 8  # per member: member.admitted and member.status_changed

        # 1. A relay publishes every row (confirmed by RabbitMQ) and dies before marking them sent.
        if crash == "sigkill_before_mark":
            done = subprocess.run([sys.executable, str(CRASH_RELAY), url, AMQP_URL],
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == -9, done.stdout + done.stderr
            assert f"published {len(ids)} of {len(ids)}" in done.stdout
        else:
            original_mark = OutboxRelay._mark

            def die_once(self, *args):
                monkeypatch.setattr(OutboxRelay, "_mark", original_mark)
                raise RuntimeError("relay process died before marking the batch sent")

            monkeypatch.setattr(OutboxRelay, "_mark", die_once)
            crashed = OutboxRelay(engine, lambda: ConfirmingPublisher(AMQP_URL))
            with pytest.raises(RuntimeError, match="died before marking"):
                crashed.run_once()
            crashed._drop_publisher()
        assert pending_count(engine) == len(ids), "nothing may be marked sent without its mark"

        # 2. A new relay (the restarted process) finds the rows still pending and publishes them again.
        #    After a SIGKILL, PostgreSQL releases the dead relay's row locks once it notices the
        #    closed connection: until then SKIP LOCKED hides the rows, so keep polling.
        relay = OutboxRelay(engine, lambda: ConfirmingPublisher(AMQP_URL))
        try:
            wait_until(lambda: relay.run_once() >= 0 and pending_count(engine) == 0, timeout=30,
                       interval=0.1, message="the restarted relay publishing every pending row")
        finally:
            relay._drop_publisher()

        wanted = set(ids)

        def both_copies(got) -> bool:
            seen = Counter(d.envelope["id"] for d in got if d.envelope.get("id") in wanted)
            return len(seen) == len(wanted) and all(c >= 2 for c in seen.values())

        deliveries = [d for d in collect_deliveries(queue, until=both_copies, timeout=30)
                      if d.envelope.get("id") in wanted]

    # Each event arrived exactly twice, both copies with the same CloudEvents id and AMQP message id.
    copies = Counter(d.envelope["id"] for d in deliveries)
    assert copies == {event_id: 2 for event_id in ids}
    assert all(d.message_id == d.envelope["id"] for d in deliveries)

    # An idempotent consumer applies each effect exactly once; the second copy is skipped.
    outcomes = [process_once(consumer_db.uow, CONSUMER, d.envelope, consumer_db.record_effect)
                for d in deliveries]
    assert outcomes.count(True) == len(ids)
    assert outcomes.count(False) == len(ids)
    assert consumer_db.effects_by_event() == {event_id: 1 for event_id in ids}
    assert consumer_db.inbox_rows(CONSUMER) == len(ids)


def test_broker_unreachable_mid_stream_delivers_every_committed_event_and_leaves_nothing_pending(
    membership_db, collect_deliveries
):
    _, engine = membership_db
    uow_factory = _uow_factory(engine)
    proxy = TcpProxy()  # the relay reaches RabbitMQ only through this proxy; the test queue does not
    relay = OutboxRelay(engine, lambda: ConfirmingPublisher(proxy.url, connect_timeout=1.0),
                        max_backoff_seconds=0.5)
    errors_before = _publish_errors()
    thread = threading.Thread(target=relay.run_forever, name="relay-under-test", daemon=True)
    try:
        with bound_queue("membership") as queue:
            thread.start()
            run = uuid.uuid4().hex[:6]
            for n in range(50):
                _admit(uow_factory, f"before-{run}-{n}")
                time.sleep(0.005)
            before_end = _max_seq(engine)

            proxy.cut()  # every broker connection drops; new ones are refused
            cut_started = time.monotonic()
            n = 0
            # ~2 s without a broker, and at least 50 commits in that window however slow the machine
            while time.monotonic() - cut_started < 2.0 or n < 50:
                _admit(uow_factory, f"during-{run}-{n}")
                n += 1
                time.sleep(0.01)
            during_end = _max_seq(engine)
            proxy.restore()

            for n in range(50):
                _admit(uow_factory, f"after-{run}-{n}")
                time.sleep(0.005)

            phases = {
                "before": _event_ids(engine, 0, before_end),
                "during": _event_ids(engine, before_end, during_end),
                "after": _event_ids(engine, during_end),
            }
            assert all(phases.values()), {k: len(v) for k, v in phases.items()}
            committed = {event_id for ids in phases.values() for event_id in ids}
            assert len(committed) >= 300

            wait_until(lambda: pending_count(engine) == 0, timeout=60, interval=0.1,
                       message="the relay draining the outbox after the broker came back")

            def all_seen(got) -> bool:
                return committed <= {d.envelope.get("id") for d in got}

            deliveries = collect_deliveries(queue, until=all_seen, timeout=60)
    finally:
        relay.stop()
        thread.join(15)
        proxy.close()

    delivered = {d.envelope.get("id") for d in deliveries}
    for phase, ids in phases.items():
        assert not set(ids) - delivered, f"{len(set(ids) - delivered)} events committed {phase} the cut were lost"
    assert pending_count(engine) == 0
    assert quarantined_rows(engine) == [], "a broker outage is no row's fault: nothing is quarantined"
    assert _publish_errors() > errors_before, "the relay must count its failed publishes"
    assert not thread.is_alive()
