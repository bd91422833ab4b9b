"""DossierService (coop.board.v1, proto/coop/board/v1/dossiers.proto): thin servicer over the
dossiers use cases (registered by entrypoints/grpc_api.py).

Settings (read here and handed to the use cases):
- COOP_BOARD_DOCUMENTS_DIR: where documents' bytes are stored, by SHA-256 (default
  `$COOP_DATA_DIR/board/documents`, i.e. `./var/board/documents`). Read at each call, so an
  operator's change (and a test's) applies without a restart of the servicer object.
- COOP_BOARD_DOCUMENT_MAX_BYTES: the largest document accepted (default 25 MiB). A document
  carried inside a unary request is also bounded by the api's request limit
  (COOP_GRPC_MAX_REQUEST_BYTES, 1 MiB by default); larger ones go through UploadDocument's stream.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily

from coop.board.v1 import dossiers_pb2 as pb
from coop.board.v1 import dossiers_pb2_grpc as pb_grpc
from coop_board.adapters import messages_dossiers as msg
from coop_board.adapters.repository_dossiers_files import FileDocumentStore
from coop_board.domain.dossiers_documents import DEFAULT_MAX_BYTES
from coop_board.service_layer import dossiers, dossiers_amendments, dossiers_documents
from coop_board.service_layer.dossiers import Upload
from coop_domain.clock import local_date, utcnow
from coop_domain.errors import InvalidArgument
from coop_platform.config import default_data_dir
from coop_platform.grpc_server import current_principal
from coop_platform.idempotency import answer_once, idempotent_request

Clock = Callable[[], datetime]
DOWNLOAD_CHUNK_BYTES = 1024 * 1024
log = logging.getLogger(__name__)

VERSIONS_SUBMITTED = Counter("coop_board_dossier_versions_submitted_total",
                             "Dossier versions submitted by management (version 1 and later ones).")
AMENDMENTS_PROPOSED = Counter("coop_board_amendments_proposed_total", "Amendments proposed by directors.")
DOCUMENTS_REFUSED = Counter("coop_board_documents_refused_total",
                            "Document downloads refused because the stored file is missing or altered.")


class DossierGauges:
    """coop_board_dossiers{status} and coop_board_dossiers_overdue, counted in the database when
    Prometheus scrapes (no per-person label). The api's servicer points it at its database."""

    def __init__(self) -> None:
        self.source: tuple[Callable[[], Any], Clock] | None = None

    def describe(self) -> list[GaugeMetricFamily]:
        return [GaugeMetricFamily("coop_board_dossiers", "Dossiers per status.", labels=["status"]),
                GaugeMetricFamily("coop_board_dossiers_overdue",
                                  "Dossiers sent back to management whose next version is past its due date.")]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.source is None:
            return
        uow_factory, clock = self.source
        try:
            per_status, overdue = dossiers.gauges(uow_factory(), local_date(clock()))
        except Exception:  # a scrape never fails the api; the database's health is reported apart
            log.warning("dossier gauges unavailable", exc_info=True)
            return
        family = GaugeMetricFamily("coop_board_dossiers", "Dossiers per status.", labels=["status"])
        for status, count in per_status.items():
            family.add_metric([status], count)
        yield family
        yield GaugeMetricFamily("coop_board_dossiers_overdue",
                                "Dossiers sent back to management whose next version is past its due date.",
                                value=overdue)


GAUGES = DossierGauges()
REGISTRY.register(GAUGES)


def documents_dir() -> Path:
    """COOP_BOARD_DOCUMENTS_DIR, or `<COOP_DATA_DIR>/board/documents`."""
    value = os.environ.get("COOP_BOARD_DOCUMENTS_DIR")
    return Path(value) if value else default_data_dir() / "board" / "documents"


def document_max_bytes() -> int:
    value = os.environ.get("COOP_BOARD_DOCUMENT_MAX_BYTES") or str(DEFAULT_MAX_BYTES)
    try:
        limit = int(value)
    except ValueError:
        raise ValueError(f"COOP_BOARD_DOCUMENT_MAX_BYTES must be a number of bytes, not {value!r}") from None
    if limit <= 0:
        raise ValueError("COOP_BOARD_DOCUMENT_MAX_BYTES must be positive")
    return limit


