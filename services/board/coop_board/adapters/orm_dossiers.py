"""Tables of the dossiers family (adapters/orm.py's metadata)."""

from __future__ import annotations
