"""Repositories the minutes use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from typing import Protocol


class MinutesRepository(Protocol):
    """Minutes (drafts, approvals, errata), translation tasks and published material."""
