"""Use cases of dossiers: management creates a dossier and submits its versions; the board
(directors, secretary, admin) and management read them, version by version, with what changed.

Members never read a dossier here: what the board decided reaches them through published
minutes. Another tenant's dossier is NOT_FOUND, never revealed."""

from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from coop_board.domain import roles
from coop_board.domain.dossiers import (
    STATUSES,
    Dossier,
    DossierVersion,
    ProposalDraft,
    SendBack,
    new_dossier,
)
from coop_board.domain.dossiers_changes import ProposalChange, changes
from coop_board.domain.dossiers_documents import Document, check_upload
from coop_board.domain.dossiers_events import DossierSubmitted
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.board_access import seated
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_board.service_layer.ports_dossiers import DocumentStore
from coop_domain.clock import as_utc
from coop_domain.errors import InvalidArgument, NotFound
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal

#: Who reads dossiers (unpublished material): every role of the board but members.
READERS = (roles.DIRECTOR, roles.SECRETARY, roles.MANAGEMENT, roles.ADMIN)
MAX_INLINE_DOCUMENTS = 20


@dataclass(frozen=True)
class Upload:
    """A document's bytes as received (inline in a request, or assembled from a stream)."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class DossierView:
    dossier: Dossier
    version: DossierVersion | None       # the one asked for (None: nothing submitted yet)
    documents: list[Document]            # of that version


@dataclass(frozen=True)
class VersionChanges:
    dossier_id: str
    version: int
    change_note: LocalizedText
    changes: list[ProposalChange]
    answers: SendBack | None            # the send back this version answers (None for version 1)


def new_id() -> str:
    return str(uuid.uuid4())


def require_reader(caller: Principal) -> None:
    caller.require(*READERS)


def load(uow: BoardUnitOfWork, caller: Principal, dossier_id: str, *, lock: bool = False,
         field: str = "dossier_id") -> Dossier:
    """The caller's tenant's dossier, or NOT_FOUND (also for another tenant's)."""
    dossier = uow.dossiers.get(caller.tenant, dossier_id, lock=lock) if dossier_id else None
    if dossier is None:
        raise NotFound(f"no dossier {dossier_id!r}", field=field, reason="DOSSIER_NOT_FOUND")
    return dossier


def store_upload(uow: BoardUnitOfWork, store: DocumentStore, caller: Principal, dossier_id: str, upload: Upload,
                 max_bytes: int, at: datetime, path: str = "document") -> Document:
    """Check, hash and store one document's bytes and add its description (inside the caller's unit)."""
    media_type = check_upload(upload.filename, upload.media_type, len(upload.content), max_bytes, path)
    sha = hashlib.sha256(upload.content).hexdigest()
    store.put(sha, upload.content)
    document = Document(new_id(), caller.tenant, dossier_id, upload.filename.strip(), media_type,
                        len(upload.content), sha, caller.subject, at)
    uow.dossiers.add_document(document)
    return document


def create_dossier(uow: BoardUnitOfWork, caller: Principal, title: LocalizedText, at: datetime) -> Dossier:
    """Management opens a dossier on a topic (a draft until its version 1 is submitted)."""
    caller.require(roles.MANAGEMENT)
    dossier = new_dossier(new_id(), caller.tenant, title, caller.subject, at)
    with uow:
        uow.dossiers.add(dossier)
        uow.commit()
    return dossier


def submit_version(uow: BoardUnitOfWork, caller: Principal, store: DocumentStore, dossier_id: str,
                   drafts: list[ProposalDraft], document_ids: list[str], uploads: list[Upload],
                   change_note: LocalizedText, max_bytes: int, at: datetime) -> DossierView:
    """Management submits version 1, or the next version after a send back (publishes
    dossier.submitted). Documents are those uploaded before (`document_ids`, of this dossier)
    and the ones carried in the request (`uploads`)."""
    caller.require(roles.MANAGEMENT)
    if len(uploads) > MAX_INLINE_DOCUMENTS:
        raise InvalidArgument(f"at most {MAX_INLINE_DOCUMENTS} documents in the request (upload more with "
                              "AddDocument)", field="documents", reason="TOO_MANY_DOCUMENTS")
    with uow:
        dossier = load(uow, caller, dossier_id, lock=True)
        found = {d.document_id: d for d in uow.dossiers.documents(caller.tenant, list(dict.fromkeys(document_ids)))}
        for i, document_id in enumerate(document_ids):
            if document_id not in found or found[document_id].dossier_id != dossier.dossier_id:
                raise NotFound(f"no document {document_id!r} in this dossier", field=f"document_ids[{i}]",
                               reason="DOCUMENT_NOT_FOUND")
        proposal_ids = [new_id() for _ in drafts]
        # the version is checked before any byte is stored
        copy.deepcopy(dossier).submit_version(drafts, proposal_ids, list(document_ids), change_note, caller.subject, at)
        for i, u in enumerate(uploads):
            check_upload(u.filename, u.media_type, len(u.content), max_bytes, f"documents[{i}]")
        added = [store_upload(uow, store, caller, dossier.dossier_id, u, max_bytes, at, f"documents[{i}]")
                 for i, u in enumerate(uploads)]
        version = dossier.submit_version(drafts, proposal_ids, [*document_ids, *(d.document_id for d in added)],
                                         change_note, caller.subject, at)
        uow.dossiers.save(dossier)
        uow.publish(DossierSubmitted(dossier, version))
        uow.commit()
    return DossierView(dossier, version, [*(found[i] for i in document_ids), *added])


def get_dossier(uow: BoardUnitOfWork, caller: Principal, dossier_id: str, version: int = 0, *, today: date | None = None) -> DossierView:
    """A dossier with one of its versions (0: the latest), its documents and the board's work on it."""
    require_reader(caller)
    with uow:
        uow.read_only()
        require_reader(seated(uow, caller, today))  # a director sitting today
        dossier = load(uow, caller, dossier_id)
        if not dossier.versions and version == 0:
            return DossierView(dossier, None, [])
        chosen = dossier.version(version)
        documents = uow.dossiers.documents(caller.tenant, list(chosen.document_ids))
    order = {d: n for n, d in enumerate(chosen.document_ids)}
    return DossierView(dossier, chosen, sorted(documents, key=lambda d: order[d.document_id]))


def list_dossiers(uow: BoardUnitOfWork, caller: Principal, status: str | None, requested_size: int,
                  token: str, *, today: date | None = None) -> tuple[list[Dossier], str]:
    """The tenant's dossiers, oldest first, optionally of one status; paged."""
    require_reader(caller)
    if status is not None and status not in STATUSES:
        raise InvalidArgument(f"unknown status {status!r}", field="status", reason="INVALID_STATUS")
    size = page_size(requested_size)
    position = decode_page_token(token, f"dossiers:{status or ''}", 2)
    after = None
    if position:
        try:
            after = (as_utc(datetime.fromisoformat(str(position[0]))), str(position[1]))
        except ValueError:
            raise InvalidArgument("page_token is not a token this service issued for this list",
                                  field="page_token", reason="INVALID_PAGE_TOKEN") from None
    with uow:
        uow.read_only()
        require_reader(seated(uow, caller, today))  # a director sitting today
        rows = uow.dossiers.list(caller.tenant, status, after, size + 1)
    more = len(rows) > size
    rows = rows[:size]
    next_token = encode_page_token(f"dossiers:{status or ''}", rows[-1].created_at.isoformat(),
                                   rows[-1].dossier_id) if more else ""
    return rows, next_token


def list_versions(uow: BoardUnitOfWork, caller: Principal, dossier_id: str, requested_size: int,
                  token: str, *, today: date | None = None) -> tuple[list[DossierView], str]:
    """Every version of a dossier, first to latest (each stays readable as submitted), with its
    documents; paged."""
    require_reader(caller)
    size = page_size(requested_size, default=20)
    position = decode_page_token(token, f"versions:{dossier_id}", 1)
    start = int(position[0]) if position and str(position[0]).isdigit() else 0
    with uow:
        uow.read_only()
        require_reader(seated(uow, caller, today))  # a director sitting today
        dossier = load(uow, caller, dossier_id)
        chosen = dossier.versions[start:start + size]
        documents = {d.document_id: d for d in uow.dossiers.documents(
            caller.tenant, [i for v in chosen for i in v.document_ids])}
    more = start + size < len(dossier.versions)
    views = [DossierView(dossier, v, [documents[i] for i in v.document_ids if i in documents]) for v in chosen]
    return views, encode_page_token(f"versions:{dossier_id}", start + size) if more else ""


def version_changes(uow: BoardUnitOfWork, caller: Principal, dossier_id: str, version: int, *, today: date | None = None) -> VersionChanges:
    """What changed in a version and why: management's note, the send back it answers, and a
    per-proposal, per-language diff against the previous version."""
    require_reader(caller)
    with uow:
        uow.read_only()
        require_reader(seated(uow, caller, today))  # a director sitting today
        dossier = load(uow, caller, dossier_id)
    chosen = dossier.version(version)
    answers = next((s for s in reversed(dossier.send_backs) if s.version == chosen.number - 1), None)
    return VersionChanges(dossier.dossier_id, chosen.number, chosen.change_note, changes(dossier, chosen.number),
                          answers)


def gauges(uow: BoardUnitOfWork, today: date) -> tuple[dict[str, int], int]:
    """The api's business gauges (no caller: counts only, no names): dossiers per status, and
    dossiers sent back whose next version is overdue."""
    with uow:
        uow.read_only()
        per_status, overdue = uow.dossiers.gauges(today)
    return {status: per_status.get(status, 0) for status in STATUSES}, overdue
