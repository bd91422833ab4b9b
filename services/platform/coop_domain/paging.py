"""Page tokens (AIP-158): opaque to clients, checked on the way back in.

A token is the position after the last item returned, as URL-safe base64 of a small JSON
array tagged with the list it belongs to, so a token of one list is refused by another.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from coop_domain.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_size(requested: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """The page size to serve: 0 means the default, above the maximum is capped (AIP-158)."""
    if requested < 0:
        raise InvalidArgument("page_size must not be negative", field="page_size", reason="INVALID_PAGE_SIZE")
    return min(requested or default, maximum)


def encode_page_token(kind: str, *position: Any) -> str:
    """The token of the page after `position` in list `kind`."""
    raw = json.dumps([kind, *position], separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_page_token(token: str, kind: str, arity: int, *,
                      types: tuple[type, ...] | None = None) -> list[Any] | None:
    """The position in a token this service issued for list `kind`; None for "" (first page).
    `types`, when given, is the type of each value (an int is never a bool): a token whose
    position has other types is refused like a foreign one."""
    if not token:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity + 1 or values[0] != kind or (
            types is not None and not _typed(values[1:], types)):
        raise InvalidArgument("page_token is not a token this service issued for this list",
                              field="page_token", reason="INVALID_PAGE_TOKEN")
    return values[1:]


def _typed(values: list[Any], types: tuple[type, ...]) -> bool:
    return len(values) == len(types) and all(
        isinstance(v, t) and not (t is int and isinstance(v, bool)) for v, t in zip(values, types, strict=False))
