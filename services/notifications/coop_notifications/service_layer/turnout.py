"""The projection of who voted (elections' election.voted), in the inbox's transaction: what the
reminder's re-check reads (handlers.ProjectionRolls.voted). Not a notification: nobody is told."""

from __future__ import annotations

from coop_notifications.domain.turnout import Voted
from coop_notifications.service_layer.ports import NotificationsUnitOfWork


def record_voted(uow: NotificationsUnitOfWork, fact: Voted) -> None:
    """One voter voted. Idempotent: the inbox skips a redelivery, and a second event for the same
    voter (elections publishes one again after an undone Assembly sign-in) keeps the first row."""
    uow.voted.add(fact.tenant, fact.election_id, fact.member_id, fact.voted_at)


def forget_election(uow: NotificationsUnitOfWork, tenant: str, election_id: str) -> int:
    """The results are published and their notice has its audience, so voting is over: no
    reminder of the election is re-checked any more (a late one is dropped by its close,
    delivery.py), and nothing reads its roll again. Its rows of who voted and its roll go;
    how many rows went."""
    return uow.voted.forget_election(tenant, election_id) + uow.election_voters.forget_election(tenant, election_id)


def record_roll(uow: NotificationsUnitOfWork, tenant: str, election_id: str, voter_ids: list[str]) -> None:
    """A part of an election's frozen roll (election.roll_frozen): who hears the results."""
    uow.election_voters.add_many(tenant, election_id, voter_ids)
