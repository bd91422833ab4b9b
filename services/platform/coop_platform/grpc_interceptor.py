"""The one interceptor every RPC passes through (DESIGN D6, D7): correlation id, bearer-token
check before any request is parsed, request limits, domain error -> rich status, and the
standard Prometheus metrics. Servicers read the caller with `current_principal()`."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from sqlalchemy.exc import DBAPIError, OperationalError

from coop_platform.auth import Principal, TokenVerifier
from coop_platform.config import MAX_REQUEST_BYTES, MAX_STREAM_MESSAGE_BYTES
from coop_platform.errors import DomainError, InvalidArgument, ResourceExhausted, status_name_for
from coop_platform.logs import clean_correlation_id, reset_correlation_id, set_correlation_id
from coop_platform.metrics import GRPC_HANDLED, GRPC_HANDLING_SECONDS, GRPC_STARTED
from coop_platform.rich_status import DATABASE_RETRY_SECONDS, build_status, error_domain

log = logging.getLogger(__name__)

_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "principal", default=None
)
PUBLIC_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")
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
                if isinstance(exc, grpc.RpcError) and not context.is_active():
                    code = "CANCELLED"  # the next read of a request stream the client cancelled
                    raise
                code, message = _status_for(exc, context)
                if not message:  # the servicer aborted itself with this code; keep its abort
                    raise
                if code in ("INTERNAL", "UNKNOWN"):
                    log.exception("bug: %s/%s failed", service, method)
                elif isinstance(exc, BrokenProcessPool):
                    log.warning("%s/%s: a worker of the api's process pool died mid-check", service, method)
                context.abort_with_status(build_status(
                    code, _clip(message), domain=domain, exc=exc,
                    reason=transient_reason(exc) if code == "UNAVAILABLE" and not isinstance(exc, DomainError) else None,
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


def transient_reason(exc: BaseException) -> str:
    """The reason sent with an UNAVAILABLE that no domain rule raised: what to wait for."""
    return "CHECK_PROCESS_LOST" if isinstance(exc, BrokenProcessPool) else "DATABASE_UNAVAILABLE"


def _status_for(exc: BaseException, context: grpc.ServicerContext) -> tuple[str, str]:
    name = status_name_for(exc)
    if name:
        return name, getattr(exc, "message", None) or str(exc)
    if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return "UNAVAILABLE", "the database is unreachable; retry later"
    if isinstance(exc, BrokenProcessPool):  # a worker of the api's pool died mid-check (memory, signal)
        return "UNAVAILABLE", "the process checking this request was lost; retry later"
    code = context.code() if hasattr(context, "code") else None
    if code is not None and code != grpc.StatusCode.OK:
        return code.name, ""
    return "INTERNAL", "internal error; it has been logged"


