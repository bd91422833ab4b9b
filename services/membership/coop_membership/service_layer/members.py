"""Use cases of the member aggregate: register, read, update, change status, list and count.

Each takes the unit of work and the caller, decides access on what it reads in that unit, and
commits rows and events together (docs/architecture.md, "A use case")."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from coop_domain.clock import local_date, utcnow
from coop_domain.errors import AlreadyExists, DomainError, InvalidArgument, NotFound
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal
from coop_membership.domain import events as ev
from coop_membership.domain.model import (
    Member,
    MemberDetails,
    Status,
    StatusChange,
    good_standing,
    parse_member_number,
)
from coop_membership.service_layer.ports import MemberQuery, MembershipUnitOfWork
from coop_platform.batching import run_alone
from coop_platform.idempotency import IdempotentRequest, Replay, SameAs
from coop_platform.logs import get_correlation_id

#: Who reads any member's record; a member reads their own.
READ_ROLES = ("admin", "service", "board")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MEMBERS_LIST = "members"  # the page tokens' list name


@dataclass
class MemberView:
    """A member and its good standing today. `member` is a Member, or on GetMember's query side
    the stored row (same attribute names)."""

    member: Any
    in_good_standing: bool


def today() -> date:
    """The cooperative's today (Brussels), the day good standing and share years are read on."""
    return local_date(utcnow())


def member_key(member_id: str, member_number: str = "") -> int | str:
    """The member number (int) or the member id (str) a request names, checked."""
    if member_number:
        return parse_member_number(member_number)
    if member_id:
        try:
            uuid.UUID(member_id)
        except ValueError as exc:
            raise InvalidArgument(f"member_id {member_id!r} is not a UUID", field="member_id",
                                  reason="INVALID_MEMBER_ID") from exc
        return member_id
    raise InvalidArgument("give a member_id or a member_number", field="member_id", reason="FIELD_REQUIRED")


def load_member(uow: MembershipUnitOfWork, member_id: str = "", member_number: str = "", *,
                lock: bool = False) -> Member:
    """The member a request names; NotFound when there is none."""
    key = member_key(member_id, member_number)
    if isinstance(key, int):
        member = uow.members.get_by_no(key)
    else:
        member = uow.members.get_for_update(key) if lock else uow.members.get(key)
    if member is None:
        raise NotFound(f"no member {member_number or member_id}", reason="MEMBER_NOT_FOUND")
    return member


def replayed(uow: MembershipUnitOfWork, request: IdempotentRequest | None) -> Replay | None:
    """Claim a call's request_id (AIP-155) first in its unit: the answer an earlier call with it
    got, or None when this call is the first (then `remember` its answer before committing)."""
    if request is None:
        return None
    claimed = uow.keys.claim_many([request])[0]
    if isinstance(claimed, DomainError):  # the key was used for another request
        raise claimed
    return claimed  # type: ignore[return-value]


def remember(uow: MembershipUnitOfWork, request: IdempotentRequest | None, answer: Any) -> None:
    if request is not None:
        uow.keys.record_many([(request, answer)])


def view_of(uow: MembershipUnitOfWork, member: Member, on: date | None = None) -> MemberView:
    on = on or today()
    return MemberView(member, member.in_good_standing(on, uow.shares.share_year(on.year)))


# -- register -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Registration:
    """One RegisterMember call, as the group commit (coop_platform.batching) carries it."""

    caller: Principal
    details: MemberDetails
    admit: bool
    # the request's correlation id, kept for its events when another thread commits the batch
    correlation_id: str | None = field(default_factory=get_correlation_id)
    # the client's idempotency key and the request's fingerprint (coop_platform.idempotency)
    request: IdempotentRequest | None = None


Registered = MemberView | DomainError | Replay


def register_member(uow: MembershipUnitOfWork, caller: Principal, details: MemberDetails, *,
                    admit: bool) -> MemberView:
    """One registration outside the api's group commit (CLI, tests, tools)."""
    return run_alone(lambda batch: register_members(uow, batch), Registration(caller, details, admit))


