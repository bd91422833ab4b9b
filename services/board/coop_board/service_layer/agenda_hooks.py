"""What the other families ask of the agenda (owned by the meetings family).

Minutes are approved by the board at a following meeting: when the secretary submits minutes
(or an erratum) for approval, an item of kind "approve_minutes" referring to them is put on the
next meeting whose agenda is not frozen yet, or kept pending for the next meeting scheduled."""

from __future__ import annotations

from datetime import datetime

from coop_board.domain.links import ForcedItem
from coop_board.domain.meetings import MeetingRules
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import meetings, member_items
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.clock import utcnow


def add_minutes_approval_item(uow: BoardUnitOfWork, tenant: str, minutes_id: str,
                              title: LocalizedText, now: datetime | None = None) -> str | None:
    """Inside the caller's unit (no commit): the id of the item added to the next open agenda,
    or None when it waits for the next meeting to be scheduled (it joins that one's agenda).
    The item goes in the consent block (routine); `now` defaults to the clock."""
    return meetings.add_minutes_approval(uow, tenant, minutes_id, title, now or utcnow())


def force_initiative_item(uow: BoardUnitOfWork, tenant: str, initiative_id: str, title: LocalizedText,
                          text: LocalizedText, promoter_ids: tuple[str, ...], now: datetime,
                          max_delay_days: int, rules: MeetingRules | None = None) -> ForcedItem:
    """Inside the caller's unit (no commit). A qualified initiative forces an open item (source
    "member_initiative", ref = initiative_id, never in the consent block) onto the next meeting
    whose agenda is not frozen and that starts within `max_delay_days`; when there is none, an
    extra meeting is scheduled within the delay. The item cannot be removed (FAILED_PRECONDITION
    FORCED_ITEM), nor the meeting cancelled while it carries it. The promoters are invited to
    present it: observer registrations with a speaking slot, outside the seat limit.
    `rules` (the meetings' settings) set an extra meeting's freeze time (default: MeetingRules())."""
    return member_items.force_initiative_item(uow, tenant, initiative_id, title, text, promoter_ids, now,
                                              max_delay_days, rules)


def add_member_concern_item(uow: BoardUnitOfWork, tenant: str, question_id: str, title: LocalizedText,
                            text: LocalizedText, now: datetime) -> str | None:
    """Inside the caller's unit (no commit). A member's question referred to the board: an open
    item of source "member_concern" (ref = question_id) on the next meeting whose agenda is not
    frozen; None when it waits for the next meeting to be scheduled (it joins that one's agenda).
    Unlike a forced item, the board may remove it."""
    return member_items.add_member_concern_item(uow, tenant, question_id, title, text, now)
