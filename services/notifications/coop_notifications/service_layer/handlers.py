"""An event's Notice becomes delivery rows (in the inbox's transaction)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from coop_notifications.domain.catalog import spec
from coop_notifications.domain.mapping import AllMembers, Members, Notice, Roll
from coop_notifications.service_layer.notify import Notification, notify_many
from coop_notifications.service_layer.ports import ElectionRolls, NotificationsUnitOfWork

log = logging.getLogger(__name__)


class ProjectionRolls:
    """Rolls as elections froze them: election.roll_frozen's parts, kept per election (the
    invitations go to each part's voters; the results to the whole roll). An election opened
    before this service received rolls (an upgrade under way) falls back to the roll as our
    cooperative builds it (elections' BuildVoterRollFromMembers): the active members in good
    standing of the recipients projection, and says so in the log. Who voted comes from
    elections' election.voted (service_layer/turnout.py): election.closing_soon's non_voters are
    the reminder's audience, and whoever of them voted since is left out before each batch."""

    def voters(self, uow: NotificationsUnitOfWork, tenant: str, election_id: str) -> list[str]:
        frozen = uow.election_voters.of(tenant, election_id)
        if frozen:
            return frozen
        log.warning("no frozen roll received for election %s: its members in good standing stand in", election_id)
        return uow.recipients.all_ids(tenant, in_good_standing=True)

    def voted(self, uow: NotificationsUnitOfWork, tenant: str, election_id: str,
              voter_ids: Sequence[str]) -> set[str]:
        return uow.voted.among(tenant, election_id, voter_ids)


def audience_of(uow: NotificationsUnitOfWork, notice: Notice, rolls: ElectionRolls) -> list[str]:
    a = notice.audience
    if isinstance(a, Members):
        return list(a.ids)
    if isinstance(a, AllMembers):
        return uow.recipients.all_ids(notice.tenant, statuses=a.statuses)
    if isinstance(a, Roll):
        return rolls.voters(uow, notice.tenant, a.election_id)
    raise TypeError(f"unknown audience {a!r}")


#: Notifications whose title is that of an election or initiative, which comes with its first
#: event only (election.opened, initiative.submitted and .collection_opened): remembered then,
#: added to the later notices about the same subject. (context key of the subject, key prefix.)
#: Only these: a General Assembly's convocation names the Assembly's election too, but its title
#: is the Assembly's, and must never stand for the election's.
ELECTION, INITIATIVE = ("election_id", ""), ("initiative_id", "initiative:")
TITLED = {"election_invitation": ELECTION, "election_reminder": ELECTION, "election_results": ELECTION,
          "initiative_progress": INITIATIVE, "initiative_state_changed": INITIATIVE,
          "initiative_outcome": INITIATIVE}


def _has_text(value: object) -> bool:
    return bool(value) and (not isinstance(value, dict) or any((value.get("_i18n") or {}).values()))


def with_remembered_title(uow: NotificationsUnitOfWork, notice: Notice) -> Notice:
    if notice.notification not in TITLED:
        return notice
    key, prefix = TITLED[notice.notification]
    subject = str(notice.context.get(key, ""))
    if not subject:
        return notice
    if _has_text(notice.context.get("title")):
        uow.election_titles.remember(notice.tenant, prefix + subject, notice.context["title"])
        return notice
    title = uow.election_titles.get(notice.tenant, prefix + subject)
    return replace(notice, context={**notice.context, "title": title}) if title else notice


def apply_notices(uow: NotificationsUnitOfWork, notices: Sequence[tuple[Notice, str]], rolls: ElectionRolls,
                  now: datetime) -> int:
    """Store the rows of several events' notices, (notice, event id) each, in one go; returns how
    many were new (0 for replays)."""
    batch: list[Notification] = []
    for notice, event_id in notices:
        notice = with_remembered_title(uow, notice)
        batch.append(Notification(spec(notice.notification), notice.tenant, event_id,
                                  audience_of(uow, notice, rolls), notice.context))
    return notify_many(uow, batch, now)


def apply_notice(uow: NotificationsUnitOfWork, notice: Notice, event_id: str, rolls: ElectionRolls,
                 now: datetime) -> int:
    """Store the rows of one event's notice; returns how many were new (0 for a replay)."""
    return apply_notices(uow, [(notice, event_id)], rolls, now)
