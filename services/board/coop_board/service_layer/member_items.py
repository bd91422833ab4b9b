"""Items members put on the board's agenda (docs/board.md, "Forced items and member concerns"),
called through service_layer/agenda_hooks.py inside the caller's unit of work (no commit here).

- A qualified initiative forces an open item onto the next meeting still scheduled whose agenda
  is not frozen and that starts within the initiative's maximum delay; when there is none, an
  extra meeting is scheduled at the end of the delay. The item is marked `forced` with the
  latest start it allows (`due_by`): the board cannot remove it, put it in the consent block,
  change its source or reference, cancel its meeting, or move the meeting past `due_by`.
  The promoters are invited to present it (observers with a speaking slot, service_layer/observers).
- A member's question referred to the board is an ordinary, removable open item; with no open
  agenda it waits for the next meeting scheduled (like minutes waiting for approval).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from coop_board.domain.links import ForcedItem
from coop_board.domain.meetings import AgendaItem, Meeting, MeetingRules, check_meeting
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import observers
from coop_board.service_layer.meetings import (
    CONCERN,
    _agenda_changed,
    _convocation,
    concern_item,
    new_id,
)
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.errors import InvalidArgument

INITIATIVE = "member_initiative"
EXTRA_MEETING_TITLE = LocalizedText("Réunion extraordinaire : initiative de membres",
                                    "Extra vergadering: ledeninitiatief", "Extra meeting: member initiative")
#: Where an extra meeting is held when no upcoming meeting shows the board's usual place.
PLACE_TO_BE_CONFIRMED = "À confirmer / Te bevestigen / To be confirmed"


def _open_agenda(uow: BoardUnitOfWork, tenant: str, now: datetime, until: datetime | None) -> Meeting | None:
    """The next meeting not yet in session whose agenda is open (starting by `until`), locked."""
    for m in uow.meetings.upcoming(tenant, now):
        if until is not None and m.starts_at > until:
            return None
        if m.status == "scheduled" and not m.is_frozen(now):
            return uow.meetings.get(tenant, m.meeting_id, for_update=True) or m
    return None


def _already_forced(uow: BoardUnitOfWork, tenant: str, initiative_id: str, now: datetime) -> ForcedItem | None:
    for m in uow.meetings.upcoming(tenant, now):
        for it in m.forced_items():
            if it.ref == initiative_id:
                return ForcedItem(m.meeting_id, it.item_id, m.starts_at, m.extra)
    return None


def _extra_meeting(uow: BoardUnitOfWork, tenant: str, starts_at: datetime, rules: MeetingRules,
                   now: datetime) -> Meeting:
    """At the end of the delay, where the next meeting is held (the secretary may move it earlier)."""
    usual = next(iter(uow.meetings.upcoming(tenant, now, limit=1)), None)
    place, link = (usual.place, usual.video_link) if usual else (PLACE_TO_BE_CONFIRMED, "")
    m = Meeting(new_id(), tenant, EXTRA_MEETING_TITLE, starts_at, place or ("" if link else PLACE_TO_BE_CONFIRMED),
                link, max(now, starts_at - timedelta(days=rules.freeze_days)), created_at=now, extra=True)
    check_meeting(m)
    return m


def force_initiative_item(uow: BoardUnitOfWork, tenant: str, initiative_id: str, title: LocalizedText,
                          text: LocalizedText, promoter_ids: tuple[str, ...], now: datetime, max_delay_days: int,
                          rules: MeetingRules | None = None) -> ForcedItem:
    """agenda_hooks.force_initiative_item. Called again for the same initiative, it answers
    where the item already is (nothing added twice)."""
    if max_delay_days < 1:
        raise InvalidArgument("the maximum delay of a forced item is at least one day", field="max_delay_days",
                              reason="INVALID_DELAY")
    rules = rules or MeetingRules()
    found = _already_forced(uow, tenant, initiative_id, now)
    if found is not None:
        return found
    due_by = (now + timedelta(days=max_delay_days)).replace(second=0, microsecond=0)
    item = AgendaItem(new_id(), 0, title.filled(), INITIATIVE, INITIATIVE, ref=initiative_id, text=text,
                      majority=rules.majority_for(INITIATIVE), forced=True, due_by=due_by)
    m = _open_agenda(uow, tenant, now, due_by)
    if m is not None:
        m.add_item(item, now)
        _agenda_changed(uow, m, now)
        uow.meetings.save(m)
    else:
        m = _extra_meeting(uow, tenant, due_by, rules, now)
        m.add_item(item, now, force=True)
        uow.meetings.add(m)
        _convocation(uow, m)
    observers.invite_presenters(uow, tenant, m.meeting_id, m.starts_at, promoter_ids, now)
    return ForcedItem(m.meeting_id, item.item_id, m.starts_at, m.extra)


def add_member_concern_item(uow: BoardUnitOfWork, tenant: str, question_id: str, title: LocalizedText,
                            text: LocalizedText, now: datetime) -> str | None:
    """agenda_hooks.add_member_concern_item: the item's id, or None while it waits."""
    for waiting in uow.meetings.upcoming(tenant, now):
        for it in waiting.items:
            if it.source == CONCERN and it.ref == question_id:
                return it.item_id  # referred already
    m = _open_agenda(uow, tenant, now, None)
    if m is None:
        uow.meetings.add_pending_concern(tenant, question_id, title, text)
        return None
    item = concern_item(question_id, title, text)
    m.add_item(item, now)
    _agenda_changed(uow, m, now)
    uow.meetings.save(m)
    return item.item_id
