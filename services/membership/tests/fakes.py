"""In-memory repositories and unit of work for the use cases (service_layer.ports): fast tests
of the service layer without a database (tests/service_layer/), as in cosmicpython. The rows
live in a Store shared by every unit made on it; a unit writes to it directly (no rollback of
objects) and records the events of the units that committed, in `published`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from coop_membership.domain.events import Event
from coop_membership.domain.model import (
    DEFAULT_LANGUAGE_SET,
    Member,
    Share,
    ShareState,
    ShareYear,
    StatusChange,
)
from coop_membership.service_layer.ports import MemberQuery
from coop_platform.idempotency import Claim, IdempotentRequest, Replay, SameAs, key_reused


@dataclass
class Store:
    """What a database would hold, shared by every unit made from it."""

    members: dict[int, Member] = field(default_factory=dict)
    history: list[StatusChange] = field(default_factory=list)
    shares: dict[str, Share] = field(default_factory=dict)
    share_years: dict[int, ShareYear] = field(default_factory=dict)
    keys: dict[Any, tuple[str, Any]] = field(default_factory=dict)  # key -> (fingerprint, answer)
    published: list[Event] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    next_no: int = 1


class FakeMembers:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add_many(self, members: list[Member], history: Sequence[tuple[StatusChange, Member]] = ()) -> set[str]:
        taken = {m.email for m in self.store.members.values()}
        inserted = set()
        for member in members:
            if member.email in taken:
                continue
            member.member_no, self.store.next_no = self.store.next_no, self.store.next_no + 1
            self.store.members[member.member_no] = member
            inserted.add(member.member_id)
        for change, member in history:
            if member.member_id in inserted:
                change.member_no = member.member_no
                self.store.history.append(change)
        return inserted

    def get(self, member_id: str) -> Member | None:
        return next((m for m in self.store.members.values() if m.member_id == member_id), None)

    get_for_update = get

    def get_by_no(self, member_no: int) -> Member | None:
        return self.store.members.get(member_no)

    def email_taken(self, email: str, except_member_id: str | None = None) -> bool:
        return any(m.email == email and m.member_id != except_member_id for m in self.store.members.values())

    def emails_taken(self, emails: Iterable[str]) -> set[str]:
        return set(emails) & {m.email for m in self.store.members.values()}

    def list(self, query: MemberQuery, today: date, policy: ShareYear) -> list[Member]:
        """Status filters and paging only: what the use case adds around the query."""
        found = sorted((m for no, m in self.store.members.items() if no > query.after_member_no
                        and (not query.statuses or m.status in query.statuses)), key=lambda m: m.member_no)
        return found[: query.limit]

    def count(self, query: MemberQuery, today: date, policy: ShareYear) -> dict[str, Any]:
        found = self.list(MemberQuery(statuses=query.statuses, limit=10**9), today, policy)
        return {"total": len(found), "good_standing": sum(m.in_good_standing(today, policy) for m in found)}

    def history(self, member_no: int) -> list[StatusChange]:
        return [c for c in self.store.history if c.member_no == member_no]

    def insert_history(self, changes: list[StatusChange]) -> None:
        self.store.history.extend(changes)

    def import_many(self, members: list[Member], reason: str, actor: str) -> None:
        for member in members:
            member.member_no, self.store.next_no = self.store.next_no, self.store.next_no + 1
            self.store.members[member.member_no] = member
            self.store.history.append(StatusChange(None, member.status, reason, actor, member.created_at,
                                                   member_no=member.member_no))


class FakeShares:
    def __init__(self, store: Store) -> None:
        self.store = store

    def share_year(self, year: int) -> ShareYear:
        return self.store.share_years.get(year) or ShareYear(year=year)

    def save_share_year(self, policy: ShareYear) -> ShareYear:
        self.store.share_years[policy.year] = policy
        return policy

    def share(self, member_no: int, year: int) -> Share | None:
        return next((s for s in self.store.shares.values() if (s.member_no, s.year) == (member_no, year)), None)

    def share_by_reference(self, reference: str) -> Share | None:
        return next((s for s in self.store.shares.values() if s.payment_reference == reference), None)

    def shares_of(self, member_no: int) -> list[Share]:
        return sorted((s for s in self.store.shares.values() if s.member_no == member_no), key=lambda s: s.year)

    def add_share(self, share: Share) -> Share:
        self.store.shares[share.share_id] = share
        return share

    def paid_through_year(self, member_no: int) -> int | None:
        return max((s.year for s in self.shares_of(member_no) if s.state == ShareState.PAID), default=None)


class FakeKeys:
    def __init__(self, store: Store) -> None:
        self.store = store

    def claim_many(self, requests: Sequence[IdempotentRequest]) -> list[Claim]:
        claims: list[Claim] = []
        first: dict[Any, int] = {}
        for n, request in enumerate(requests):
            if request.key in first:
                same = requests[first[request.key]].fingerprint == request.fingerprint
                claims.append(SameAs(first[request.key]) if same else key_reused(request.key))
                continue
            first[request.key] = n
            stored = self.store.keys.get(request.key)
            if stored is None:
                claims.append(None)
            elif stored[0] != request.fingerprint:
                claims.append(key_reused(request.key))
            else:
                claims.append(Replay(stored[1]))
        return claims

    def record_many(self, answers: Sequence[tuple[IdempotentRequest, Any]]) -> None:
        """Keeps the answer itself: a fake Replay's `response` is the use case's first answer."""
        for request, answer in answers:
            self.store.keys[request.key] = (request.fingerprint, answer)

    def release_many(self, requests: Sequence[IdempotentRequest]) -> None:
        """Nothing to give back: a fake claim is only stored by record_many."""


class FakeReads:
    def __init__(self, store: Store) -> None:
        self.store = store

    def row(self, key: int | str) -> Any:
        if isinstance(key, int):
            return self.store.members.get(key)
        return next((m for m in self.store.members.values() if m.member_id == key), None)

    def share_year(self, year: int) -> ShareYear:
        return FakeShares(self.store).share_year(year)


class FakeUnitOfWork:
    """A unit on a Store. `committed`: whether this unit committed (last time it was entered);
    `published`: the events of every committed unit of the store, in order."""

    def __init__(self, store: Store | None = None, *, languages: frozenset[str] = DEFAULT_LANGUAGE_SET) -> None:
        self.store = store or Store()
        self.languages = languages
        self.committed = False
        self.members, self.shares, self.keys = FakeMembers(self.store), FakeShares(self.store), FakeKeys(self.store)
        self._events: list[Event] = []

    @property
    def published(self) -> list[Event]:
        return self.store.published

    def __enter__(self) -> FakeUnitOfWork:
        self._events, self.committed = [], False
        return self

    def __exit__(self, *exc: object) -> None:
        self._events = []  # not committed: the events go, as they would with the transaction

    def read_only(self) -> FakeUnitOfWork:
        return self

    @contextlib.contextmanager
    def member_reads(self) -> Iterator[FakeReads]:
        yield FakeReads(self.store)

    def publish(self, event: Event, *, correlation_id: str | None = None) -> str:
        self._events.append(event)
        return f"event-{len(self.store.published) + len(self._events)}"

    def forget_published_events(self, subject: str) -> int:
        self.store.forgotten.append(subject)
        return 0

    def commit(self) -> None:
        self.store.published.extend(self._events)
        self._events = []
        self.committed = True

    def rollback(self) -> None:
        self._events = []
