"""Use cases of the voter roll: import (a call, or a streamed file), build from the membership
projection (our own cooperative), freeze, read, and list a frozen roll's entries for audit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied
from coop_domain.principal import Principal
from coop_elections.domain.election import check_id
from coop_elections.domain.published import RollHasher
from coop_elections.domain.stored import RollSummary, StoredElection
from coop_elections.domain.validation import MAX_WEIGHT
from coop_elections.service_layer.common import (
    MANAGERS,
    MEMBER_ROLL_TENANT,
    check_uuid,
    load,
    roll_summary_of,
    stored_summary,
)
from coop_elections.service_layer.ports import ElectionsUnitOfWork

MAX_ROLL_IMPORT = 100_000
ROLL_PAGE = 1000  # entries read per query while streaming a roll


def _frozen(e: StoredElection, now: datetime) -> FailedPrecondition:
    return FailedPrecondition("the voter roll is frozen", reason="ROLL_FROZEN", roll_cutoff=e.spec.roll_cutoff.isoformat())


def _check_entries(entries: list[tuple[str, int]]) -> None:
    if not entries:
        raise InvalidArgument("give at least one voter", field="voters", reason="ROLL_EMPTY")
    if len(entries) > MAX_ROLL_IMPORT:
        raise InvalidArgument(f"at most {MAX_ROLL_IMPORT} voters per call", field="voters", reason="ROLL_TOO_LARGE")
    seen: set[str] = set()
    for voter_id, weight in entries:
        check_id(voter_id, "voter_id", field="voters.voter_id")
        if not 1 <= weight <= MAX_WEIGHT:
            raise InvalidArgument(f"weight must be between 1 and {MAX_WEIGHT}", field="voters.weight",
                                  reason="INVALID_WEIGHT")
        if voter_id in seen:
            raise InvalidArgument(f"voter {voter_id} appears twice", field="voters.voter_id", reason="VOTER_TWICE")
        seen.add(voter_id)


def _add(uow: ElectionsUnitOfWork, e: StoredElection, entries: list[tuple[str, int]], now: datetime) -> RollSummary:
    """Add voters under the election lock; a retry of an import that went through gets the roll."""
    on_roll = uow.elections.roll_weights(e.election_id, (v for v, _ in entries))
    if on_roll == dict(entries):  # a retry of an import that went through: the roll as it is
        return roll_summary_of(uow, e)
    if e.roll_is_frozen(now):
        raise _frozen(e, now)
    if on_roll:
        raise AlreadyExists(f"{len(on_roll)} voter(s) already on the roll, e.g. {min(on_roll)}",
                            field="voters", reason="VOTER_ON_ROLL", voter_id=min(on_roll))
    uow.elections.add_roll_entries(e.election_id, [(v, w, None) for v, w in entries])
    return roll_summary_of(uow, e)


def import_roll(uow: ElectionsUnitOfWork, caller: Principal, election_id: str,
                entries: list[tuple[str, int]], now: datetime) -> RollSummary:
    caller.require(*MANAGERS)
    _check_entries(entries)
    with uow:
        e = load(uow, caller, election_id, lock="update")
        summary = _add(uow, e, entries, now)
        uow.commit()
        return summary


@dataclass
class RollImportReport:
    rows_received: int
    errors: list[tuple[int, str, str]]  # (line, field, message)
    summary: RollSummary | None  # set when committed

    @property
    def committed(self) -> bool:
        return self.summary is not None


def import_roll_rows(uow: ElectionsUnitOfWork, caller: Principal, election_id: str,
                     rows: list[tuple[int, str, int]], now: datetime) -> RollImportReport:
    """A streamed/CSV import: (line, voter id, weight) rows, all or nothing. Every bad row is
    reported with its line and nothing is written."""
    caller.require(*MANAGERS)
    check_uuid(election_id)
    if not rows:
        raise InvalidArgument("give at least one voter", field="rows", reason="ROLL_EMPTY")
    if len(rows) > MAX_ROLL_IMPORT:
        raise InvalidArgument(f"at most {MAX_ROLL_IMPORT} voters per import", field="rows", reason="ROLL_TOO_LARGE")
    errors: list[tuple[int, str, str]] = []
    first_line: dict[str, int] = {}
    for line, voter_id, weight in rows:
        try:
            check_id(voter_id, "voter_id")
        except InvalidArgument as exc:
            errors.append((line, "voter_id", str(exc)))
            continue
        if not 1 <= weight <= MAX_WEIGHT:
            errors.append((line, "weight", f"weight must be between 1 and {MAX_WEIGHT}"))
        if voter_id in first_line:
            errors.append((line, "voter_id", f"voter {voter_id} appears twice (first on line {first_line[voter_id]})"))
        else:
            first_line[voter_id] = line
    with uow:
        e = load(uow, caller, election_id, lock="update")
        on_roll = uow.elections.roll_weights(e.election_id, list(first_line))
        retry = not errors and on_roll == {v: w for _, v, w in rows}  # an import that went through
        if e.roll_is_frozen(now) and not retry:
            raise _frozen(e, now)
        errors += [(first_line[v], "voter_id", f"voter {v} is already on the roll") for v in on_roll if not retry]
        if errors:
            return RollImportReport(len(rows), sorted(errors), None)
        summary = _add(uow, e, [(v, w) for _, v, w in rows], now)
        uow.commit()
        return RollImportReport(len(rows), [], summary)


def build_roll_from_members(uow: ElectionsUnitOfWork, caller: Principal, election_id: str,
                            now: datetime) -> RollSummary:
    """Our own cooperative: the roll becomes the members in good standing now (local projection).
    A rebuild before the cut-off replaces the roll: a member no longer in good standing (suspended,
    lapsed, erased) leaves it, a member newly in good standing joins it."""
    caller.require("admin", "system")
    if caller.tenant != MEMBER_ROLL_TENANT:
        raise FailedPrecondition("the membership projection is the cooperative's own; partners import their roll",
                                 reason="PARTNERS_IMPORT_THEIR_ROLL")
    with uow:
        e = load(uow, caller, election_id, lock="update")
        if e.roll_is_frozen(now):
            raise _frozen(e, now)
        members = dict(uow.elections.members_in_good_standing())
        on_roll = dict(uow.elections.roll_entries(e.election_id))
        uow.elections.remove_roll_entries(e.election_id, [v for v in on_roll if v not in members])
        uow.elections.add_roll_entries(
            e.election_id, [(m, 1, cat) for m, cat in members.items() if m not in on_roll])
        summary = roll_summary_of(uow, e)
        uow.commit()
        return summary


def freeze(uow: ElectionsUnitOfWork, e: StoredElection) -> RollSummary:
    """Compute and store size, weight and hash (once); the caller holds the election lock."""
    stored = stored_summary(e)
    if stored is not None:
        return stored
    hasher = RollHasher()
    for voter_id, weight in sorted(uow.elections.roll_entries(e.election_id)):
        hasher.add(voter_id, weight)
    digest = hasher.hexdigest()
    uow.elections.update_election(e.election_id, roll_frozen=True, roll_size=hasher.size,
                                  roll_weight=hasher.total_weight, roll_hash=digest)
    e.roll_frozen, e.roll_size, e.roll_weight, e.roll_hash = True, hasher.size, hasher.total_weight, digest
    return RollSummary(e.election_id, hasher.size, hasher.total_weight, True, digest)


def freeze_roll(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, now: datetime) -> RollSummary:
    caller.require(*MANAGERS)
    with uow:
        e = load(uow, caller, election_id, lock="update")
        summary = freeze(uow, e)
        uow.commit()
        return summary


def roll_summary(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, now: datetime) -> RollSummary:
    """Size, weight and (once frozen) hash; a roll past its cut-off is frozen on first read."""
    with uow:
        e = load(uow, caller, election_id)
        if e.roll_is_frozen(now) and not e.roll_hash:
            e = load(uow, caller, election_id, lock="update")
            summary = freeze(uow, e)
            uow.commit()
            return summary
        return roll_summary_of(uow, e)


def my_roll_entry(uow: ElectionsUnitOfWork, caller: Principal, election_id: str) -> tuple[bool, int, bool]:
    """The caller's own entry: (on the roll, weight, has voted)."""
    with uow:
        uow.read_only()
        e = load(uow, caller, election_id)
        entry = uow.elections.roll_entry(e.election_id, caller.subject)
        voted = uow.elections.has_voted(e.election_id, caller.subject)
        return (entry is not None, int(entry.weight) if entry else 0, voted)


def frozen_roll_entries(uow: ElectionsUnitOfWork, caller: Principal, election_id: str,
                        now: datetime) -> tuple[RollSummary, Iterator[tuple[str, int]]]:
    """A frozen roll's summary and its entries in voter id order: the lines its published SHA-256
    is computed over, so an auditor can recompute it. Admins of our cooperative and, for a
    partner's election, that tenant's admins (partner role)."""
    caller.require(*MANAGERS)
    summary = roll_summary(uow, caller, election_id, now)
    if not summary.frozen:
        raise FailedPrecondition("the roll is not frozen yet: its entries are listed once they can no longer "
                                 "change", reason="ROLL_NOT_FROZEN")
    if caller.tenant == MEMBER_ROLL_TENANT and not caller.has("admin"):
        raise PermissionDenied("our cooperative's roll is listed to its admins", reason="ROLE_REQUIRED")

    def entries() -> Iterator[tuple[str, int]]:
        after = ""
        while True:
            with uow:
                page = uow.read_only().elections.roll_entries_page(election_id, after, ROLL_PAGE)
            yield from page
            if len(page) < ROLL_PAGE:
                return
            after = page[-1][0]

    return summary, entries()
