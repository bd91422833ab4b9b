"""Repositories the initiatives use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from coop_board.domain.initiatives import Initiative


@dataclass(frozen=True)
class Signer:
    member_id: str
    signed_at: datetime
    in_good_standing: bool


@dataclass(frozen=True)
class CountView:
    """The public count of one initiative (GetSignatureCount), one read."""

    initiative_id: str
    status: str
    signature_count: int
    threshold: int
    closes_at: datetime | None


class InitiativeRepository(Protocol):
    """Initiatives with their promoter committee; signatures one row each, counted by shards so
    that concurrent signatures never wait on one hot row."""

    def get(self, tenant: str, initiative_id: str, *, lock: bool = False, skip_locked: bool = False,
            committee: bool = True) -> Initiative | None:
        """`lock`: the initiative row is locked until the unit ends (FOR UPDATE; with
        `skip_locked`, None when another unit holds it): every transition but a signature
        runs under it. `committee=False`: without the promoters (a signature's cheap read)."""
        ...

    def save(self, initiative: Initiative) -> None:
        """Write the initiative row and its committee (insert when `initiative.new`)."""
        ...

    def add_signatures(self, tenant: str, initiative_id: str, member_ids: list[str], now: datetime) -> set[str]:
        """Record these members' signatures (distinct ids; inserted in sorted order, so that
        concurrent batches never deadlock) and count them on one shard; returns those added
        (the others had signed)."""
        ...

    def remove_signature(self, tenant: str, initiative_id: str, member_id: str) -> bool:
        """Withdraw the member's signature and uncount it; False when there was none."""
        ...

    def signed_at(self, tenant: str, initiative_id: str, member_id: str) -> datetime | None: ...

    def count(self, tenant: str, initiative_id: str) -> int:
        """The signatures now (the sum of the counter's shards)."""
        ...

    def counts(self, tenant: str, initiative_ids: list[str]) -> dict[str, int]: ...

    def raise_progress(self, tenant: str, initiative_id: str, mark: int) -> bool:
        """Record a progress mark if it is above the recorded one (a conditional update): True
        for exactly one caller per mark, however many cross it at once."""
        ...

    def verified_count(self, tenant: str, initiative_id: str) -> int:
        """Signatures of members in good standing now (what verification counts)."""
        ...

    def signers(self, tenant: str, initiative_id: str, after: tuple[str, str] | None,
                limit: int) -> list[Signer]:
        """By (signed_at ISO text, member_id), after `after`, with each signer's standing now."""
        ...

    def listing(self, tenant: str, reader: str, board: bool, mine: bool, status: str | None,
                after: tuple[str, str] | None, limit: int) -> list[Initiative]:
        """Newest first by (created_at ISO text, initiative_id), after `after`. Visible: public
        statuses; drafts and submitted ones to their committee (`reader`); submitted ones to the
        board (`board`). `mine`: only those whose committee holds `reader`."""
        ...

    def due(self, what: str, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(tenant, initiative_id) the timers act on: "admissibility" (submitted, delay passed),
        "threshold" (collecting, count at or above a mark not recorded), "expiry" (collecting,
        deadline passed), "overdue" (outcome owed, due date passed, not flagged)."""
        ...

    def overdue_counts(self) -> dict[str, int]:
        """Per tenant: initiatives flagged overdue whose outcome is still not published."""
        ...


class SignatureCountReads(Protocol):
    """The public count on the read pool (GetSignatureCount): one statement, no transaction."""

    def signature_count(self, tenant: str, initiative_id: str) -> CountView | None: ...
