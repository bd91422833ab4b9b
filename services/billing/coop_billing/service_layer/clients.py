"""Use cases of clients (the companies and people members invoice), activities and their budgets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from coop_billing.domain.checks import NACE, check_text, parse_uuid
from coop_billing.domain.vat import Client
from coop_billing.service_layer.common import (
    READERS,
    STAFF,
    known_member,
    member_page,
    next_token,
    page_of,
    position,
)
from coop_billing.service_layer.ports import BillingUnitOfWork
from coop_domain.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from coop_domain.principal import Principal


def create_client(uow: BillingUnitOfWork, caller: Principal, name: str, country: str, address: str,
                  vat_number: str) -> tuple[Any, bool]:
    """A client: (its record, already existed). A member's is theirs and unverified until the back
    office verifies it; the back office's (staff) is verified at once. With a VAT number, the
    verified client holding it (the real company) is returned to anyone, and a member's own
    unverified one to that member; another member's unverified record is never returned, nor
    does it keep the back office from creating the real company's."""
    caller.require("member", *STAFF)
    staff = caller.has(*STAFF)
    owner_member_id, verified_by = (None, caller.subject) if staff else (caller.subject, None)
    client = Client(check_text(name, "name", limit=200), country, check_text(address, "address"), vat_number or None)
    vat = client.vat_number

    def existing() -> Any:
        if vat is None:
            return None
        return uow.clients.verified_client_by_vat(vat) or (
            uow.clients.own_client_by_vat(owner_member_id, vat) if owner_member_id else None)

    with uow:
        found = existing()
        if found is not None:
            return found, True
        client_id = str(uuid.uuid4())
        if not uow.clients.insert_client_if_absent(client_id, client, owner_member_id=owner_member_id,
                                                   verified_by=verified_by):  # lost a race on the VAT number
            uow.rollback()
            return existing(), True
        row = uow.clients.client(client_id)
        uow.commit()
    return row, False


def client_usable_by(row: Any, member_id: str) -> bool:
    """Whether a member may read and invoice this client: one they created, or a verified one that
    is a company (VAT number) or the back office's own record. Never another member's."""
    return row.owner_member_id == member_id or (
        row.verified_at is not None and (row.vat_number is not None or row.owner_member_id is None))


def get_client(uow: BillingUnitOfWork, caller: Principal, client_id: str) -> Any:
    caller.require("member", *READERS)
    with uow:
        row = uow.read_only().clients.client(parse_uuid(client_id, "client_id"))
    if row is None:
        raise NotFound(f"no client {client_id}", field="client_id")
    if not caller.has(*READERS) and not client_usable_by(row, caller.subject):
        raise PermissionDenied("this client is another member's record", reason="NOT_YOUR_RECORD")
    return row


def verify_client(uow: BillingUnitOfWork, caller: Principal, client_id: str) -> Any:
    """The back office verifies a client (a member's, after checking it is the real company): it
    becomes the record every member creating that VAT number gets. ALREADY_EXISTS when another
    verified client holds the VAT number. Verifying a verified client changes nothing."""
    caller.require(*STAFF)
    with uow:
        row = uow.clients.client(parse_uuid(client_id, "client_id"))
        if row is None:
            raise NotFound(f"no client {client_id}", field="client_id")
        if row.verified_at is None:
            if not uow.clients.verify_client(row.client_id, caller.subject):
                holder = uow.clients.verified_client_by_vat(row.vat_number)
                raise AlreadyExists(f"client {holder.client_id} is the verified record of VAT number "
                                    f"{row.vat_number}: invoice that one", field="client_id",
                                    reason="VAT_NUMBER_TAKEN", client_id=holder.client_id)
            row = uow.clients.client(row.client_id)
            uow.commit()
        return row


def create_activity(uow: BillingUnitOfWork, caller: Principal, member_id: str, name: str, sector_code: str) -> Any:
    caller.require_self_or(member_id, "admin")
    member_id = parse_uuid(member_id, "member_id")
    name = check_text(name, "name", limit=200)
    sector = (sector_code or "").strip()
    if not NACE.match(sector):
        raise InvalidArgument(f"sector_code {sector_code!r} is not a NACE code like 90 or 90.01",
                              field="sector_code", reason="NOT_A_NACE_CODE")
    activity_id = str(uuid.uuid4())
    with uow:
        known_member(uow, member_id)
        uow.activities.add_activity(activity_id=activity_id, member_id=member_id, name=name, sector_code=sector)
        row = uow.activities.activity(activity_id)
        uow.commit()
        return row


def list_activities(uow: BillingUnitOfWork, caller: Principal, member_id: str, token: str,
                    size: int) -> tuple[list[Any], str]:
    return member_page(uow, caller, member_id, token, size, "activities",
                       lambda u, member, after, limit: u.activities.activities_of(member, after, limit),
                       lambda r: (r.created_at.isoformat(), r.activity_id))


@dataclass
class BudgetView:
    activity: Any
    balance_cents: int
    reserved_cents: int
    entries: list[Any]
    next_token: str


def get_budget(uow: BillingUnitOfWork, caller: Principal, activity_id: str, token: str, size: int) -> BudgetView:
    """An activity's budget and a page of its ledger; the activity read decides access."""
    activity_id = parse_uuid(activity_id, "activity_id")
    size = page_of(size)
    after = position(token, "ledger", 1)
    if after and not after[0].isdigit():
        raise InvalidArgument("page_token is not a token this service issued", field="page_token",
                              reason="INVALID_PAGE_TOKEN")
    with uow:
        activity = uow.read_only().activities.activity(activity_id)
        if activity is None:
            raise NotFound(f"no activity {activity_id}", field="activity_id")
        caller.require_self_or(activity.member_id, *READERS)
        balance, reserved = uow.activities.balances(activity_id)
        rows = uow.activities.entries_page(activity_id, int(after[0]) if after else 0, size + 1)
    page = rows[:size]
    return BudgetView(activity, balance, reserved, page,
                      next_token(rows, size, "ledger", lambda r: (r.entry_id,)))
