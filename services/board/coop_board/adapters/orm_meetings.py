"""Tables of the meetings family (adapters/orm.py's metadata)."""

from __future__ import annotations
