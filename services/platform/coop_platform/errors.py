"""Domain error vocabulary shared by every service, and its gRPC status names.

Domains raise these (or classes with the same names: mapping is by class name
along the MRO, so a service's pure domain needs no import from here).
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; never a bug."""

    status_name = "FAILED_PRECONDITION"

    def __init__(self, message: str, *, field: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class InvalidArgument(DomainError):
    status_name = "INVALID_ARGUMENT"


class NotFound(DomainError):
    status_name = "NOT_FOUND"


class AlreadyExists(DomainError):
    status_name = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    status_name = "FAILED_PRECONDITION"


class PermissionDenied(DomainError):
    status_name = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    status_name = "UNAUTHENTICATED"


class ResourceExhausted(DomainError):
    """A request larger than this service parses, or a limit on open streams reached."""

    status_name = "RESOURCE_EXHAUSTED"


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
