"""Use cases of the membership service. Each runs in one unit of work: rows and events commit together."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from functools import partial
from typing import Any

from coop_membership.adapters.repository import MemberQuery, MembershipUnitOfWork
from coop_membership.domain import events as ev
from coop_membership.domain.model import (
    Member,
    MemberDetails,
    Share,
    ShareState,
    ShareYear,
    Status,
    StatusChange,
    format_member_number,
    good_standing,
    parse_member_number,
    utcnow,
)
from coop_platform import idempotency
from coop_platform.batching import run_alone
from coop_platform.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from coop_platform.idempotency import IdempotentRequest
from coop_platform.logs import get_correlation_id

UowFactory = Callable[[], MembershipUnitOfWork]
MAX_PAGE_SIZE = 1000


@dataclass
class MemberView:
    member: Member
    in_good_standing: bool


def _today() -> date:
    return utcnow().date()


def _member_key(member_id: str, member_number: str) -> int | str:
    """The member number (int) or the member id (str) a request names, checked."""
    if member_number:
        return parse_member_number(member_number)
    if member_id:
        try:
            uuid.UUID(member_id)
        except ValueError as exc:
            raise InvalidArgument(f"member_id {member_id!r} is not a UUID", field="member_id") from exc
        return member_id
    raise InvalidArgument("give a member_id or a member_number", field="member_id")


def _load(uow: MembershipUnitOfWork, member_id: str = "", member_number: str = "", *, lock: bool = False) -> Member:
    key = _member_key(member_id, member_number)
    if isinstance(key, int):
        member = uow.members.get_by_no(key)
    else:
        member = uow.members.get_for_update(key) if lock else uow.members.get(key)
    if member is None:
        raise NotFound(f"no member {member_number or member_id}")
    return member


def read_member(uow_factory: UowFactory, member_id: str = "", member_number: str = "") -> tuple[Any, bool]:
    """GetMember's query side: the stored row (attributes named as on Member) and its good
    standing, read without building the aggregate (the portal's most frequent call)."""
    key = _member_key(member_id, member_number)
    today = _today()
    with uow_factory().member_reads() as reads:
        row = reads.row(key)
        if row is None:
            raise NotFound(f"no member {member_number or member_id}")
        policy = reads.share_year(today.year)
    return row, good_standing(Status(row.status), row.paid_through_year, row.joined_on, today, policy)


def _view(uow: MembershipUnitOfWork, member: Member, today: date | None = None) -> MemberView:
    today = today or _today()
    return MemberView(member, member.in_good_standing(today, uow.members.share_year(today.year)))


@dataclass(frozen=True)
class Registration:
    details: MemberDetails
    admit: bool
    actor: str
    # the request's correlation id, kept for its events when another thread commits the batch
    correlation_id: str | None = field(default_factory=get_correlation_id)
    # the client's idempotency key and the request's fingerprint (coop_platform.idempotency)
    request: IdempotentRequest | None = None


def register_member(uow_factory: UowFactory, details: MemberDetails, *, admit: bool, actor: str) -> MemberView:
    return run_alone(partial(register_members, uow_factory), Registration(details, admit, actor))


Registered = MemberView | DomainError | idempotency.Replay


def register_members(uow_factory: UowFactory, registrations: Sequence[Registration]) -> list[Registered]:
    """Register several members in one transaction (the api's group commit, coop_platform.batching):
    one view or one refusal per registration; a duplicate email (already stored, taken by a
    concurrent insert, or twice in the batch) is ALREADY_EXISTS for that registration only. A
    registration whose request_id was answered before gets that answer back (a Replay of the
    stored reply) and registers nobody; a key repeated inside the batch shares its first answer."""
    now = utcnow()
    results: list[Registered | None] = [None] * len(registrations)
    with uow_factory() as uow:
        same_as = _claim_registration_keys(uow, registrations, results)
        _register(uow, registrations, [n for n in range(len(registrations))
                                       if results[n] is None and n not in same_as], results, now)
    for n, first in same_as.items():
        results[n] = results[first]
    return results  # type: ignore[return-value]


def _claim_registration_keys(uow: MembershipUnitOfWork, registrations: Sequence[Registration],
                             results: list[Registered | None]) -> dict[int, int]:
    """Claim the batch's request_ids first: a replayed or reused key fills its result; returns the
    positions answered as an earlier one of the batch (same key, same request): position -> first."""
    keyed = [(n, r.request) for n, r in enumerate(registrations) if r.request is not None]
    same_as: dict[int, int] = {}
    if not keyed:
        return same_as
    for (n, _), claimed in zip(keyed, idempotency.claim_many(uow.session, [k for _, k in keyed]), strict=True):
        if isinstance(claimed, idempotency.SameAs):
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
        try:
            member = Member.apply(registration.details, now)
            if member.email in emails:
                raise _email_taken(member.email)
            emails.add(member.email)
            application = StatusChange(None, Status.APPLICANT, "application", registration.actor, now)
            # Admit before the insert so the member row is written once, already active.
            admission = (member.change_status(Status.ACTIVE, "admitted at registration", registration.actor, now)
                         if registration.admit else None)
            accepted.append((n, member, [c for c in (application, admission) if c is not None]))
        except DomainError as refused:
            results[n] = refused
    if not accepted:
        return  # nothing to commit: claims of refused calls roll back with the transaction
    inserted = uow.members.add_many([member for _, member, _ in accepted],
                                    [(change, member) for _, member, changes in accepted for change in changes])
    share_year = uow.members.share_year(now.year)
    for n, member, changes in accepted:
        if member.member_id not in inserted:
            results[n] = _email_taken(member.email)
            continue
        view = MemberView(member, member.in_good_standing(now.date(), share_year))
        if member.status == Status.ACTIVE:
            cid = registrations[n].correlation_id
            uow.publish(ev.MemberAdmitted(member, readmission=False, in_good_standing=view.in_good_standing),
                        correlation_id=cid)
            uow.publish(ev.MemberStatusChanged(member, changes[-1], view.in_good_standing), correlation_id=cid)
        results[n] = view
    if inserted:
        keyed = [(registrations[n].request, results[n]) for n in todo if registrations[n].request is not None]
        idempotency.record_many(uow.session, [(request, uow.member_answer(view)) for request, view in keyed
                                              if isinstance(view, MemberView)])
        idempotency.release_many(uow.session, [request for request, view in keyed if not isinstance(view, MemberView)])
        uow.commit()


def _email_taken(email: str | None) -> AlreadyExists:
    return AlreadyExists(f"a member with email {email} already exists", field="email")


def _transition(uow: MembershipUnitOfWork, member: Member, target: Status, reason: str, actor: str,
                now: datetime) -> StatusChange:
    previous = Status(member.status)
    change = member.change_status(target, reason, actor, now)
    uow.members.insert_history([change])
    good = member.in_good_standing(now.date(), uow.members.share_year(now.year))
    if target == Status.ACTIVE:
        uow.publish(ev.MemberAdmitted(member, readmission=previous in (Status.RESIGNED, Status.EXCLUDED),
                                      in_good_standing=good))
    uow.publish(ev.MemberStatusChanged(member, change, good))
    return change


def get_member(uow_factory: UowFactory, member_id: str = "", member_number: str = "") -> MemberView:
    with uow_factory() as uow:
        uow.read_only()
        return _view(uow, _load(uow, member_id, member_number))


def update_member(uow_factory: UowFactory, member_id: str, changes: MemberDetails, paths: list[str]) -> MemberView:
    with uow_factory() as uow:
        member = _load(uow, member_id, lock=True)
        changed = member.update(changes, paths, utcnow())
        if "email" in changed and uow.members.email_taken(member.email or "", member.member_id):
            raise _email_taken(member.email)
        view = _view(uow, member)
        if changed:
            uow.publish(ev.MemberUpdated(member, changed, view.in_good_standing))
        uow.commit()
    return view


def change_status(uow_factory: UowFactory, member_id: str, target: Status, reason: str, actor: str) -> MemberView:
    with uow_factory() as uow:
        member = _load(uow, member_id, lock=True)
        _transition(uow, member, target, reason, actor, utcnow())
        view = _view(uow, member)
        uow.commit()
    return view


def member_history(uow_factory: UowFactory, member_id: str) -> tuple[Member, list[StatusChange]]:
    with uow_factory() as uow:
        uow.read_only()
        member = _load(uow, member_id)
        return member, uow.members.history(member.member_no)


def list_members(uow_factory: UowFactory, query: MemberQuery) -> tuple[list[MemberView], int | None]:
    """One page ordered by member number; the second item is the cursor for the next page."""
    if not 0 < query.limit <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE_SIZE}", field="page_size")
    today = _today()
    with uow_factory() as uow:
        uow.read_only()
        policy = uow.members.share_year(today.year)
        fetched = uow.members.list(
            replace(query, limit=query.limit + 1), today, policy)
        page = fetched[: query.limit]
        views = [MemberView(m, m.in_good_standing(today, policy)) for m in page]
        cursor = page[-1].member_no if len(fetched) > query.limit else None
        return views, cursor


