"""SqlMembershipUnitOfWork: the platform's UnitOfWork with membership's repositories, its
idempotency keys and its event translator (adapters/events_out.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from coop_membership import SERVICE_NAME
from coop_membership.adapters import orm
from coop_membership.adapters.events_out import to_message
from coop_membership.adapters.messages import answer_to_pb
from coop_membership.adapters.repositories import MemberReads, SqlMemberRepository
from coop_membership.adapters.repositories_shares import SqlShareRepository
from coop_membership.domain.model import DEFAULT_LANGUAGE_SET
from coop_platform import idempotency
from coop_platform.db import Database
from coop_platform.idempotency import Claim, IdempotentRequest
from coop_platform.unit_of_work import UnitOfWork


class SqlIdempotencyKeys:
    """Request ids (coop_platform.idempotency) in the unit's session; an answer is stored as the
    message v1 answers with (a Member, a RefundSharesResponse), which v2's reply carries or is."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim_many(self, requests: Sequence[IdempotentRequest]) -> list[Claim]:
        return idempotency.claim_many(self.session, requests)

    def record_many(self, answers: Sequence[tuple[IdempotentRequest, Any]]) -> None:
        idempotency.record_many(self.session, [(request, answer_to_pb(answer).SerializeToString())
                                               for request, answer in answers])

    def release_many(self, requests: Sequence[IdempotentRequest]) -> None:
        idempotency.release_many(self.session, requests)


class SqlMembershipUnitOfWork(UnitOfWork):
    """Members, shares, keys and the outbox in one transaction (service_layer.ports)."""

    members: SqlMemberRepository
    shares: SqlShareRepository
    keys: SqlIdempotencyKeys

    def __init__(self, database: Database | sessionmaker[Session], *,
                 languages: frozenset[str] = DEFAULT_LANGUAGE_SET) -> None:
        orm.start_mappers()
        super().__init__(database, source=SERVICE_NAME, translate=to_message)
        self.languages = languages  # a setting: entrypoints.settings.member_languages()

    def _open(self) -> None:
        self.members = SqlMemberRepository(self.session)
        self.shares = SqlShareRepository(self.session)
        self.keys = SqlIdempotencyKeys(self.session)

    @contextlib.contextmanager
    def member_reads(self) -> Iterator[MemberReads]:
        """The query side, without entering the unit: `with uow.member_reads() as reads:`."""
        with self.reading() as conn:
            yield MemberReads(conn)
