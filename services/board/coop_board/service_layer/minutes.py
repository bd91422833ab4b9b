"""Use cases of minutes: draft from the meeting's record, edit, submit for approval, errata,
translation tasks and publication (the members' reads are in minutes_reads.py).

Access: the secretary (the director holding that office on the day, per the roster) and admins
write; directors, management, the secretary and admins read drafts; members never see them.
Another tenant's minutes are NOT_FOUND."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from coop_board.domain.minutes import (
    DEFAULT_TRANSLATION_DAYS,
    Edit,
    Minutes,
    TranslationTask,
    translation_task,
)
from coop_board.domain.minutes_draft import draft_erratum
from coop_board.domain.minutes_draft import draft_minutes as draft_from_record
from coop_board.domain.minutes_events import MinutesPublished
from coop_board.domain.minutes_public import published_rows
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import agenda_hooks
from coop_board.service_layer.board_access import require_board_reader, require_secretary, seated
from coop_board.service_layer.meeting_records import full_record
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.clock import local_date
from coop_domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal


def _load(uow: BoardUnitOfWork, caller: Principal, minutes_id: str, *, for_update: bool = False) -> Minutes:
    if not minutes_id:
        raise InvalidArgument("minutes_id is required", field="minutes_id", reason="MINUTES_ID_REQUIRED")
    minutes = uow.minutes.get(caller.tenant, minutes_id, for_update=for_update)
    if minutes is None:
        raise NotFound(f"no minutes {minutes_id}", field="minutes_id", reason="MINUTES_NOT_FOUND")
    return minutes


def _track(uow: BoardUnitOfWork, minutes: Minutes, today: date) -> None:
    """Save the minutes and keep their translation task in step."""
    uow.minutes.save(minutes)
    existing = uow.minutes.task(minutes.tenant, minutes.minutes_id)
    task = translation_task(minutes, existing, today)
    if task is not None and task != existing:
        uow.minutes.save_task(task)


def draft_minutes(uow: BoardUnitOfWork, caller: Principal, meeting_id: str, now: datetime,
                  translation_days: int = DEFAULT_TRANSLATION_DAYS) -> Minutes:
    if not meeting_id:
        raise InvalidArgument("meeting_id is required", field="meeting_id", reason="MEETING_ID_REQUIRED")
    with uow:
        require_secretary(uow, caller, local_date(now))
        record = full_record(uow, caller.tenant, meeting_id)
        if record is None or record.tenant != caller.tenant:
            raise NotFound(f"no meeting {meeting_id}", field="meeting_id", reason="MEETING_NOT_FOUND")
        summary = uow.meetings.summary(caller.tenant, meeting_id)
        if summary is not None and summary.status != "closed":
            raise FailedPrecondition("minutes are drafted from a closed meeting's final record: close the "
                                     "meeting first (CloseMeeting)", field="meeting_id", reason="MEETING_NOT_CLOSED",
                                     status=summary.status)
        if uow.minutes.of_meeting(caller.tenant, meeting_id) is not None:
            raise AlreadyExists("this meeting's minutes were already drafted", field="meeting_id",
                                reason="MINUTES_ALREADY_DRAFTED")
        minutes = draft_from_record(record, str(uuid.uuid4()), now, caller.subject, translation_days)
        uow.minutes.add(minutes)
        _track(uow, minutes, local_date(now))
        uow.commit()
        return minutes


def get_minutes(uow: BoardUnitOfWork, caller: Principal, minutes_id: str, *, today: date | None = None) -> tuple[Minutes, list[str]]:
    """The minutes in full (closed items included) and the ids of their errata: board readers."""
    require_board_reader(caller)
    with uow:
        require_board_reader(seated(uow, caller, today))  # a director sitting today
        minutes = _load(uow, caller, minutes_id)
        return minutes, uow.minutes.errata_of(caller.tenant, minutes_id)


def update_minutes(uow: BoardUnitOfWork, caller: Principal, minutes_id: str, edits: list[Edit],
                   now: datetime) -> Minutes:
    if not minutes_id:
        raise InvalidArgument("minutes.minutes_id is required", field="minutes.minutes_id",
                              reason="MINUTES_ID_REQUIRED")
    with uow:
        require_secretary(uow, caller, local_date(now))
        minutes = _load(uow, caller, minutes_id, for_update=True)
        minutes.edit(edits)
        _track(uow, minutes, local_date(now))
        uow.commit()
        return minutes


def submit_for_approval(uow: BoardUnitOfWork, caller: Principal, minutes_id: str,
                        now: datetime) -> tuple[Minutes, str | None]:
    """The minutes go to the board: an "approve_minutes" item on the next open agenda (or pending
    until a meeting is scheduled). The item's id, or None while pending."""
    with uow:
        require_secretary(uow, caller, local_date(now))
        minutes = _load(uow, caller, minutes_id, for_update=True)
        minutes.submit(now)
        item_id = agenda_hooks.add_minutes_approval_item(uow, caller.tenant, minutes.minutes_id, minutes.title, now)
        minutes.approval_item_id = item_id
        _track(uow, minutes, local_date(now))
        uow.commit()
        return minutes, item_id


