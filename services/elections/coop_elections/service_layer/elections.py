"""Use cases of an election's lifecycle: define, read, list, open."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime

from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal
from coop_elections.domain.election import ElectionSpec
from coop_elections.domain.events import ElectionOpened, roll_parts
from coop_elections.domain.stored import StoredElection
from coop_elections.service_layer.common import MANAGERS, TIMERS, counting_definition, load
from coop_elections.service_layer.ports import ElectionsUnitOfWork
from coop_elections.service_layer.roll import freeze
from coop_elections.service_layer.trustees import missing_trustees

REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")
MAX_ELECTIONS_PAGE = 200


def _check_roll_can_be_built(spec: ElectionSpec, now: datetime, cutoff_given: bool) -> None:
    """An election whose roll would be frozen empty the moment it is created is refused, with
    what to send instead: the roll is built or imported before its cut-off, and the cut-off is
    not after the opening."""
    if not cutoff_given and spec.window.opens_at <= now:
        raise InvalidArgument(
            "voting would open now with the roll cut-off at the opening: the roll would be frozen "
            "empty at once. Give window.opens_at a few minutes ahead (build or import the roll "
            "meanwhile; it freezes at the opening), or give roll_cutoff ahead and opens_at after it",
            field="roll_cutoff", reason="ROLL_WOULD_BE_EMPTY", opens_at=spec.window.opens_at.isoformat(),
            now=now.isoformat())
    if spec.roll_cutoff <= now:
        raise InvalidArgument(
            "the roll cut-off has passed: the roll would be frozen empty at once. Give roll_cutoff "
            "(and window.opens_at, not before it) ahead of now, then build or import the roll",
            field="roll_cutoff", reason="ROLL_CUTOFF_PASSED", now=now.isoformat())


def create_election(uow: ElectionsUnitOfWork, caller: Principal, spec: ElectionSpec, now: datetime,
                    request_id: str = "", request_sha256: str = "", *, cutoff_given: bool = True) -> StoredElection:
    """A new election. With a `request_id` (the caller's idempotency key, unique per tenant), a
    retry of the same request returns the election the first one created; the same id with
    another definition (`request_sha256` differs) is ALREADY_EXISTS."""
    caller.require(*MANAGERS)
    if request_id and not REQUEST_ID.match(request_id):
        raise InvalidArgument("request_id must be 8-100 characters from letters, digits and _.:-",
                              field="request_id", reason="INVALID_REQUEST_ID")
    election_id = str(uuid.uuid4())
    seed = secrets.token_hex(32)
    with uow:
        if not uow.elections.add_election(election_id, caller.tenant, spec, seed, now, request_id or None,
                                          request_sha256 or None):
            first = uow.elections.election_by_request(caller.tenant, request_id)
            if first.creation_request_sha256 != (request_sha256 or None):
                raise AlreadyExists(f"request_id {request_id} created another election: use a new one",
                                    field="request_id", reason="REQUEST_ID_REUSED")
            election_id = first.election_id
        else:
            _check_roll_can_be_built(spec, now, cutoff_given)
        uow.commit()
        return load(uow, caller, election_id)


def get_election(uow: ElectionsUnitOfWork, caller: Principal, election_id: str) -> StoredElection:
    with uow:
        uow.read_only()
        return load(uow, caller, election_id)


def list_elections(uow: ElectionsUnitOfWork, caller: Principal, requested_size: int,
                   page_token: str = "") -> tuple[list[StoredElection], str]:
    """One page of the caller's tenant's elections, newest first, and the next page's token."""
    if requested_size > MAX_ELECTIONS_PAGE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_ELECTIONS_PAGE}", field="page_size",
                              reason="INVALID_PAGE_SIZE")
    size = page_size(requested_size, default=50, maximum=MAX_ELECTIONS_PAGE)
    position = decode_page_token(page_token, "elections", 2)
    with uow:
        found = uow.read_only().elections.list_elections(
            caller.tenant, size + 1, tuple(position) if position else None)  # type: ignore[arg-type]
    page = [e for e, _ in found[:size]]
    if len(found) <= size:
        return page, ""
    last_created = found[size - 1][1]
    return page, encode_page_token("elections", last_created.isoformat(), page[-1].election_id)


def open_election(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, now: datetime) -> StoredElection:
    """Mark open and announce; idempotent once open. Voting itself follows the window clock."""
    caller.require(*TIMERS)
    with uow:
        e = load(uow, caller, election_id, lock="update")
        if e.status == "open":
            return e
        if e.status in ("closed", "tallying"):
            raise FailedPrecondition("the election is closed", reason="ELECTION_CLOSED")
        if now < e.spec.window.opens_at:
            raise FailedPrecondition(f"voting opens at {e.spec.window.opens_at.isoformat()}",
                                     reason="NOT_YET_OPEN", opens_at=e.spec.window.opens_at.isoformat())
        if e.spec.encryption is not None and not e.election_key:
            missing = list(missing_trustees(uow, e))
            raise FailedPrecondition(f"trustees {missing} have not published their keys: the election has no key",
                                     reason="ELECTION_KEY_INCOMPLETE", missing=",".join(map(str, missing)))
        counting_definition(uow, e)  # candidate lists are complete
        summary = freeze(uow, e)
        uow.elections.update_election(e.election_id, status="open")
        e.status = "open"
        uow.publish(ElectionOpened(e, summary))
        for part in roll_parts(e, [voter_id for voter_id, _ in uow.elections.roll_entries(e.election_id)]):
            uow.publish(part)  # the invitations' audience: the frozen roll, not a guess at it
        uow.commit()
        return e
