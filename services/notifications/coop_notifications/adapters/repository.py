"""The notifications repositories on one SQLAlchemy session (the unit of work's)."""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from coop_domain.clock import as_utc
from coop_domain.errors import InvalidArgument
from coop_notifications.adapters.orm import (
    deliveries,
    digest_frequencies,
    election_titles,
    election_voters,
    preferences,
    recipients,
    suppressions,
    voted_members,
)
from coop_notifications.domain.catalog import Priority
from coop_notifications.domain.ledger import (
    PRIORITY_RANK,
    Channel,
    Delivery,
    State,
    address_digest,
)
from coop_notifications.domain.preferences import Preference
from coop_notifications.domain.recipients import Recipient
from coop_platform.sqlkit import dialect_of


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


# The inbox's reads are the portal's hottest calls: their statements are built once, with bound
# parameters, so that a read spends no time constructing and hashing a statement (a quarter of
# the api's CPU when built per call).
def _in_inbox(tenant: Any, member_id: Any) -> Any:
    """A member's in-app rows: the inbox's one predicate (values, or bound parameters)."""
    c = deliveries.c
    return and_(c.tenant == tenant, c.recipient_id == member_id, c.channel == Channel.INAPP.value)


_IN_INBOX = _in_inbox(bindparam("tenant"), bindparam("member"))
_UNREAD = select(func.count()).select_from(deliveries).where(
    _IN_INBOX, deliveries.c.read_at.is_(None), deliveries.c.archived_at.is_(None))


@functools.cache
def _inbox_page_statement(include_archived: bool, after_cursor: bool) -> Any:
    """Newest first, `limit` rows; after the cursor's (created_at, key) when there is one."""
    c = deliveries.c
    query = select(deliveries).where(_IN_INBOX)
    if not include_archived:
        query = query.where(c.archived_at.is_(None))
    if after_cursor:
        query = query.where(tuple_(c.created_at, c.delivery_key) < tuple_(bindparam("at", type_=c.created_at.type),
                                                                         bindparam("key", type_=c.delivery_key.type)))
    return query.order_by(c.created_at.desc(), c.delivery_key.desc()).limit(bindparam("limit", type_=Integer))


class SqlRecipientRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _from_row(row: Any) -> Recipient:
        return Recipient(row.tenant, row.member_id, row.member_number, row.given_name, row.email, row.language,
                         row.status, row.in_good_standing, bool(row.erased), _utc(row.contact_as_of),
                         _utc(row.status_as_of), _utc(row.standing_as_of))

    def get(self, tenant: str, member_id: str, *, for_update: bool = False) -> Recipient | None:
        query = select(recipients).where(recipients.c.tenant == tenant, recipients.c.member_id == member_id)
        if for_update:
            query = dialect_of(self.session).for_update(query)
        row = self.session.execute(query).first()
        return self._from_row(row) if row else None

    def get_many(self, tenant: str, member_ids: Iterable[str]) -> dict[str, Recipient]:
        ids = sorted(set(member_ids))
        found: dict[str, Recipient] = {}
        for start in range(0, len(ids), 1000):
            rows = self.session.execute(select(recipients).where(
                recipients.c.tenant == tenant, recipients.c.member_id.in_(ids[start:start + 1000])))
            found.update((row.member_id, self._from_row(row)) for row in rows)
        return found

    def all_ids(self, tenant: str, *, statuses: Sequence[str] = ("active",), in_good_standing: bool = False
                ) -> list[str]:
        query = select(recipients.c.member_id).where(recipients.c.tenant == tenant, recipients.c.status.in_(statuses))
        if in_good_standing:
            query = query.where(recipients.c.in_good_standing.is_(True))
        return list(self.session.scalars(query.order_by(recipients.c.member_id)))

    def save(self, r: Recipient) -> None:
        values = dict(member_number=r.member_number, given_name=r.given_name, email=r.email, language=r.language,
                      status=r.status, in_good_standing=r.in_good_standing, erased=r.erased,
                      contact_as_of=r.contact_as_of, status_as_of=r.status_as_of, standing_as_of=r.standing_as_of)
        insert = dialect_of(self.session).insert(recipients).values(tenant=r.tenant, member_id=r.member_id, **values)
        self.session.execute(insert.on_conflict_do_update(index_elements=["tenant", "member_id"], set_=values))


def _delivery_from_row(row: Any) -> Delivery:
    return Delivery(
        row.delivery_key, row.tenant, row.event_id, row.recipient_id, Channel(row.channel), row.notification,
        Priority(row.priority), row.category, dict(row.context or {}), State(row.state), row.attempts,
        as_utc(row.due_at), as_utc(row.created_at), as_utc(row.updated_at), _utc(row.lease_until),
        row.claimed_by, _utc(row.submitted_at), row.last_code, row.last_detail, _utc(row.read_at),
        _utc(row.archived_at))


