"""One-click unsubscribe (RFC 8058): a POST to the signed link of a non-legal mail opts the member
out of that mail's category, with no login (the signature is the proof)."""

from __future__ import annotations

from datetime import datetime

from coop_domain.errors import FailedPrecondition, PermissionDenied
from coop_notifications.domain import preferences as prefs
from coop_notifications.domain.links import check_unsubscribe
from coop_notifications.service_layer.ports import NotificationsUnitOfWork


def one_click_unsubscribe(uow: NotificationsUnitOfWork, secret: bytes, tenant: str, member_id: str,
                          category: str, signature: str, now: datetime) -> prefs.Preference:
    if not check_unsubscribe(secret, tenant, member_id, category, signature):
        raise PermissionDenied("this unsubscribe link is not valid", reason="BAD_SIGNATURE")
    chosen = prefs.parse_category(category)
    if chosen == prefs.Category.LEGAL:
        raise FailedPrecondition("legal notices cannot be opted out of", reason="LEGAL_NOTICES_REQUIRED")
    with uow:
        stored = uow.preferences.set(tenant, member_id, chosen.value, True, now)
        uow.commit()
        return stored
