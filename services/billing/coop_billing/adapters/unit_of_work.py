"""SqlBillingUnitOfWork: the platform's UnitOfWork (one transaction for rows and outbox events)
with billing's repositories, its request_id store and its event translator."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from coop_billing import SERVICE_NAME
from coop_billing.adapters import events_out
from coop_billing.adapters.repositories.activities import SqlActivityRepository
from coop_billing.adapters.repositories.clients import SqlClientRepository
from coop_billing.adapters.repositories.contracts import SqlContractRepository
from coop_billing.adapters.repositories.invoices import SqlInvoiceRepository
from coop_billing.adapters.repositories.members import SqlMemberRepository
from coop_billing.adapters.repositories.redistribution import SqlRedistributionRepository
from coop_billing.adapters.repositories.share_fees import SqlShareFeeRepository
from coop_billing.adapters.repositories.statements import SqlStatementRepository
from coop_billing.adapters.repositories.years import SqlYearRepository
from coop_platform import idempotency
from coop_platform.idempotency import Claim, IdempotentRequest
from coop_platform.sqlkit import dialect_of
from coop_platform.unit_of_work import UnitOfWork


class SqlRequestIds:
    """The request_id store (coop_platform.idempotency) on the unit's session: keys and answers
    commit with the work they answer for."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, request: IdempotentRequest) -> bytes | None:
        return idempotency.claim(self.session, request)

    def claim_many(self, requests: Sequence[IdempotentRequest]) -> list[Claim]:
        return idempotency.claim_many(self.session, requests)

    def record(self, request: IdempotentRequest, answer: bytes) -> None:
        idempotency.record(self.session, request, answer)

    def record_many(self, answers: Sequence[tuple[IdempotentRequest, bytes]]) -> None:
        idempotency.record_many(self.session, answers)

    def release_many(self, requests: Sequence[IdempotentRequest]) -> None:
        idempotency.release_many(self.session, requests)

    def purge(self) -> int:
        return idempotency.purge(self.session)


class SqlBillingUnitOfWork(UnitOfWork):
    """One transaction: billing's repositories, its request_ids and its outbox."""

    members: SqlMemberRepository
    clients: SqlClientRepository
    activities: SqlActivityRepository
    years: SqlYearRepository
    invoices: SqlInvoiceRepository
    contracts: SqlContractRepository
    share_fees: SqlShareFeeRepository
    statements: SqlStatementRepository
    redistribution: SqlRedistributionRepository
    request_ids: SqlRequestIds

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        super().__init__(session_factory, source=SERVICE_NAME, translate=events_out.translate)

    def _open(self) -> None:
        session = self.session
        dialect = dialect_of(session)
        self.members = SqlMemberRepository(session, dialect)
        self.clients = SqlClientRepository(session, dialect)
        self.activities = SqlActivityRepository(session, dialect)
        self.years = SqlYearRepository(session, dialect)
        self.invoices = SqlInvoiceRepository(session, dialect)
        self.contracts = SqlContractRepository(session, dialect)
        self.share_fees = SqlShareFeeRepository(session, dialect)
        self.statements = SqlStatementRepository(session, dialect)
        self.redistribution = SqlRedistributionRepository(session, dialect)
        self.request_ids = SqlRequestIds(session)
