"""Use cases of the elections service. Each runs in one unit of work: rows and events commit
together. Every use case takes the caller's tenant and finds elections only within it, so an
id of another tenant is simply NOT_FOUND. `now` is passed in (tests drive the clock)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from coop_elections.adapters import messages as msg
from coop_elections.adapters.repository import ElectionsUnitOfWork, StoredElection
from coop_elections.domain.ballot_box import (
    count_box,
    new_tracker,
    normalise_tracker,
    publish_box,
    receipt_hash,
    revote_code_from_key,
    tracker_from_key,
)
from coop_elections.domain.canonical import canonical_json, sha256_hex, to_jsonable
from coop_elections.domain.election import (
    ElectionSpec,
    Text,
    check_id,
    check_texts,
    definition,
    mandate_dates,
)
from coop_elections.domain.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from coop_elections.domain.model import CANDIDATE_METHODS, ElectionDefinition, Method
from coop_elections.domain.proxies import ProxyBook, ProxyStatus
from coop_elections.domain.published import RollHasher, definition_to_json
from coop_elections.domain.validation import MAX_WEIGHT, validate_ballot
from coop_elections.domain.verification import seed_commitment
from coop_platform.auth import DEFAULT_TENANT
from coop_platform.batching import run_alone
from coop_platform.errors import DomainError as PlatformDomainError

UowFactory = Callable[[], ElectionsUnitOfWork]
MAX_ROLL_IMPORT = 100_000
PERMANENT_STAFF = "permanent_staff"


@dataclass
class RollSummary:
    election_id: str
    size: int
    total_weight: int
    frozen: bool
    sha256: str


def _check_uuid(value: str, field: str = "election_id") -> None:
    try:
        ok = len(value) == 36 and str(uuid.UUID(value)) == value
    except ValueError:
        ok = False
    if not ok:
        raise InvalidArgument(f"{field} must be a UUID in canonical form")


def _load(uow: ElectionsUnitOfWork, tenant: str, election_id: str, lock: str = "") -> StoredElection:
    _check_uuid(election_id)
    election = uow.elections.election(tenant, election_id, lock)
    if election is None:
        raise NotFound(f"no election {election_id}")
    return election


def _candidacies(uow: ElectionsUnitOfWork, e: StoredElection) -> dict[str, list[str]]:
    if not e.spec.has_nominations:
        return {}
    out: dict[str, list[str]] = {}
    for row in uow.elections.candidacies(e.election_id):
        if not row.withdrawn:
            out.setdefault(row.question_id, []).append(row.candidate_id)
    return out


def _definition(uow: ElectionsUnitOfWork, e: StoredElection, roll_weight: int = 1) -> ElectionDefinition:
    try:
        return definition(e.election_id, e.spec, e.tie_break_seed, roll_weight, _candidacies(uow, e))
    except InvalidArgument as exc:  # e.g. fewer candidacies than seats
        raise FailedPrecondition(f"the election cannot be counted as defined: {exc}") from exc


# -- elections -----------------------------------------------------------------------------
REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


def create_election(uow_factory: UowFactory, tenant: str, spec: ElectionSpec, now: datetime,
                    request_id: str = "", request_sha256: str = "") -> StoredElection:
    """A new election. With a `request_id` (the caller's idempotency key, unique per tenant), a
    retry of the same request returns the election the first one created; the same id with
    another definition (`request_sha256` differs) is ALREADY_EXISTS."""
    if request_id and not REQUEST_ID.match(request_id):
        raise InvalidArgument("request_id must be 8-100 characters from letters, digits and _.:-")
    election_id = str(uuid.uuid4())
    seed = secrets.token_hex(32)
    with uow_factory() as uow:
        if not uow.elections.add_election(election_id, tenant, spec, seed, now, request_id or None,
                                          request_sha256 or None):
            first = uow.elections.election_by_request(tenant, request_id)
            if first.creation_request_sha256 != (request_sha256 or None):
                raise AlreadyExists(f"request_id {request_id} created another election: use a new one")
            election_id = first.election_id
        uow.commit()
        return _load(uow, tenant, election_id)


def get_election(uow_factory: UowFactory, tenant: str, election_id: str) -> StoredElection:
    with uow_factory() as uow:
        uow.read_only()
        return _load(uow, tenant, election_id)


def list_elections(uow_factory: UowFactory, tenant: str, limit: int) -> list[StoredElection]:
    if not 1 <= limit <= 200:
        raise InvalidArgument("page_size must be between 1 and 200")
    with uow_factory() as uow:
        return uow.read_only().elections.list_elections(tenant, limit)


def open_election(uow_factory: UowFactory, tenant: str, election_id: str, now: datetime) -> StoredElection:
    """Mark open and announce; idempotent once open. Voting itself follows the window clock."""
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id, lock="update")
        if e.status == "open":
            return e
        if e.status == "closed":
            raise FailedPrecondition("the election is closed")
        if now < e.spec.window.opens_at:
            raise FailedPrecondition(f"voting opens at {e.spec.window.opens_at.isoformat()}")
        _definition(uow, e)  # candidate lists are complete
        summary = _freeze(uow, e)
        uow.elections.update_election(e.election_id, status="open")
        uow.emit(*msg.election_opened(e, summary.size, summary.total_weight, summary.sha256))
        uow.commit()
        e.status = "open"
        return e


# -- voter roll ----------------------------------------------------------------------------
def import_roll(uow_factory: UowFactory, tenant: str, election_id: str,
                entries: list[tuple[str, int]], now: datetime) -> RollSummary:
    if not entries:
        raise InvalidArgument("give at least one voter")
    if len(entries) > MAX_ROLL_IMPORT:
        raise InvalidArgument(f"at most {MAX_ROLL_IMPORT} voters per call")
    seen: set[str] = set()
    for voter_id, weight in entries:
        check_id(voter_id, "voter_id")
        if not 1 <= weight <= MAX_WEIGHT:
            raise InvalidArgument(f"weight must be between 1 and {MAX_WEIGHT}")
        if voter_id in seen:
            raise InvalidArgument(f"voter {voter_id} appears twice")
        seen.add(voter_id)
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id, lock="update")
        on_roll = uow.elections.roll_weights(e.election_id, (v for v, _ in entries))
        if on_roll == dict(entries):  # a retry of an import that went through: the roll as it is
            return _summary(uow, e)
        if e.roll_is_frozen(now):
            raise FailedPrecondition("the voter roll is frozen")
        if on_roll:
            raise AlreadyExists(f"{len(on_roll)} voter(s) already on the roll, e.g. {min(on_roll)}")
        uow.elections.add_roll_entries(e.election_id, [(v, w, None) for v, w in entries])
        summary = _summary(uow, e)
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


def import_roll_rows(uow_factory: UowFactory, tenant: str, election_id: str,
                     rows: list[tuple[int, str, int]], now: datetime) -> RollImportReport:
    """A streamed/CSV import: (line, voter id, weight) rows, all or nothing. Every bad row is
    reported with its line and nothing is written; a clean file goes through import_roll."""
    _check_uuid(election_id)
    if not rows:
        raise InvalidArgument("give at least one voter")
    if len(rows) > MAX_ROLL_IMPORT:
        raise InvalidArgument(f"at most {MAX_ROLL_IMPORT} voters per import")
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
    with uow_factory() as uow:  # the election exists for this tenant; voters already on the roll
        e = _load(uow, tenant, election_id)
        on_roll = uow.elections.roll_weights(e.election_id, list(first_line))
        retry = not errors and on_roll == {v: w for _, v, w in rows}  # an import that went through
        if e.roll_is_frozen(now) and not retry:
            raise FailedPrecondition("the voter roll is frozen")
    if retry:
        return RollImportReport(len(rows), [], import_roll(uow_factory, tenant, election_id,
                                                           [(v, w) for _, v, w in rows], now))
    errors += [(first_line[v], "voter_id", f"voter {v} is already on the roll") for v in on_roll]
    if errors:
        return RollImportReport(len(rows), sorted(errors), None)
    # import_roll checks again under the election lock (a concurrent import gives ALREADY_EXISTS)
    summary = import_roll(uow_factory, tenant, election_id, [(v, w) for _, v, w in rows], now)
    return RollImportReport(len(rows), [], summary)


def build_roll_from_members(uow_factory: UowFactory, tenant: str, election_id: str, now: datetime) -> RollSummary:
    """Our own cooperative: the roll is the members in good standing (local projection)."""
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id, lock="update")
        if e.roll_is_frozen(now):
            raise FailedPrecondition("the voter roll is frozen")
        members = uow.elections.members_in_good_standing()
        present = uow.elections.roll_voters_present(e.election_id, [m for m, _ in members])
        uow.elections.add_roll_entries(
            e.election_id, [(m, 1, cat) for m, cat in members if m not in present])
        summary = _summary(uow, e)
        uow.commit()
        return summary


def _stored_summary(e: StoredElection) -> RollSummary | None:
    """The totals stored when the roll was frozen (a frozen roll never changes), else None."""
    if e.roll_frozen and e.roll_hash:
        return RollSummary(e.election_id, e.roll_size or 0, e.roll_weight or 0, True, e.roll_hash)
    return None


def _freeze(uow: ElectionsUnitOfWork, e: StoredElection) -> RollSummary:
    """Compute and store size, weight and hash (once); the caller holds the election lock."""
    stored = _stored_summary(e)
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


def _summary(uow: ElectionsUnitOfWork, e: StoredElection) -> RollSummary:
    stored = _stored_summary(e)
    if stored is not None:
        return stored
    size, weight = uow.elections.roll_totals(e.election_id)
    return RollSummary(e.election_id, size, weight, False, "")


def freeze_roll(uow_factory: UowFactory, tenant: str, election_id: str, now: datetime) -> RollSummary:
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id, lock="update")
        summary = _freeze(uow, e)
        uow.commit()
        return summary


def roll_summary(uow_factory: UowFactory, tenant: str, election_id: str, now: datetime) -> RollSummary:
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id)
        if e.roll_is_frozen(now) and not e.roll_hash:
            e = _load(uow, tenant, election_id, lock="update")
            summary = _freeze(uow, e)
            uow.commit()
            return summary
        return _summary(uow, e)


def my_roll_entry(uow_factory: UowFactory, tenant: str, election_id: str, voter_id: str) -> tuple[bool, int, bool]:
    with uow_factory() as uow:
        uow.read_only()
        e = _load(uow, tenant, election_id)
        entry = uow.elections.roll_entry(e.election_id, voter_id)
        voted = uow.elections.has_voted(e.election_id, voter_id)
        return (entry is not None, int(entry.weight) if entry else 0, voted)


# -- candidacies ---------------------------------------------------------------------------
def _nomination_question(e: StoredElection, question_id: str):
    for q in e.spec.questions:
        if q.question_id == question_id:
            if q.method not in CANDIDATE_METHODS:
                raise FailedPrecondition(f"question {question_id} has no candidates")
            return q
    raise NotFound(f"no question {question_id!r}")


def _nominations_open(e: StoredElection, now: datetime) -> None:
    if not e.spec.has_nominations:
        raise FailedPrecondition("this election takes no candidacies")
    if not (e.spec.nominations_open <= now < e.spec.nominations_close):  # type: ignore[operator]
        raise FailedPrecondition("nominations are not open")


def submit_candidacy(uow_factory: UowFactory, tenant: str, election_id: str, question_id: str,
                     candidate_id: str, statement: tuple[Text, ...], now: datetime) -> Any:
    check_texts(statement, "statement", need_title=False)
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id, lock="update")
        q = _nomination_question(e, question_id)
        _nominations_open(e, now)
        # eligibility: on the roll (good standing at the cut-off) or, before the roll exists,
        # in good standing in the membership projection
        entry = uow.elections.roll_entry(e.election_id, candidate_id)
        member = uow.elections.member(candidate_id)
        if entry is None and (member is None or not member.in_good_standing or member.status != "active"):
            raise FailedPrecondition("only voters in good standing may stand")
        category = (entry.category if entry is not None and entry.category else
                    (member.category if member is not None else "")) or "user"
        statement_json = json.dumps([t.__dict__ for t in statement])
        existing = uow.elections.candidacy(e.election_id, question_id, candidate_id)
        if existing is not None and not existing.withdrawn:
            if existing.statement == statement_json:  # a retry: the first answer
                return existing
            raise AlreadyExists("you already stand for this question (withdraw to change your statement)")
        if category == PERMANENT_STAFF and e.spec.max_permanent_staff_seats:
            # the cap on seats limits how many staff can be elected, so it caps the slate too
            staff = [r for r in uow.elections.candidacies(e.election_id, question_id)
                     if r.category == PERMANENT_STAFF and not r.withdrawn]
            if len(staff) >= max(e.spec.max_permanent_staff_seats, q.seats):
                raise FailedPrecondition("the permanent-staff candidacies are full for this question")
        uow.elections.save_candidacy(e.election_id, question_id, candidate_id, statement_json, category, False)
        row = uow.elections.candidacy(e.election_id, question_id, candidate_id)  # before the commit: no second transaction
        uow.commit()
        return row


def withdraw_candidacy(uow_factory: UowFactory, tenant: str, election_id: str, question_id: str,
                       candidate_id: str, now: datetime) -> Any:
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id, lock="update")
        _nomination_question(e, question_id)
        _nominations_open(e, now)
        row = uow.elections.candidacy(e.election_id, question_id, candidate_id)
        if row is None:
            raise NotFound("no candidacy to withdraw")
        if row.withdrawn:  # a retry: the first answer
            return row
        uow.elections.save_candidacy(e.election_id, question_id, candidate_id, row.statement,
                                     row.category, True)
        row = uow.elections.candidacy(e.election_id, question_id, candidate_id)  # before the commit: no second transaction
        uow.commit()
        return row


def list_candidacies(uow_factory: UowFactory, tenant: str, election_id: str, question_id: str,
                     now: datetime, privileged: bool) -> list[Any]:
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id)
        if question_id:
            _nomination_question(e, question_id)
        if not privileged and e.spec.has_nominations and now < e.spec.nominations_close:  # type: ignore[operator]
            raise FailedPrecondition("the list of candidates is published when nominations close")
        return [r for r in uow.elections.candidacies(e.election_id, question_id)
                if privileged or not r.withdrawn]


# -- proxies -------------------------------------------------------------------------------
def _proxy_book(uow: ElectionsUnitOfWork, e: StoredElection) -> ProxyBook:
    book = ProxyBook(e.spec.max_proxies_held)
    for row in uow.elections.proxies(e.election_id):
        if row.status in (ProxyStatus.ACTIVE, ProxyStatus.USED):
            proxy = book.give(row.giver_id, row.holder_id)
            if row.status == ProxyStatus.USED:
                book.use(proxy.holder, proxy.giver)
    return book


def give_proxy(uow_factory: UowFactory, tenant: str, election_id: str, giver: str, holder: str,
               now: datetime) -> tuple[str, str, str]:
    check_id(holder, "holder_id")
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id, lock="update")
        if not e.spec.max_proxies_held:
            raise FailedPrecondition("this election does not allow proxies")
        if now >= e.closes_at:
            raise FailedPrecondition("voting has closed")
        for who in (giver, holder):
            if uow.elections.roll_entry(e.election_id, who) is None:
                raise FailedPrecondition(f"{who} is not on the voter roll")
        given = uow.elections.proxy(e.election_id, giver)
        if given is not None and given.holder_id == holder and given.status in (ProxyStatus.ACTIVE, ProxyStatus.USED):
            return given.giver_id, given.holder_id, given.status  # a retry: the first answer
        if uow.elections.has_voted(e.election_id, giver):
            raise FailedPrecondition("you have already voted")
        book = _proxy_book(uow, e)
        proxy = book.give(giver, holder)
        uow.elections.save_proxy(e.election_id, proxy.giver, proxy.holder, proxy.status.value)
        uow.commit()
        return proxy.giver, proxy.holder, proxy.status.value


def revoke_proxy(uow_factory: UowFactory, tenant: str, election_id: str, giver: str) -> tuple[str, str, str]:
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id, lock="update")
        given = uow.elections.proxy(e.election_id, giver)
        if given is not None and given.status == ProxyStatus.REVOKED:  # a retry: the first answer
            return given.giver_id, given.holder_id, given.status
        book = _proxy_book(uow, e)
        proxy = book.revoke(giver)
        uow.elections.save_proxy(e.election_id, proxy.giver, proxy.holder, proxy.status.value)
        uow.commit()
        return proxy.giver, proxy.holder, proxy.status.value


# -- casting -------------------------------------------------------------------------------
@dataclass
class Receipt:
    tracker: str
    ballot_hash: str
    revote_code: str
    superseded_previous: bool


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _ballot_row(e: StoredElection, content: dict[str, Any], weight: int, code: str,
                tracker: str = "") -> dict[str, Any]:
    """A ballot row under a fresh random tracker (or the one derived from the voter's ballot key):
    a commitment to this ballot alone (not chained to the previous cast: that would record the
    cast order, nor to its weight: the published box has weights only per class); the published
    box is chained in tracker order at the close."""
    tracker = tracker or new_tracker()
    return {"election_id": e.election_id, "tracker": tracker, "content": canonical_json(content).decode(),
            "weight": weight, "ballot_hash": receipt_hash(e.election_id, tracker, None, content),
            "revote_hash": _code_hash(code) if code else None}


def _store_ballot(uow: ElectionsUnitOfWork, e: StoredElection, content: dict[str, Any], weight: int) -> tuple[str, str]:
    """A ballot without a voter (a paper ballot): its tracker and receipt hash."""
    while True:
        row = _ballot_row(e, content, weight, "")
        if uow.elections.add_ballots([row]):
            return row["tracker"], row["ballot_hash"]


def _check_open(e: StoredElection, now: datetime) -> StoredElection:
    if e.status == "closed" or not e.spec.window.is_open(now):
        raise FailedPrecondition("voting is not open")
    return e


def _open_for_voting(uow: ElectionsUnitOfWork, tenant: str, election_id: str, now: datetime) -> StoredElection:
    # A shared lock: many ballots at once, but the close (exclusive) waits for them.
    return _check_open(_load(uow, tenant, election_id, lock="share"), now)


@dataclass(frozen=True)
class Cast:
    """One ballot to cast: the voter's own, with a proxy (`on_behalf_of`), or replacing the
    voter's counted ballot (`previous_tracker` and `previous_code`). `ballot_key`, when given, is
    the client's secret the tracker and re-vote code derive from (a retry gets the first receipt)."""

    tenant: str
    election_id: str
    voter_id: str
    content: dict[str, Any] | Callable[[StoredElection], dict[str, Any]]
    now: datetime
    previous_tracker: str = ""
    previous_code: str = ""
    on_behalf_of: str = ""
    ballot_key: str = ""

    @property
    def for_whom(self) -> str:
        """The voter whose vote this is (the register row it writes)."""
        return self.on_behalf_of or self.voter_id


class AlreadyVoted(AlreadyExists):
    """A ballot already counts for this voter and the request is not a retry of the cast that
    recorded it. `reason` is the machine-readable cause (google.rpc.ErrorInfo)."""

    reason = "ALREADY_VOTED"


def _already_voted(e: StoredElection) -> AlreadyVoted:
    return AlreadyVoted("a ballot already counts for you: its receipt is what your client kept from that cast"
                        + ("; to replace it give its tracker and re-vote code" if e.spec.allow_revote else "")
                        + " (a cast with a ballot_key gets its first receipt back on a retry)")


REFUSALS = (DomainError, PlatformDomainError)
_Valid = tuple[int, Cast, dict[str, Any], str]  # (position, cast, content, tracker from the key or "")


def _prepare(e: StoredElection, definition_: ElectionDefinition, cast: Cast,
             content: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Check one cast without writing: its content and fields; its keyed tracker or ""."""
    _check_open(e, cast.now)
    normalised = validate_ballot(definition_, content)
    if bool(cast.previous_tracker) != bool(cast.previous_code):
        raise InvalidArgument("give both previous_tracker and previous_revote_code, or neither")
    if cast.previous_tracker:
        normalise_tracker(cast.previous_tracker)
    if cast.on_behalf_of:
        check_id(cast.on_behalf_of, "on_behalf_of")
        if cast.on_behalf_of == cast.voter_id:
            raise InvalidArgument("on_behalf_of names someone else")
    return normalised, tracker_from_key(e.election_id, cast.ballot_key) if cast.ballot_key else ""


def _cast_round(uow: ElectionsUnitOfWork, e: StoredElection, items: list[_Valid],
                results: list[Receipt | Exception | None]) -> None:
    """Casts of one election for distinct voters: register rows, proxies, replaced ballots and new
    ballots (shuffled). A refused cast writes nothing; a refused cast with a ballot key whose
    ballot already stands with the same content is a retry and gets its first receipt."""
    eid = e.election_id
    weights = uow.elections.roll_weights(eid, (c.for_whom for _, c, _, _ in items))
    live: list[_Valid] = []
    for item in items:
        n, cast = item[0], item[1]
        if cast.for_whom not in weights:
            results[n] = FailedPrecondition("not on the voter roll of this election")
        else:
            live.append(item)
    usable = uow.elections.usable_proxies(eid, [(c.on_behalf_of, c.voter_id) for _, c, _, _ in live if c.on_behalf_of])
    refused_keyed: list[_Valid] = []
    marking: dict[str, list[_Valid]] = {}
    for item in live:
        n, cast = item[0], item[1]
        if cast.on_behalf_of and cast.on_behalf_of not in usable:
            results[n] = PermissionDenied(f"you hold no usable proxy of {cast.on_behalf_of}")
            refused_keyed += [item] if cast.ballot_key else []
        else:
            marking.setdefault("proxy" if cast.on_behalf_of else "online", []).append(item)
    rows: list[tuple[int, str, dict[str, Any]]] = []  # (position, re-vote code, ballot row)
    superseding: set[int] = set()
    for channel, group in marking.items():
        newly = uow.elections.mark_voted_many(eid, [c.for_whom for _, c, _, _ in group], channel)
        for item in group:
            n, cast, content, keyed = item
            if cast.for_whom not in newly:
                refusal = _refusal_of_a_second_vote(uow, e, cast)
                if refusal is not None:
                    results[n] = refusal
                    refused_keyed += [item] if cast.ballot_key else []
                    continue
                superseding.add(n)
            if cast.on_behalf_of:
                uow.elections.set_proxy_status(eid, cast.on_behalf_of, "active", "used", holder=cast.voter_id)
            elif e.spec.max_proxies_held:  # voting oneself voids an unused proxy one gave
                uow.elections.set_proxy_status(eid, cast.voter_id, "active", "voided")
            code = _revote_code(e, cast)
            rows.append((n, code, _ballot_row(e, content, weights[cast.for_whom], code, keyed)))
    _answer_retries(uow, e, refused_keyed, results)
    keyed_rows = {n for n, _, _, keyed in items if keyed}
    secrets.SystemRandom().shuffle(rows)
    while rows:
        stored = uow.elections.add_ballots([row for *_, row in rows])
        for n, code, row in rows:
            results[n] = Receipt(row["tracker"], row["ballot_hash"], code, n in superseding)
        taken = [(n, code, row) for n, code, row in rows if row["tracker"] not in stored]
        if any(n in keyed_rows for n, _, _ in taken):  # fails the batch: each cast is then run alone
            raise AlreadyExists("this ballot_key gives the tracker of another ballot: generate a new key")
        # a random tracker already taken (a chance of one in 2**60 per pair): draw again
        rows = [(n, code, _ballot_row(e, json.loads(row["content"]), row["weight"], code)) for n, code, row in taken]


def _refusal_of_a_second_vote(uow: ElectionsUnitOfWork, e: StoredElection, cast: Cast) -> Exception | None:
    """The voter is in the register already: None when this cast replaces their counted ballot
    (a re-vote; the old ballot is deleted), else why it is refused."""
    if cast.on_behalf_of:
        return AlreadyExists(f"a ballot already counts for {cast.on_behalf_of}")
    if not (e.spec.allow_revote and cast.previous_tracker):
        return _already_voted(e)
    if not uow.elections.remove_ballot(e.election_id, normalise_tracker(cast.previous_tracker),
                                       _code_hash(cast.previous_code)):
        return FailedPrecondition("no counted ballot matches this tracker and re-vote code")
    uow.elections.mark_superseded(e.election_id)
    return None


def _revote_code(e: StoredElection, cast: Cast) -> str:
    """The code that lets the voter replace this ballot: derived from the ballot key (so a retry
    returns it again), random otherwise; none for a proxy ballot or without re-voting."""
    if not e.spec.allow_revote or cast.on_behalf_of:
        return ""
    return revote_code_from_key(e.election_id, cast.ballot_key) if cast.ballot_key else secrets.token_urlsafe(18)


def _answer_retries(uow: ElectionsUnitOfWork, e: StoredElection, refused: list[_Valid],
                    results: list[Receipt | Exception | None]) -> None:
    """A refused cast with a ballot key whose ballot stands, with the same content, is a retry of
    the cast that stored it: the first receipt again (derived from the key; nothing is stored)."""
    if not refused:
        return
    standing = uow.elections.ballots_by_tracker(e.election_id, [keyed for *_, keyed in refused])
    for n, cast, content, keyed in refused:
        found = standing.get(keyed)
        if found is not None and found.content == canonical_json(content).decode():
            results[n] = Receipt(keyed, found.ballot_hash, _revote_code(e, cast), bool(cast.previous_tracker))


def cast_ballots(uow_factory: UowFactory, casts: Sequence[Cast]) -> list[Receipt | Exception]:
    """Ballots of many voters in one transaction (group commit, coop_platform.batching): one
    receipt or one refusal per cast; a refused cast writes nothing. Own ballots, proxy ballots and
    re-votes alike, so none is alone in its transaction when others arrive with it. Within the
    batch the ballots are written in shuffled order, so neither the transaction nor the rows'
    physical order pairs a voter with a ballot. Two casts for one voter in a batch run in turn
    (rounds), as they would one after the other."""
    results: list[Receipt | Exception | None] = [None] * len(casts)
    with uow_factory() as uow:
        loaded: dict[tuple[str, str], tuple[StoredElection, ElectionDefinition]] = {}
        rounds: dict[str, list[list[_Valid]]] = {}
        seen: dict[tuple[str, str], int] = {}
        for n, cast in enumerate(casts):
            try:
                key = (cast.tenant, cast.election_id)
                if key not in loaded:
                    e = _load(uow, cast.tenant, cast.election_id, lock="share")  # the close waits for casts
                    loaded[key] = (e, _definition(uow, e))
                e, definition_ = loaded[key]
                content, keyed = _prepare(e, definition_, cast,
                                          cast.content(e) if callable(cast.content) else cast.content)
            except REFUSALS as refused:
                results[n] = refused
                continue
            turn = seen[(e.election_id, cast.for_whom)] = seen.get((e.election_id, cast.for_whom), -1) + 1
            per_election = rounds.setdefault(e.election_id, [])
            if turn == len(per_election):
                per_election.append([])
            per_election[turn].append((n, cast, content, keyed))
        elections = {e.election_id: e for e, _ in loaded.values()}
        for election_id, turns in rounds.items():
            for items in turns:
                _cast_round(uow, elections[election_id], items, results)
        uow.commit()
    return results  # type: ignore[return-value]


def cast_ballot(uow_factory: UowFactory, tenant: str, election_id: str, voter_id: str,
                content: dict[str, Any] | Callable[[StoredElection], dict[str, Any]], now: datetime, *,
                previous_tracker: str = "", previous_code: str = "", on_behalf_of: str = "",
                ballot_key: str = "") -> Receipt:
    """One cast outside the api's batches (CLI, worker, tests). `content` may be a function of the
    election (the api reads the answers against its questions), so that casting reads the
    election once, in its own transaction."""
    return run_alone(partial(cast_ballots, uow_factory), Cast(
        tenant, election_id, voter_id, content, now, previous_tracker, previous_code, on_behalf_of, ballot_key))


# -- tellers at the Assembly -------------------------------------------------------------------
SIGNED_IN, UNDO_REQUESTED, UNDONE = "signed_in", "undo_requested", "undone"


def _signed_in_by(uow: ElectionsUnitOfWork, election_id: str, voter_id: str) -> str | None:
    """The teller whose sign-in of this voter stands, or None."""
    if uow.elections.register_channel(election_id, voter_id) != "in_person":
        return None
    last = uow.elections.last_sign_in_audit(election_id, voter_id, SIGNED_IN)
    return last.teller_id if last is not None else None


def sign_in_person(uow_factory: UowFactory, tenant: str, election_id: str, voter_id: str, teller: str,
                   now: datetime) -> tuple[bool, int, bool]:
    """A teller signs a voter into the in-person register; the audit records the teller. Nothing
    here touches a ballot: the paper ballot the voter then drops carries no voter."""
    check_id(voter_id, "voter_id")
    with uow_factory() as uow:
        e = _open_for_voting(uow, tenant, election_id, now)
        entry = uow.elections.roll_entry(e.election_id, voter_id)
        if entry is None:
            raise FailedPrecondition("not on the voter roll of this election")
        if int(entry.weight) != 1:
            raise FailedPrecondition("paper ballots are for one-member-one-vote elections")
        if not uow.elections.mark_voted(e.election_id, voter_id, "in_person"):
            by = _signed_in_by(uow, e.election_id, voter_id)
            if by == teller:  # a retry of this teller's sign-in: the same answer
                return True, int(entry.weight), True
            raise AlreadyExists("this voter has already voted online or by proxy" if by is None
                                else f"this voter was already signed in by teller {by}")
        uow.elections.set_proxy_status(e.election_id, voter_id, "active", "voided")
        uow.elections.add_sign_in_audit(e.election_id, voter_id, teller, SIGNED_IN, "", now)
        uow.commit()
        return True, int(entry.weight), True


@dataclass
class UndoState:
    state: str  # pending | undone
    requested_by: str
    confirmed_by: str


def undo_sign_in(uow_factory: UowFactory, tenant: str, election_id: str, voter_id: str, teller: str,
                 reason: str, now: datetime) -> UndoState:
    """Four eyes: a first teller asks to undo a sign-in, a second, different one confirms; then the
    voter leaves the register. Refused while as many paper ballots are counted as voters are
    signed in, since one of them may be this voter's."""
    check_id(voter_id, "voter_id")
    reason = reason.strip()
    if not 1 <= len(reason) <= 500:
        raise InvalidArgument("reason: give the reason for the undo (1-500 characters)")
    with uow_factory() as uow:
        # exclusive: counted paper ballots and signed-in voters are compared, so no paper may be
        # counted meanwhile (the close waits too)
        e = _check_open(_load(uow, tenant, election_id, lock="update"), now)
        pending = uow.elections.pending_undo(e.election_id, voter_id)
        if uow.elections.register_channel(e.election_id, voter_id) != "in_person":
            done = uow.elections.last_sign_in_audit(e.election_id, voter_id)
            if done is not None and done.action == UNDONE and done.teller_id == teller:  # a retry
                asked = uow.elections.last_sign_in_audit(e.election_id, voter_id, UNDO_REQUESTED)
                return UndoState(UNDONE, asked.teller_id if asked else "", teller)
            raise FailedPrecondition("this voter is not signed in at the Assembly")
        if pending is None:
            uow.elections.add_pending_undo(e.election_id, voter_id, teller, reason)
            uow.elections.add_sign_in_audit(e.election_id, voter_id, teller, UNDO_REQUESTED, reason, now)
            uow.commit()
            return UndoState("pending", teller, "")
        if pending.requested_by == teller:  # the same teller again: a second teller must confirm
            return UndoState("pending", teller, "")
        if uow.elections.papers_counted(e.election_id) >= uow.elections.in_person_count(e.election_id):
            raise FailedPrecondition("as many paper ballots are counted as voters are signed in: one may be "
                                     "this voter's, so the sign-in stays")
        uow.elections.unmark_in_person(e.election_id, voter_id)
        uow.elections.drop_pending_undo(e.election_id, voter_id)
        uow.elections.add_sign_in_audit(e.election_id, voter_id, teller, UNDONE, pending.reason, now)
        uow.commit()
        return UndoState(UNDONE, pending.requested_by, teller)


MAX_AUDIT_PAGE = 1000


def sign_in_audit(uow_factory: UowFactory, tenant: str, election_id: str, page_size: int,
                  page_token: str) -> tuple[list[Any], str]:
    """One page of an election's sign-in audit, oldest first, and the token of the next page."""
    if not 1 <= page_size <= MAX_AUDIT_PAGE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_AUDIT_PAGE}")
    if page_token and not (page_token.isascii() and page_token.isdigit() and len(page_token) <= 19):
        raise InvalidArgument("page_token is not one this service gave")
    with uow_factory() as uow:
        uow.read_only()
        e = _load(uow, tenant, election_id)
        rows = uow.elections.sign_in_audit_page(e.election_id, int(page_token or 0), page_size + 1)
    more = len(rows) > page_size
    rows = rows[:page_size]
    return rows, str(rows[-1].sequence) if more else ""


def enter_paper_ballot(uow_factory: UowFactory, tenant: str, election_id: str, paper_id: str,
                       content: dict[str, Any] | Callable[[StoredElection], dict[str, Any]], teller: str,
                       now: datetime) -> tuple[str, str]:
    """`content` may be a function of the election, as for cast_ballot (one election read)."""
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id, lock="share")  # shared: the close waits for entries
        if callable(content):
            content = content(e)
        check_id(paper_id, "paper_id")
        _check_open(e, now)
        normalised = validate_ballot(_definition(uow, e), content)
        content_json = canonical_json(normalised).decode()
        row = uow.elections.paper(e.election_id, paper_id)
        if row is None:
            if not uow.elections.add_paper(e.election_id, paper_id, content_json, teller):
                raise AlreadyExists("this paper ballot is being entered by another teller; retry")
            uow.commit()
            return "pending", ""
        if row.state == "counted":
            if row.content == content_json:  # a retry of an entry of this paper: the state it is in
                return "counted", row.tracker
            raise AlreadyExists(f"paper ballot {paper_id} is already counted, with other answers")
        if row.first_teller == teller:
            if row.content == content_json:  # a retry of the first entry: the first answer
                return "pending", ""
            raise FailedPrecondition("the second entry must come from another teller")
        if row.content != content_json:
            uow.elections.drop_paper(e.election_id, paper_id)  # both tellers start again
            uow.commit()
            return "mismatch", ""
        if uow.elections.papers_counted(e.election_id) >= uow.elections.in_person_count(e.election_id):
            raise FailedPrecondition("more paper ballots than voters signed in at the Assembly")
        tracker, _ = _store_ballot(uow, e, normalised, 1)
        uow.elections.set_paper(e.election_id, paper_id, state="counted", tracker=tracker)
        uow.commit()
        return "counted", tracker


def turnout(uow_factory: UowFactory, tenant: str, election_id: str) -> tuple[int, int, int, int]:
    with uow_factory() as uow:
        uow.read_only()
        e = _load(uow, tenant, election_id)
        voted = uow.elections.voted_count(e.election_id)
        if e.status == "closed":  # the casting rows are gone; the count has the weight
            voted_weight = json.loads(uow.elections.results(e.election_id).results_json)["count"]["total_weight"]
        else:
            _, voted_weight = uow.elections.ballot_totals(e.election_id)
        roll = _summary(uow, e)  # once frozen, the stored totals: no scan of the roll per call
        return voted, roll.size, voted_weight, roll.total_weight


# -- close, count, publish -----------------------------------------------------------------
def close_election(uow_factory: UowFactory, tenant: str, election_id: str, now: datetime) -> dict[str, Any]:
    """Count and publish; idempotent (a second close returns the stored results)."""
    with uow_factory() as uow:
        e = _load(uow, tenant, election_id, lock="update")
        if e.status == "closed":
            return json.loads(uow.elections.results(e.election_id).results_json)
        if now < e.closes_at:
            raise FailedPrecondition(f"voting closes at {e.closes_at.isoformat()}")
        summary = _freeze(uow, e)
        definition_ = _definition(uow, e, summary.total_weight)
        superseded = uow.elections.superseded_count(e.election_id)
        box = publish_box(e.election_id, ((t, w, json.loads(c)) for t, w, c in uow.elections.ballots(e.election_id)),
                          superseded)
        head = box.head_hash
        lightest, heaviest = uow.elections.roll_weight_range(e.election_id)
        result = count_box(box, definition_)  # the very counting code the verifier runs
        mandates = {q.question_id: [d.isoformat() for d in mandate_dates(e.spec.window.assembly_day, q.mandate_years)]
                    for q in e.spec.questions if q.mandate_years}
        results = {
            "election_id": e.election_id, "head_hash": head, "superseded_count": superseded,
            "published_at": now.isoformat(), "mandates": mandates, "count": to_jsonable(result),
        }
        election_doc = definition_to_json(
            definition_, texts=[t.__dict__ for t in e.spec.texts],
            question_texts={q.question_id: [t.__dict__ for t in q.texts] for q in e.spec.questions},
            assembly_day=e.spec.window.assembly_day.isoformat(), mandates=mandates,
            roll={"size": summary.size, "total_weight": summary.total_weight, "sha256": summary.sha256,
                  "min_weight": lightest, "max_weight": heaviest},
            tie_break_seed_sha256=seed_commitment(e.tie_break_seed),
        )
        results_json = json.dumps(results, sort_keys=True)
        uow.elections.save_results(e.election_id, results_json, json.dumps(box.to_json(), ensure_ascii=False),
                                   json.dumps(election_doc, ensure_ascii=False, sort_keys=True), head, now)
        uow.elections.update_election(e.election_id, status="closed")
        # the published box is the record now: the casting rows, whose transaction ids and
        # physical order pair them with the register, go (docs/elections.md, "Secrecy")
        uow.elections.discard_cast_ballots(e.election_id)
        uow.emit(*msg.results_published(e, results))
        uow.commit()
        return results


def _closed_results(uow: ElectionsUnitOfWork, tenant: str, election_id: str) -> Any:
    e = _load(uow, tenant, election_id)
    if e.status != "closed":
        raise FailedPrecondition("results are sealed until the election is closed")
    return uow.elections.results(e.election_id)


def get_results(uow_factory: UowFactory, tenant: str, election_id: str) -> dict[str, Any]:
    with uow_factory() as uow:
        return json.loads(_closed_results(uow.read_only(), tenant, election_id).results_json)


def published_box(uow_factory: UowFactory, tenant: str, election_id: str) -> tuple[str, str, str]:
    with uow_factory() as uow:
        row = _closed_results(uow.read_only(), tenant, election_id)
        return row.box_json, row.election_json, row.results_json


# -- timers (worker) ----------------------------------------------------------------------
def due_elections(uow_factory: UowFactory, what: str, now: datetime) -> list[tuple[str, str]]:
    with uow_factory() as uow:
        uow.read_only()
        if what == "open":
            return uow.elections.due("opens_at", now, ("scheduled",))
        return uow.elections.due("closes_at", now, ("scheduled", "open"))


#: Our own cooperative's tenant: its rolls come from the membership projection.
MEMBER_ROLL_TENANT = DEFAULT_TENANT


def build_due_member_rolls(uow_factory: UowFactory, now: datetime, lead: timedelta) -> int:
    """Build, just before their cut-off, the rolls of our cooperative's elections that nobody
    built by hand: the members in good standing at that moment (the projection)."""
    with uow_factory() as uow:
        due = uow.read_only().elections.member_rolls_due(MEMBER_ROLL_TENANT, now, now + lead)
    built = 0
    for election_id in due:
        try:
            build_roll_from_members(uow_factory, MEMBER_ROLL_TENANT, election_id, now)
            built += 1
        except (FailedPrecondition, InvalidArgument):
            continue
    return built


def run_timers(uow_factory: UowFactory, now: datetime, closing_soon_lead: timedelta,
               roll_lead: timedelta = timedelta(seconds=45)) -> dict[str, int]:
    """One tick of the worker's clock: build due member rolls, open, remind, close and publish
    whatever is due. Each election in its own transaction; one failing does not stop the others.
    `roll_lead` must exceed the tick interval so that some tick falls before every cut-off."""
    done = {"rolls_built": build_due_member_rolls(uow_factory, now, roll_lead),
            "opened": 0, "closing_soon": 0, "closed": 0, "failed": 0}
    for tenant, election_id in due_elections(uow_factory, "open", now):
        try:
            open_election(uow_factory, tenant, election_id, now)
            done["opened"] += 1
        except (FailedPrecondition, InvalidArgument):
            done["failed"] += 1
    done["closing_soon"] = send_closing_soon(uow_factory, now, closing_soon_lead)
    for tenant, election_id in due_elections(uow_factory, "close", now):
        try:
            close_election(uow_factory, tenant, election_id, now)
            done["closed"] += 1
        except (FailedPrecondition, InvalidArgument):
            done["failed"] += 1
    return done


def send_closing_soon(uow_factory: UowFactory, now: datetime, lead: timedelta) -> int:
    """election.closing_soon with the non-voters, once per election, `lead` before the close."""
    sent = 0
    with uow_factory() as uow:
        due = uow.read_only().elections.closing_soon_due(now, now + lead)
    for tenant, election_id in due:
        with uow_factory() as uow:
            e = _load(uow, tenant, election_id, lock="update")
            if e.closing_soon_sent:
                continue
            uow.emit(*msg.closing_soon(e, uow.elections.non_voters(e.election_id)))
            uow.elections.update_election(e.election_id, closing_soon_sent=True)
            uow.commit()
            sent += 1
    return sent


# -- membership events (our own cooperative's projection) ---------------------------------
def _event_time(envelope: dict[str, Any]) -> datetime:
    """When membership committed the event (CloudEvents time); now if it is missing."""
    try:
        at = datetime.fromisoformat(str(envelope.get("time")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def apply_member_event(uow: ElectionsUnitOfWork, envelope: dict[str, Any]) -> None:
    """member.admitted / member.updated / member.status_changed / share.paid / member.erased ->
    the members projection (and, for an erasure, the candidacies). Each event type comes on its own queue, so they may be handled out of order:
    the projection keeps, per value, the one set by the newest event (see project_member)."""
    data = envelope.get("data") or {}
    name = ".".join(envelope["type"].split(".")[2:-1])
    at = _event_time(envelope)
    if name in ("member.admitted", "member.updated"):
        m = data.get("member") or {}
        member_id = m.get("memberId")
        if not member_id:
            raise ValueError(f"{name} without member id")
        status = "active" if name == "member.admitted" else (msg.status_of(m["status"]) if m.get("status") else None)
        uow.elections.project_member(
            member_id, at, status=status,
            category=msg.category_of(m["category"]) if m.get("category") else None,
            in_good_standing=bool(m.get("inGoodStanding")))
    elif name == "member.status_changed":
        member_id = data.get("memberId")
        if not member_id:
            raise ValueError("member.status_changed without member id")
        uow.elections.project_member(member_id, at, status=msg.status_of(data.get("toStatus")),
                                     in_good_standing=bool(data.get("inGoodStanding")))
    elif name == "share.paid":
        member_id = (data.get("share") or {}).get("memberId")
        if not member_id:
            raise ValueError("share.paid without member id")
        uow.elections.project_member(member_id, at, in_good_standing=bool(data.get("inGoodStanding")))
    elif name == "member.erased":
        member_id = data.get("memberId")
        if not member_id:
            raise ValueError("member.erased without member id")
        erase_member(uow, member_id, _event_time({"time": data["erasedAt"]}) if data.get("erasedAt") else at)
    else:
        raise ValueError(f"unexpected event {name}")


ERASED = "erased"


def erase_member(uow: ElectionsUnitOfWork, member_id: str, erased_at: datetime) -> None:
    """member.erased: drop what this service holds of the member's own words, keep their
    pseudonymous id. Their candidacy statements (which may hold a name, a biography, contact
    data) are emptied in every election of our cooperative, and a candidacy still within its
    nomination window is withdrawn (not a member any more). The id stays on rolls, in the
    register, in proxies, the sign-in audit and published results: the roll's SHA-256 and the
    published box, election and results of a closed election must still verify. The projection
    keeps a tombstone (status "erased", not in good standing, as of `erased_at`) so that a late,
    older event cannot put the member back on a roll."""
    uow.elections.project_member(member_id, erased_at, status=ERASED, in_good_standing=False)
    uow.elections.erase_candidacies(MEMBER_ROLL_TENANT, member_id, erased_at)


__all__ = ["Method", "RollSummary", "Receipt", "sha256_hex"]
