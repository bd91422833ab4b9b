"""Background documents of a dossier: files stored by content (SHA-256), described in the
database. The bytes live in a document store (a directory, COOP_BOARD_DOCUMENTS_DIR); the
description here is what the board reads and what a download is checked against."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from coop_domain.errors import FailedPrecondition, InvalidArgument

#: Default limit of one document (COOP_BOARD_DOCUMENT_MAX_BYTES).
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
MAX_FILENAME_CHARS = 255
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Document:
    document_id: str
    tenant: str
    dossier_id: str
    filename: str
    media_type: str
    size: int
    sha256: str               # of the content: the file's name in the store
    uploaded_by: str
    uploaded_at: datetime


def check_upload(filename: str, media_type: str, size: int, max_bytes: int, path: str = "document") -> str:
    """INVALID_ARGUMENT for a nameless, oddly named, untyped, empty or too large document; the
    media type normalised (lower case; application/octet-stream when not given)."""
    name = filename.strip()
    if (not name or len(name) > MAX_FILENAME_CHARS or "/" in name or "\\" in name or name in (".", "..")
            or any(ord(c) < 32 or ord(c) == 127 for c in name)):
        raise InvalidArgument("a document has a file name (no directory, no control character, at most 255 characters)",
                              field=f"{path}.filename", reason="INVALID_FILENAME")
    kind = (media_type or "application/octet-stream").strip().lower()
    if not _MEDIA_TYPE.fullmatch(kind):
        raise InvalidArgument(f"{media_type!r} is not a media type (type/subtype)", field=f"{path}.media_type",
                              reason="INVALID_MEDIA_TYPE")
    if size == 0:
        raise InvalidArgument("the document is empty", field=f"{path}.content", reason="DOCUMENT_EMPTY")
    if size > max_bytes:
        raise InvalidArgument(f"a document is at most {max_bytes} bytes", field=f"{path}.content",
                              reason="DOCUMENT_TOO_LARGE", max_bytes=max_bytes, size=size)
    return kind


def check_content(document: Document, actual_sha256: str | None) -> None:
    """A download serves only bytes whose hash is the one recorded at upload."""
    if actual_sha256 is None:
        raise FailedPrecondition("the document's file is missing from the store", field="document_id",
                                 reason="DOCUMENT_FILE_MISSING", sha256=document.sha256)
    if actual_sha256 != document.sha256:
        raise FailedPrecondition("the document's stored file does not match its recorded SHA-256: refused",
                                 field="document_id", reason="DOCUMENT_HASH_MISMATCH", sha256=document.sha256)


def is_sha256(value: str) -> bool:
    return bool(_SHA256.fullmatch(value))