def count_members(uow_factory: UowFactory, query: MemberQuery) -> dict[str, Any]:
    today = _today()
    with uow_factory() as uow:
        uow.read_only()
        return uow.members.count(query, today, uow.members.share_year(today.year))


# -- shares ---------------------------------------------------------------------------------

def set_share_year(uow_factory: UowFactory, year: int, amount_cents: int, grace_days: int) -> ShareYear:
    policy = ShareYear(year=year, amount_cents=amount_cents, grace_days=grace_days)
    with uow_factory() as uow:
        saved = uow.members.save_share_year(policy)
        uow.commit()
        return ShareYear(saved.year, saved.amount_cents, saved.grace_days)


def _check_year(year: int) -> None:
    today = _today()
    if not 1990 <= year <= today.year + 1:
        raise InvalidArgument(f"year {year} is outside 1990..{today.year + 1}", field="year")


def _subscribe(uow: MembershipUnitOfWork, member: Member, year: int) -> Share:
    share = uow.members.share(member.member_no, year)
    if share is not None:
        return share
    if Status(member.status) not in (Status.ACTIVE, Status.APPLICANT, Status.SUSPENDED):
        raise FailedPrecondition(f"a {member.status} member cannot subscribe a share")
    policy = uow.members.share_year(year)
    share = uow.members.add_share(Share(str(uuid.uuid4()), member.member_no, year, policy.amount_cents))
    uow.publish(ev.ShareSubscribed(share, member))
    return share


