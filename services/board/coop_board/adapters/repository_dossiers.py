"""SQL repositories of the dossiers family."""

from __future__ import annotations

from typing import Any


class SqlDossierRepository:
    def __init__(self, session: Any) -> None:
        self.session = session
