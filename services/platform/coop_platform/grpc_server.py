"""gRPC server bootstrap (DESIGN D1, D6, D7): plain grpcio, never inside eventlet.

One interceptor does, for every RPC: correlation id, bearer-token check,
domain-error -> status-code mapping and the standard Prometheus metrics.
Health (NOT_SERVING while the database is unreachable) and reflection are on.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from coop_platform.auth import Principal, TokenVerifier, verifier_for
from coop_platform.config import MAX_REQUEST_BYTES, MAX_STREAM_MESSAGE_BYTES, Settings
from coop_platform.db import database_reachable
from coop_platform.errors import DomainError, InvalidArgument, ResourceExhausted, status_name_for
from coop_platform.logs import clean_correlation_id, reset_correlation_id, set_correlation_id
from coop_platform.metrics import GRPC_HANDLED, GRPC_HANDLING_SECONDS, GRPC_STARTED, serve_metrics
from coop_platform.rich_status import DATABASE_RETRY_SECONDS, build_status, error_domain
from coop_platform.trust import TrustConfigurationError

log = logging.getLogger(__name__)

_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "principal", default=None
)
PUBLIC_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")
API_CHILD_ENV = "COOP_API_CHILD"
#: Responses may be large (a member's data export, a published ballot box).
MAX_SEND_BYTES = 64 * 1024 * 1024
#: Threads shared by the public streams that hold one (reflection): they never take the RPCs'.
PUBLIC_STREAM_THREADS = 2


def current_principal() -> Principal:
    principal = _principal.get()
    if principal is None:  # only reachable for public methods, which never ask
        raise RuntimeError("no authenticated principal in this call")
    return principal


def _split_method(full_method: str) -> tuple[str, str]:
    _, service, method = full_method.split("/", 2)
    return service, method


class PlatformInterceptor(grpc.ServerInterceptor):
    """Auth, errors, metrics and correlation ids for every RPC of a service.

    A request is parsed only after its token passed: the deserializer hands over the wire bytes,
    and the call's scope checks the token, then the size, then parses. Public methods (health,
    reflection) need no token; they are kept from pinning the server's threads: a health Watch
    runs in grpcio's non-blocking mode (no thread while it waits), reflection streams share a
    small pool of their own.
    """

    def __init__(self, verifier: TokenVerifier, *, max_request_bytes: int = MAX_REQUEST_BYTES,
                 max_stream_message_bytes: int = MAX_STREAM_MESSAGE_BYTES,
                 public_stream_threads: int = PUBLIC_STREAM_THREADS) -> None:
        self.verifier = verifier
        self.max_request_bytes = max_request_bytes
        self.max_stream_message_bytes = max_stream_message_bytes
        self._public_pool = futures.ThreadPoolExecutor(public_stream_threads, thread_name_prefix="grpc-public")
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[override]
        # Handlers are built once per method, not once per call.
        full_method = handler_call_details.method
        cached = self._wrapped.get(full_method)
        if cached is not None:
            return cached
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        self._wrapped[full_method] = built = self._build(handler, full_method)
        return built

    def _build(self, handler: grpc.RpcMethodHandler, full_method: str) -> grpc.RpcMethodHandler:
        public = full_method.startswith(PUBLIC_PREFIXES)
        service, method = _split_method(full_method)
        if handler.unary_unary:
            kind, behavior, factory = "unary", handler.unary_unary, grpc.unary_unary_rpc_method_handler
        elif handler.unary_stream:
            kind, behavior, factory = "server_stream", handler.unary_stream, grpc.unary_stream_rpc_method_handler
        elif handler.stream_unary:
            kind, behavior, factory = "client_stream", handler.stream_unary, grpc.stream_unary_rpc_method_handler
        else:
            kind, behavior, factory = "bidi_stream", handler.stream_stream, grpc.stream_stream_rpc_method_handler
        if public and getattr(behavior, "experimental_non_blocking", False):
            wrapped = _non_blocking(behavior, kind, service, method)
        else:
            parse = None if public else _parser(handler.request_deserializer, kind, self.max_request_bytes,
                                                self.max_stream_message_bytes)
            wrapped = self._wrap(behavior, parse, kind, service, method, kind in ("server_stream", "bidi_stream"))
            if public and kind != "unary":  # a reflection stream lives as long as its client wants
                wrapped.experimental_thread_pool = self._public_pool
        return factory(
            wrapped,
            # None: grpcio hands authenticated methods the wire bytes, parsed after the token check
            request_deserializer=handler.request_deserializer if public else None,
            response_serializer=handler.response_serializer,
        )

    def _wrap(self, behavior, parse, kind: str, service: str, method: str, streams_out: bool):
        verifier = self.verifier
        started_counter = GRPC_STARTED.labels(kind, service, method)
        handling = GRPC_HANDLING_SECONDS.labels(kind, service, method)
        handled: dict[str, Any] = {}
        domain = error_domain(service)

        @contextlib.contextmanager
        def scope(request_or_iterator: Any, context: grpc.ServicerContext) -> Iterator[list[Any]]:
            """Correlation id, principal, parsing, error mapping and metrics around one call;
            yields [the request, or the checked request iterator]."""
            metadata = {k.lower(): v for k, v in (context.invocation_metadata() or ())}
            corr_token = set_correlation_id(clean_correlation_id(metadata.get("x-correlation-id")))
            principal_token = None
            started_counter.inc()
            started = time.perf_counter()
            code = "OK"
            try:
                if parse is not None:
                    principal_token = _principal.set(verifier.principal_from_metadata(metadata))
                    request_or_iterator = parse(request_or_iterator)
                yield [request_or_iterator]
            except GeneratorExit:  # the client went away in the middle of a stream
                code = "CANCELLED"
                raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes a status code
                code, message = _status_for(exc, context)
                if not message:  # the servicer aborted itself with this code; keep its abort
                    raise
                if code in ("INTERNAL", "UNKNOWN"):
                    log.exception("bug: %s/%s failed", service, method)
                context.abort_with_status(build_status(
                    code, _clip(message), domain=domain, exc=exc,
                    reason="DATABASE_UNAVAILABLE" if code == "UNAVAILABLE" and not isinstance(exc, DomainError) else None,
                    retry_after_seconds=DATABASE_RETRY_SECONDS if code == "UNAVAILABLE" else None))
            finally:
                counter = handled.get(code)
                if counter is None:
                    counter = handled[code] = GRPC_HANDLED.labels(kind, service, method, code)
                counter.inc()
                handling.observe(time.perf_counter() - started)
                if principal_token is not None:
                    _principal.reset(principal_token)
                reset_correlation_id(corr_token)

        def run(request_or_iterator: Any, context: grpc.ServicerContext) -> Any:
            with scope(request_or_iterator, context) as request:
                return behavior(request[0], context)

        def run_stream(request_or_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            # A generator: each response goes out as the servicer yields it (a year of statements
            # is never held in memory), with the call's context kept around it.
            with scope(request_or_iterator, context) as request:
                yield from behavior(request[0], context)

        return run_stream if streams_out else run


def _non_blocking(behavior: Any, kind: str, service: str, method: str) -> Any:
    """A public method in grpcio's non-blocking mode (health Watch): it answers through a callback
    and holds no thread while it waits, so any number of watchers cannot starve the RPCs; counted
    like every other call, its end when the client leaves."""
    started_counter = GRPC_STARTED.labels(kind, service, method)
    ended_counter = GRPC_HANDLED.labels(kind, service, method, "OK")

    def run(request: Any, context: grpc.ServicerContext, send_response_callback: Any) -> Any:
        started_counter.inc()
        context.add_callback(ended_counter.inc)
        return behavior(request, context, send_response_callback)

    run.experimental_non_blocking = True
    run.experimental_thread_pool = getattr(behavior, "experimental_thread_pool", None)
    return run


def _parser(deserializer: Callable[[bytes], Any] | None, kind: str, max_request_bytes: int,
            max_message_bytes: int) -> Callable[[Any], Any]:
    """Turns a call's raw request (or each message of its request stream) into the message the
    servicer expects: size bounded, parsed, NUL text refused."""
    limit = max_request_bytes if kind in ("unary", "server_stream") else max_message_bytes

    def one(raw: bytes) -> Any:
        if len(raw) > limit:
            raise ResourceExhausted(
                f"request of {len(raw)} bytes is larger than this method's limit of {limit} bytes"
                + ("" if kind == "client_stream" else "; send large imports through the streaming call"))
        try:
            message = deserializer(raw) if deserializer is not None else raw
        except DecodeError as exc:
            raise InvalidArgument("the request is not a valid message of this method's type") from exc
        if b"\x00" in raw:  # only such a request can hold a NUL character (UTF-8 writes U+0000 as 0x00)
            _reject_nul(message)
        return message

    if kind in ("unary", "server_stream"):
        return one
    return lambda iterator: map(one, iterator)


def _nul_field(value: Any, name: str = "") -> str | None:
    """Name of the first text field holding a NUL character (PostgreSQL cannot store one)."""
    if isinstance(value, str):
        return name if "\x00" in value else None
    if isinstance(value, Message):
        for field, inner in value.ListFields():
            found = _nul_field(inner, field.name)
            if found:
                return found
        return None
    if isinstance(value, bytes | int | float | bool):
        return None
    items = value.items() if hasattr(value, "items") else value  # repeated fields and maps
    for item in items:
        found = _nul_field(item, name) if not isinstance(item, tuple) else (
            _nul_field(item[0], name) or _nul_field(item[1], name))
        if found:
            return found
    return None


def _reject_nul(message: Any) -> None:
    """INVALID_ARGUMENT if a text field of the request holds NUL (PostgreSQL cannot store it)."""
    field = _nul_field(message)
    if field:
        raise InvalidArgument(f"{field} contains a NUL character", field=field)


def _clip(message: str, limit: int = 500) -> str:
    """Status details travel in trailers (percent-encoded, ~8 KiB soft limit): a message echoing a
    huge input would turn a clear INVALID_ARGUMENT into RESOURCE_EXHAUSTED on the client."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _status_for(exc: BaseException, context: grpc.ServicerContext) -> tuple[str, str]:
    name = status_name_for(exc)
    if name:
        return name, getattr(exc, "message", None) or str(exc)
    if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return "UNAVAILABLE", "the database is unreachable; retry later"
    code = context.code() if hasattr(context, "code") else None
    if code is not None and code != grpc.StatusCode.OK:
        return code.name, ""
    return "INTERNAL", "internal error; it has been logged"


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
    if settings.api_processes > 1 and not os.environ.get(API_CHILD_ENV):
        _supervise(settings)
        return
    serve_metrics(settings.metrics_port, settings.metrics_host)
    running = start_server(settings, register, engine)
    print(
        f"{settings.service_name} api: gRPC on {settings.grpc_host}:{running.port}"
        f"{' (TLS)' if settings.tls_enabled else ''}, metrics on :{settings.metrics_port}/metrics",
        flush=True,
    )
    _wait_for_signal()
    running.stop(grace=10)


