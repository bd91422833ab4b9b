"""gRPC server bootstrap (DESIGN D1): plain grpcio, never inside eventlet.

The server gets the platform interceptor (coop_platform.grpc_interceptor), health (NOT_SERVING
while the database is unreachable), reflection in development mode, TLS when configured, and
the older API versions a service still serves. `run_api` is the body of every api entrypoint;
the process around it (signals, several processes, GC) is coop_platform.supervisor.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine

from coop_platform.auth import verifier_for
from coop_platform.config import Settings
from coop_platform.db import database_reachable
from coop_platform.grpc_interceptor import PlatformInterceptor, current_principal
from coop_platform.idempotency import answer_once, idempotent_request
from coop_platform.metrics import serve_metrics
from coop_platform.processes import terminate_pools
from coop_platform.supervisor import (
    API_CHILD_ENV,
    stop_signals,
    supervise,
    tune_gc,
    wait_for_signal,
)
from coop_platform.trust import TrustConfigurationError

__all__ = ["RunningServer", "build_service", "current_principal", "run_api", "serve_forever", "start_server",
           "tune_gc"]

log = logging.getLogger(__name__)

#: Responses may be large (a member's data export, a published ballot box).
MAX_SEND_BYTES = 64 * 1024 * 1024


class RetryableWrites:
    """Servicer mixin for retryable writes: `self.uow` makes a unit of work; `_once` runs
    `work(uow)` as the current caller with the request's request_id claimed and answered in that
    same unit (coop_platform.idempotency.answer_once), so a retry gets the first answer."""

    uow: Callable[[], Any]

    def _once(self, method: str, request: Any, response_type: type, work: Callable[[Any], Any]) -> Any:
        caller = current_principal()
        uow = self.uow()
        return answer_once(uow, idempotent_request(caller.tenant, caller.subject, method, request), response_type,
                           lambda: work(uow))


class NonBlockingHealth(health.HealthServicer):
    """grpcio's health service, its watchers answered outside its lock. In grpcio's non-blocking
    mode a Watch holds no thread, but sending blocks until the server's event thread completed
    the send, while that thread runs the close callback of a departing watcher, which takes the
    lock: grpcio's own servicer, which sends under the lock, deadlocks there (seen at shutdown
    with watchers leaving). Watchers also hear only real changes, not every periodic re-check."""

    def Watch(self, request, context, send_response_callback=None):  # noqa: N802 - gRPC's name
        if send_response_callback is None:  # a server without non-blocking support
            return super().Watch(request, context)
        service = request.service
        with self._lock:
            status = self._server_status.get(service, health_pb2.HealthCheckResponse.SERVICE_UNKNOWN)
            self._send_response_callbacks.setdefault(service, set()).add(send_response_callback)
        context.add_callback(self._on_close_callback(send_response_callback, service))
        send_response_callback(health_pb2.HealthCheckResponse(status=status))
        with self._lock:  # a change that raced the first answer must be the last word
            latest = self._server_status.get(service, health_pb2.HealthCheckResponse.SERVICE_UNKNOWN)
        if latest != status:
            send_response_callback(health_pb2.HealthCheckResponse(status=latest))
        return None

    def set(self, service, status):
        with self._lock:
            if self._gracefully_shutting_down:
                return
            changed = self._server_status.get(service) != status
            self._server_status[service] = status
            watchers = list(self._send_response_callbacks.get(service, ())) if changed else []
        for send in watchers:
            send(health_pb2.HealthCheckResponse(status=status))

    def enter_graceful_shutdown(self):
        with self._lock:
            if self._gracefully_shutting_down:
                return
            services = list(self._server_status)
        for service in services:
            self.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
        with self._lock:
            self._gracefully_shutting_down = True


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    _stop_health: threading.Event

    def stop(self, grace: float = 5.0) -> None:
        self._stop_health.set()
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()


def start_server(
    settings: Settings,
    register: Callable[[grpc.Server], Iterable[str]],
    engine: Engine | None,
    *,
    port: int | None = None,
    health_interval: float = 2.0,
) -> RunningServer:
    """Build, bind and start the server. `register` adds servicers and returns their full names."""
    interceptor = PlatformInterceptor(
        verifier_for(settings), max_request_bytes=settings.max_request_bytes,
        max_stream_message_bytes=settings.max_stream_message_bytes)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.grpc_workers),
        interceptors=[interceptor],
        options=[
            # grpc refuses larger messages before any handler runs (RESOURCE_EXHAUSTED)
            ("grpc.max_receive_message_length", max(settings.max_request_bytes, settings.max_stream_message_bytes)),
            ("grpc.max_send_message_length", MAX_SEND_BYTES),
            # several api processes of one service share the port (COOP_API_PROCESSES)
            ("grpc.so_reuseport", 1 if os.environ.get(API_CHILD_ENV) else 0),
        ],
    )
    names = list(register(server))
    health_servicer = NonBlockingHealth(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if settings.reflection_enabled:
        reflection.enable_server_reflection(
            [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            server,
        )
    address = f"{settings.grpc_host}:{settings.grpc_port if port is None else port}"
    if settings.tls_enabled:
        with open(settings.tls_key, "rb") as key, open(settings.tls_cert, "rb") as cert:  # type: ignore[arg-type]
            creds = grpc.ssl_server_credentials([(key.read(), cert.read())])
        bound = server.add_secure_port(address, creds)
    else:
        bound = server.add_insecure_port(address)
    if not bound:
        raise RuntimeError(f"could not bind gRPC on {address}")
    stop_event = threading.Event()

    def check_database() -> None:
        ok = engine is None or database_reachable(engine)
        status = (
            health_pb2.HealthCheckResponse.SERVING if ok
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *names):
            health_servicer.set(name, status)

    def watch_database() -> None:
        while not stop_event.wait(health_interval):
            check_database()

    # Every service name has a status before the first call can arrive (never NOT_FOUND).
    check_database()
    server.start()
    threading.Thread(target=watch_database, name="health-db", daemon=True).start()
    log.info("gRPC listening", extra={"address": f"{settings.grpc_host}:{bound}", "tls": settings.tls_enabled})
    return RunningServer(server, bound, health_servicer, stop_event)


def serve_forever(
    settings: Settings,
    register: Callable[[grpc.Server], Iterable[str]],
    engine: Engine | None,
) -> None:
    """Entry point body for an api process: metrics endpoint, server, graceful SIGTERM.

    With COOP_API_PROCESSES=N > 1 this process becomes a supervisor of N identical api
    processes sharing the port (SO_REUSEPORT): one Python process is bound to one core by
    the GIL, so this is how an api uses the cores of its machine. The supervisor serves
    their merged metrics (prometheus_client multiprocess mode).
    """
    stop = stop_signals()
    if settings.api_processes > 1 and not os.environ.get(API_CHILD_ENV):
        supervise(settings, stop)
        return
    serve_metrics(settings.metrics_port, settings.metrics_host)
    running = start_server(settings, register, engine)
    print(
        f"{settings.service_name} api: gRPC on {settings.grpc_host}:{running.port}"
        f"{' (TLS)' if settings.tls_enabled else ''}, metrics on :{settings.metrics_port}/metrics",
        flush=True,
    )
    wait_for_signal(stop)
    running.stop(grace=10)
    terminate_pools()  # a check still running in a pool belongs to a call the stop has cancelled


def build_service(
    settings: Settings,
    uow_class: Callable[[Any], Any],
    make_servicer: Callable[[Callable[[], Any]], Any],
    add_servicer: Callable[[Any, grpc.Server], None],
    service_full_name: str | Sequence[str],
    *,
    older_versions: Iterable[tuple[ServiceDescriptor, ServiceDescriptor]] = (),
) -> tuple[Engine, Callable[[grpc.Server], list[str]], Callable[[], Any]]:
    """Engine, registration callback and unit-of-work factory of one service's api (main and tests).

    service_full_name: the name health reports, or the names when `add_servicer` registers
    several services of one package (board-meetings: one service per aggregate).
    older_versions: (v1 service, the v2 service its servicer implements) pairs; each v1 is
    answered by the same servicer (coop_platform.api_versions) and reported in health."""
    from coop_platform.api_versions import older_version_handler
    from coop_platform.db import Database

    database = Database.open(settings.database_url)
    older = list(older_versions)

    def uow_factory() -> Any:
        return uow_class(database)

    def register(server: grpc.Server) -> list[str]:
        servicer = make_servicer(uow_factory)
        add_servicer(servicer, server)
        server.add_generic_rpc_handlers([older_version_handler(v1, v2, servicer) for v1, v2 in older])
        names = [service_full_name] if isinstance(service_full_name, str) else list(service_full_name)
        return [*names, *(v1.full_name for v1, _ in older)]

    return database.engine, register, uow_factory


def run_api(service_name: str, build: Callable[[Settings], tuple[Engine, Any, Any]],
            tenants: tuple[str, ...] | None = None) -> None:
    """Body of every api entrypoint: settings, JSON logs, migrations, then serve until SIGTERM.
    `tenants`: whom the service serves by default (its manifest's unless given;
    COOP_SERVED_TENANTS overrides both)."""
    from coop_platform.config import load_settings
    from coop_platform.logs import configure_logging
    from coop_platform.migrations import upgrade

    settings = load_settings(service_name, "api", tenants=tenants)
    configure_logging(service_name, settings.log_level)
    try:
        verifier_for(settings)  # refuse to start on an unsafe token set-up, before migrating
    except TrustConfigurationError as exc:
        print(f"{service_name} api: refusing to start: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from exc
    upgrade(service_name, settings.database_url)
    engine, register, _ = build(settings)
    tune_gc(settings.gc_thresholds)
    serve_forever(settings, register, engine)
