"""Domain errors: the platform's vocabulary (coop_platform.errors, pure Python), which the
gRPC layer maps to status codes (DESIGN D6). ``detail`` carries structured data
(e.g. ``shortfall_cents``) so clients never parse prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coop_platform import errors as _platform


class DomainError(_platform.DomainError):
    """Base of every error the domain raises on purpose."""

    def __init__(self, message: str, detail: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.detail: dict[str, Any] = dict(detail or {})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.grpc_code = cls.status_name  # kept for callers; the platform reads status_name

    def __str__(self) -> str:
        return self.message


class InvalidArgument(DomainError, _platform.InvalidArgument):
    """The input itself is malformed, whatever the state of the system."""


class NotFound(DomainError, _platform.NotFound):
    """A referenced entity (or a rate in force at a date) does not exist."""


class AlreadyExists(DomainError, _platform.AlreadyExists):
    """Creating something that exists (duplicate payment id, duplicate rate change...)."""


class FailedPrecondition(DomainError, _platform.FailedPrecondition):
    """The input is fine but the current state forbids it (e.g. budget too small)."""

    @property
    def shortfall_cents(self) -> int | None:
        """Missing amount when the refusal is about money, else None."""
        value = self.detail.get("shortfall_cents")
        return int(value) if value is not None else None


class PermissionDenied(DomainError, _platform.PermissionDenied):
    """The caller is known but not allowed to do this."""
