"""Use cases of meetings and agendas: schedule, reschedule, cancel, items, consent block,
publish and freeze the agenda. The yearly statutory items and the minutes waiting for approval
join a meeting's agenda when it is scheduled (docs/board.md)."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from coop_board.domain import roles
from coop_board.domain.events_meetings import AgendaPublished, MeetingScheduled
from coop_board.domain.meetings import (
    AgendaItem,
    Meeting,
    MeetingRules,
    check_item_change,
    check_meeting,
)
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import dossier_hooks, initiative_hooks
from coop_board.service_layer import meeting_access as access
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.clock import local_date
from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal

STATUTORY_TITLES = {
    "approve_accounts": LocalizedText("Approbation des comptes annuels", "Goedkeuring van de jaarrekening",
                                      "Approval of the annual accounts"),
    "convene_assembly": LocalizedText("Convocation de l'Assemblée générale", "Bijeenroeping van de Algemene "
                                      "Vergadering", "Convening the General Assembly"),
    "set_budget": LocalizedText("Budget de l'exercice suivant", "Begroting van het volgende boekjaar",
                                "Budget of the next financial year"),
}


@dataclass(frozen=True)
class MeetingSpec:
    title: LocalizedText
    starts_at: datetime | None
    place: str
    video_link: str


def new_id() -> str:
    return str(uuid.uuid4())


def _convocation(uow: BoardUnitOfWork, m: Meeting) -> None:
    uow.publish(MeetingScheduled(copy.deepcopy(m), access.sitting_ids(uow, m)))


def _agenda_event(uow: BoardUnitOfWork, m: Meeting, now: datetime) -> None:
    m.frozen_announced = m.is_frozen(now)
    uow.publish(AgendaPublished(copy.deepcopy(m), access.sitting_ids(uow, m), m.is_frozen(now)))


def _agenda_changed(uow: BoardUnitOfWork, m: Meeting, now: datetime) -> None:
    """A published agenda that changes is published again (the next version)."""
    if m.agenda_published:
        m.agenda_version += 1
        _agenda_event(uow, m, now)


def schedule(uow: BoardUnitOfWork, caller: Principal, spec: MeetingSpec, rules: MeetingRules,
             now: datetime) -> Meeting:
    with uow:
        access.require_runner(uow, caller, now)
        if spec.starts_at is None:
            raise InvalidArgument("a meeting has a start time", field="meeting.starts_at", reason="START_REQUIRED")
        if spec.starts_at <= now:
            raise InvalidArgument("a meeting is scheduled in the future", field="meeting.starts_at",
                                  reason="START_IN_PAST")
        m = Meeting(new_id(), caller.tenant, spec.title, spec.starts_at, spec.place.strip(), spec.video_link.strip(),
                    spec.starts_at - timedelta(days=rules.freeze_days), created_at=now)
        check_meeting(m)
        if not m.is_frozen(now):
            for kind, month in rules.statutory_months:
                if month == m.starts_at.month and uow.meetings.claim_statutory(m.tenant, m.starts_at.year, kind,
                                                                               m.meeting_id):
                    m.add_item(AgendaItem(new_id(), 0, STATUTORY_TITLES[kind], "statutory", kind,
                                          majority=rules.majority_for(kind)), now)
            for minutes_id, title in uow.meetings.take_pending_minutes(m.tenant):
                m.add_item(_minutes_item(minutes_id, title), now)
            for question_id, title, text in uow.meetings.take_pending_concerns(m.tenant):
                m.add_item(concern_item(question_id, title, text), now)
        uow.meetings.add(m)
        _convocation(uow, m)
        uow.commit()
        return m


#: The motion of an approve-minutes item: adopted with the consent block, or alone when a
#: director pulls the item out (a decision adopts a text: without one it was refused).
APPROVE_MINUTES_MOTION = ("Le conseil approuve : {}", "De raad keurt goed: {}", "The board approves: {}")


def _minutes_item(minutes_id: str, title: LocalizedText) -> AgendaItem:
    fr, nl, en = (f.format(t) for f, t in zip(APPROVE_MINUTES_MOTION, (title.fr, title.nl, title.en), strict=True))
    return AgendaItem(new_id(), 0, title, "statutory", "approve_minutes", ref=minutes_id, consent=True,
                      text=LocalizedText(fr, nl, en))


CONCERN = "member_concern"


def concern_item(question_id: str, title: LocalizedText, text: LocalizedText) -> AgendaItem:
    """A member's question referred to the board (service_layer/member_items.py): open, removable."""
    return AgendaItem(new_id(), 0, title, CONCERN, CONCERN, ref=question_id, text=text)


