"""nameko worker base (DESIGN D2): the only platform module that imports nameko/eventlet.

Worker entrypoint modules call ``eventlet.monkey_patch()`` first, then build a
nameko service class from these pieces:
- :class:`CoopEventHandler` (``coop_event_handler``): an event handler whose queue
  is a durable quorum queue with a delivery limit and a dead-letter exchange,
  that requeues on error, counts the last failure as dead-lettered;
- :class:`HandlerMetrics`: rate, errors and duration of every entrypoint;
- :class:`OutboxRelayRunner`: the outbox relay and outbox/DLQ gauges in green threads;
- :func:`run_worker`: config, metrics endpoint, graceful stop on SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from typing import Any

import eventlet
from kombu import Queue
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.runners import ServiceRunner

from coop_platform.amqp import (
    ConfirmingPublisher,
    consumer_queue_arguments,
    dead_letter_count,
    dead_letter_queue,
)
from coop_platform.config import Settings
from coop_platform.metrics import (
    DEAD_LETTER_QUEUE_MESSAGES,
    DEAD_LETTERED,
    HANDLER_CALLS,
    HANDLER_SECONDS,
    serve_metrics,
)
from coop_platform.outbox import OutboxRelay

log = logging.getLogger(__name__)


def make_psycopg2_green() -> None:
    """Let psycopg2 yield to other green threads while it waits on the server (DESIGN D2)."""
    try:
        import psycopg2
        from psycopg2 import extensions
    except ImportError:  # pragma: no cover - SQLite-only install
        return
    from eventlet.hubs import trampoline

    def wait_callback(conn: Any, timeout: float | None = None) -> None:
        while True:
            state = conn.poll()
            if state == extensions.POLL_OK:
                return
            if state == extensions.POLL_READ:
                trampoline(conn.fileno(), read=True)
            elif state == extensions.POLL_WRITE:
                trampoline(conn.fileno(), write=True)
            else:
                raise psycopg2.OperationalError(f"bad poll state {state}")

    extensions.set_wait_callback(wait_callback)


class CoopEventHandler(EventHandler):
    """Event handler on a dead-lettered quorum queue; failures are retried, then parked."""

    def __init__(self, source_service: str, event_type: str, max_deliveries: int = 5, **kwargs: Any) -> None:
        kwargs.setdefault("requeue_on_error", True)
        super().__init__(source_service, event_type, **kwargs)
        self.max_deliveries = max_deliveries

    def setup(self) -> None:
        super().setup()
        name = self.queue.name
        self.queue = Queue(
            name, exchange=self.queue.exchange, routing_key=self.event_type, durable=True,
            queue_arguments=consumer_queue_arguments(name, self.max_deliveries),
        )
        # the DLQ must exist before the first message is dead-lettered
        from kombu import Connection

        with Connection(self.container.config["AMQP_URI"]) as conn:
            dead_letter_queue(name)(conn.default_channel).declare()

    def handle_result(self, message: Any, worker_ctx: Any, result: Any = None, exc_info: Any = None):
        if exc_info is not None:
            deliveries = int((message.headers or {}).get("x-delivery-count", 0)) + 1
            if deliveries >= self.max_deliveries:
                DEAD_LETTERED.labels(queue=self.queue.name).inc()
                log.error("giving up on event %s after %d deliveries: dead-lettered",
                          message.properties.get("message_id"), deliveries)
        return super().handle_result(message, worker_ctx, result, exc_info)


coop_event_handler = CoopEventHandler.decorator


class HandlerMetrics(DependencyProvider):
    """Counts and times every entrypoint call of the service it is attached to."""

    def __init__(self) -> None:
        self._started: dict[int, float] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        self._started[id(worker_ctx)] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self._started.pop(id(worker_ctx), None)
        name = worker_ctx.entrypoint.method_name
        HANDLER_CALLS.labels(handler=name, outcome="error" if exc_info else "ok").inc()
        if started is not None:
            HANDLER_SECONDS.labels(handler=name).observe(time.perf_counter() - started)


class OutboxRelayRunner(DependencyProvider):
    """Runs the outbox relay for the service's database inside the worker process, and keeps
    the outbox and dead-letter gauges fresh (the dead-letter queues are those of the service's
    own CoopEventHandlers)."""

    def __init__(self, engine_factory: Callable[[], Any], settings_factory: Callable[[], Settings]) -> None:
        self.engine_factory = engine_factory
        self.settings_factory = settings_factory
        self.relay: OutboxRelay | None = None
        self._stopping = False

    def start(self) -> None:
        settings = self.settings_factory()
        self.relay = OutboxRelay(
            self.engine_factory(),
            lambda: ConfirmingPublisher(settings.amqp_url),
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
            sleep=eventlet.sleep,
        )
        self.container.spawn_managed_thread(self.relay.run_forever, identifier="outbox-relay")
        self.container.spawn_managed_thread(self._gauges, identifier="outbox-gauges")

    def handler_queues(self) -> list[str]:
        return [e.queue.name for e in self.container.entrypoints if isinstance(e, CoopEventHandler)]

    def _gauges(self) -> None:
        from kombu import Connection

        settings = self.settings_factory()
        broker: Connection | None = None
        while not self._stopping:
            try:
                if self.relay:
                    self.relay.refresh_metrics()
                broker = broker or Connection(settings.amqp_url, connect_timeout=3)
                for queue in self.handler_queues():
                    DEAD_LETTER_QUEUE_MESSAGES.labels(queue=f"{queue}.dlq").set(dead_letter_count(broker, queue))
            except Exception:  # noqa: BLE001 - gauges are best effort; reconnect next time
                log.debug("gauge refresh failed", exc_info=True)
                if broker is not None:
                    broker.release()
                broker = None
            eventlet.sleep(2.0)
        if broker is not None:
            broker.release()

    def stop(self) -> None:
        self._stopping = True
        if self.relay:
            self.relay.stop()

    def kill(self) -> None:
        self.stop()


def nameko_config(settings: Settings, max_workers: int = 10) -> dict[str, Any]:
    return {"AMQP_URI": settings.amqp_url, "max_workers": max_workers, "serializer": "json"}


def run_worker(service_cls: type, settings: Settings) -> None:
    """Run one nameko service until SIGTERM/SIGINT, then stop it gracefully."""
    serve_metrics(settings.metrics_port, settings.metrics_host)
    runner = ServiceRunner(nameko_config(settings))
    runner.add_service(service_cls)
    stop = eventlet.event.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if not stop.ready():
            stop.send(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner.start()
    print(
        f"{settings.service_name} worker: consuming from {settings.amqp_url.rsplit('@', 1)[-1]}, "
        f"metrics on :{settings.metrics_port}/metrics",
        flush=True,
    )
    stop.wait()
    log.info("stopping worker")
    with eventlet.Timeout(20, False):
        runner.stop()
    runner.kill()


class WorkerResources:
    """Settings, database engine and unit-of-work factory of one worker process, created on
    first use (so tests can set COOP_* variables before anything connects)."""

    def __init__(self, service_name: str, uow_class: Callable[[Any], Any]) -> None:
        self.service_name = service_name
        self.uow_class = uow_class
        self._settings: Settings | None = None
        self._engine: Any = None
        self._sessions: Any = None

    def settings(self) -> Settings:
        if self._settings is None:
            from coop_platform.config import load_settings

            self._settings = load_settings(self.service_name, "worker")
        return self._settings

    def engine(self) -> Any:
        if self._engine is None:
            from coop_platform.db import make_engine, make_session_factory

            make_psycopg2_green()
            self._engine = make_engine(self.settings().database_url, pool_size=10)
            self._sessions = make_session_factory(self._engine)
        return self._engine

    def uow_factory(self) -> Any:
        self.engine()
        return self.uow_class(self._sessions)

    def run(self, service_cls: type) -> None:
        """Body of every worker entrypoint: JSON logs, migrations, then the nameko service."""
        from coop_platform.logs import configure_logging
        from coop_platform.migrations import upgrade

        settings = self.settings()
        configure_logging(self.service_name, settings.log_level)
        upgrade(self.service_name, settings.database_url)
        run_worker(service_cls, settings)
