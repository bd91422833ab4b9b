"""In-memory fakes of the dossiers family's repositories (service_layer/ports_dossiers.py).

The repository hands out and keeps deep copies, like rows: a use case that changes a dossier
without `save` changes nothing stored. `snapshot()`/`restore()` let the fake unit of work
roll a refused use case back."""

from __future__ import annotations

import copy

from coop_board.domain.dossiers import Dossier
from coop_board.domain.dossiers_documents import Document


class FakeDossierRepository:
    def __init__(self) -> None:
        self.dossiers: dict[tuple[str, str], Dossier] = {}
        self.docs: dict[str, Document] = {}

    def snapshot(self) -> tuple[dict, dict]:
        return copy.deepcopy(self.dossiers), dict(self.docs)

    def restore(self, state: tuple[dict, dict]) -> None:
        self.dossiers, self.docs = state

    def add(self, dossier: Dossier) -> None:
        self.dossiers[(dossier.tenant, dossier.dossier_id)] = copy.deepcopy(dossier)

    def get(self, tenant: str, dossier_id: str, *, lock: bool = False) -> Dossier | None:
        found = self.dossiers.get((tenant, dossier_id))
        return copy.deepcopy(found) if found else None

    def save(self, dossier: Dossier) -> None:
        key = (dossier.tenant, dossier.dossier_id)
        stored = self.dossiers[key]
        assert dossier.versions[:len(stored.versions)] == stored.versions, "a stored version was changed"
        self.dossiers[key] = copy.deepcopy(dossier)

    def dossier_of(self, tenant: str, subject_id: str) -> str | None:
        for (t, dossier_id), d in self.dossiers.items():
            if t == tenant and (subject_id in d.states or subject_id in d.amendments):
                return dossier_id
        return None

    def list(self, tenant: str, status: str | None, after: tuple | None, limit: int) -> list[Dossier]:
        rows = sorted((d for (t, _), d in self.dossiers.items() if t == tenant and (status is None or
                                                                                     d.status == status)),
                      key=lambda d: (d.created_at, d.dossier_id))
        if after:
            rows = [d for d in rows if (d.created_at, d.dossier_id) > tuple(after)]
        return [copy.deepcopy(d) for d in rows[:limit]]

    def gauges(self, today) -> tuple[dict[str, int], int]:
        per_status: dict[str, int] = {}
        for d in self.dossiers.values():
            per_status[d.status] = per_status.get(d.status, 0) + 1
        return per_status, sum(1 for d in self.dossiers.values() if d.due_on is not None and d.due_on < today)

    def add_document(self, document: Document) -> None:
        self.docs[document.document_id] = document

    def document(self, tenant: str, document_id: str) -> Document | None:
        d = self.docs.get(document_id)
        return d if d and d.tenant == tenant else None

    def documents(self, tenant: str, document_ids: list[str]) -> list[Document]:
        return [d for i in document_ids if (d := self.document(tenant, i))]


class FakeDocumentStore:
    """Bytes by SHA-256 in a dict; `files` may be tampered with by a test."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, sha256: str, content: bytes) -> None:
        self.files.setdefault(sha256, content)

    def read(self, sha256: str) -> bytes | None:
        return self.files.get(sha256)
