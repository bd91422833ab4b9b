"""The worker's clock: build our cooperative's rolls just before their cut-off, open, remind
(election.closing_soon) and close whatever is due, and finish the encrypted tallies k trustees
have decrypted. Each election in its own transaction, as the system principal of its tenant; one
failing does not stop the others."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from coop_domain.errors import FailedPrecondition, InvalidArgument
from coop_domain.principal import system_principal
from coop_elections.domain.events import ElectionClosingSoon
from coop_elections.service_layer.common import MEMBER_ROLL_TENANT, load
from coop_elections.service_layer.elections import open_election
from coop_elections.service_layer.encrypted_tally import finish_tally, tally_state
from coop_elections.service_layer.ports import ElectionsUnitOfWork
from coop_elections.service_layer.results import close_election
from coop_elections.service_layer.roll import build_roll_from_members

SERVICE = "elections"


def due_elections(uow: ElectionsUnitOfWork, what: str, now: datetime) -> list[tuple[str, str]]:
    with uow:
        uow.read_only()
        if what == "open":
            return uow.elections.due("opens_at", now, ("scheduled",))
        return uow.elections.due("closes_at", now, ("scheduled", "open"))


def build_due_member_rolls(uow: ElectionsUnitOfWork, now: datetime, lead: timedelta) -> int:
    """Build, just before their cut-off, the rolls of our cooperative's elections that nobody
    built by hand: the members in good standing at that moment (the projection)."""
    with uow:
        due = uow.read_only().elections.member_rolls_due(MEMBER_ROLL_TENANT, now, now + lead)
    built = 0
    for election_id in due:
        try:
            build_roll_from_members(uow, system_principal(SERVICE, MEMBER_ROLL_TENANT), election_id, now)
            built += 1
        except (FailedPrecondition, InvalidArgument):
            continue
    return built


def run_timers(uow: ElectionsUnitOfWork, now: datetime, closing_soon_lead: timedelta,
               roll_lead: timedelta = timedelta(seconds=45)) -> dict[str, int]:
    """One tick. `roll_lead` must exceed the tick interval so that some tick falls before every
    cut-off."""
    done = {"rolls_built": build_due_member_rolls(uow, now, roll_lead),
            "opened": 0, "closing_soon": 0, "closed": 0, "failed": 0}
    for what, step, done_key in (("open", open_election, "opened"), ("close", close_election, "closed")):
        if what == "close":
            done["closing_soon"] = send_closing_soon(uow, now, closing_soon_lead)
        for tenant, election_id in due_elections(uow, what, now):
            try:
                step(uow, system_principal(SERVICE, tenant), election_id, now)
                done[done_key] += 1
            except (FailedPrecondition, InvalidArgument):
                done["failed"] += 1
    return done


def send_closing_soon(uow: ElectionsUnitOfWork, now: datetime, lead: timedelta) -> int:
    """election.closing_soon with the non-voters, once per election, `lead` before the close (or
    halfway through a window shorter than twice the lead: VotingWindow.reminder_at)."""
    sent = 0
    with uow:
        due = uow.read_only().elections.closing_soon_due(now, now + lead)
    for tenant, election_id in due:
        with uow:
            e = load(uow, system_principal(SERVICE, tenant), election_id, lock="update")
            if e.closing_soon_sent or now < e.spec.window.reminder_at(lead):
                continue
            uow.publish(ElectionClosingSoon(e, tuple(uow.elections.non_voters(e.election_id))))
            uow.elections.update_election(e.election_id, closing_soon_sent=True)
            uow.commit()
            sent += 1
    return sent


def ready_tallies(uow: ElectionsUnitOfWork) -> list[tuple[str, str]]:
    """(tenant, election id) of the encrypted elections whose mixes are all in and whose shares
    k trustees have submitted: what FinishTally would now publish."""
    with uow:
        tallying = uow.read_only().elections.in_status("tallying")
    return [(tenant, election_id) for tenant, election_id in tallying
            if tally_state(uow, system_principal(SERVICE, tenant), election_id).ready_to_finish]


def finish_ready_tallies(uow: ElectionsUnitOfWork, now: datetime, mapper: Callable[..., Iterable[Any]] = map,
                         ready: Iterable[tuple[str, str]] | None = None) -> int:
    """Finish every ready tally (combine k trustees' shares, count, publish), so that nobody has
    to run FinishTally by hand; idempotent like it. CPU for minutes at the cooperative's scale:
    the worker runs this in a process of its own (entrypoints/finish_tallies.py). `ready`: the
    ready_tallies the caller has just listed."""
    finished = 0
    for tenant, election_id in ready_tallies(uow) if ready is None else ready:
        try:
            finish_tally(uow, system_principal(SERVICE, tenant), election_id, now, mapper)
            finished += 1
        except (FailedPrecondition, InvalidArgument):
            continue
    return finished