def subscribe_share(uow_factory: UowFactory, member_id: str, year: int) -> tuple[Share, Member]:
    _check_year(year)
    with uow_factory() as uow:
        member = _load(uow, member_id, lock=True)
        share = _subscribe(uow, member, year)
        uow.commit()
        return share, member


def _pay(uow: MembershipUnitOfWork, member: Member, year: int, amount_cents: int, reference: str) -> Share:
    reference = reference.strip()
    if not reference or len(reference) > 100:
        raise InvalidArgument("payment_reference is required (at most 100 characters)",
                              field="payment_reference")
    existing = uow.members.share_by_reference(reference)
    if existing is not None and (existing.member_no != member.member_no or existing.year != year):
        raise AlreadyExists(f"payment reference {reference} was already used for another share",
                            field="payment_reference")
    share = _subscribe(uow, member, year)
    if share.pay(amount_cents, reference, utcnow()):
        member.paid_through_year = max(member.paid_through_year or 0, year)
        today = _today()
        good = member.in_good_standing(today, uow.members.share_year(today.year))
        uow.publish(ev.SharePaid(share, member, good))
    return share


def record_share_payment(uow_factory: UowFactory, member_id: str, year: int, amount_cents: int,
                         reference: str) -> tuple[Share, Member]:
    """Idempotent per payment reference: recording the same payment twice changes nothing."""
    _check_year(year)
    if amount_cents <= 0:
        raise InvalidArgument("amount_cents must be positive", field="amount_cents")
    with uow_factory() as uow:
        member = _load(uow, member_id, lock=True)
        share = _pay(uow, member, year, amount_cents, reference)
        uow.commit()
        return share, member


