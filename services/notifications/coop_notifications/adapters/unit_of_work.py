"""SqlNotificationsUnitOfWork: the platform's unit of work (rows and outbox in one transaction)
with the notifications repositories."""

from __future__ import annotations

from typing import Any

from coop_notifications import SERVICE_NAME
from coop_notifications.adapters.repository import (
    SqlDigestFrequencyRepository,
    SqlElectionTitleRepository,
    SqlElectionVotersRepository,
    SqlLedgerRepository,
    SqlPreferenceRepository,
    SqlRecipientRepository,
    SqlSuppressionRepository,
    SqlVotedRepository,
)
from coop_platform.unit_of_work import UnitOfWork


def _no_events(event: Any) -> Any:
    raise TypeError(f"the notifications service publishes no domain events yet, got {event!r}")


class SqlNotificationsUnitOfWork(UnitOfWork):
    recipients: SqlRecipientRepository
    ledger: SqlLedgerRepository
    preferences: SqlPreferenceRepository
    suppressions: SqlSuppressionRepository
    election_titles: SqlElectionTitleRepository
    digest_frequencies: SqlDigestFrequencyRepository
    voted: SqlVotedRepository
    election_voters: SqlElectionVotersRepository

    def __init__(self, database: Any) -> None:
        super().__init__(database, source=SERVICE_NAME, translate=_no_events)

    def _open(self) -> None:
        self.recipients = SqlRecipientRepository(self.session)
        self.ledger = SqlLedgerRepository(self.session)
        self.preferences = SqlPreferenceRepository(self.session)
        self.suppressions = SqlSuppressionRepository(self.session)
        self.election_titles = SqlElectionTitleRepository(self.session)
        self.digest_frequencies = SqlDigestFrequencyRepository(self.session)
        self.voted = SqlVotedRepository(self.session)
        self.election_voters = SqlElectionVotersRepository(self.session)
