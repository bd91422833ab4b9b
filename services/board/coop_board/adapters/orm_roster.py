"""Tables of the roster family (adapters/orm.py's metadata)."""

from __future__ import annotations
