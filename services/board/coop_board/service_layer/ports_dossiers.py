"""Repositories the dossiers use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from typing import Protocol


class DossierRepository(Protocol):
    """Dossiers, their versions, documents, proposals and amendments."""
