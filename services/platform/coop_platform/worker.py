"""nameko worker base (DESIGN D2): the only platform module that imports nameko/eventlet
(so it holds every nameko piece, about 410 lines, rather than spread that import).

Worker entrypoint modules import ``coop_platform.green`` first, then build a
nameko service class from these pieces:
- :class:`CoopEventHandler` (``coop_event_handler``): an event handler on its own durable
  quorum queue that refuses (dead-letters unread) a message whose exchange, source or type
  do not match it, retries a failure after growing delays and dead-letters it after a
  bounded time (coop_platform.delivery, coop_platform.amqp.HandlerQueues);
- :class:`HandlerMetrics`: rate, errors and duration of every entrypoint;
- :class:`OutboxRelayRunner`: the outbox relay, its retention purge, and the outbox,
  dead-letter and unroutable gauges in green threads;
- :func:`run_worker`: config, metrics endpoint, graceful stop on SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import eventlet
from amqp.exceptions import AccessRefused
from kombu import Connection
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider, SharedExtension
from nameko.runners import ServiceRunner

from coop_platform import delivery, idempotency
from coop_platform.amqp import (
    ConfirmingPublisher,
    HandlerQueues,
    OutgoingMessage,
    Unroutable,
    copy_of,
    dead_letter_count,
    delay_queue_name,
    queue_depth,
    unroutable_name,
)
from coop_platform.config import Settings, seconds_setting
from coop_platform.envelope import origin_refusal
from coop_platform.inbox import purge_inbox
from coop_platform.metrics import (
    DEAD_LETTER_QUEUE_MESSAGES,
    DEAD_LETTERED,
    EVENT_RETRIES,
    EVENTS_REFUSED,
    HANDLER_CALLS,
    HANDLER_SECONDS,
    UNROUTABLE_QUEUE_MESSAGES,
    serve_metrics,
)
from coop_platform.outbox import OutboxRelay, purge_outbox

log = logging.getLogger(__name__)


def make_psycopg2_green() -> None:
    """Let psycopg2 yield to other green threads while it waits on the server (DESIGN D2).

    libpq applies `connect_timeout` only to the connections it waits for itself: with a wait
    callback, connecting to a host that never answers waited for ever. The callback keeps that
    deadline itself while a connection is being set up."""
    try:
        import psycopg2
        from psycopg2 import extensions
    except ImportError:  # pragma: no cover - SQLite-only install
        return
    from eventlet.hubs import trampoline

    established = (extensions.STATUS_READY, extensions.STATUS_BEGIN, extensions.STATUS_PREPARED)

    def wait_callback(conn: Any, timeout: float | None = None) -> None:
        deadline = None
        if conn.status not in established:
            seconds = float(extensions.parse_dsn(conn.dsn).get("connect_timeout") or 0)
            deadline = time.monotonic() + seconds if seconds > 0 else None
        while True:
            state = conn.poll()
            if state == extensions.POLL_OK:
                return
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                conn.close()
                raise psycopg2.OperationalError("timeout expired while connecting (connect_timeout)")
            expired = psycopg2.OperationalError("timeout expired while connecting (connect_timeout)")
            if state == extensions.POLL_READ:
                trampoline(conn.fileno(), read=True, timeout=remaining, timeout_exc=expired)
            elif state == extensions.POLL_WRITE:
                trampoline(conn.fileno(), write=True, timeout=remaining, timeout_exc=expired)
            else:
                raise psycopg2.OperationalError(f"bad poll state {state}")

    extensions.set_wait_callback(wait_callback)


class DeliveryRoutes(SharedExtension):
    """One confirming publisher per worker process for what its handlers send to their own
    retry and dead-letter exchanges, and the delivery settings (read once)."""

    def __init__(self) -> None:
        self._publisher: ConfirmingPublisher | None = None
        self._lock = threading.Lock()  # green under eventlet: one publish at a time
        self._settings: delivery.DeliverySettings | None = None

    @property
    def settings(self) -> delivery.DeliverySettings:
        if self._settings is None:
            self._settings = delivery.DeliverySettings.from_env()
        return self._settings

    def publish(self, message: OutgoingMessage) -> None:
        """Publish one persistent, mandatory message and wait for its confirm."""
        with self._lock:
            try:
                if self._publisher is None:
                    self._publisher = ConfirmingPublisher(self.container.config["AMQP_URI"],
                                                          declare_exchanges=False)
                self._publisher.publish_many([message])
                if self._publisher.unroutable:
                    raise Unroutable(f"no queue is bound to {message.exchange!r} with routing key "
                                     f"{message.routing_key!r}")
            except Exception:
                self._drop()
                raise

    def _drop(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            try:
                publisher.close()
            except Exception:  # noqa: BLE001 - already broken
                log.debug("closing the delivery publisher failed", exc_info=True)

    def stop(self) -> None:
        with self._lock:
            self._drop()

    def kill(self) -> None:
        self._drop()


class CoopEventHandler(EventHandler):
    """Event handler on its own quorum queue. A message that did not come from the handler's
    source is dead-lettered unread; a failure is retried after growing delays through the
    service's retry exchange and dead-lettered after COOP_EVENT_RETRY_MAX_SECONDS; a message
    that keeps killing its consumer is dead-lettered by the broker after `max_deliveries`."""

    delivery_routes = DeliveryRoutes()

    def __init__(self, source_service: str, event_type: str, max_deliveries: int = 5, **kwargs: Any) -> None:
        super().__init__(source_service, event_type, **kwargs)
        self.max_deliveries = max_deliveries
        self.queues: HandlerQueues | None = None

    def setup(self) -> None:
        super().setup()  # nameko names the queue "evt-<source>-<event>--<service>.<method>"
        self.queues = HandlerQueues(
            self.container.service_name, self.queue.name, self.source_service, self.event_type,
            self.max_deliveries, self.delivery_routes.settings.retry_delays)
        with Connection(self.container.config["AMQP_URI"]) as conn:
            self.queue = self.queues.declare(conn)

    def _origin(self, message: Any) -> tuple[str | None, str | None]:
        info = message.delivery_info
        return delivery.origin_of(message.headers, info.get("exchange", ""), info.get("routing_key", ""),
                                  self.queues.retry_exchange.name)

    def handle_message(self, body: Any, message: Any) -> None:
        origin_exchange, _ = self._origin(message)
        refusal = origin_refusal(body, self.source_service, self.event_type, origin_exchange)
        if refusal is None:
            super().handle_message(body, message)
            return
        EVENTS_REFUSED.labels(queue=self.queue.name).inc()
        log.error("refused message %s on %s (dead-lettered unread): %s",
                  message.properties.get("message_id"), self.queue.name, refusal)
        self._dead_letter_or_requeue(message, f"refused: {refusal}")

    def handle_result(self, message: Any, worker_ctx: Any, result: Any = None, exc_info: Any = None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return result, exc_info
        settings = self.delivery_routes.settings
        decision = delivery.decide_retry(message.headers, time.time(), settings)
        error = f"{exc_info[0].__name__}: {exc_info[1]}"
        origin_exchange, origin_key = self._origin(message)
        headers = delivery.retry_headers(message.headers, decision, error, origin_exchange or "", origin_key or "")
        event_id = message.properties.get("message_id")
        if decision.give_up:
            log.error("giving up on event %s after %d failed attempts over %.0fs: dead-lettered (%s)",
                      event_id, decision.attempt, time.time() - decision.first_failed_at, error)
            self._dead_letter_or_requeue(message, f"retries exhausted after {decision.attempt} attempts",
                                         headers)
            return result, exc_info
        queues = self.queues
        parked = copy_of(message, queues.retry_exchange.name,
                         delay_queue_name(queues.name, decision.delay_seconds),
                         queues.retry_exchange.name, headers)
        try:
            self.delivery_routes.publish(parked)
        except Exception:  # noqa: BLE001 - the broker is in trouble: let it redeliver the original
            log.warning("could not park event %s for a retry; requeued", event_id, exc_info=True)
            self.queue_consumer.requeue_message(message)
            return result, exc_info
        EVENT_RETRIES.labels(queue=queues.name).inc()
        log.warning("event %s failed (attempt %d, %s); retrying in %gs",
                    event_id, decision.attempt, error, decision.delay_seconds)
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def _dead_letter_or_requeue(self, message: Any, reason: str,
                                headers: dict[str, Any] | None = None) -> None:
        queues = self.queues
        extra = {**(headers or {}), delivery.HEADER_DEAD_LETTER_REASON: reason[:delivery.MAX_ERROR_TEXT],
                 delivery.HEADER_DEAD_LETTERED_AT: datetime.now(UTC).isoformat()}
        parked = copy_of(message, queues.dead_letter_exchange.name, queues.dead_letter_queue_name,
                         queues.retry_exchange.name, extra)
        try:
            self.delivery_routes.publish(parked)
        except Exception:  # noqa: BLE001 - the broker is in trouble: let it redeliver the original
            log.warning("could not dead-letter %s; requeued", message.properties.get("message_id"),
                        exc_info=True)
            self.queue_consumer.requeue_message(message)
            return
        DEAD_LETTERED.labels(queue=queues.name).inc()
        self.queue_consumer.ack_message(message)


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
    """Runs the outbox relay for the service's database inside the worker process, purges the
    outbox after its retention, and keeps the outbox, dead-letter and unroutable gauges fresh
    (the dead-letter queues are those of the service's own CoopEventHandlers)."""

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
        self.container.spawn_managed_thread(self._purge, identifier="outbox-purge")

    def handler_queues(self) -> list[str]:
        return [e.queue.name for e in self.container.entrypoints if isinstance(e, CoopEventHandler)]

    def _gauges(self) -> None:
        settings = self.settings_factory()
        unroutable = unroutable_name(self.container.service_name)
        broker: Connection | None = None
        while not self._stopping:
            try:
                if self.relay:
                    self.relay.refresh_metrics()
                broker = broker or Connection(settings.amqp_url, connect_timeout=3)
                for queue in self.handler_queues():
                    DEAD_LETTER_QUEUE_MESSAGES.labels(queue=f"{queue}.dlq").set(dead_letter_count(broker, queue))
                kept = queue_depth(broker, unroutable)
                if kept is not None:
                    UNROUTABLE_QUEUE_MESSAGES.labels(queue=unroutable).set(kept)
            except Exception:  # noqa: BLE001 - gauges are best effort; reconnect next time
                log.debug("gauge refresh failed", exc_info=True)
                if broker is not None:
                    broker.release()
                broker = None
            eventlet.sleep(2.0)
        if broker is not None:
            broker.release()

    def _purge(self) -> None:
        """Delete sent (and long-quarantined) outbox rows after COOP_OUTBOX_RETENTION_DAYS, so
        that an erased member's personal data does not outlive the retention there, and the
        idempotency keys past theirs (COOP_IDEMPOTENCY_RETENTION_HOURS), and the processed-event
        ids of the inbox after COOP_INBOX_RETENTION_DAYS."""
        settings = delivery.DeliverySettings.from_env()
        retention = timedelta(days=settings.outbox_retention_days)
        inbox_retention = timedelta(days=settings.inbox_retention_days)
        while not self._stopping:
            try:
                if self.relay and (purged := purge_outbox(self.relay.engine, retention)):
                    log.info("purged %d outbox rows older than %s", purged, retention)
                if self.relay and (forgotten := idempotency.purge_expired(self.relay.engine)):
                    log.info("purged %d idempotency keys past their retention", forgotten)
                if self.relay and (known := purge_inbox(self.relay.engine, inbox_retention)):
                    log.info("forgot %d processed-event ids older than %s", known, inbox_retention)
            except Exception:  # noqa: BLE001 - try again next round
                log.warning("outbox purge failed", exc_info=True)
            slept = 0.0
            while slept < settings.outbox_purge_interval_seconds and not self._stopping:
                eventlet.sleep(1.0)
                slept += 1.0

    def stop(self) -> None:
        self._stopping = True
        if self.relay:
            self.relay.stop()

    def kill(self) -> None:
        self.stop()


#: entrypoints a worker runs at once unless its service asks for more (nameko's own default)
DEFAULT_MAX_WORKERS = 10


def nameko_config(settings: Settings, max_workers: int = DEFAULT_MAX_WORKERS) -> dict[str, Any]:
    return {"AMQP_URI": settings.amqp_url, "max_workers": max_workers, "serializer": "json"}


def broker_wait_seconds(value: str | None = None) -> float:
    """How long a starting worker waits for RabbitMQ (COOP_BROKER_WAIT_SECONDS, default 120 s)."""
    return seconds_setting("COOP_BROKER_WAIT_SECONDS", 120.0, low=0.0, high=3600.0, value=value)


def wait_for_broker(settings: Settings, wait_seconds: float | None = None) -> None:
    """Wait until RabbitMQ accepts our connection, saying so once, before the handlers declare
    their queues: a worker started before the broker (Compose, a node reboot) then starts cleanly
    instead of dying in each handler's set-up with a traceback apiece. Exit 1 with one line once
    the wait is over, and at once when the broker refuses our credentials (waiting cannot mend it)."""
    wait = broker_wait_seconds() if wait_seconds is None else wait_seconds
    where = settings.amqp_url.rsplit("@", 1)[-1]
    deadline = time.monotonic() + wait
    delay, warned = 0.5, False
    while True:
        try:
            with Connection(settings.amqp_url, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
            if warned:
                log.warning("broker %s reachable: starting", where)
            return
        except AccessRefused as exc:
            print(f"{settings.service_name} worker: the broker at {where} refused our credentials: {exc}",
                  file=sys.stderr, flush=True)
            raise SystemExit(1) from exc
        except Exception as exc:  # noqa: BLE001 - unreachable for now: wait, then say why we gave up
            if time.monotonic() + delay > deadline:
                print(f"{settings.service_name} worker: the broker at {where} is unreachable after "
                      f"{wait:g} s (COOP_BROKER_WAIT_SECONDS): {type(exc).__name__}: {exc}",
                      file=sys.stderr, flush=True)
                raise SystemExit(1) from exc
            if not warned:
                log.warning("broker %s unreachable (%s: %s); waiting up to %g s", where,
                            type(exc).__name__, exc, wait)
                warned = True
            eventlet.sleep(delay)
            delay = min(delay * 2, 5.0)


def run_worker(service_cls: type, settings: Settings, max_workers: int = DEFAULT_MAX_WORKERS) -> None:
    """Run one nameko service until SIGTERM/SIGINT, then stop it gracefully. Refuses to start
    (exit 2, one line) on delivery settings that contradict each other. `max_workers` bounds the
    entrypoints running at once, and so the unacknowledged messages of each queue (prefetch)."""
    try:
        delivery.DeliverySettings.from_env()
    except ValueError as exc:
        print(f"{settings.service_name} worker: refusing to start: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from exc
    serve_metrics(settings.metrics_port, settings.metrics_host)
    wait_for_broker(settings)
    runner = ServiceRunner(nameko_config(settings, max_workers))
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
        self._database: Any = None

    def settings(self) -> Settings:
        if self._settings is None:
            from coop_platform.config import load_settings

            self._settings = load_settings(self.service_name, "worker")
        return self._settings

    def engine(self) -> Any:
        if self._engine is None:
            from coop_platform.db import Database

            make_psycopg2_green()
            self._database = Database.open(self.settings().database_url, pool_size=10)
            self._engine = self._database.engine
        return self._engine

    def uow_factory(self) -> Any:
        self.engine()
        return self.uow_class(self._database)

    def run(self, service_cls: type, max_workers: int = DEFAULT_MAX_WORKERS) -> None:
        """Body of every worker entrypoint: JSON logs, migrations, then the nameko service."""
        from coop_platform.logs import configure_logging
        from coop_platform.migrations import upgrade

        settings = self.settings()
        configure_logging(self.service_name, settings.log_level)
        upgrade(self.service_name, settings.database_url)
        run_worker(service_cls, settings, max_workers)
