"""Files written whole or not at all: a temporary file in the same folder, flushed to disk, then
renamed over the target (or linked, never replacing), and the rename made durable. Every
service that keeps files (dossiers, trustees' keys, published records, e-mail drops) uses it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomically(path: str | Path, chunks: Iterable[bytes], *, private: bool = False,
                     overwrite: bool = True) -> None:
    """Write the chunks to `path`, whole or not at all.

    A private file is 0600 from its first byte (never readable by others, not even while being
    written); otherwise 0644. Without `overwrite`, an existing file is kept and FileExistsError
    raised, atomically too (link, which never replaces). The chunks are consumed as they are
    written: a generator may produce gigabytes.
    """
    target = Path(path)
    folder = target.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if not private:
            os.chmod(tmp, 0o644)  # mkstemp made it 0600; a public file is for everyone
        if overwrite:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)  # FileExistsError if the target exists
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    with contextlib.suppress(OSError):  # the rename itself made durable, where supported
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
