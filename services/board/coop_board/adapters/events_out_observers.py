"""The observers family's events on the board's translator (adapters/events_out.py)."""

from __future__ import annotations

from coop_board.adapters.events_out import translate  # noqa: F401
