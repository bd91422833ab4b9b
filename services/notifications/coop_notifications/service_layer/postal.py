"""The postal list: legal notices that no e-mail carried, for the secretariat to post."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coop_domain.errors import InvalidArgument
from coop_domain.principal import Principal
from coop_notifications.adapters.repository import encode_cursor
from coop_notifications.service_layer.ports import NotificationsUnitOfWork

DEFAULT_PAGE = 500
MAX_PAGE = 1000


@dataclass(frozen=True)
class PostalNotice:
    member_id: str
    member_number: str
    notification: str
    event_id: str
    reason: str
    created_at: datetime


def postal_fallback(uow: NotificationsUnitOfWork, caller: Principal, page_size: int, token: str
                    ) -> tuple[list[PostalNotice], str]:
    caller.require("admin")
    if page_size < 0 or page_size > MAX_PAGE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE} (0: {DEFAULT_PAGE})", field="page_size")
    size = page_size or DEFAULT_PAGE
    with uow:
        uow.read_only()
        rows = uow.ledger.postal_fallback(caller.tenant, size + 1, token)
        known = uow.recipients.get_many(caller.tenant, [d.recipient_id for d in rows])
    notices = [PostalNotice(d.recipient_id, (known[d.recipient_id].member_number or "") if d.recipient_id in known
                            else "", d.notification, d.event_id, d.last_detail or "", d.created_at)
               for d in rows[:size]]
    next_token = encode_cursor(rows[size - 1].created_at, rows[size - 1].delivery_key) if len(rows) > size else ""
    return notices, next_token
