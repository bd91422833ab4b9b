"""The documents' bytes on disk, by content: `<root>/<first two hex digits>/<sha256>`.

A file is written once (to a temporary name, then renamed into place, so a reader never sees a
half-written file); the same content uploaded again reuses it. A file is never trusted: the
download checks its SHA-256 against the database's (service_layer/dossiers_documents.py)."""

from __future__ import annotations

import os
from pathlib import Path

from coop_board.domain.dossiers_documents import is_sha256
from coop_platform.files import write_atomically


class FileDocumentStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, content: bytes) -> None:
        target = self.path_of(sha256)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, [content], private=True)

    def read(self, sha256: str) -> bytes | None:
        try:
            return self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            return None
