"""An event's Notice becomes delivery rows (in the inbox's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from coop_notifications.domain.catalog import spec
from coop_notifications.domain.mapping import AllMembers, Members, Notice, Roll
from coop_notifications.service_layer.notify import notify
from coop_notifications.service_layer.ports import ElectionRolls, NotificationsUnitOfWork


class ProjectionRolls:
    """Rolls as our cooperative builds them (elections' BuildVoterRollFromMembers): the active
    members in good standing of the recipients projection. election.opened carries the roll's
    size and hash, not its voters; the exact roll comes from elections' api once this service
    holds a credential for it (docs/notifications.md, Elections). Who voted is not known here:
    election.closing_soon's non_voters are the reminder's audience."""

    def voters(self, uow: NotificationsUnitOfWork, tenant: str, election_id: str) -> list[str]:
        return uow.recipients.all_ids(tenant, in_good_standing=True)

    def voted(self, tenant: str, election_id: str, voter_ids: Sequence[str]) -> set[str]:
        return set()


def audience_of(uow: NotificationsUnitOfWork, notice: Notice, rolls: ElectionRolls) -> list[str]:
    a = notice.audience
    if isinstance(a, Members):
        return list(a.ids)
    if isinstance(a, AllMembers):
        return uow.recipients.all_ids(notice.tenant, statuses=a.statuses)
    if isinstance(a, Roll):
        return rolls.voters(uow, notice.tenant, a.election_id)
    raise TypeError(f"unknown audience {a!r}")


def with_election_title(uow: NotificationsUnitOfWork, notice: Notice) -> Notice:
    """An election's title comes with election.opened only: remembered there, added to the
    later notices about the same election (reminder, results)."""
    election_id = str(notice.context.get("election_id", ""))
    if not election_id or "title" not in spec(notice.notification).context_keys:
        return notice
    if notice.context.get("title"):
        uow.election_titles.remember(notice.tenant, election_id, notice.context["title"])
        return notice
    title = uow.election_titles.get(notice.tenant, election_id)
    return replace(notice, context={**notice.context, "title": title}) if title else notice


def apply_notice(uow: NotificationsUnitOfWork, notice: Notice, event_id: str, rolls: ElectionRolls,
                 now: datetime) -> int:
    """Store the rows of one event's notice; returns how many were new (0 for a replay)."""
    notice = with_election_title(uow, notice)
    return notify(uow, spec(notice.notification), tenant=notice.tenant, event_id=event_id,
                  members=audience_of(uow, notice, rolls), context=notice.context, now=now)
