"""Use cases of dossiers' background documents: management adds them (before or with a
version); the board and management download them, checked against their recorded SHA-256."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from coop_board.domain import roles
from coop_board.domain.dossiers import DECIDED
from coop_board.domain.dossiers_documents import Document, check_content
from coop_board.service_layer.board_access import seated
from coop_board.service_layer.dossiers import Upload, load, require_reader, store_upload
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_board.service_layer.ports_dossiers import DocumentStore
from coop_domain.errors import FailedPrecondition, NotFound
from coop_domain.principal import Principal


def add_document(uow: BoardUnitOfWork, caller: Principal, store: DocumentStore, dossier_id: str, upload: Upload,
                 max_bytes: int, at: datetime) -> Document:
    """Management adds a background document to a dossier; a version lists it when submitted."""
    caller.require(roles.MANAGEMENT)
    with uow:
        dossier = load(uow, caller, dossier_id, lock=True)
        if dossier.status == DECIDED:
            raise FailedPrecondition("the board adopted a proposal of this dossier", field="dossier_id",
                                     reason="DOSSIER_DECIDED")
        document = store_upload(uow, store, caller, dossier.dossier_id, upload, max_bytes, at)
        uow.commit()
    return document


def get_document(uow: BoardUnitOfWork, caller: Principal, store: DocumentStore,
                 document_id: str, *, today: date | None = None) -> tuple[Document, bytes]:
    """A document's description and bytes; refused when the stored bytes are not the ones uploaded."""
    require_reader(caller)
    with uow:
        uow.read_only()
        require_reader(seated(uow, caller, today))  # a director sitting today
        document = uow.dossiers.document(caller.tenant, document_id) if document_id else None
    if document is None:
        raise NotFound(f"no document {document_id!r}", field="document_id", reason="DOCUMENT_NOT_FOUND")
    content = store.read(document.sha256)
    check_content(document, None if content is None else hashlib.sha256(content).hexdigest())
    assert content is not None
    return document, content
