"""SQL repositories of the roster family."""

from __future__ import annotations

from typing import Any


class SqlRosterRepository:
    def __init__(self, session: Any) -> None:
        self.session = session


class SqlMemberStandingRepository:
    def __init__(self, session: Any) -> None:
        self.session = session
