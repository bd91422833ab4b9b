"""Errors on the wire as gRPC rich status (AIP-193): a `google.rpc.Status` in the
`grpc-status-details-bin` trailer, so a portal shows the field and the rule, and a program
branches on a stable reason instead of parsing English.

Every refused call carries an `ErrorInfo` (reason, domain, metadata). An INVALID_ARGUMENT adds a
`BadRequest` with one violation per field; an UNAVAILABLE adds a `RetryInfo` with the delay.
Clients read it with `details_of(rpc_error)` (or any gRPC rich-status library).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from coop_platform.errors import DomainError, Unavailable

#: Retry delay suggested when the database cannot be reached.
DATABASE_RETRY_SECONDS = 1.0
#: Details travel in a trailer (gRPC clients refuse trailers over 16 KiB): every text is clipped
#: and at most this many violations and metadata entries go out, so an error echoing a huge
#: input stays the error it is instead of a RESOURCE_EXHAUSTED on the client.
MAX_DETAIL_TEXT = 300
MAX_DETAIL_ENTRIES = 20


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_TEXT else text[: MAX_DETAIL_TEXT - 1] + "…"


def error_domain(grpc_service: str) -> str:
    """ErrorInfo's domain: the proto package without its version ("coop.membership")."""
    parts = grpc_service.split(".")
    return ".".join(p for p in parts[:-1] if not (p.startswith("v") and p[1:].isdigit())) or grpc_service


def build_status(code_name: str, message: str, *, domain: str, exc: BaseException | None = None,
                 reason: str | None = None, retry_after_seconds: float | None = None) -> grpc.Status:
    """The grpc.Status to abort a call with: code, message and the details above."""
    code = getattr(code_pb2, code_name)
    details: list[Any] = []
    metadata: dict[str, str] = {}
    if isinstance(exc, DomainError):
        reason = exc.reason
        metadata = {_clip(k): _clip(v) for k, v in list(exc.metadata.items())[:MAX_DETAIL_ENTRIES]}
        if exc.violations:
            details.append(error_details_pb2.BadRequest(field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=_clip(v.field), description=_clip(v.description))
                for v in exc.violations[:MAX_DETAIL_ENTRIES]]))
        if isinstance(exc, Unavailable):
            retry_after_seconds = exc.retry_after_seconds
    details.insert(0, error_details_pb2.ErrorInfo(reason=reason or code_name, domain=domain, metadata=metadata))
    if retry_after_seconds is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(retry_after_seconds * 1e9))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    status = status_pb2.Status(code=code, message=message)
    for detail in details:
        status.details.add().Pack(detail)
    return rpc_status.to_status(status)


@dataclass
class ErrorDetails:
    """What a client learns from a refused call."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    #: field path -> what is wrong with it
    field_violations: dict[str, str] = field(default_factory=dict)
    retry_after_seconds: float | None = None


def details_of(error: grpc.RpcError) -> ErrorDetails:
    """Read a refused call's rich status (the code and message alone when it has none)."""
    found = ErrorDetails(code=error.code(), message=error.details() or "")
    status = rpc_status.from_call(error)
    if status is None:
        return found
    for any_detail in status.details:
        if any_detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            any_detail.Unpack(info)
            found.reason, found.domain, found.metadata = info.reason, info.domain, dict(info.metadata)
        elif any_detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            any_detail.Unpack(bad)
            found.field_violations.update({v.field: v.description for v in bad.field_violations})
        elif any_detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            any_detail.Unpack(retry)
            found.retry_after_seconds = retry.retry_delay.ToNanoseconds() / 1e9
    return found
