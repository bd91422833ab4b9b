"""SQL repositories of billing, one module per aggregate (the unit of work builds them all on
its session: adapters/unit_of_work.py). Rows <-> pure domain objects, and the locks that keep
numbering gapless and budgets from being overspent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from coop_platform.sqlkit import Dialect, dialect_of


class SqlRepository:
    """A repository on the unit of work's session; `dialect` holds the PostgreSQL/SQLite differences."""

    def __init__(self, session: Session, dialect: Dialect | None = None) -> None:
        self.session = session
        self.dialect = dialect or dialect_of(session)


def keyset_page(query: Any, created: Any, ident: Any, after: Sequence[str], limit: int) -> Any:
    """`query`'s rows in (creation time, id) order after a page's last position (keyset
    pagination: no OFFSET, stable while rows are added)."""
    if after:
        at, key = datetime.fromisoformat(after[0]), after[1]
        query = query.where(or_(created > at, and_(created == at, ident > key)))
    return query.order_by(created, ident).limit(limit)