def _wait_for_signal() -> None:
    done = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %s: draining gRPC calls", signum)
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    done.wait()


def _supervise(settings: Settings) -> None:
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

    metrics_dir = tempfile.mkdtemp(prefix=f"coop-{settings.service_name}-metrics-")
    env = {**os.environ, API_CHILD_ENV: "1", "PROMETHEUS_MULTIPROC_DIR": metrics_dir, "COOP_METRICS_PORT": "0"}
    children = [subprocess.Popen(sys.orig_argv, env=env) for _ in range(settings.api_processes)]
    if settings.metrics_port:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=metrics_dir)
        start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=registry)
    print(f"{settings.service_name} api: {len(children)} processes on {settings.grpc_host}:{settings.grpc_port}, "
          f"metrics on :{settings.metrics_port}/metrics", flush=True)
    _wait_for_signal()
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()
        mark_process_dead(child.pid, metrics_dir)
    shutil.rmtree(metrics_dir, ignore_errors=True)


def build_service(
    settings: Settings,
    uow_class: Callable[[Any], Any],
    make_servicer: Callable[[Callable[[], Any]], Any],
    add_servicer: Callable[[Any, grpc.Server], None],
    service_full_name: str,
) -> tuple[Engine, Callable[[grpc.Server], list[str]], Callable[[], Any]]:
    """Engine, registration callback and unit-of-work factory of one service's api (main and tests)."""
    from coop_platform.db import Database

    database = Database.open(settings.database_url)

    def uow_factory() -> Any:
        return uow_class(database)

    def register(server: grpc.Server) -> list[str]:
        add_servicer(make_servicer(uow_factory), server)
        return [service_full_name]

    return database.engine, register, uow_factory


def tune_gc(thresholds: str) -> tuple[int, ...]:
    """Keep Python's cycle collector out of the latency tail (it was most of the p99 of a
    write under load): objects alive after start-up move to the permanent generation, which
    collections no longer scan, and collections run less often. `thresholds` is
    "gen0,gen1,gen2" (COOP_GC_THRESHOLDS); empty keeps Python's own. Returns those in force."""
    import gc

    gc.collect()
    gc.freeze()
    if thresholds.strip():
        try:
            values = tuple(int(x) for x in thresholds.split(","))
            if len(values) != 3 or values[0] < 1 or min(values) < 0:
                raise ValueError
        except ValueError as exc:
            raise ValueError(f"COOP_GC_THRESHOLDS must be three counts 'gen0,gen1,gen2', not {thresholds!r}") from exc
        gc.set_threshold(*values)
    return gc.get_threshold()


def run_api(service_name: str, build: Callable[[Settings], tuple[Engine, Any, Any]],
            tenants: tuple[str, ...] = ("coop",)) -> None:
    """Body of every api entrypoint: settings, JSON logs, migrations, then serve until SIGTERM.
    `tenants`: whom the service serves by default (COOP_SERVED_TENANTS overrides)."""
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
