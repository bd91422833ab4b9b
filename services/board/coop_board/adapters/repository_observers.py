"""SQL repositories of the observers family."""

from __future__ import annotations

from typing import Any


class SqlObserverRepository:
    def __init__(self, session: Any) -> None:
        self.session = session
