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
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from coop_platform.auth import Principal, principal_from_metadata
from coop_platform.config import Settings
from coop_platform.db import database_reachable
from coop_platform.errors import InvalidArgument, status_name_for
from coop_platform.logs import new_correlation_id, reset_correlation_id, set_correlation_id
from coop_platform.metrics import GRPC_HANDLED, GRPC_HANDLING_SECONDS, GRPC_STARTED, serve_metrics

log = logging.getLogger(__name__)

_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "principal", default=None
)
PUBLIC_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")
API_CHILD_ENV = "COOP_API_CHILD"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def current_principal() -> Principal:
    principal = _principal.get()
    if principal is None:  # only reachable for public methods, which never ask
        raise RuntimeError("no authenticated principal in this call")
    return principal


def _split_method(full_method: str) -> tuple[str, str]:
    _, service, method = full_method.split("/", 2)
    return service, method


class PlatformInterceptor(grpc.ServerInterceptor):
    """Auth, errors, metrics and correlation ids for every RPC of a service."""

    def __init__(self, jwt_secret: str) -> None:
        self.jwt_secret = jwt_secret
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
        wrapped = self._wrap(behavior, public, kind, service, method, kind.endswith("server_stream") or kind == "bidi_stream")
        deserializer = handler.request_deserializer
        if not public and deserializer is not None:
            deserializer = _flagging_zero_bytes(deserializer)
        return factory(
            wrapped,
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )

    def _wrap(self, behavior, public: bool, kind: str, service: str, method: str, streams_out: bool):
        secret = self.jwt_secret
        started_counter = GRPC_STARTED.labels(kind, service, method)
        handling = GRPC_HANDLING_SECONDS.labels(kind, service, method)
        handled: dict[str, Any] = {}

        @contextlib.contextmanager
        def scope(request_or_iterator: Any, context: grpc.ServicerContext) -> Iterator[list[Any]]:
            """Correlation id, principal, NUL check, error mapping and metrics around one call;
            yields [the request, or the checked request iterator]."""
            metadata = {k.lower(): v for k, v in (context.invocation_metadata() or ())}
            corr_token = set_correlation_id(metadata.get("x-correlation-id") or new_correlation_id())
            principal_token = None
            started_counter.inc()
            started = time.perf_counter()
            code = "OK"
            try:
                if not public:
                    principal_token = _principal.set(principal_from_metadata(secret, metadata))
                    if kind in ("unary", "server_stream"):
                        request_or_iterator = _reject_nul(request_or_iterator)
                    else:
                        request_or_iterator = map(_reject_nul, request_or_iterator)
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
                context.abort(getattr(grpc.StatusCode, code), _clip(message))
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
            # or a health Watch is never held in memory), with the call's context kept around it.
            with scope(request_or_iterator, context) as request:
                yield from behavior(request[0], context)

        return run_stream if streams_out else run


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


class _ZeroByte:
    """A request whose wire form holds a zero byte, as the deserializer hands it over: only
    such a request can have a NUL character in a text field (UTF-8 writes U+0000 as one zero
    byte), so only it is walked field by field; every other request skips that walk."""

    __slots__ = ("message",)

    def __init__(self, message: Any) -> None:
        self.message = message


def _flagging_zero_bytes(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def deserialize(raw: bytes) -> Any:
        message = deserializer(raw)
        return _ZeroByte(message) if b"\x00" in raw else message
    return deserialize


def _reject_nul(request: Any) -> Any:
    """The request as the servicer gets it; INVALID_ARGUMENT if a text field holds NUL."""
    if type(request) is not _ZeroByte:
        return request
    field = _nul_field(request.message)
    if field:
        raise InvalidArgument(f"{field} contains a NUL character", field=field)
    return request.message


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
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.grpc_workers),
        interceptors=[PlatformInterceptor(settings.jwt_secret)],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # several api processes of one service share the port (COOP_API_PROCESSES)
            ("grpc.so_reuseport", 1 if os.environ.get(API_CHILD_ENV) else 0),
        ],
    )
    names = list(register(server))
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
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
    serve_metrics(settings.metrics_port)
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
        start_http_server(settings.metrics_port, registry=registry)
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
    from coop_platform.db import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)

    def uow_factory() -> Any:
        return uow_class(sessions)

    def register(server: grpc.Server) -> list[str]:
        add_servicer(make_servicer(uow_factory), server)
        return [service_full_name]

    return engine, register, uow_factory


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


def run_api(service_name: str, build: Callable[[Settings], tuple[Engine, Any, Any]]) -> None:
    """Body of every api entrypoint: settings, JSON logs, migrations, then serve until SIGTERM."""
    from coop_platform.config import load_settings
    from coop_platform.logs import configure_logging
    from coop_platform.migrations import upgrade

    settings = load_settings(service_name, "api")
    configure_logging(service_name, settings.log_level)
    upgrade(service_name, settings.database_url)
    engine, register, _ = build(settings)
    tune_gc(settings.gc_thresholds)
    serve_forever(settings, register, engine)