def create_erratum(uow: BoardUnitOfWork, caller: Principal, minutes_id: str, correction: LocalizedText,
                   visibility: str, now: datetime) -> Minutes:
    with uow:
        require_secretary(uow, caller, local_date(now))
        original = _load(uow, caller, minutes_id)
        erratum = draft_erratum(original, str(uuid.uuid4()), correction, visibility or "open", now, caller.subject)
        uow.minutes.add(erratum)
        _track(uow, erratum, local_date(now))
        uow.commit()
        return erratum


def approve(uow: BoardUnitOfWork, tenant: str, minutes_id: str, decision_id: str, meeting_id: str,
            at: datetime) -> Minutes:
    """The board adopted the approval item (minutes_hooks.minutes_approved): inside the caller's unit."""
    minutes = uow.minutes.get(tenant, minutes_id, for_update=True)
    if minutes is None:
        raise NotFound(f"no minutes {minutes_id}", field="minutes_id", reason="MINUTES_NOT_FOUND")
    minutes.approve(decision_id, meeting_id, at)
    _track(uow, minutes, local_date(at))
    return minutes


def publish_minutes(uow: BoardUnitOfWork, caller: Principal, minutes_id: str, now: datetime) -> Minutes:
    """The public part in every language, at once; TRANSLATION_MISSING names what is missing."""
    with uow:
        require_secretary(uow, caller, local_date(now))
        minutes = _load(uow, caller, minutes_id, for_update=True)
        minutes.publish(now)
        docs, decisions = published_rows(minutes, now)
        uow.minutes.add_published(docs, decisions)
        _track(uow, minutes, local_date(now))
        uow.publish(MinutesPublished(minutes.minutes_id, minutes.tenant, minutes.meeting_id, minutes.meeting_date,
                                     now, minutes.erratum_of))
        uow.commit()
        return minutes


def list_translation_tasks(uow: BoardUnitOfWork, caller: Principal, requested_size: int,
                           token: str, *, today: date | None = None) -> tuple[list[TranslationTask], str]:
    """Open tasks, soonest due first (board readers)."""
    require_board_reader(caller)
    size = page_size(requested_size)
    position = decode_page_token(token, "translation_tasks", 2)
    with uow:
        uow.read_only()
        require_board_reader(seated(uow, caller, today))  # a director sitting today
        tasks = uow.minutes.open_tasks(caller.tenant, tuple(position) if position else None, size + 1)
    more = len(tasks) > size
    tasks = tasks[:size]
    next_token = encode_page_token("translation_tasks", tasks[-1].due_on.isoformat(), tasks[-1].minutes_id) if more else ""
    return tasks, next_token