def register_members(uow: MembershipUnitOfWork, registrations: Sequence[Registration]) -> list[Registered]:
    """Register several members in one transaction (the api's group commit): one view or one
    refusal per registration. A caller without the role, a bad field or a duplicate email (already
    stored, taken by a concurrent insert, or twice in the batch) fails that registration only. A
    registration whose request_id was answered before gets that answer back (a Replay) and
    registers nobody; a key repeated inside the batch shares its first answer."""
    now = utcnow()
    results: list[Registered | None] = [None] * len(registrations)
    for n, registration in enumerate(registrations):
        try:
            registration.caller.require("admin", "service")
            if registration.admit:
                registration.caller.require("admin")
        except DomainError as refused:
            results[n] = refused
    with uow:
        same_as = _claim_keys(uow, registrations, results)
        _register(uow, registrations, [n for n in range(len(registrations))
                                       if results[n] is None and n not in same_as], results, now)
    for n, first in same_as.items():
        results[n] = results[first]
    return results  # type: ignore[return-value]


def _claim_keys(uow: MembershipUnitOfWork, registrations: Sequence[Registration],
                results: list[Registered | None]) -> dict[int, int]:
    """Claim the batch's request_ids first: a replayed or reused key fills its result; returns the
    positions answered as an earlier one of the batch (same key, same request): position -> first."""
    keyed = [(n, r.request) for n, r in enumerate(registrations) if r.request is not None and results[n] is None]
    same_as: dict[int, int] = {}
    if not keyed:
        return same_as
    for (n, _), claimed in zip(keyed, uow.keys.claim_many([k for _, k in keyed]), strict=True):
        if isinstance(claimed, SameAs):
            same_as[n] = keyed[claimed.index][0]
        elif claimed is not None:  # a Replay, or the key reused for another request
            results[n] = claimed
    return same_as


def _register(uow: MembershipUnitOfWork, registrations: Sequence[Registration], todo: list[int],
              results: list[Registered | None], now: datetime) -> None:
    accepted: list[tuple[int, Member, list[StatusChange]]] = []
    emails: set[str] = set()
    for n in todo:
        registration = registrations[n]
        actor = registration.caller.subject
        try:
            member = Member.apply(registration.details, now, uow.languages)
            if member.email in emails:
                raise email_taken(member.email)
            emails.add(member.email)
            application = StatusChange(None, Status.APPLICANT, "application", actor, now)
            # Admit before the insert so the member row is written once, already active.
            admission = (member.change_status(Status.ACTIVE, "admitted at registration", actor, now)
                         if registration.admit else None)
            accepted.append((n, member, [c for c in (application, admission) if c is not None]))
        except DomainError as refused:
            results[n] = refused
    if not accepted:
        return  # nothing to commit: claims of refused calls roll back with the transaction
    inserted = uow.members.add_many([member for _, member, _ in accepted],
                                    [(change, member) for _, member, changes in accepted for change in changes])
    share_year = uow.shares.share_year(local_date(now).year)
    for n, member, changes in accepted:
        if member.member_id not in inserted:
            results[n] = email_taken(member.email)
            continue
        view = MemberView(member, member.in_good_standing(local_date(now), share_year))
        if member.status == Status.ACTIVE:
            cid = registrations[n].correlation_id
            uow.publish(ev.MemberAdmitted(member, readmission=False, in_good_standing=view.in_good_standing),
                        correlation_id=cid)
            uow.publish(ev.MemberStatusChanged(member, changes[-1], view.in_good_standing), correlation_id=cid)
        results[n] = view
    if inserted:
        keyed = [(registrations[n].request, results[n]) for n in todo if registrations[n].request is not None]
        uow.keys.record_many([(request, view) for request, view in keyed if isinstance(view, MemberView)])
        uow.keys.release_many([request for request, view in keyed if not isinstance(view, MemberView)])
        uow.commit()


def email_taken(email: str | None) -> AlreadyExists:
    return AlreadyExists(f"a member with email {email} already exists", field="member.email",
                         reason="EMAIL_TAKEN")


# -- read -----------------------------------------------------------------------------------------

def get_member(uow: MembershipUnitOfWork, caller: Principal, member_id: str = "",
               member_number: str = "") -> MemberView:
    """GetMember's query side: the stored row and its good standing, read without building the
    aggregate (the portal's most frequent call); one read serves the access check and the answer."""
    key = member_key(member_id, member_number)
    on = today()
    with uow.member_reads() as reads:
        row = reads.row(key)
        if row is None:
            raise NotFound(f"no member {member_number or member_id}", reason="MEMBER_NOT_FOUND")
        caller.require_self_or(row.member_id, *READ_ROLES)
        policy = reads.share_year(on.year)
    return MemberView(row, good_standing(Status(row.status), row.paid_through_year, row.joined_on, on, policy))