def _row_values(d: Delivery) -> dict[str, Any]:
    return dict(delivery_key=d.delivery_key, tenant=d.tenant, event_id=d.event_id, recipient_id=d.recipient_id,
                channel=d.channel.value, notification=d.notification, priority=d.priority.value,
                priority_rank=d.priority_rank, category=d.category, context=d.context, state=d.state.value,
                attempts=d.attempts, due_at=d.due_at, lease_until=d.lease_until, claimed_by=d.claimed_by,
                created_at=d.created_at, updated_at=d.updated_at, submitted_at=d.submitted_at,
                last_code=d.last_code, last_detail=d.last_detail, read_at=d.read_at, archived_at=d.archived_at)


def encode_cursor(created_at: datetime, key: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{key}".encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        at, key = text.split("|", 1)
        return as_utc(datetime.fromisoformat(at)), key
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("page_token is not one this service gave", field="page_token") from None


class SqlLedgerRepository:
    INSERT_CHUNK = 2000

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, rows: Sequence[Delivery]) -> int:
        """Insert new rows; a row whose (event, recipient, channel) exists already is skipped.
        Returns how many were new."""
        if not rows:
            return 0
        # executemany with RETURNING: SQLAlchemy batches it (insertmanyvalues) from one cached
        # statement; the keys returned are the rows that were new
        insert = (dialect_of(self.session).insert(deliveries)
                  .on_conflict_do_nothing(index_elements=["event_id", "recipient_id", "channel"])
                  .returning(deliveries.c.delivery_key))
        added = 0
        for start in range(0, len(rows), self.INSERT_CHUNK):
            chunk = [_row_values(d) for d in rows[start:start + self.INSERT_CHUNK]]
            added += len(self.session.execute(insert, chunk).all())
        return added

    def get(self, key: str) -> Delivery | None:
        row = self.session.execute(select(deliveries).where(deliveries.c.delivery_key == key)).first()
        return _delivery_from_row(row) if row else None

    def of_event(self, event_id: str) -> list[Delivery]:
        return [_delivery_from_row(r) for r in self.session.execute(
            select(deliveries).where(deliveries.c.event_id == event_id).order_by(deliveries.c.delivery_key))]

    def save(self, d: Delivery) -> None:
        values = _row_values(d)
        key = values.pop("delivery_key")
        self.session.execute(update(deliveries).where(deliveries.c.delivery_key == key).values(**values))

    def claim_due(self, now: datetime, worker: str, lease: timedelta, limit: int) -> list[Delivery]:
        """Claim up to `limit` due e-mail rows, legal first: pending or deferred and due, or
        claimed by a worker whose lease ran out. Rows another worker is claiming are skipped
        (FOR UPDATE SKIP LOCKED), so two workers never claim the same row."""
        c = deliveries.c
        due = or_(and_(c.state.in_([State.PENDING.value, State.DEFERRED.value]), c.due_at <= now),
                  and_(c.state == State.CLAIMED.value, c.lease_until <= now))
        due = and_(due, c.priority_rank != PRIORITY_RANK[Priority.DIGESTIBLE])  # they go in digests
        query = (select(c.delivery_key).where(c.channel == Channel.EMAIL.value, due)
                 .order_by(c.priority_rank, c.due_at, c.delivery_key).limit(limit))
        keys = list(self.session.scalars(dialect_of(self.session).for_update(query, skip_locked=True)))
        if not keys:
            return []
        self.session.execute(update(deliveries).where(c.delivery_key.in_(keys)).values(
            state=State.CLAIMED.value, claimed_by=worker, lease_until=now + lease, updated_at=now))
        rows = self.session.execute(select(deliveries).where(c.delivery_key.in_(keys))
                                    .order_by(c.priority_rank, c.due_at, c.delivery_key))
        return [_delivery_from_row(r) for r in rows]

    # --- digests -------------------------------------------------------------------------------

    def digest_candidates(self, before: datetime) -> list[tuple[str, str]]:
        """(tenant, member) with digestible e-mail waiting since before `before`."""
        c = deliveries.c
        return [(r.tenant, r.recipient_id) for r in self.session.execute(
            select(c.tenant, c.recipient_id).where(*self._digestible(), c.created_at < before).distinct()
            .order_by(c.tenant, c.recipient_id))]

    def lock_digestible(self, tenant: str, member_id: str, before: datetime) -> list[Delivery]:
        """The member's digestible e-mail waiting since before `before`, locked to the commit (a
        second digest job waits, then sees them gone)."""
        c = deliveries.c
        query = select(deliveries).where(*self._digestible(), c.tenant == tenant, c.recipient_id == member_id,
                                         c.created_at < before).order_by(c.created_at, c.delivery_key)
        return [_delivery_from_row(r) for r in self.session.execute(dialect_of(self.session).for_update(query))]

    @staticmethod
    def _digestible() -> tuple[Any, ...]:
        c = deliveries.c
        return (c.priority_rank == PRIORITY_RANK[Priority.DIGESTIBLE], c.state == State.PENDING.value,
                c.channel == Channel.EMAIL.value)

    # --- the inbox (channel in-app) ------------------------------------------------------------

    def inbox_page(self, tenant: str, member_id: str, page_size: int, token: str,
                   include_archived: bool) -> tuple[list[Delivery], str]:
        params: dict[str, Any] = {"tenant": tenant, "member": member_id, "limit": page_size + 1}
        if token:
            params["at"], params["key"] = decode_cursor(token)
        rows = [_delivery_from_row(r) for r in self.session.execute(
            _inbox_page_statement(include_archived, bool(token)), params)]
        if len(rows) > page_size:
            last = rows[page_size - 1]
            return rows[:page_size], encode_cursor(last.created_at, last.delivery_key)
        return rows, ""

    def unread_count(self, tenant: str, member_id: str) -> int:
        return int(self.session.scalar(_UNREAD, {"tenant": tenant, "member": member_id}) or 0)

    def inbox_keys(self, tenant: str, member_id: str, keys: Sequence[str]) -> set[str]:
        return set(self.session.scalars(select(deliveries.c.delivery_key).where(
            _in_inbox(tenant, member_id), deliveries.c.delivery_key.in_(list(keys)))))

    def mark_read(self, tenant: str, member_id: str, keys: Sequence[str], now: datetime) -> None:
        c = deliveries.c
        self.session.execute(update(deliveries).where(
            _in_inbox(tenant, member_id), c.delivery_key.in_(list(keys)), c.read_at.is_(None)).values(read_at=now))

    def archive(self, tenant: str, member_id: str, keys: Sequence[str], now: datetime) -> None:
        c = deliveries.c
        self.session.execute(update(deliveries).where(
            _in_inbox(tenant, member_id), c.delivery_key.in_(list(keys)), c.archived_at.is_(None))
            .values(archived_at=now))

    # --- operations ------------------------------------------------------------------------------

    def queue_depth(self) -> dict[str, int]:
        """E-mail rows not yet handed over (pending, deferred, claimed), per priority class."""
        c = deliveries.c
        depth = {p.value: 0 for p in Priority}
        for priority, n in self.session.execute(
                select(c.priority, func.count()).where(
                    c.channel == Channel.EMAIL.value,
                    c.state.in_([State.PENDING.value, State.DEFERRED.value, State.CLAIMED.value]))
                .group_by(c.priority)):
            depth[priority] = int(n)
        return depth

    def oldest_pending_legal(self) -> datetime | None:
        c = deliveries.c
        return _utc(self.session.scalar(select(func.min(c.created_at)).where(
            c.channel == Channel.EMAIL.value, c.priority_rank == PRIORITY_RANK[Priority.LEGAL],
            c.state.in_([State.PENDING.value, State.DEFERRED.value, State.CLAIMED.value]))))

    def postal_fallback(self, tenant: str, page_size: int = 10_000, token: str = "") -> list[Delivery]:
        """Legal notices no e-mail carried (bounced or suppressed), oldest first, after `token`
        (a cursor of encode_cursor)."""
        c = deliveries.c
        query = select(deliveries).where(
            c.tenant == tenant, c.channel == Channel.EMAIL.value, c.priority_rank == PRIORITY_RANK[Priority.LEGAL],
            c.state.in_([State.BOUNCED.value, State.SUPPRESSED.value]))
        if token:
            query = query.where(tuple_(c.created_at, c.delivery_key) > decode_cursor(token))
        return [_delivery_from_row(r) for r in self.session.execute(
            query.order_by(c.created_at, c.delivery_key).limit(page_size))]


class SqlPreferenceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_member(self, tenant: str, member_id: str) -> dict[str, Preference]:
        rows = self.session.execute(select(preferences).where(
            preferences.c.tenant == tenant, preferences.c.member_id == member_id))
        return {r.category: Preference(r.category, bool(r.opted_out), as_utc(r.updated_at)) for r in rows}

    def opted_out(self, tenant: str, member_ids: Iterable[str]) -> dict[str, set[str]]:
        """member id -> the categories they opted out of (members with none are left out)."""
        ids = sorted(set(member_ids))
        found: dict[str, set[str]] = {}
        for start in range(0, len(ids), 1000):
            for r in self.session.execute(select(preferences.c.member_id, preferences.c.category).where(
                    preferences.c.tenant == tenant, preferences.c.member_id.in_(ids[start:start + 1000]),
                    preferences.c.opted_out.is_(True))):
                found.setdefault(r.member_id, set()).add(r.category)
        return found

    def set(self, tenant: str, member_id: str, category: str, opted_out: bool, now: datetime) -> Preference:
        insert = dialect_of(self.session).insert(preferences).values(
            tenant=tenant, member_id=member_id, category=category, opted_out=opted_out, updated_at=now)
        self.session.execute(insert.on_conflict_do_update(
            index_elements=["tenant", "member_id", "category"], set_=dict(opted_out=opted_out, updated_at=now)))
        return Preference(category, opted_out, now)


class SqlDigestFrequencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, tenant: str, member_id: str) -> str | None:
        return self.session.scalar(select(digest_frequencies.c.frequency).where(
            digest_frequencies.c.tenant == tenant, digest_frequencies.c.member_id == member_id))

    def set(self, tenant: str, member_id: str, frequency: str, now: datetime) -> None:
        insert = dialect_of(self.session).insert(digest_frequencies).values(
            tenant=tenant, member_id=member_id, frequency=frequency, updated_at=now)
        self.session.execute(insert.on_conflict_do_update(index_elements=["tenant", "member_id"],
                                                          set_=dict(frequency=frequency, updated_at=now)))


class SqlSuppressionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def is_suppressed(self, address: str) -> bool:
        return self.session.scalar(select(suppressions.c.address_sha256).where(
            suppressions.c.address_sha256 == address_digest(address))) is not None

    def suppress(self, address: str, reason: str, now: datetime) -> None:
        insert = dialect_of(self.session).insert(suppressions).values(
            address_sha256=address_digest(address), reason=reason[:500], suppressed_at=now)
        self.session.execute(insert.on_conflict_do_nothing(index_elements=["address_sha256"]))


class SqlElectionTitleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def remember(self, tenant: str, election_id: str, titles: dict[str, Any]) -> None:
        insert = dialect_of(self.session).insert(election_titles).values(
            tenant=tenant, election_id=election_id, titles=titles)
        self.session.execute(insert.on_conflict_do_update(index_elements=["tenant", "election_id"],
                                                          set_={"titles": titles}))

    def get(self, tenant: str, election_id: str) -> dict[str, Any] | None:
        found = self.session.scalar(select(election_titles.c.titles).where(
            election_titles.c.tenant == tenant, election_titles.c.election_id == election_id))
        return dict(found) if isinstance(found, dict) else None  # a title of another shape: none


class SqlElectionVotersRepository:
    """The frozen roll per election (election.roll_frozen), keyed by tenant, election and voter."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, tenant: str, election_id: str, voter_ids: Sequence[str]) -> None:
        """Add a part of the roll (a part delivered twice adds nothing)."""
        rows = [{"tenant": tenant, "election_id": election_id, "voter_id": v} for v in dict.fromkeys(voter_ids)]
        if rows:
            self.session.execute(dialect_of(self.session).insert(election_voters).on_conflict_do_nothing(
                index_elements=["tenant", "election_id", "voter_id"]), rows)

    def of(self, tenant: str, election_id: str) -> list[str]:
        c = election_voters.c
        return list(self.session.scalars(select(c.voter_id).where(
            c.tenant == tenant, c.election_id == election_id).order_by(c.voter_id)))

    def forget_election(self, tenant: str, election_id: str) -> int:
        c = election_voters.c
        result = self.session.execute(delete(election_voters).where(c.tenant == tenant, c.election_id == election_id))
        return int(result.rowcount or 0)


class SqlVotedRepository:
    """Who voted per election (election.voted), keyed by tenant, election and member."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, tenant: str, election_id: str, member_id: str, voted_at: datetime) -> None:
        """Once per voter: a later election.voted for them (published again) keeps the first."""
        insert = dialect_of(self.session).insert(voted_members).values(
            tenant=tenant, election_id=election_id, member_id=member_id, voted_at=voted_at)
        self.session.execute(insert.on_conflict_do_nothing(index_elements=["tenant", "election_id", "member_id"]))

    def among(self, tenant: str, election_id: str, member_ids: Sequence[str]) -> set[str]:
        """Those of `member_ids` who voted: one query per 1,000 ids (a delivery batch is 200)."""
        ids = sorted(set(member_ids))
        found: set[str] = set()
        c = voted_members.c
        for start in range(0, len(ids), 1000):
            found.update(self.session.scalars(select(c.member_id).where(
                c.tenant == tenant, c.election_id == election_id, c.member_id.in_(ids[start:start + 1000]))))
        return found

    def forget_election(self, tenant: str, election_id: str) -> int:
        c = voted_members.c
        result = self.session.execute(delete(voted_members).where(c.tenant == tenant, c.election_id == election_id))
        return int(result.rowcount or 0)
