"""SQL repository of the questions family (tables in adapters/orm_questions.py).

A support is one INSERT ... ON CONFLICT DO NOTHING on the partial unique index of active supports,
then `support_count = support_count + 1` in the same transaction: a duplicate (even a concurrent
one, which waits for the first to commit) inserts nothing and counts nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update

from coop_board.adapters.orm_questions import ACTIVE_SUPPORT
from coop_board.adapters.orm_questions import board_question_supports as supports
from coop_board.adapters.orm_questions import board_questions as questions
from coop_board.domain.questions import MOST_SUPPORTED, Question
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.ports_questions import Position
from coop_domain.clock import as_utc
from coop_platform.sqlkit import dialect_of


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)  # SQLite gives naive values back


def _question(row: Any) -> Question:
    return Question(
        question_id=row.question_id, tenant=row.tenant, assembly_id=row.assembly_id, author_id=row.author_id,
        language=row.language, text=row.text, author_public=row.author_public,
        submitted_at=_utc(row.submitted_at), support_count=row.support_count,  # type: ignore[arg-type]
        status=row.status, answer=LocalizedText(fr=row.answer_fr, nl=row.answer_nl, en=row.answer_en),
        answered_at=_utc(row.answered_at), answered_by=row.answered_by, referred_at=_utc(row.referred_at),
        referred_by=row.referred_by, referral_item_id=row.referral_item_id)


def _mutable(q: Question) -> dict[str, Any]:
    return dict(status=q.status, answer_fr=q.answer.fr, answer_nl=q.answer.nl, answer_en=q.answer.en,
                answered_at=q.answered_at, answered_by=q.answered_by, referred_at=q.referred_at,
                referred_by=q.referred_by, referral_item_id=q.referral_item_id)


class SqlQuestionRepository:
    def __init__(self, session: Any) -> None:
        self._db = session

    def add(self, q: Question) -> None:
        self._db.execute(questions.insert().values(
            question_id=q.question_id, tenant=q.tenant, assembly_id=q.assembly_id, author_id=q.author_id,
            language=q.language, text=q.text, author_public=q.author_public, submitted_at=q.submitted_at,
            support_count=q.support_count, **_mutable(q)))

    def get(self, tenant: str, question_id: str, *, lock: bool = False) -> Question | None:
        query = select(questions).where(questions.c.tenant == tenant, questions.c.question_id == question_id)
        row = self._db.execute(query.with_for_update() if lock else query).first()
        return None if row is None else _question(row)

    def save(self, q: Question) -> None:
        self._db.execute(update(questions).where(questions.c.tenant == q.tenant,
                                                 questions.c.question_id == q.question_id).values(**_mutable(q)))

    def _count(self, tenant: str, question_id: str, delta: int) -> None:
        self._db.execute(update(questions).where(questions.c.tenant == tenant, questions.c.question_id == question_id)
                         .values(support_count=questions.c.support_count + delta))

    def add_support(self, tenant: str, question_id: str, member_id: str, at: datetime) -> bool:
        inserted = self._db.execute(
            dialect_of(self._db).insert(supports)
            .values(tenant=tenant, question_id=question_id, member_id=member_id, supported_at=at)
            .on_conflict_do_nothing(index_elements=["question_id", "member_id"], index_where=text(ACTIVE_SUPPORT))
            .returning(supports.c.support_id)).first()
        if inserted is None:
            return False
        self._count(tenant, question_id, +1)
        return True

    def withdraw_support(self, tenant: str, question_id: str, member_id: str, at: datetime) -> bool:
        ended = self._db.execute(update(supports).where(
            supports.c.tenant == tenant, supports.c.question_id == question_id, supports.c.member_id == member_id,
            supports.c.withdrawn_at.is_(None)).values(withdrawn_at=at))
        if ended.rowcount != 1:
            return False
        self._count(tenant, question_id, -1)
        return True

    def supported_among(self, tenant: str, member_id: str, question_ids: list[str]) -> set[str]:
        rows = self._db.execute(select(supports.c.question_id).where(
            supports.c.tenant == tenant, supports.c.member_id == member_id,
            supports.c.question_id.in_(question_ids), supports.c.withdrawn_at.is_(None)))
        return {r.question_id for r in rows}

    def listing(self, tenant: str, assembly_id: str, order: str, answered: bool | None, as_of: datetime,
                after: Position | None, limit: int) -> list[tuple[Question, int]]:
        at_count = (select(func.count()).select_from(supports).where(
            supports.c.question_id == questions.c.question_id, supports.c.supported_at <= as_of,
            or_(supports.c.withdrawn_at.is_(None), supports.c.withdrawn_at > as_of))
            .correlate(questions).scalar_subquery())
        base = select(questions, at_count.label("at_count")).where(
            questions.c.tenant == tenant, questions.c.assembly_id == assembly_id, questions.c.submitted_at <= as_of)
        answered_then = and_(questions.c.answered_at.is_not(None), questions.c.answered_at <= as_of)
        if answered is not None:
            base = base.where(answered_then if answered else ~answered_then)
        page = base.subquery()
        query = select(page)
        if order == MOST_SUPPORTED:
            if after is not None:
                count, submitted, question_id = after[0], datetime.fromisoformat(after[1]), after[2]
                query = query.where(or_(page.c.at_count < count, and_(page.c.at_count == count, or_(
                    page.c.submitted_at > submitted,
                    and_(page.c.submitted_at == submitted, page.c.question_id > question_id)))))
            query = query.order_by(page.c.at_count.desc(), page.c.submitted_at, page.c.question_id)
        else:
            if after is not None:
                submitted, question_id = datetime.fromisoformat(after[1]), after[2]
                query = query.where(or_(page.c.submitted_at < submitted,
                                        and_(page.c.submitted_at == submitted, page.c.question_id < question_id)))
            query = query.order_by(page.c.submitted_at.desc(), page.c.question_id.desc())
        return [(_question(r), int(r.at_count)) for r in self._db.execute(query.limit(limit))]

    def of_author(self, tenant: str, author_id: str, assembly_id: str | None, after: tuple[str, str] | None,
                  limit: int) -> list[Question]:
        query = select(questions).where(questions.c.tenant == tenant, questions.c.author_id == author_id)
        if assembly_id is not None:
            query = query.where(questions.c.assembly_id == assembly_id)
        if after is not None:
            at = datetime.fromisoformat(after[0])
            query = query.where(or_(questions.c.submitted_at < at,
                                    and_(questions.c.submitted_at == at, questions.c.question_id < after[1])))
        rows = self._db.execute(query.order_by(questions.c.submitted_at.desc(), questions.c.question_id.desc())
                                .limit(limit))
        return [_question(r) for r in rows]
