"""SQL repositories of the initiatives family (tables in adapters/orm_initiatives.py).

A signature is two statements and takes no lock a concurrent signature waits for: the row
(the primary key refuses a second one per member) and +1 on one counter shard chosen at random.
The count is the sum of the shards."""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, or_, select, update

from coop_board.adapters.orm_initiatives import SHARDS
from coop_board.adapters.orm_initiatives import board_initiative_promoters as promoters
from coop_board.adapters.orm_initiatives import board_initiative_signature_counts as counts
from coop_board.adapters.orm_initiatives import board_initiative_signatures as signatures
from coop_board.adapters.orm_initiatives import board_initiatives as initiatives
from coop_board.adapters.orm_roster import member_standing
from coop_board.domain.initiatives import (
    COLLECTING,
    DRAFT,
    MARKS,
    OUTCOME_OWED,
    PUBLIC,
    SUBMITTED,
    Initiative,
    Outcome,
    Promoter,
)
from coop_board.domain.links import ForcedItem
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.ports_initiatives import CountView, Signer
from coop_platform.sqlkit import dialect_of

i = initiatives.c


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite gives naive values back
        return value.replace(tzinfo=UTC)
    return value


def _text(value: dict[str, str] | None) -> LocalizedText | None:
    return None if value is None else LocalizedText.of(value)


def _initiative(row: Any, committee: list[Promoter]) -> Initiative:
    forced = None
    if row.forced_meeting_id:
        forced = ForcedItem(row.forced_meeting_id, row.forced_item_id, _utc(row.forced_meeting_starts_at),  # type: ignore[arg-type]
                            bool(row.forced_extra_meeting))
    outcome = None
    if row.outcome_kind:
        outcome = Outcome(row.outcome_kind, LocalizedText.of(row.outcome_text),
                          _utc(row.outcome_published_at), row.outcome_published_by,  # type: ignore[arg-type]
                          row.outcome_assembly_id)
    return Initiative(
        initiative_id=row.initiative_id, tenant=row.tenant, author_id=row.author_id, language=row.language,
        title=LocalizedText.of(row.title), text=LocalizedText.of(row.text), question=LocalizedText.of(row.question),
        created_at=_utc(row.created_at), required_promoters=row.required_promoters,  # type: ignore[arg-type]
        status=row.status, promoters=committee, submitted_at=_utc(row.submitted_at),
        admissibility_due_at=_utc(row.admissibility_due_at), decided_at=_utc(row.decided_at),
        decided_by=row.decided_by, admissible_by_default=bool(row.admissible_by_default),
        refusal_reason=_text(row.refusal_reason), opens_at=_utc(row.opens_at), closes_at=_utc(row.closes_at),
        threshold=row.threshold, threshold_rule=row.threshold_rule, threshold_percent=row.threshold_percent,
        members_base=row.members_base, progress=row.progress, qualified_at=_utc(row.qualified_at),
        verified_signatures=row.verified_signatures, expired_at=_utc(row.expired_at), forced=forced,
        outcome_due_at=_utc(row.outcome_due_at), discussed_at=_utc(row.discussed_at), decision_id=row.decision_id,
        overdue_since=_utc(row.overdue_since), outcome=outcome)


def _values(s: Initiative) -> dict[str, Any]:
    f, o = s.forced, s.outcome
    return dict(
        language=s.language, title=s.title.as_dict(), text=s.text.as_dict(), question=s.question.as_dict(),
        status=s.status, submitted_at=s.submitted_at, admissibility_due_at=s.admissibility_due_at,
        decided_at=s.decided_at, decided_by=s.decided_by, admissible_by_default=s.admissible_by_default,
        refusal_reason=s.refusal_reason.as_dict() if s.refusal_reason else None, opens_at=s.opens_at,
        closes_at=s.closes_at, threshold=s.threshold, threshold_rule=s.threshold_rule,
        threshold_percent=s.threshold_percent, members_base=s.members_base, progress=s.progress,
        qualified_at=s.qualified_at, verified_signatures=s.verified_signatures, expired_at=s.expired_at,
        forced_meeting_id=f.meeting_id if f else None, forced_item_id=f.item_id if f else None,
        forced_meeting_starts_at=f.meeting_starts_at if f else None, forced_extra_meeting=bool(f and f.extra_meeting),
        outcome_due_at=s.outcome_due_at, discussed_at=s.discussed_at, decision_id=s.decision_id,
        overdue_since=s.overdue_since, outcome_kind=o.kind if o else None,
        outcome_text=o.text.as_dict() if o else None, outcome_published_at=o.published_at if o else None,
        outcome_published_by=o.published_by if o else None, outcome_assembly_id=o.assembly_id if o else None)