def _upload(message: pb.DocumentUpload) -> Upload:
    return Upload(message.filename, message.media_type, message.content)


def _status(value: int) -> str | None:
    if value == pb.DOSSIER_STATUS_UNSPECIFIED:
        return None
    if value not in msg.STATUS_OF_PB:
        raise InvalidArgument(f"unknown dossier status {value}", field="status", reason="INVALID_STATUS")
    return msg.STATUS_OF_PB[value]


class DossierServicer(pb_grpc.DossierServiceServicer):
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock = utcnow) -> None:
        self.uow = uow_factory
        self.clock = clock
        GAUGES.source = (uow_factory, clock)

    def _once(self, method: str, request: Any, response_type: type, work: Callable[[Any, Any], Any]) -> Any:
        """A retryable write: one unit shared by the request_id's claim and the use case."""
        caller = current_principal()
        uow = self.uow()
        key = idempotent_request(caller.tenant, caller.subject, method, request)
        return answer_once(uow, key, response_type, lambda: work(uow, caller))

    # -- dossiers and versions
    def CreateDossier(self, request, context):
        def work(uow, caller):
            d = dossiers.create_dossier(uow, caller, msg.text_from_pb(request.title), self.clock())
            return pb.CreateDossierResponse(dossier=msg.dossier_to_pb(d))
        return self._once("CreateDossier", request, pb.CreateDossierResponse, work)

    def SubmitDossierVersion(self, request, context):
        def work(uow, caller):
            view = dossiers.submit_version(
                uow, caller, FileDocumentStore(documents_dir()), request.dossier_id,
                msg.drafts_from_pb(request.proposals), list(request.document_ids),
                [_upload(u) for u in request.documents], msg.text_from_pb(request.change_note),
                document_max_bytes(), self.clock())
            return pb.SubmitDossierVersionResponse(dossier=msg.dossier_to_pb(view.dossier),
                                                   version=msg.version_to_pb(view.dossier, view.version,
                                                                             view.documents))
        response = self._once("SubmitDossierVersion", request, pb.SubmitDossierVersionResponse, work)
        VERSIONS_SUBMITTED.inc()
        return response

    def GetDossier(self, request, context):
        view = dossiers.get_dossier(self.uow(), current_principal(), request.dossier_id, request.version,
                                   today=local_date(self.clock()))
        d = view.dossier
        if view.version is None:
            return pb.GetDossierResponse(dossier=msg.dossier_to_pb(d))
        return pb.GetDossierResponse(
            dossier=msg.dossier_to_pb(d), version=msg.version_to_pb(d, view.version, view.documents),
            amendments=[msg.amendment_to_pb(d.dossier_id, a) for a in d.amendments_of(view.version.number)])

    def ListDossiers(self, request, context):
        found, token = dossiers.list_dossiers(self.uow(), current_principal(), _status(request.status),
                                              request.page_size, request.page_token, today=local_date(self.clock()))
        return pb.ListDossiersResponse(dossiers=[msg.dossier_to_pb(d) for d in found], next_page_token=token)

    def ListDossierVersions(self, request, context):
        views, token = dossiers.list_versions(self.uow(), current_principal(), request.dossier_id, request.page_size,
                                              request.page_token, today=local_date(self.clock()))
        return pb.ListDossierVersionsResponse(
            versions=[msg.version_to_pb(v.dossier, v.version, v.documents) for v in views], next_page_token=token)

    def GetVersionChanges(self, request, context):
        found = dossiers.version_changes(self.uow(), current_principal(), request.dossier_id, request.version,
                                         today=local_date(self.clock()))
        return pb.GetVersionChangesResponse(
            dossier_id=found.dossier_id, version=found.version, change_note=msg.text_to_pb(found.change_note),
            answers_send_back=msg.send_back_to_pb(found.answers), changes=[msg.change_to_pb(c) for c in found.changes])

    # -- documents
    def AddDocument(self, request, context):
        def work(uow, caller):
            doc = dossiers_documents.add_document(uow, caller, FileDocumentStore(documents_dir()), request.dossier_id,
                                                  _upload(request.document), document_max_bytes(), self.clock())
            return pb.AddDocumentResponse(document=msg.document_to_pb(doc))
        return self._once("AddDocument", request, pb.AddDocumentResponse, work)

    def UploadDocument(self, request_iterator, context):
        limit = document_max_bytes()
        head: pb.UploadDocumentRequest | None = None
        chunks: list[bytes] = []
        size = 0
        for message in request_iterator:
            if head is None:
                head = message
            elif message.dossier_id and message.dossier_id != head.dossier_id:
                raise InvalidArgument("every message names the same dossier (or none)", field="dossier_id",
                                      reason="DOSSIER_CHANGED_MID_STREAM")
            size += len(message.chunk)
            if size > limit:
                raise InvalidArgument(f"a document is at most {limit} bytes", field="chunk",
                                      reason="DOCUMENT_TOO_LARGE", max_bytes=limit)
            chunks.append(message.chunk)
        if head is None:
            raise InvalidArgument("the stream was empty", field="dossier_id", reason="EMPTY_UPLOAD")
        whole = pb.AddDocumentRequest(dossier_id=head.dossier_id, request_id=head.request_id, document=pb.DocumentUpload(
            filename=head.filename, media_type=head.media_type, content=b"".join(chunks)))

        def work(uow, caller):
            doc = dossiers_documents.add_document(uow, caller, FileDocumentStore(documents_dir()), whole.dossier_id,
                                                  _upload(whole.document), limit, self.clock())
            return pb.UploadDocumentResponse(document=msg.document_to_pb(doc))
        return self._once("UploadDocument", whole, pb.UploadDocumentResponse, work)

    def GetDocument(self, request, context) -> Iterator[pb.GetDocumentResponse]:
        try:
            doc, content = dossiers_documents.get_document(self.uow(), current_principal(),
                                                           FileDocumentStore(documents_dir()), request.document_id,
                                                           today=local_date(self.clock()))
        except Exception as exc:
            if getattr(exc, "reason", "") in ("DOCUMENT_HASH_MISMATCH", "DOCUMENT_FILE_MISSING"):
                DOCUMENTS_REFUSED.inc()
            raise
        yield pb.GetDocumentResponse(document=msg.document_to_pb(doc), chunk=content[:DOWNLOAD_CHUNK_BYTES])
        for start in range(DOWNLOAD_CHUNK_BYTES, len(content), DOWNLOAD_CHUNK_BYTES):
            yield pb.GetDocumentResponse(chunk=content[start:start + DOWNLOAD_CHUNK_BYTES])

    # -- amendments
    def ProposeAmendment(self, request, context):
        def work(uow, caller):
            dossier_id, a = dossiers_amendments.propose_amendment(uow, caller, request.parent_id,
                                                                  msg.text_from_pb(request.text), self.clock())
            return pb.ProposeAmendmentResponse(amendment=msg.amendment_to_pb(dossier_id, a))
        response = self._once("ProposeAmendment", request, pb.ProposeAmendmentResponse, work)
        AMENDMENTS_PROPOSED.inc()
        return response

    def WithdrawAmendment(self, request, context):
        def work(uow, caller):
            dossier_id, a = dossiers_amendments.withdraw_amendment(uow, caller, request.amendment_id, self.clock())
            return pb.WithdrawAmendmentResponse(amendment=msg.amendment_to_pb(dossier_id, a))
        return self._once("WithdrawAmendment", request, pb.WithdrawAmendmentResponse, work)

    def ListAmendments(self, request, context):
        found, token = dossiers_amendments.list_amendments(
            self.uow(), current_principal(), request.dossier_id, request.version, request.proposal_id,
            request.page_size, request.page_token, today=local_date(self.clock()))
        return pb.ListAmendmentsResponse(amendments=[msg.amendment_to_pb(request.dossier_id, a) for a in found],
                                         next_page_token=token)


# (servicer class taking (uow_factory, clock), add_<Service>Servicer_to_server, service full name)
SERVICERS: list[tuple[Any, Any, str]] = [
    (DossierServicer, pb_grpc.add_DossierServiceServicer_to_server,
     pb.DESCRIPTOR.services_by_name["DossierService"].full_name)]
