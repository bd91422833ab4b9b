"""Use cases of an initiative's signature collection (docs/board.md, Member initiatives):
members sign and withdraw, read their own signature and the public count; the secretary lists the
signers for verification; the deciding signature (or the timer) qualifies the initiative and
forces its agenda item; the timers expire, default and flag overdue.

Speed: a signature never locks the initiative row. It inserts its row and adds 1 to one counter
shard; the count is the sum of the shards. A progress mark (33/66/100) is a conditional update,
true for exactly one signature. Qualification runs right after the deciding signature commits
(`settle`, called by the servicer in its own unit, so a failing agenda hook never refuses a
signature), and the worker's timer runs it again as a backstop: within a minute either way.

Verification counts only the signers in good standing at that moment: a member who lost good
standing during the collection is discounted (docs/board.md, the rule on signers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from coop_board.domain import roles
from coop_board.domain.initiatives import (
    COLLECTING,
    DRAFT,
    SUBMITTED,
    Initiative,
    InitiativeRules,
    ThresholdProgress,
    require_eligible,
)
from coop_board.service_layer import agenda_hooks
from coop_board.service_layer.board_access import require_secretary
from coop_board.service_layer.initiatives import READERS, check_initiative_id, not_found, readable
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_board.service_layer.ports_initiatives import CountView, SignatureCountReads, Signer
from coop_domain.errors import AlreadyExists, DomainError, FailedPrecondition
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal

SIGNERS = "board_initiative_signers"


@dataclass(frozen=True)
class Signed:
    signed_at: datetime
    signature_count: int
    threshold: int
    settle: bool      # the count reached the threshold while collecting: qualification is due


def _collecting(uow: BoardUnitOfWork, caller: Principal, initiative_id: str, now: datetime) -> Initiative:
    """The initiative without its committee (one read), its collection open; a draft or a
    submitted one is NOT_FOUND outside its committee (as for any read)."""
    caller.require(roles.MEMBER)
    check_initiative_id(initiative_id)
    found = uow.initiatives.get(caller.tenant, initiative_id, committee=False)
    if found is None:
        raise not_found(initiative_id)
    if found.status in (DRAFT, SUBMITTED):
        readable(uow, caller, initiative_id)  # NOT_FOUND unless the caller may see it
    found.require_collection_open(now)
    return found


def _publish_marks(uow: BoardUnitOfWork, found: Initiative, count: int, now: datetime) -> None:
    """Each mark the count passed is published by the one unit whose conditional update wins."""
    promoter_ids: tuple[str, ...] | None = None
    for mark in found.progress_marks(count):
        if uow.initiatives.raise_progress(found.tenant, found.initiative_id, mark):
            if promoter_ids is None:
                full = uow.initiatives.get(found.tenant, found.initiative_id)
                promoter_ids = full.promoter_ids if full else ()
            found.progress = mark
            uow.publish(ThresholdProgress(found.tenant, found.initiative_id, promoter_ids, mark, count,
                                          found.threshold, now))


def sign_many(uow: BoardUnitOfWork, calls: Sequence[tuple[Principal, str]], now: datetime
              ) -> list[Signed | DomainError]:
    """Signatures arriving together (the api's group commit), in one unit: one result per call,
    in order, a refusal for its caller only. Per initiative: one read of it, one of the signers'
    standings, one multi-row insert (a member already signed, or twice in the batch: the second
    is ALREADY_SIGNED), one counter shard += the signatures added, one count."""
    results: list[Signed | DomainError | None] = [None] * len(calls)
    groups: dict[tuple[str, str], list[int]] = {}
    for n, (caller, initiative_id) in enumerate(calls):
        try:
            caller.require(roles.MEMBER)
            check_initiative_id(initiative_id)
        except DomainError as exc:
            results[n] = exc
            continue
        groups.setdefault((caller.tenant, initiative_id), []).append(n)
    with uow:
        standings = uow.members.standings(sorted({calls[n][0].subject for ns in groups.values() for n in ns}))
        for (tenant, initiative_id), ns in groups.items():
            found = uow.initiatives.get(tenant, initiative_id, committee=False)
            signers: dict[str, int] = {}
            for n in ns:
                caller = calls[n][0]
                try:
                    if found is None:
                        raise not_found(initiative_id)
                    if found.status in (DRAFT, SUBMITTED):
                        readable(uow, caller, initiative_id)  # NOT_FOUND unless the caller may see it
                    found.require_collection_open(now)
                    require_eligible(standings.get(caller.subject), "sign an initiative")
                    if caller.subject in signers:
                        raise _already_signed()
                    signers[caller.subject] = n
                except DomainError as exc:
                    results[n] = exc
            if found is None or not signers:
                continue
            added = uow.initiatives.add_signatures(tenant, initiative_id, sorted(signers), now)
            count = uow.initiatives.count(tenant, initiative_id)
            settle = found.status == COLLECTING and count >= found.threshold
            for member_id, n in signers.items():
                results[n] = Signed(now, count, found.threshold, settle) if member_id in added else _already_signed()
            _publish_marks(uow, found, count, now)
        uow.commit()
    return [r for r in results if r is not None]


def _already_signed() -> AlreadyExists:
    return AlreadyExists("you signed this initiative already", field="initiative_id", reason="ALREADY_SIGNED")


def sign(uow: BoardUnitOfWork, caller: Principal, initiative_id: str, now: datetime) -> Signed:
    """One signature (sign_many of one call): its result, or its refusal raised."""
    result = sign_many(uow, [(caller, initiative_id)], now)[0]
    if isinstance(result, DomainError):
        raise result
    return result


def withdraw(uow: BoardUnitOfWork, caller: Principal, initiative_id: str, now: datetime) -> int:
    """Until the collection closes; the member may sign again. A mark once reached stays."""
    with uow:
        found = _collecting(uow, caller, initiative_id, now)
        if not uow.initiatives.remove_signature(found.tenant, initiative_id, caller.subject):
            raise FailedPrecondition("you have not signed this initiative", field="initiative_id",
                                     reason="NOT_SIGNED")
        count = uow.initiatives.count(found.tenant, initiative_id)
        uow.commit()
    return count


def my_signature(uow: BoardUnitOfWork, caller: Principal, initiative_id: str) -> datetime | None:
    caller.require(roles.MEMBER)
    with uow:
        uow.read_only()
        readable(uow, caller, initiative_id)
        return uow.initiatives.signed_at(caller.tenant, initiative_id, caller.subject)


def signature_counts(reads: SignatureCountReads, calls: Sequence[tuple[Principal, str]]
                     ) -> list[CountView | DomainError]:
    """The public count for watchers asking together (the api coalesces them): one statement on
    the read pool per initiative, read after every one of these calls arrived, so no answer is
    older than its request. Visible: an initiative past admissibility to everyone, a submitted
    one to the board's roles (by role: its count is 0); else NOT_FOUND."""
    read: dict[tuple[str, str], CountView | None] = {}
    out: list[CountView | DomainError] = []
    for caller, initiative_id in calls:
        try:
            caller.require(*READERS)
            check_initiative_id(initiative_id)
            key = (caller.tenant, initiative_id)
            if key not in read:
                read[key] = reads.signature_count(*key)
            found = read[key]
            if found is None or (found.status == SUBMITTED and not caller.has(*roles.BOARD_READERS)):
                raise not_found(initiative_id)
            out.append(found)
        except DomainError as exc:
            out.append(exc)
    return out


def list_signers(uow: BoardUnitOfWork, caller: Principal, initiative_id: str, requested_size: int, token: str,
                 now: datetime) -> tuple[list[Signer], str, int, int]:
    """The secretary in office only (an admin's token is not enough: who signed is the
    secretary's to verify, nobody else's), oldest first, with each signer's standing now."""
    caller.require(roles.SECRETARY)
    check_initiative_id(initiative_id)
    size = page_size(requested_size)
    after = decode_page_token(token, SIGNERS, 2, types=(str, str))
    with uow:
        uow.read_only()
        require_secretary(uow, caller, now)
        found = uow.initiatives.get(caller.tenant, initiative_id, committee=False)
        if found is None or found.status == DRAFT:
            raise not_found(initiative_id)
        rows = uow.initiatives.signers(caller.tenant, initiative_id, (after[0], after[1]) if after else None,
                                       size + 1)
        total = uow.initiatives.count(caller.tenant, initiative_id)
        verified = uow.initiatives.verified_count(caller.tenant, initiative_id)
    next_token = ""
    if len(rows) > size:
        last = rows[size - 1]
        next_token = encode_page_token(SIGNERS, last.signed_at.isoformat(), last.member_id)
    return rows[:size], next_token, total, verified


# -- qualification and the timers ---------------------------------------------------------------------

def settle(uow: BoardUnitOfWork, tenant: str, initiative_id: str, now: datetime, rules: InitiativeRules) -> str:
    """Bring a collecting initiative up to date under its lock (skipped when another unit holds
    it): the progress marks not yet published; qualified when the signatures of members in good
    standing reach the threshold (its item forced onto the agenda in the same unit); expired at
    the deadline otherwise. Returns what happened ("qualified", "expired", "marks", "")."""
    with uow:
        found = uow.initiatives.get(tenant, initiative_id, lock=True, skip_locked=True)
        if found is None or found.status != COLLECTING:
            return ""
        count = uow.initiatives.count(tenant, initiative_id)
        before = found.progress
        _publish_marks(uow, found, count, now)
        happened = "marks" if found.progress != before else ""
        due = found.closes_at is not None and now >= found.closes_at
        if count >= found.threshold or due:
            verified = uow.initiatives.verified_count(tenant, initiative_id)
            if found.qualify(verified, now):
                item = agenda_hooks.force_initiative_item(uow, tenant, initiative_id, found.title, found.text,
                                                          found.promoter_ids, now, rules.max_delay_days)
                uow.publish(found.forced_item(item, rules))
                happened = "qualified"
            else:
                expired = found.expire(verified, now)
                if expired is not None:
                    uow.publish(expired)
                    happened = "expired"
        if happened:
            uow.initiatives.save(found)
            uow.commit()
        return happened


def flag_overdue(uow: BoardUnitOfWork, tenant: str, initiative_id: str, now: datetime) -> bool:
    """The outcome is not published by its due date: flagged, and initiative.outcome_overdue,
    once (a second run, or another replica, finds it flagged or locked)."""
    with uow:
        found = uow.initiatives.get(tenant, initiative_id, lock=True, skip_locked=True)
        event = found.flag_overdue(now) if found is not None else None
        if event is None:
            return False
        uow.publish(event)
        uow.initiatives.save(found)  # type: ignore[arg-type]
        uow.commit()
        return True