def _sum(initiative_id: Any) -> Any:
    return (select(func.coalesce(func.sum(counts.c.count), 0)).where(counts.c.initiative_id == initiative_id)
            .scalar_subquery())


def _good_signers(initiative_id: str) -> Any:
    m = member_standing.c
    return (select(func.count()).select_from(signatures.join(member_standing, m.member_id == signatures.c.member_id))
            .where(signatures.c.initiative_id == initiative_id, m.in_good_standing.is_(True),
                   or_(m.status.is_(None), m.status != "erased")))


class SqlInitiativeRepository:
    def __init__(self, session: Any) -> None:
        self.db = session

    def _committees(self, ids: list[str]) -> dict[str, list[Promoter]]:
        out: dict[str, list[Promoter]] = {k: [] for k in ids}
        if not ids:
            return out
        rows = self.db.execute(select(promoters).where(promoters.c.initiative_id.in_(ids))
                               .order_by(promoters.c.initiative_id, promoters.c.position))
        for r in rows:
            out[r.initiative_id].append(Promoter(r.member_id, r.status, _utc(r.invited_at),  # type: ignore[arg-type]
                                                 _utc(r.answered_at)))
        return out

    def get(self, tenant: str, initiative_id: str, *, lock: bool = False, skip_locked: bool = False,
            committee: bool = True) -> Initiative | None:
        query = select(initiatives).where(i.initiative_id == initiative_id, i.tenant == tenant)
        if lock:
            query = query.with_for_update(skip_locked=skip_locked)
        row = self.db.execute(query).first()
        if row is None:
            return None
        return _initiative(row, self._committees([initiative_id])[initiative_id] if committee else [])

    def save(self, s: Initiative) -> None:
        if s.new:
            self.db.execute(initiatives.insert().values(
                initiative_id=s.initiative_id, tenant=s.tenant, author_id=s.author_id, created_at=s.created_at,
                required_promoters=s.required_promoters, **_values(s)))
            s.new = False
        else:
            self.db.execute(update(initiatives).where(i.initiative_id == s.initiative_id, i.tenant == s.tenant)
                            .values(**_values(s)))
        for position, p in enumerate(s.promoters):
            row = dict(initiative_id=s.initiative_id, member_id=p.member_id, position=position, status=p.status,
                       invited_at=p.invited_at, answered_at=p.answered_at)
            insert = dialect_of(self.db).insert(promoters).values(**row)
            self.db.execute(insert.on_conflict_do_update(
                index_elements=["initiative_id", "member_id"],
                set_={"status": p.status, "answered_at": p.answered_at, "position": position}))

    # -- signatures
    def add_signatures(self, tenant: str, initiative_id: str, member_ids: list[str], now: datetime) -> set[str]:
        if not member_ids:
            return set()
        added = {m for (m,) in self.db.execute(
            dialect_of(self.db).insert(signatures)
            .values([dict(initiative_id=initiative_id, member_id=m, signed_at=now) for m in sorted(member_ids)])
            .on_conflict_do_nothing(index_elements=["initiative_id", "member_id"])
            .returning(signatures.c.member_id))}
        if added:
            self._bump(initiative_id, len(added))
        return added

    def remove_signature(self, tenant: str, initiative_id: str, member_id: str) -> bool:
        removed = self.db.execute(delete(signatures).where(
            signatures.c.initiative_id == initiative_id, signatures.c.member_id == member_id)
            .returning(signatures.c.member_id)).first()
        if removed is None:
            return False
        self._bump(initiative_id, -1)
        return True

    def _bump(self, initiative_id: str, delta: int) -> None:
        insert = dialect_of(self.db).insert(counts).values(initiative_id=initiative_id,
                                                           shard=random.randrange(SHARDS), count=delta)
        self.db.execute(insert.on_conflict_do_update(index_elements=["initiative_id", "shard"],
                                                     set_={"count": counts.c.count + delta}))

    def signed_at(self, tenant: str, initiative_id: str, member_id: str) -> datetime | None:
        return _utc(self.db.execute(select(signatures.c.signed_at).where(
            signatures.c.initiative_id == initiative_id, signatures.c.member_id == member_id)).scalar())

    def count(self, tenant: str, initiative_id: str) -> int:
        return int(self.db.execute(select(_sum(initiative_id))).scalar_one())

    def counts(self, tenant: str, initiative_ids: list[str]) -> dict[str, int]:
        if not initiative_ids:
            return {}
        rows = self.db.execute(select(counts.c.initiative_id, func.sum(counts.c.count))
                               .where(counts.c.initiative_id.in_(initiative_ids)).group_by(counts.c.initiative_id))
        found = {k: int(v or 0) for k, v in rows}
        return {k: found.get(k, 0) for k in initiative_ids}

    def raise_progress(self, tenant: str, initiative_id: str, mark: int) -> bool:
        done = self.db.execute(update(initiatives).where(
            i.initiative_id == initiative_id, i.tenant == tenant, i.progress < mark)
            .values(progress=mark).returning(i.initiative_id)).first()
        return done is not None

    def verified_count(self, tenant: str, initiative_id: str) -> int:
        return int(self.db.execute(_good_signers(initiative_id)).scalar_one())

    def signers(self, tenant: str, initiative_id: str, after: tuple[str, str] | None, limit: int) -> list[Signer]:
        m = member_standing.c
        good = and_(m.in_good_standing.is_(True), or_(m.status.is_(None), m.status != "erased"))
        query = (select(signatures.c.member_id, signatures.c.signed_at, func.coalesce(good, False).label("good"))
                 .select_from(signatures.outerjoin(member_standing, m.member_id == signatures.c.member_id))
                 .where(signatures.c.initiative_id == initiative_id))
        if after is not None:
            at = datetime.fromisoformat(after[0])
            query = query.where(or_(signatures.c.signed_at > at,
                                    and_(signatures.c.signed_at == at, signatures.c.member_id > after[1])))
        rows = self.db.execute(query.order_by(signatures.c.signed_at, signatures.c.member_id).limit(limit))
        return [Signer(r.member_id, _utc(r.signed_at), bool(r.good)) for r in rows]  # type: ignore[arg-type]

    # -- lists and timers
    def listing(self, tenant: str, reader: str, board: bool, mine: bool, status: str | None,
                after: tuple[str, str] | None, limit: int) -> list[Initiative]:
        in_committee = exists().where(promoters.c.initiative_id == i.initiative_id, promoters.c.member_id == reader)
        visible = or_(i.status.in_(PUBLIC), in_committee)
        if board:
            visible = or_(visible, i.status == SUBMITTED)
        query = select(initiatives).where(i.tenant == tenant, in_committee if mine else visible)
        if status is not None:
            query = query.where(i.status == status)
        if after is not None:
            at = datetime.fromisoformat(after[0])
            query = query.where(or_(i.created_at < at, and_(i.created_at == at, i.initiative_id < after[1])))
        rows = self.db.execute(query.order_by(i.created_at.desc(), i.initiative_id.desc()).limit(limit)).all()
        committees = self._committees([r.initiative_id for r in rows])
        return [_initiative(r, committees[r.initiative_id]) for r in rows]

    def due(self, what: str, now: datetime, limit: int) -> list[tuple[str, str]]:
        if what == "admissibility":
            where = and_(i.status == SUBMITTED, i.admissibility_due_at <= now)
        elif what == "expiry":
            where = and_(i.status == COLLECTING, i.closes_at <= now)
        elif what == "overdue":
            where = and_(i.status.in_(OUTCOME_OWED), i.outcome_due_at <= now, i.overdue_since.is_(None))
        elif what == "threshold":
            below_mark = or_(*(and_(i.progress < m, _sum(i.initiative_id) * 100 >= i.threshold * m) for m in MARKS))
            where = and_(i.status == COLLECTING, i.threshold > 0,
                         or_(below_mark, _sum(i.initiative_id) >= i.threshold))
        else:
            raise ValueError(f"no timer {what!r}")
        rows = self.db.execute(select(i.tenant, i.initiative_id).where(where)
                               .order_by(i.created_at, i.initiative_id).limit(limit))
        return [(t, k) for t, k in rows]

    def overdue_counts(self) -> dict[str, int]:
        rows = self.db.execute(select(i.tenant, func.count()).where(
            i.status.in_(OUTCOME_OWED), i.overdue_since.is_not(None)).group_by(i.tenant))
        return {t: int(n) for t, n in rows}


class SqlSignatureCountReads:
    """service_layer.ports_initiatives.SignatureCountReads on the read pool (`connect`:
    `uow.reading`): the status, threshold and sum of the shards in one statement."""

    def __init__(self, connect: Callable[[], AbstractContextManager[Connection]]) -> None:
        self.connect = connect

    def signature_count(self, tenant: str, initiative_id: str) -> CountView | None:
        query = select(i.initiative_id, i.status, i.threshold, i.closes_at, _sum(i.initiative_id).label("n")).where(
            i.initiative_id == initiative_id, i.tenant == tenant, i.status != DRAFT)
        with self.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return CountView(row.initiative_id, row.status, int(row.n), row.threshold, _utc(row.closes_at))

