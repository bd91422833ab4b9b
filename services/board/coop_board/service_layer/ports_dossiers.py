"""Repositories the dossiers use cases need (service_layer/ports.py assembles them), and the
store of documents' bytes (not in the unit of work: files are written before the commit and
named by their content, so a rolled-back upload leaves at most an unreferenced file)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from coop_board.domain.dossiers import Dossier
from coop_board.domain.dossiers_documents import Document


class DossierRepository(Protocol):
    """Dossiers, their versions, documents, proposals and amendments."""

    def add(self, dossier: Dossier) -> None: ...
    def get(self, tenant: str, dossier_id: str, *, lock: bool = False) -> Dossier | None:
        """The whole dossier (lock: for a write, until the unit ends)."""
    def save(self, dossier: Dossier) -> None:
        """Write what changed on a dossier read by `get` (new versions are inserted, never updated)."""
    def dossier_of(self, tenant: str, subject_id: str) -> str | None:
        """The dossier holding a proposal or amendment."""
    def list(self, tenant: str, status: str | None, after: tuple[datetime, str] | None, limit: int) -> list[Dossier]:
        """Dossiers by (created_at, dossier_id) ascending, after a position."""
    def gauges(self, today: date) -> tuple[dict[str, int], int]:
        """Dossiers per status (every tenant), and those sent back whose due date has passed."""
    def add_document(self, document: Document) -> None: ...
    def document(self, tenant: str, document_id: str) -> Document | None: ...
    def documents(self, tenant: str, document_ids: list[str]) -> list[Document]: ...


class DocumentStore(Protocol):
    """Bytes by SHA-256 (content addressing): writing the same content twice keeps one copy."""

    def put(self, sha256: str, content: bytes) -> None: ...
    def read(self, sha256: str) -> bytes | None:
        """The stored bytes (None when there is no such file); the caller checks their hash."""
