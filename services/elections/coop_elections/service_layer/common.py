"""What several use cases of the elections service share: who may do what, loading an election
of the caller's tenant, and the counting definition with its candidacies.

Tenant scoping: every use case finds elections only within the caller's tenant, so an id of
another tenant is simply NOT_FOUND.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound
from coop_domain.principal import DEFAULT_TENANT, Principal
from coop_elections.domain.election import definition
from coop_elections.domain.model import ElectionDefinition
from coop_elections.domain.stored import RollSummary, StoredElection
from coop_elections.service_layer.ports import ElectionsUnitOfWork

#: roles that manage a tenant's elections: our cooperative's admins and partner cooperatives' admins
MANAGERS = ("admin", "partner")
VOTERS = ("member",)
TELLERS = ("teller",)
#: who may open and close an election: its managers and the worker's timer
TIMERS = ("admin", "partner", "service", "system")
#: Our own cooperative's tenant: its rolls come from the membership projection.
MEMBER_ROLL_TENANT = DEFAULT_TENANT


def check_uuid(value: str, field: str = "election_id") -> None:
    try:
        ok = len(value) == 36 and str(uuid.UUID(value)) == value
    except ValueError:
        ok = False
    if not ok:
        raise InvalidArgument(f"{field} must be a UUID in canonical form", field=field, reason="INVALID_UUID")


def load(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, lock: str = "") -> StoredElection:
    """The caller's tenant's election (NOT_FOUND for another tenant's); `lock`: "", "share" or
    "update" (row locks on PostgreSQL)."""
    check_uuid(election_id)
    election = uow.elections.election(caller.tenant, election_id, lock)
    if election is None:
        raise NotFound(f"no election {election_id}", field="election_id", reason="ELECTION_NOT_FOUND")
    return election


def candidacies_of(uow: ElectionsUnitOfWork, e: StoredElection) -> dict[str, list[str]]:
    if not e.spec.has_nominations:
        return {}
    out: dict[str, list[str]] = {}
    for row in uow.elections.candidacies(e.election_id):
        if not row.withdrawn:
            out.setdefault(row.question_id, []).append(row.candidate_id)
    return out


def counting_definition(uow: ElectionsUnitOfWork, e: StoredElection, roll_weight: int = 1) -> ElectionDefinition:
    try:
        return definition(e.election_id, e.spec, e.tie_break_seed, roll_weight, candidacies_of(uow, e))
    except InvalidArgument as exc:  # e.g. fewer candidacies than seats
        raise FailedPrecondition(f"the election cannot be counted as defined: {exc}",
                                 reason="DEFINITION_NOT_COUNTABLE") from exc


def check_open(e: StoredElection, now: datetime) -> StoredElection:
    if e.status in ("closed", "tallying") or not e.spec.window.is_open(now):
        raise FailedPrecondition("voting is not open", reason="VOTING_NOT_OPEN",
                                 opens_at=e.spec.window.opens_at.isoformat(), closes_at=e.closes_at.isoformat())
    return e


def stored_summary(e: StoredElection) -> RollSummary | None:
    """The totals stored when the roll was frozen (a frozen roll never changes), else None."""
    if e.roll_frozen and e.roll_hash:
        return RollSummary(e.election_id, e.roll_size or 0, e.roll_weight or 0, True, e.roll_hash)
    return None


def roll_summary_of(uow: ElectionsUnitOfWork, e: StoredElection) -> RollSummary:
    stored = stored_summary(e)
    if stored is not None:
        return stored
    size, weight = uow.elections.roll_totals(e.election_id)
    return RollSummary(e.election_id, size, weight, False, "")
