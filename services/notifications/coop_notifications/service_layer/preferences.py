"""Preferences over gRPC: read every category, opt out of (or back into) one."""

from __future__ import annotations

from datetime import datetime

from coop_domain.principal import Principal
from coop_notifications.domain import preferences as prefs
from coop_notifications.service_layer.access import member_of_call, require_known
from coop_notifications.service_layer.ports import NotificationsUnitOfWork


def get_preferences(uow: NotificationsUnitOfWork, caller: Principal, member_id: str
                    ) -> tuple[str, list[prefs.Preference]]:
    target = member_of_call(caller, member_id)
    with uow:
        uow.read_only()
        require_known(uow, caller, target)
        return target, prefs.complete(uow.preferences.of_member(caller.tenant, target))


def set_preference(uow: NotificationsUnitOfWork, caller: Principal, member_id: str, category: str,
                   opted_out: bool, now: datetime) -> prefs.Preference:
    target = member_of_call(caller, member_id)
    chosen = prefs.parse_category(category)
    prefs.check_change(chosen, opted_out)
    with uow:
        require_known(uow, caller, target)
        stored = uow.preferences.set(caller.tenant, target, chosen.value, opted_out, now)
        uow.commit()
        return stored
