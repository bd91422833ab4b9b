"""A meeting's full record, as the minutes are drafted from it: the meetings family's record
(attendance, votes, decisions) with the amendments the dossiers family keeps for each dossier
item's version (author, level, text, diff, outcome)."""

from __future__ import annotations

from dataclasses import replace

from coop_board.domain.record import ItemRecord, MeetingRecord
from coop_board.service_layer import dossier_hooks
from coop_board.service_layer.ports import BoardUnitOfWork


def full_record(uow: BoardUnitOfWork, tenant: str, meeting_id: str) -> MeetingRecord | None:
    """Inside the caller's unit. None when the meeting does not exist (or is another tenant's)."""
    record = uow.meetings.record(tenant, meeting_id)
    if record is None:
        return None
    return replace(record, items=tuple(_with_amendments(uow, tenant, item) for item in record.items))


def _with_amendments(uow: BoardUnitOfWork, tenant: str, item: ItemRecord) -> ItemRecord:
    if not item.dossier_id or not item.dossier_version or item.amendments:
        return item
    lines = dossier_hooks.amendment_lines(uow, tenant, item.dossier_id, item.dossier_version)
    return replace(item, amendments=tuple(lines))
