"""Domain errors of the elections service.

They carry no transport concerns and import nothing from coop_platform: its gRPC
interceptor maps them by class name (along the MRO, so ``ChainBroken`` is an
``InvalidArgument``) to one status code (DESIGN D6). The class chosen here *is*
the public contract:

=====================  ====================
class                  gRPC code
=====================  ====================
InvalidArgument        INVALID_ARGUMENT
NotFound               NOT_FOUND
AlreadyExists          ALREADY_EXISTS
FailedPrecondition     FAILED_PRECONDITION
PermissionDenied       PERMISSION_DENIED
=====================  ====================
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected, user-facing failure of the elections domain."""


class InvalidArgument(DomainError):
    """The request itself is malformed (bad ballot, bad definition, ...)."""


class NotFound(DomainError):
    """A referenced thing (question, tracker, proxy) does not exist."""


class AlreadyExists(DomainError):
    """Creating something that must be unique a second time."""


class FailedPrecondition(DomainError):
    """The request is well-formed but the current state forbids it."""


class PermissionDenied(DomainError):
    """The caller is not the party allowed to perform this action."""


class ChainBroken(InvalidArgument):
    """A published ballot box does not verify (tampered, reordered, truncated).

    ``index`` is the position of the first offending entry (or ``None`` when
    the problem is box-wide, e.g. a wrong head hash).
    """

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index
