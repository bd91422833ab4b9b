"""One error hierarchy for every service: what a request did wrong, said so a client can act on it.

A domain raises one of these classes; the platform's gRPC layer turns it into a status code and
a `google.rpc.Status` with details (docs/architecture.md, "Errors"):

================  ==================  ============================================
class             gRPC code           details
================  ==================  ============================================
InvalidArgument   INVALID_ARGUMENT    BadRequest: one violation per field
NotFound          NOT_FOUND           ErrorInfo
AlreadyExists     ALREADY_EXISTS      ErrorInfo
FailedPrecondition FAILED_PRECONDITION ErrorInfo (+ PreconditionFailure)
PermissionDenied  PERMISSION_DENIED   ErrorInfo
Unauthenticated   UNAUTHENTICATED     ErrorInfo
ResourceExhausted RESOURCE_EXHAUSTED  ErrorInfo
Unavailable       UNAVAILABLE         ErrorInfo + RetryInfo: retry after a delay
Aborted           ABORTED             ErrorInfo: a concurrent change; retry the whole call
================  ==================  ============================================

Every error has a `reason` (UPPER_SNAKE_CASE, stable, for programs), a `message` (English, for
people), the `field` it is about (a request field path such as "member.email") and `metadata`
(string values a client may show: "shortfall_cents": "1200").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_REASON = re.compile(r"[A-Z][A-Z0-9_]{0,62}[A-Z0-9]")


@dataclass(frozen=True)
class FieldViolation:
    """One rule one field broke: `field` is the request's field path ("member.email")."""

    field: str
    description: str


class DomainError(Exception):
    """A request the domain refuses: never a bug. Subclasses pick the status code."""

    status_name = "FAILED_PRECONDITION"
    default_reason = "FAILED_PRECONDITION"

    def __init__(self, message: str, detail: Mapping[str, Any] | None = None, *,
                 field: str | None = None, reason: str | None = None,
                 violations: Iterable[FieldViolation] = (), **metadata: Any) -> None:
        super().__init__(message)
        self.message = message
        merged: dict[str, Any] = {**(detail or {}), **metadata}
        # `detail={"field": ...}` is the older spelling of `field=`
        self.field = field or (str(merged.pop("field")) if "field" in merged else None)
        self.violations: tuple[FieldViolation, ...] = tuple(violations)
        if self.field and not any(v.field == self.field for v in self.violations):
            self.violations = (FieldViolation(self.field, message), *self.violations)
        chosen = reason or self.default_reason
        if not _REASON.fullmatch(chosen):
            raise ValueError(f"an error reason is UPPER_SNAKE_CASE, not {chosen!r}")
        self.reason = chosen
        #: structured values for clients (stringified on the wire); never personal data
        self.detail: dict[str, Any] = merged

    @property
    def metadata(self) -> dict[str, str]:
        return {str(k): _text(v) for k, v in self.detail.items() if v is not None}

    def __str__(self) -> str:
        return self.message


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(_text(v) for v in value)
    return str(value)


class InvalidArgument(DomainError):
    """The request itself is malformed: retrying it unchanged fails again."""

    status_name = default_reason = "INVALID_ARGUMENT"


class NotFound(DomainError):
    status_name = default_reason = "NOT_FOUND"


class AlreadyExists(DomainError):
    status_name = default_reason = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    """Well-formed, but the current state forbids it: retry only after that state changed."""

    status_name = default_reason = "FAILED_PRECONDITION"


class PermissionDenied(DomainError):
    status_name = default_reason = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    status_name = default_reason = "UNAUTHENTICATED"


class ResourceExhausted(DomainError):
    """A request larger than this service parses, or a limit reached."""

    status_name = default_reason = "RESOURCE_EXHAUSTED"


class Aborted(DomainError):
    """A concurrent change won: retry the whole read-modify-write."""

    status_name = default_reason = "ABORTED"


class Unavailable(DomainError):
    """Transient: the same call may succeed after `retry_after_seconds` (sent as RetryInfo)."""

    status_name = default_reason = "UNAVAILABLE"

    def __init__(self, message: str, detail: Mapping[str, Any] | None = None, *,
                 retry_after_seconds: float = 1.0, **kwargs: Any) -> None:
        super().__init__(message, detail, **kwargs)
        self.retry_after_seconds = retry_after_seconds


#: Class names mapped along the MRO, for errors not derived from DomainError above.
_STATUS_BY_CLASS_NAME = {
    "InvalidArgument": "INVALID_ARGUMENT",
    "ValidationError": "INVALID_ARGUMENT",
    "NotFound": "NOT_FOUND",
    "AlreadyExists": "ALREADY_EXISTS",
    "Conflict": "ALREADY_EXISTS",
    "FailedPrecondition": "FAILED_PRECONDITION",
    "IllegalTransition": "FAILED_PRECONDITION",
    "PermissionDenied": "PERMISSION_DENIED",
    "Unauthenticated": "UNAUTHENTICATED",
    "DomainError": "FAILED_PRECONDITION",
}


def status_name_for(exc: BaseException) -> str | None:
    """gRPC status name for a domain error, or None when it is not one (a bug)."""
    explicit = getattr(exc, "status_name", None)
    if isinstance(explicit, str):
        return explicit
    for cls in type(exc).__mro__:
        if cls.__name__ in _STATUS_BY_CLASS_NAME:
            return _STATUS_BY_CLASS_NAME[cls.__name__]
    return None
