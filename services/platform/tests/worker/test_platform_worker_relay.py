"""The worker's outbox side (hardening point 7): the purge runs in the worker; and the broker
permissions `coop broker setup` gives each service cover what its handlers consume (point 5)."""

import importlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from nameko.containers import ServiceContainer
from sqlalchemy import text

from coop_platform.broker import SUBSCRIPTIONS
from coop_platform.config import Settings
from coop_platform.db import make_engine, make_session_factory
from coop_platform.migrations import upgrade
from coop_platform.unit_of_work import UnitOfWork
from coop_platform.worker import CoopEventHandler, OutboxRelayRunner
from coop_testkit import AMQP_URL, wait_until


def test_the_worker_purges_sent_outbox_rows_and_idempotency_keys_past_their_retention(container_factory, tmp_path):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    upgrade("membership", url)
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine), "membership") as uow:
        old, recent = uow.emit("member.updated", {"n": 1}), uow.emit("member.updated", {"n": 2})
        uow.commit()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET published_at = :at, created_at = :at WHERE event_id = :e"),
                     {"at": now - timedelta(days=30), "e": old})
        conn.execute(text("UPDATE outbox SET published_at = :at WHERE event_id = :e"), {"at": now, "e": recent})
        for request_id, created in (("old-key", now - timedelta(days=30)), ("fresh-key", now)):
            conn.execute(text("INSERT INTO idempotency_keys (tenant, caller, method, request_id, fingerprint, "
                              "response, created_at) VALUES ('coop', 'portal', 'RegisterMember', :r, 'f', 'x', :c)"),
                         {"r": request_id, "c": created})
    settings = Settings(service_name="membership", database_url=url, amqp_url=AMQP_URL)
    service = type("PurgingWorker", (), {"name": f"purgetest_{uuid.uuid4().hex[:8]}",
                                         "relay": OutboxRelayRunner(lambda: engine, lambda: settings)})
    container_factory(service, {"AMQP_URI": AMQP_URL}).start()

    def left() -> set[str]:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT event_id FROM outbox")).scalars())

    def keys() -> set[str]:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT request_id FROM idempotency_keys")).scalars())

    wait_until(lambda: old not in left(), timeout=20, message="the sent row past the retention purged")
    assert left() == {recent}
    wait_until(lambda: keys() == {"fresh-key"}, timeout=20, message="the key past its retention purged")
    engine.dispose()


@pytest.mark.parametrize("service", sorted(SUBSCRIPTIONS))
def test_each_services_broker_user_may_bind_to_every_source_its_handlers_consume(service):
    worker = importlib.import_module(f"coop_{service}.entrypoints.worker")
    (cls,) = [v for v in vars(worker).values() if isinstance(v, type) and getattr(v, "name", None) == service]
    container = ServiceContainer(cls, {"AMQP_URI": AMQP_URL})
    sources = {e.source_service for e in container.entrypoints if isinstance(e, CoopEventHandler)}
    assert sources == set(SUBSCRIPTIONS[service])
