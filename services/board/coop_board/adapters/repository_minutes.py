"""SQL repositories of the minutes family: the minutes aggregate (stored whole, as JSON), its
translation task, the published rows (written at publication), and the members' query side
(`SqlPublishedReads`, on a read-pool connection: `with uow.reading() as conn:`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, insert, or_, select, update

from coop_board.adapters.orm_minutes import (
    board_minutes,
    board_published_decisions,
    board_published_minutes,
    board_translation_tasks,
)
from coop_board.domain.minutes import Minutes, MinutesDecision, Section, TranslationTask
from coop_board.domain.minutes_public import PublishedDecision, PublishedMinutes
from coop_board.domain.texts import LocalizedText
from coop_platform.sqlkit import dialect_of, statement


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def minutes_to_json(m: Minutes) -> dict[str, Any]:
    return {
        "meeting_date": m.meeting_date.isoformat(), "title": m.title.as_dict(), "drafted_by": m.drafted_by,
        "translation_days": m.translation_days, "submitted_at": _iso(m.submitted_at),
        "approval_item_id": m.approval_item_id, "approval_decision_id": m.approval_decision_id,
        "approved_in_meeting": m.approved_in_meeting,
        "sections": [{"id": s.section_id, "pos": s.position, "vis": s.visibility, "title": s.title.as_dict(),
                      "body": s.body.as_dict(), "item": s.item_id, "decided": s.decided} for s in m.sections],
        "decisions": [{"id": d.decision_id, "item": d.item_id, "kind": d.kind, "closed": d.closed,
                       "title": d.title.as_dict(), "text": d.adopted_text.as_dict(),
                       "counts": [d.in_favour, d.against, d.abstentions], "effective": _iso(d.effective_on)}
                      for d in m.decisions],
    }


def minutes_from_row(row: Any) -> Minutes:
    c = row.content
    return Minutes(
        minutes_id=row.minutes_id, tenant=row.tenant, meeting_id=row.meeting_id,
        meeting_date=date.fromisoformat(c["meeting_date"]), kind=row.kind, title=LocalizedText.of(c["title"]),
        sections=tuple(Section(s["id"], s["pos"], s["vis"], LocalizedText.of(s["title"]), LocalizedText.of(s["body"]),
                               s["item"], s["decided"]) for s in c["sections"]),
        decisions=tuple(MinutesDecision(d["id"], d["item"], d["kind"], d["closed"], LocalizedText.of(d["title"]),
                                        LocalizedText.of(d["text"]), *d["counts"], _day(d["effective"]))
                        for d in c["decisions"]),
        drafted_at=row.drafted_at, drafted_by=c["drafted_by"], translation_days=c["translation_days"],
        erratum_of=row.erratum_of, status=row.status, revision=row.revision,
        submitted_at=_instant(c["submitted_at"]), approval_item_id=c["approval_item_id"],
        approved_at=row.approved_at, approval_decision_id=c["approval_decision_id"],
        approved_in_meeting=c["approved_in_meeting"], published_at=row.published_at)


def _row(m: Minutes) -> dict[str, Any]:
    return dict(tenant=m.tenant, minutes_id=m.minutes_id, meeting_id=m.meeting_id,
                meeting_minutes_of=m.meeting_id if m.kind == "minutes" else None, kind=m.kind,
                erratum_of=m.erratum_of, status=m.status, revision=m.revision, content=minutes_to_json(m),
                drafted_at=m.drafted_at, approved_at=m.approved_at, published_at=m.published_at)


def _task(row: Any) -> TranslationTask:
    return TranslationTask(row.tenant, row.minutes_id, row.meeting_id,
                           tuple((part, tuple(langs)) for part, langs in row.missing), row.opened_on, row.due_on,
                           row.done_on)


class SqlMinutesRepository:
    def __init__(self, session: Any) -> None:
        self.session = session

    def add(self, minutes: Minutes) -> None:
        self.session.execute(insert(board_minutes).values(_row(minutes)))

    def get(self, tenant: str, minutes_id: str, *, for_update: bool = False) -> Minutes | None:
        query = select(board_minutes).where(board_minutes.c.tenant == tenant, board_minutes.c.minutes_id == minutes_id)
        if for_update:
            query = dialect_of(self.session).for_update(query)
        row = self.session.execute(query).first()
        return minutes_from_row(row) if row else None

    def of_meeting(self, tenant: str, meeting_id: str) -> Minutes | None:
        row = self.session.execute(select(board_minutes).where(
            board_minutes.c.tenant == tenant, board_minutes.c.meeting_minutes_of == meeting_id)).first()
        return minutes_from_row(row) if row else None

    def save(self, minutes: Minutes) -> None:
        values = _row(minutes)
        self.session.execute(update(board_minutes).where(
            board_minutes.c.tenant == minutes.tenant, board_minutes.c.minutes_id == minutes.minutes_id).values(values))

    def errata_of(self, tenant: str, minutes_id: str) -> list[str]:
        return list(self.session.execute(select(board_minutes.c.minutes_id).where(
            board_minutes.c.tenant == tenant, board_minutes.c.erratum_of == minutes_id)
            .order_by(board_minutes.c.drafted_at, board_minutes.c.minutes_id)).scalars())

    def task(self, tenant: str, minutes_id: str) -> TranslationTask | None:
        t = board_translation_tasks.c
        row = self.session.execute(select(board_translation_tasks).where(
            t.tenant == tenant, t.minutes_id == minutes_id)).first()
        return _task(row) if row else None

    def save_task(self, task: TranslationTask) -> None:
        values = dict(tenant=task.tenant, minutes_id=task.minutes_id, meeting_id=task.meeting_id,
                      missing=[[part, list(langs)] for part, langs in task.missing], opened_on=task.opened_on,
                      due_on=task.due_on, done_on=task.done_on)
        stmt = dialect_of(self.session).insert(board_translation_tasks).values(values)
        self.session.execute(stmt.on_conflict_do_update(index_elements=["tenant", "minutes_id"], set_={
            k: stmt.excluded[k] for k in ("missing", "opened_on", "due_on", "done_on")}))

    def open_tasks(self, tenant: str, after: tuple[str, str] | None, limit: int) -> list[TranslationTask]:
        t = board_translation_tasks.c
        query = select(board_translation_tasks).where(t.tenant == tenant, t.done_on.is_(None))
        if after:
            due = date.fromisoformat(after[0])
            query = query.where(or_(t.due_on > due, and_(t.due_on == due, t.minutes_id > after[1])))
        rows = self.session.execute(query.order_by(t.due_on, t.minutes_id).limit(limit))
        return [_task(r) for r in rows]

    def add_published(self, docs: list[PublishedMinutes], decisions: list[PublishedDecision]) -> None:
        if docs:
            self.session.execute(insert(board_published_minutes), [dict(
                tenant=d.tenant, minutes_id=d.minutes_id, language=d.language, meeting_id=d.meeting_id,
                meeting_date=d.meeting_date, published_at=d.published_at, title=d.title,
                sections=[list(s) for s in d.sections], erratum_of=d.erratum_of, search=d.search) for d in docs])
        if decisions:
            self.session.execute(insert(board_published_decisions), [dict(
                tenant=p.tenant, decision_id=p.decision_id, language=p.language, minutes_id=p.minutes_id,
                meeting_id=p.meeting_id, meeting_date=p.meeting_date, title=p.title, adopted_text=p.adopted_text,
                in_favour=p.in_favour, against=p.against, abstentions=p.abstentions, effective_on=p.effective_on,
                closed=p.closed, search=p.search) for p in decisions])


def translation_task_counts(conn: Connection, today: date) -> tuple[int, int]:
    """(open, overdue) translation tasks over every tenant: the worker's gauges."""
    t = board_translation_tasks.c
    row = conn.execute(select(func.count(), func.coalesce(func.sum(case((t.due_on < today, 1), else_=0)), 0))
                       .where(t.done_on.is_(None))).one()
    return int(row[0]), int(row[1])


