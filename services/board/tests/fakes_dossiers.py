"""In-memory fakes of the dossiers family's repositories (service_layer/ports_dossiers.py)."""

from __future__ import annotations


class FakeDossierRepository:
    pass