def _back_to_pending(uow: BoardUnitOfWork, m: Meeting, items: list[AgendaItem]) -> None:
    """Minutes and members' concerns of a cancelled meeting wait for the next one scheduled."""
    for it in items:
        if it.kind == "approve_minutes" and it.ref:
            uow.meetings.add_pending_minutes(m.tenant, it.ref, it.title)
        elif it.source == CONCERN and it.ref:
            uow.meetings.add_pending_concern(m.tenant, it.ref, it.title, it.text)


def add_minutes_approval(uow: BoardUnitOfWork, tenant: str, minutes_id: str, title: LocalizedText,
                         now: datetime) -> str | None:
    """service_layer/agenda_hooks.add_minutes_approval_item (inside the caller's unit)."""
    for m in uow.meetings.upcoming(tenant, now):
        if m.status != "cancelled" and not m.is_frozen(now):
            m = uow.meetings.get(tenant, m.meeting_id, for_update=True) or m
            item = _minutes_item(minutes_id, title)
            m.add_item(item, now)
            _agenda_changed(uow, m, now)
            uow.meetings.save(m)
            return item.item_id
    uow.meetings.add_pending_minutes(tenant, minutes_id, title)
    return None


def get(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, now: datetime) -> access.MeetingView:
    with uow:
        uow.read_only()
        caller = access.seated(uow, caller, local_date(now))
        return access.visible(caller, access.load(uow, caller, meeting_id), now)


def list_meetings(uow: BoardUnitOfWork, caller: Principal, requested: int, token: str,
                  now: datetime) -> tuple[list[access.MeetingView], str]:
    size = page_size(requested, default=50)
    position = decode_page_token(token, "meetings", 2)
    after = (datetime.fromisoformat(position[0]), str(position[1])) if position else None
    with uow:
        uow.read_only()
        caller = access.seated(uow, caller, local_date(now))
        if not caller.has(roles.MEMBER, *roles.BOARD_READERS):
            caller.require(*roles.BOARD_READERS)
        member_only = not caller.has(*roles.BOARD_READERS)
        found = uow.meetings.list(caller.tenant, after, size + 1, published_only=member_only)
        views = [access.visible(caller, m, now) for m in found[:size]]
    more = len(found) > size
    last = found[size - 1] if more else None
    return views, (encode_page_token("meetings", last.starts_at.isoformat(), last.meeting_id) if last else "")


def update(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, paths: list[str], spec: MeetingSpec,
           rules: MeetingRules, now: datetime) -> Meeting:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        if "starts_at" in paths and (spec.starts_at is None or spec.starts_at <= now):
            raise InvalidArgument("a meeting is rescheduled to a future time", field="meeting.starts_at",
                                  reason="START_IN_PAST")
        if m.status not in ("scheduled",):
            raise FailedPrecondition("only a meeting not yet in session changes", field="meeting_id",
                                     reason="MEETING_NOT_SCHEDULED")
        m.reschedule(rules, starts_at=spec.starts_at if "starts_at" in paths else None,
                     place=spec.place if "place" in paths else None,
                     video_link=spec.video_link if "video_link" in paths else None,
                     title=spec.title if "title" in paths else None)
        uow.meetings.save(m)
        _convocation(uow, m)
        uow.commit()
        return m


def cancel(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, now: datetime) -> Meeting:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        m.cancel()
        uow.meetings.release_statutory(m.tenant, m.meeting_id)
        _back_to_pending(uow, m, m.items)
        uow.meetings.save(m)
        _convocation(uow, m)
        uow.commit()
        return m


def close(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, now: datetime) -> Meeting:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        m.close()
        uow.meetings.save(m)
        for it in m.forced_items():  # the initiative records the discussion (its outcome falls due)
            initiative_hooks.initiative_discussed(uow, m.tenant, it.ref, m.meeting_id, it.decision_id, now)
        uow.commit()
        return m


