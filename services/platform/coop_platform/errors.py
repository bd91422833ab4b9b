"""The error vocabulary, re-exported for platform code: it lives in the pure `coop_domain.errors`
so that domains use it without importing the platform."""

from coop_domain.errors import (  # noqa: F401 - re-exported
    Aborted,
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    status_name_for,
)