# -- the members' query side -----------------------------------------------------------------------

_DECISION_COLUMNS = [c for c in board_published_decisions.c if c.name != "search"]
_MINUTES_COLUMNS = [c for c in board_published_minutes.c if c.name != "search"]


def _decision(row: Any) -> PublishedDecision:
    return PublishedDecision(row.tenant, row.decision_id, row.language, row.minutes_id, row.meeting_id,
                             row.meeting_date, row.title, row.adopted_text, row.in_favour, row.against,
                             row.abstentions, row.effective_on, row.closed)


def _doc(row: Any) -> PublishedMinutes:
    return PublishedMinutes(row.tenant, row.minutes_id, row.language, row.meeting_id, row.meeting_date,
                            row.published_at, row.title, tuple((h, b) for h, b in row.sections), row.erratum_of)


@statement
def _one_decision() -> Any:
    d = board_published_decisions.c
    return select(*_DECISION_COLUMNS).where(d.tenant == bindparam("tenant"),
                                            d.decision_id == bindparam("decision_id"), d.language == bindparam("language"))


@statement
def _one_minutes() -> Any:
    m = board_published_minutes.c
    return select(*_MINUTES_COLUMNS).where(m.tenant == bindparam("tenant"), m.minutes_id == bindparam("minutes_id"),
                                           m.language == bindparam("language"))


