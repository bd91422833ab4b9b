"""Repositories the meetings use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from typing import Protocol


class MeetingRepository(Protocol):
    """Meetings, agenda items, attendance, declarations, votes, decisions, actions."""


class DossierRepository(Protocol):
    """Dossiers, their versions, documents, proposals and amendments."""
