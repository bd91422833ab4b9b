"""Errors only elections have, as subclasses of the shared vocabulary (`coop_domain.errors`,
which every other error of this service is raised from directly).

Every error names the request field it is about (`field=`, a request field path such as
"roll_cutoff") and a stable `reason` (UPPER_SNAKE_CASE) where a client can act on it; the api
turns them into gRPC rich status (docs/architecture.md, "Errors").
"""

from __future__ import annotations

from coop_domain.errors import AlreadyExists, InvalidArgument


class ChainBroken(InvalidArgument):
    """A published ballot box does not verify (tampered, reordered, truncated).

    ``index`` is the position of the first offending entry (or ``None`` when the problem is
    box-wide, e.g. a wrong head hash).
    """

    default_reason = "CHAIN_BROKEN"

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message, reason="CHAIN_BROKEN", **({"index": index} if index is not None else {}))
        self.index = index


class AlreadyVoted(AlreadyExists):
    """A ballot already counts for this voter and the request is not a retry of the cast that
    recorded it."""

    default_reason = "ALREADY_VOTED"
