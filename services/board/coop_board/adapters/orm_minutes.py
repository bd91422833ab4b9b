"""Tables of the minutes family (adapters/orm.py's metadata)."""

from __future__ import annotations