def apply_share_paid_event(uow: MembershipUnitOfWork, envelope: dict[str, Any]) -> None:
    """Effect of billing's share.paid (run inside the inbox transaction).

    Expected data (proto3 JSON of coop.billing.v1.SharePaid): memberId or memberNumber,
    year, amountCents, paymentReference (the invoice number is a good one).
    """
    data = envelope.get("data") or {}
    member = _load(uow, str(data.get("memberId") or ""), str(data.get("memberNumber") or ""), lock=True)
    try:
        year = int(data["year"])
        amount = int(data["amountCents"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgument(f"share.paid event {envelope.get('id')} lacks year or amountCents") from exc
    reference = str(data.get("paymentReference") or f"event:{envelope['id']}")
    _pay(uow, member, year, amount, reference)


def refund_shares(uow_factory: UowFactory, member_id: str, reason: str) -> tuple[list[Share], Member]:
    with uow_factory() as uow:
        member = _load(uow, member_id, lock=True)
        if Status(member.status) not in (Status.RESIGNED, Status.EXCLUDED):
            raise FailedPrecondition(
                f"shares are refunded on resignation or exclusion; this member is {member.status}")
        now = utcnow()
        refunded = []
        for share in uow.members.shares_of(member.member_no):
            if ShareState(share.state) == ShareState.PAID:
                share.refund(now)
                refunded.append(share)
                uow.publish(ev.ShareRefunded(share, member, reason))
        if not refunded:
            raise FailedPrecondition("this member has no paid share to refund")
        member.paid_through_year = uow.members.paid_through_year(member.member_no)
        uow.commit()
        return refunded, member


def list_shares(uow_factory: UowFactory, member_id: str) -> tuple[list[Share], Member]:
    with uow_factory() as uow:
        uow.read_only()
        member = _load(uow, member_id)
        return uow.members.shares_of(member.member_no), member


# -- personal data --------------------------------------------------------------------------

def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def export_member_data(uow_factory: UowFactory, member_id: str) -> dict[str, Any]:
    with uow_factory() as uow:
        member = _load(uow, member_id)
        view = _view(uow, member)
        fields = [f for f in Member.__dataclass_fields__ if f != "member_no"]
        return {
            "member": {f: _jsonable(getattr(member, f)) for f in fields}
            | {"member_number": member.member_number, "in_good_standing": view.in_good_standing},
            "status_history": [
                {k: _jsonable(v) for k, v in asdict(c).items() if k not in ("id", "member_no")}
                for c in uow.members.history(member.member_no)
            ],
            "shares": [
                {k: _jsonable(v) for k, v in asdict(s).items() if k != "member_no"}
                for s in uow.members.shares_of(member.member_no)
            ],
            "exported_at": utcnow().isoformat(),
        }


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)


def erase_personal_data(uow_factory: UowFactory, member_id: str, reason: str, actor: str) -> MemberView:
    with uow_factory() as uow:
        member = _load(uow, member_id, lock=True)
        if member.erased:
            return _view(uow, member)
        if Status(member.status) in (Status.ACTIVE, Status.SUSPENDED):
            raise FailedPrecondition("an active or suspended member must resign or be excluded before erasure")
        member.erase(utcnow())
        uow.members.insert_history([StatusChange(member.status, member.status,
                                                 f"personal data erased: {reason}"[:500], actor, utcnow(),
                                                 member_no=member.member_no)])
        view = _view(uow, member)
        uow.publish(ev.MemberUpdated(member, ["erased"], view.in_good_standing))  # v1 consumers
        uow.publish(ev.MemberErased(member))
        uow.forget_published_events(member.member_id)
        uow.commit()
    return view


# -- bulk import ----------------------------------------------------------------------------

@dataclass
class ImportRow:
    line: int
    details: MemberDetails | None
    status: Status = Status.ACTIVE
    error: tuple[str, str] | None = None  # (field, message) found while parsing


@dataclass
class ImportReport:
    rows_received: int = 0
    rows_imported: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    committed: bool = False


def import_members(uow_factory: UowFactory, rows: list[ImportRow], *, dry_run: bool, actor: str,
                   progress: Callable[[int], None] | None = None) -> ImportReport:
    """All or nothing: any bad row (or duplicate email, in the file or in the register) aborts the file."""
    report = ImportReport(rows_received=len(rows))
    now = utcnow()
    valid: list[tuple[ImportRow, MemberDetails]] = []
    seen: dict[str, int] = {}
    for row in rows:
        if row.error:
            report.errors.append((row.line, *row.error))
            continue
        if row.status not in (Status.ACTIVE, Status.APPLICANT):
            report.errors.append((row.line, "status", "imported members are active or applicant"))
            continue
        try:
            details = row.details.normalised() if row.details else None
        except InvalidArgument as exc:
            report.errors.append((row.line, exc.field or "", exc.message))
            continue
        if details is None:
            report.errors.append((row.line, "", "empty row"))
            continue
        if details.email in seen:
            report.errors.append((row.line, "email", f"duplicate of line {seen[details.email]}"))
            continue
        seen[details.email] = row.line
        valid.append((row, details))
    if not rows:
        report.errors.append((0, "", "the file has no member rows"))
    with uow_factory() as uow:
        taken = uow.members.emails_taken(seen)
        for row, details in valid:
            if details.email in taken:
                report.errors.append((row.line, "email", f"{details.email} is already a member"))
        report.errors.sort()
        if report.errors or dry_run:
            return report
        members = []
        for row, details in valid:
            m = Member.apply(details, now)
            if row.status == Status.ACTIVE:
                m.status = Status.ACTIVE
                m.joined_on = m.joined_on or now.date()
            else:
                m.status = Status.APPLICANT
            members.append(m)
        fields = [f for f in Member.__dataclass_fields__ if f != "member_no"]
        today = now.date()
        policy = uow.members.share_year(today.year)
        batch = 2000
        for start in range(0, len(members), batch):
            chunk = members[start : start + batch]
            numbers = uow.members.bulk_insert(
                [{f: _jsonable(getattr(m, f)) if f in ("status", "category") else getattr(m, f)
                  for f in fields} for m in chunk],
                lambda nos, chunk=chunk: [
                    {"member_no": no, "from_status": None, "to_status": m.status.value,
                     "reason": "imported", "actor": actor, "at": now}
                    for no, m in zip(nos, chunk, strict=True)],
            )
            for no, m in zip(numbers, chunk, strict=True):
                m.member_no = no
                if m.status == Status.ACTIVE:
                    uow.publish(ev.MemberAdmitted(m, in_good_standing=m.in_good_standing(today, policy)))
            if progress:
                progress(len(chunk))
        uow.commit()
    report.rows_imported = len(members)
    report.committed = True
    return report


__all__ = ["format_member_number", "MemberView", "ImportRow", "ImportReport"]