def _page(table: Any, columns: list[Any], key: Any, tenant: str, language: str, since: date | None,
          until: date | None, query: str, after: tuple[str, str] | None, limit: int) -> Any:
    c = table.c
    stmt = select(*columns).where(c.tenant == tenant, c.language == language)
    if since:
        stmt = stmt.where(c.meeting_date >= since)
    if until:
        stmt = stmt.where(c.meeting_date <= until)
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(c.search.like(f"%{escaped}%", escape="\\"))
    if after:
        day = date.fromisoformat(after[0])
        stmt = stmt.where(or_(c.meeting_date < day, and_(c.meeting_date == day, key > after[1])))
    return stmt.order_by(c.meeting_date.desc(), key).limit(limit)


class SqlPublishedReads:
    """service_layer.ports_minutes.PublishedReads on the read pool (`connect`: a context manager
    giving a connection, `uow.reading`), one statement per call.

    Published rows are immutable (a correction is a new erratum, never an update), so a decision
    or minutes found once is kept in memory (per process, bounded, per tenant and language) and
    served again without a database round trip. What was not found is never kept: it may be
    published later."""

    def __init__(self, connect: Callable[[], AbstractContextManager[Connection]], cache_size: int = 50_000) -> None:
        self.connect = connect
        self.cache_size = cache_size
        self._found: dict[tuple[str, str, str, str], Any] = {}

    def _remember(self, key: tuple[str, str, str, str], value: Any) -> Any:
        if value is not None:
            if len(self._found) >= self.cache_size:
                self._found.pop(next(iter(self._found)), None)  # the oldest entry
            self._found[key] = value
        return value

    def minutes_page(self, tenant, language, since, until, query, after, limit):
        t = board_published_minutes
        with self.connect() as conn:
            rows = conn.execute(_page(t, _MINUTES_COLUMNS, t.c.minutes_id, tenant, language, since, until, query,
                                      after, limit)).all()
        return [_doc(r) for r in rows]

    def decisions_page(self, tenant, language, since, until, query, after, limit):
        t = board_published_decisions
        with self.connect() as conn:
            rows = conn.execute(_page(t, _DECISION_COLUMNS, t.c.decision_id, tenant, language, since, until,
                                      query, after, limit)).all()
        return [_decision(r) for r in rows]

    def decision(self, tenant, decision_id, language):
        key = ("decision", tenant, decision_id, language)
        found = self._found.get(key)
        if found is not None:
            return found
        with self.connect() as conn:
            row = conn.execute(_one_decision(), {"tenant": tenant, "decision_id": decision_id,
                                                 "language": language}).first()
        return self._remember(key, _decision(row) if row else None)

    def minutes(self, tenant, minutes_id, language):
        key = ("minutes", tenant, minutes_id, language)
        found = self._found.get(key)
        if found is not None:
            return found
        with self.connect() as conn:
            row = conn.execute(_one_minutes(), {"tenant": tenant, "minutes_id": minutes_id,
                                                "language": language}).first()
        return self._remember(key, _doc(row) if row else None)
