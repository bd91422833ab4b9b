"""Tables of the observers family (adapters/orm.py's metadata)."""

from __future__ import annotations
