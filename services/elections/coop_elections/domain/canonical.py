"""Canonical JSON and hashing helpers.

Hashes over ballots must be recomputable by anyone, in any language, from the
published JSON. So the canonical form is deliberately boring: UTF-8 JSON, keys
sorted, no insignificant whitespace, no floats (ballot content only holds
strings, lists and integers), non-ASCII kept as is.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from decimal import Decimal
from fractions import Fraction
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` to its unique canonical byte form."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256, the only digest used in published artefacts."""
    return hashlib.sha256(data).hexdigest()


def to_jsonable(value: Any) -> Any:
    """Turn result objects (dataclasses, Fractions, Decimals, enums) into JSON data.

    Fractions become ``"n/d"`` strings and Decimals their exact string so that
    publishing a result never rounds anything.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot publish a {type(value).__name__}")
