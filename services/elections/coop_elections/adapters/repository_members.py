"""SQL rows of the members projection: our own cooperative's members as membership's events
describe them, each value with the time of the event that set it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, or_, select

from coop_elections.adapters import orm
from coop_elections.adapters.rows import Rows, utc_or_none

#: member projection column -> column holding the time of the event that set it
_AT = {"status": "status_at", "category": "category_at", "in_good_standing": "standing_at"}


class MemberRows(Rows):
    def project_member(self, member_id: str, at: datetime, *, status: str | None = None,
                       category: str | None = None, in_good_standing: bool | None = None) -> None:
        """Record what one membership event (committed at `at`) says about a member, in one
        statement: each given value replaces the stored one unless that came from a newer event
        (events of different types arrive on different queues, in any order). A member first
        seen without a status or a category is active, a user, until an event says otherwise."""
        at = at.astimezone(UTC)
        c = orm.members.c
        given = {"status": status, "category": category, "in_good_standing": in_good_standing}
        stmt = self.dialect.insert(orm.members).values(
            member_id=member_id, status=status or "active", category=category or "user",
            in_good_standing=bool(in_good_standing),
            **{_AT[name]: at if value is not None else None for name, value in given.items()})
        changes: dict[str, Any] = {}
        for name, value in given.items():
            if value is None:
                continue
            stamp = _AT[name]
            newer = or_(c[stamp].is_(None), c[stamp] <= stmt.excluded[stamp])
            changes[name] = case((newer, stmt.excluded[name]), else_=c[name])
            changes[stamp] = case((newer, stmt.excluded[stamp]), else_=c[stamp])
        self.session.execute(stmt.on_conflict_do_update(index_elements=["member_id"], set_=changes)
                             if changes else stmt.on_conflict_do_nothing(index_elements=["member_id"]))

    def member(self, member_id: str) -> Any:
        return self.session.execute(select(orm.members).where(orm.members.c.member_id == member_id)).first()

    def members_in_good_standing(self) -> list[tuple[str, str]]:
        c = orm.members.c
        return [(r.member_id, r.category) for r in self.session.execute(
            select(c.member_id, c.category).where(c.in_good_standing.is_(True), c.status == "active"))]



    def projection_state(self) -> tuple[int, datetime | None, datetime | None]:
        """(members known, time of the newest membership event applied, when this service last
        applied one): the readiness of the projection."""
        c, inbox = orm.members.c, orm.metadata.tables["processed_events"].c
        count, *stamps = self.session.execute(select(
            func.count(), func.max(c.standing_at), func.max(c.status_at), func.max(c.category_at))).one()
        known = [utc_or_none(s) for s in stamps if s is not None]
        applied = self.session.execute(select(func.max(inbox.processed_at)).where(
            inbox.consumer.like("elections.%"))).scalar_one()
        return int(count), max(known) if known else None, utc_or_none(applied)
