"""What the use cases need from storage and messaging, as Protocols (cosmicpython's abstract
repository and unit of work): adapters/unit_of_work.py implements them on SQL, tests/fakes.py in
memory, so the use cases run without a database in tests/service_layer/."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from coop_membership.domain.events import Event
from coop_membership.domain.model import Category, Member, Share, ShareYear, Status, StatusChange
from coop_platform.idempotency import Claim, IdempotentRequest


@dataclass(frozen=True)
class MemberQuery:
    """Filters for listing and counting; empty means "any"."""

    statuses: tuple[Status, ...] = ()
    categories: tuple[Category, ...] = ()
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    good_standing: bool | None = None
    text: str = ""
    after_member_no: int = 0
    limit: int = 50


class MembersRepository(Protocol):
    """The member aggregate: members and their status history."""

    def add_many(self, members: list[Member], history: Sequence[tuple[StatusChange, Member]] = ()) -> set[str]:
        """Insert new members (skipping a taken email) and the first history rows of those
        inserted; give each its number; return the ids inserted."""
        ...

    def get(self, member_id: str) -> Member | None: ...

    def get_for_update(self, member_id: str) -> Member | None:
        """The member, locked until commit (a read-modify-write)."""
        ...

    def get_by_no(self, member_no: int) -> Member | None: ...

    def email_taken(self, email: str, except_member_id: str | None = None) -> bool: ...

    def emails_taken(self, emails: Iterable[str]) -> set[str]: ...

    def list(self, query: MemberQuery, today: date, policy: ShareYear) -> list[Member]: ...

    def count(self, query: MemberQuery, today: date, policy: ShareYear) -> dict[str, Any]: ...

    def history(self, member_no: int) -> list[StatusChange]: ...

    def insert_history(self, changes: list[StatusChange]) -> None: ...

    def import_many(self, members: list[Member], reason: str, actor: str) -> None:
        """Insert imported members (emails checked before) with one history row each; give
        each its number."""
        ...


class SharesRepository(Protocol):
    """Shares and the yearly share rules (amount, grace days)."""

    def share_year(self, year: int) -> ShareYear:
        """The year's rules (defaults when none were set); may be cached for a few seconds."""
        ...

    def save_share_year(self, policy: ShareYear) -> ShareYear: ...

    def share(self, member_no: int, year: int) -> Share | None: ...

    def share_by_reference(self, reference: str) -> Share | None: ...

    def shares_of(self, member_no: int) -> list[Share]: ...

    def add_share(self, share: Share) -> Share: ...

    def paid_through_year(self, member_no: int) -> int | None: ...


class MemberReads(Protocol):
    """GetMember's query side: the stored member (a row with Member's attribute names), no
    aggregate, no transaction."""

    def row(self, key: int | str) -> Any: ...

    def share_year(self, year: int) -> ShareYear: ...


class IdempotencyKeys(Protocol):
    """Request ids (AIP-155) claimed and answered in the unit's own transaction."""

    def claim_many(self, requests: Sequence[IdempotentRequest]) -> list[Claim]: ...

    def record_many(self, answers: Sequence[tuple[IdempotentRequest, Any]]) -> None:
        """Store each claimed key's answer, as the use case returned it (a MemberView, a
        Refund); the adapter stores it as the api answers it, for a Replay to return."""
        ...

    def release_many(self, requests: Sequence[IdempotentRequest]) -> None: ...


class MembershipUnitOfWork(Protocol):
    """One transaction: the rows a use case writes and the events it publishes commit together.
    `languages` is a setting handed in (the languages members may choose)."""

    members: MembersRepository
    shares: SharesRepository
    keys: IdempotencyKeys
    languages: frozenset[str]

    def __enter__(self) -> MembershipUnitOfWork: ...

    def __exit__(self, *exc: object) -> None: ...

    def read_only(self) -> MembershipUnitOfWork:
        """No transaction for this unit's reads (call before the first query)."""
        ...

    def member_reads(self) -> AbstractContextManager[MemberReads]:
        """The query side, used instead of entering the unit."""
        ...

    def publish(self, event: Event, *, correlation_id: str | None = None) -> str: ...

    def forget_published_events(self, subject: str) -> int:
        """Delete already-published events about `subject` (an erased member)."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
