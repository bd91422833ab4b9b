"""SQL repositories of the minutes family."""

from __future__ import annotations

from typing import Any


class SqlMinutesRepository:
    def __init__(self, session: Any) -> None:
        self.session = session
