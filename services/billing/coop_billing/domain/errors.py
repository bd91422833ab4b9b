"""Domain errors.

Each subclass maps one-to-one onto a gRPC status code (DESIGN D6), so the api
layer can translate without inspecting messages. ``detail`` carries structured
data (e.g. ``shortfall_cents``) so clients never parse prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    grpc_code: str = "UNKNOWN"

    def __init__(self, message: str, detail: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail: dict[str, Any] = dict(detail or {})

    def __str__(self) -> str:
        return self.message


class InvalidArgument(DomainError):
    """The input itself is malformed, whatever the state of the system."""

    grpc_code = "INVALID_ARGUMENT"


class NotFound(DomainError):
    """A referenced entity (or a rate in force at a date) does not exist."""

    grpc_code = "NOT_FOUND"


class AlreadyExists(DomainError):
    """Creating something that exists (duplicate payment id, duplicate rate change...)."""

    grpc_code = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    """The input is fine but the current state forbids it (e.g. budget too small)."""

    grpc_code = "FAILED_PRECONDITION"

    @property
    def shortfall_cents(self) -> int | None:
        """Missing amount when the refusal is about money, else None."""
        value = self.detail.get("shortfall_cents")
        return int(value) if value is not None else None


class PermissionDenied(DomainError):
    """The caller is known but not allowed to do this."""

    grpc_code = "PERMISSION_DENIED"
