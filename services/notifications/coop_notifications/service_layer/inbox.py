"""The in-app inbox: list (cursor pages), unread count, mark read, archive."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from coop_domain.errors import InvalidArgument, NotFound
from coop_domain.principal import Principal
from coop_notifications.domain.ledger import Delivery
from coop_notifications.service_layer.access import member_of_call, require_known
from coop_notifications.service_layer.ports import NotificationsUnitOfWork

DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_IDS = 500


def page_size_of(value: int) -> int:
    if value < 0 or value > MAX_PAGE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE} (0: {DEFAULT_PAGE})", field="page_size")
    return value or DEFAULT_PAGE


def list_inbox(uow: NotificationsUnitOfWork, caller: Principal, member_id: str, page_size: int, token: str,
               include_archived: bool) -> tuple[list[Delivery], str, int]:
    target = member_of_call(caller, member_id)
    size = page_size_of(page_size)
    with uow:
        uow.read_only()
        require_known(uow, caller, target)
        items, next_token = uow.ledger.inbox_page(caller.tenant, target, size, token, include_archived)
        return items, next_token, uow.ledger.unread_count(caller.tenant, target)


def unread_count(uow: NotificationsUnitOfWork, caller: Principal, member_id: str) -> int:
    target = member_of_call(caller, member_id)
    with uow:
        uow.read_only()
        require_known(uow, caller, target)
        return uow.ledger.unread_count(caller.tenant, target)


def _checked_ids(uow: NotificationsUnitOfWork, tenant: str, target: str, ids: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise InvalidArgument("notification_ids is empty", field="notification_ids")
    if len(wanted) > MAX_IDS:
        raise InvalidArgument(f"at most {MAX_IDS} notification_ids per call", field="notification_ids")
    found = uow.ledger.inbox_keys(tenant, target, wanted)
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"no such notification in this inbox: {', '.join(missing[:5])}",
                       reason="NOTIFICATION_NOT_FOUND")
    return wanted


def mark_read(uow: NotificationsUnitOfWork, caller: Principal, member_id: str, ids: Sequence[str],
              now: datetime) -> int:
    target = member_of_call(caller, member_id)
    with uow:
        require_known(uow, caller, target)
        keys = _checked_ids(uow, caller.tenant, target, ids)
        uow.ledger.mark_read(caller.tenant, target, keys, now)
        count = uow.ledger.unread_count(caller.tenant, target)
        uow.commit()
        return count


def archive(uow: NotificationsUnitOfWork, caller: Principal, member_id: str, ids: Sequence[str],
            now: datetime) -> int:
    target = member_of_call(caller, member_id)
    with uow:
        require_known(uow, caller, target)
        keys = _checked_ids(uow, caller.tenant, target, ids)
        uow.ledger.archive(caller.tenant, target, keys, now)
        count = uow.ledger.unread_count(caller.tenant, target)
        uow.commit()
        return count