def member_history(uow: MembershipUnitOfWork, caller: Principal, member_id: str = "",
                   member_number: str = "") -> tuple[Member, list[StatusChange]]:
    with uow:
        uow.read_only()
        member = load_member(uow, member_id, member_number)
        caller.require_self_or(member.member_id, *READ_ROLES)
        return member, uow.members.history(member.member_no)


def list_members(uow: MembershipUnitOfWork, caller: Principal, query: MemberQuery, requested_size: int = 0,
                 page_token: str = "") -> tuple[list[MemberView], str]:
    """One page ordered by member number, and the token of the next page ("" on the last)."""
    caller.require(*READ_ROLES)
    if requested_size > MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE_SIZE}", field="page_size",
                              reason="INVALID_PAGE_SIZE", maximum=MAX_PAGE_SIZE)
    size = page_size(requested_size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    after = _position(page_token)
    on = today()
    with uow:
        uow.read_only()
        policy = uow.shares.share_year(on.year)
        fetched = uow.members.list(replace(query, after_member_no=after, limit=size + 1), on, policy)
        page = fetched[:size]
        views = [MemberView(m, m.in_good_standing(on, policy)) for m in page]
    more = len(fetched) > size
    return views, encode_page_token(MEMBERS_LIST, page[-1].member_no) if more else ""


def _position(token: str) -> int:
    """The member number after which a page starts (0: the first page)."""
    position = decode_page_token(token, MEMBERS_LIST, 1)
    if position is None:
        return 0
    value = position[0]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise InvalidArgument("page_token is not a token this service issued for this list",
                              field="page_token", reason="INVALID_PAGE_TOKEN")
    return value


def count_members(uow: MembershipUnitOfWork, caller: Principal, query: MemberQuery) -> dict[str, Any]:
    caller.require(*READ_ROLES)
    on = today()
    with uow:
        uow.read_only()
        return uow.members.count(query, on, uow.shares.share_year(on.year))


# -- change ---------------------------------------------------------------------------------------

def update_member(uow: MembershipUnitOfWork, caller: Principal, member_id: str, changes: MemberDetails,
                  paths: list[str]) -> MemberView:
    """Change the named fields; a member changes their own contact details, only an admin the
    category."""
    with uow:
        member = load_member(uow, member_id, lock=True)
        caller.require_self_or(member.member_id, "admin")
        if "category" in paths:
            caller.require("admin")
        changed = member.update(changes, paths, utcnow(), uow.languages)
        if "email" in changed and uow.members.email_taken(member.email or "", member.member_id):
            raise email_taken(member.email)
        view = view_of(uow, member)
        if changed:
            uow.publish(ev.MemberUpdated(member, changed, view.in_good_standing))
        uow.commit()
    return view


def change_status(uow: MembershipUnitOfWork, caller: Principal, member_id: str, target: Status,
                  reason: str, *, request: IdempotentRequest | None = None) -> MemberView | Replay:
    """A member may resign by themselves; every other move is the administration's. A retry
    with the first call's request_id gets its answer (a Replay) instead of an illegal move."""
    with uow:
        first = replayed(uow, request)
        if first is not None:
            return first
        member = load_member(uow, member_id, lock=True)
        if target != Status.RESIGNED:
            caller.require("admin")
        caller.require_self_or(member.member_id, "admin")
        transition(uow, member, target, reason, caller.subject, utcnow())
        view = view_of(uow, member)
        remember(uow, request, view)
        uow.commit()
    return view


def transition(uow: MembershipUnitOfWork, member: Member, target: Status, reason: str, actor: str,
               now: datetime) -> StatusChange:
    previous = Status(member.status)
    change = member.change_status(target, reason, actor, now)
    uow.members.insert_history([change])
    on = local_date(now)
    good = member.in_good_standing(on, uow.shares.share_year(on.year))
    if target == Status.ACTIVE:
        uow.publish(ev.MemberAdmitted(member, readmission=previous in (Status.RESIGNED, Status.EXCLUDED),
                                      in_good_standing=good))
    uow.publish(ev.MemberStatusChanged(member, change, good))
    return change
