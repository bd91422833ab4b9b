"""SQL repositories of the meetings family."""

from __future__ import annotations

from typing import Any


class SqlMeetingRepository:
    def __init__(self, session: Any) -> None:
        self.session = session