def add_item(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, item: AgendaItem, rules: MeetingRules,
             now: datetime) -> AgendaItem:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        item = replace(item, item_id=new_id(), pulled_by=None, decision_id=None, forced=False, due_by=None,
                       majority=item.majority or rules.majority_for(item.kind))
        if item.source == "dossier":
            item = replace(item, dossier_version=_version_before_board(uow, m.tenant, item))
        m.add_item(item, now)
        _agenda_changed(uow, m, now)
        uow.meetings.save(m)
        uow.commit()
        return item


def _version_before_board(uow: BoardUnitOfWork, tenant: str, item: AgendaItem) -> int:
    """A dossier item names a dossier whose version is before the board (submitted, neither a
    draft nor sent back nor decided): that version, or the one the item names if it is it."""
    try:
        version, _ = dossier_hooks.version_before_board(uow, tenant, item.ref)
    except (NotFound, FailedPrecondition) as refused:
        raise type(refused)(str(refused), field="item.ref", reason=refused.reason) from None
    if item.dossier_version and item.dossier_version != version:
        raise FailedPrecondition(f"version {item.dossier_version} of dossier {item.ref} is not the one before the "
                                 f"board (version {version})", field="item.dossier_version",
                                 reason="DOSSIER_VERSION_NOT_BEFORE_BOARD", version_before_board=version)
    return version


ITEM_FIELDS = ("title", "source", "kind", "ref", "visibility", "consent", "vote_mode", "secret", "majority",
               "text", "dossier_version")


def update_item(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, item_id: str, paths: list[str],
                values: AgendaItem, now: datetime) -> AgendaItem:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        m.require_open_agenda(now)
        item = m.item(item_id)
        changed = replace(item, **{p: getattr(values, p) for p in paths})
        check_item_change(item, changed)
        m.items[m.items.index(item)] = changed
        _agenda_changed(uow, m, now)
        uow.meetings.save(m)
        uow.commit()
        return changed


def remove_item(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, item_id: str, now: datetime) -> None:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        item = m.remove_item(item_id, now)
        if item.kind == "approve_minutes" and item.ref:
            uow.meetings.add_pending_minutes(m.tenant, item.ref, item.title)
        _agenda_changed(uow, m, now)
        uow.meetings.save(m)
        uow.commit()


def reorder(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, item_ids: list[str], now: datetime) -> Meeting:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        m.reorder(item_ids, now)
        _agenda_changed(uow, m, now)
        uow.meetings.save(m)
        uow.commit()
        return m


def publish_agenda(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, now: datetime) -> Meeting:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        m.publish_agenda()
        uow.meetings.save(m)
        _agenda_event(uow, m, now)
        uow.commit()
        return m


def freeze(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, now: datetime) -> Meeting:
    with uow:
        access.require_runner(uow, caller, now)
        m = access.load(uow, caller, meeting_id, for_update=True)
        already = m.is_frozen(now)
        m.freeze(now)
        uow.meetings.save(m)
        if not already:
            _agenda_event(uow, m, now)
        uow.commit()
        return m


def pull_from_consent(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, item_id: str,
                      now: datetime) -> AgendaItem:
    with uow:
        m = access.load(uow, caller, meeting_id, for_update=True)
        access.require_sitting_director(caller, access.sitting_ids(uow, m))
        item = m.pull_from_consent(item_id, caller.subject)
        uow.meetings.save(m)
        uow.commit()
        return item


def announce_frozen_agendas(uow: BoardUnitOfWork, caller: Principal, now: datetime) -> int:
    """The worker's timer: a published agenda whose freeze time passed is announced frozen
    (meeting.agenda_published, frozen) once. Returns how many were announced."""
    caller.require(roles.ADMIN)
    announced = 0
    with uow:
        for m in uow.meetings.due_to_freeze(now):
            m = uow.meetings.get(m.tenant, m.meeting_id, for_update=True) or m
            if m.status in ("scheduled", "in_session") and m.agenda_published and m.is_frozen(now) \
                    and not m.frozen_announced:
                _agenda_event(uow, m, now)
                uow.meetings.save(m)
                announced += 1
        uow.commit()
    return announced
