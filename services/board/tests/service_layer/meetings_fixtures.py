"""A board of directors on the fakes: a fake unit of work with a static roster, the dossier and
minutes hooks faked, and helpers to bring a meeting to a frozen agenda with attendance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from board_fakes import FakeUnitOfWork
from board_fakes_meetings import FakeDossierHooks, StaticRoster

from coop_board.domain.meetings import AgendaItem, MeetingRules
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import meetings, sessions
from coop_domain.principal import Principal

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
RULES = MeetingRules()
DIRECTORS = [f"d{n:02d}" for n in range(1, 10)]  # nine sitting directors
T = LocalizedText("fr", "nl", "en")

ADMIN = Principal("admin-1", "coop", frozenset({"admin"}))
SECRETARY = Principal("d01", "coop", frozenset({"secretary", "director"}))
OTHER_ADMIN = Principal("admin-9", "other", frozenset({"admin"}))
MEMBER = Principal("m-1", "coop", frozenset({"member"}))
MANAGEMENT = Principal("mg-1", "coop", frozenset({"management"}))


def director(d: str) -> Principal:
    return Principal(d, "coop", frozenset({"director"}))


def board(monkeypatch, directors=DIRECTORS) -> tuple[FakeUnitOfWork, FakeDossierHooks]:
    uow = FakeUnitOfWork()
    uow.roster = StaticRoster({"coop": list(directors)}, {("coop", "secretary"): "d01", ("coop", "chair"): "d02"})
    return uow, FakeDossierHooks().install(monkeypatch)


def spec(days: int = 20) -> meetings.MeetingSpec:
    return meetings.MeetingSpec(LocalizedText("CA", "RvB", "Board"), NOW + timedelta(days=days), "Brussels", "")


def item(kind: str = "other", **kw) -> AgendaItem:
    kw.setdefault("source", "dossier" if kind == "dossier" else "other")
    return AgendaItem("", 0, LocalizedText(f"{kind} fr", f"{kind} nl", f"{kind} en"), kind=kind,
                      majority=kw.pop("majority", ""), **kw)


def frozen_meeting(uow, items, *, present=DIRECTORS, rules=RULES):
    m = meetings.schedule(uow, ADMIN, spec(), rules, NOW)
    added = [meetings.add_item(uow, ADMIN, m.meeting_id, it, rules, NOW) for it in items]
    meetings.publish_agenda(uow, ADMIN, m.meeting_id, NOW)
    meetings.freeze(uow, ADMIN, m.meeting_id, NOW)
    if present:
        sessions.record_attendance(uow, ADMIN, m.meeting_id, [(d, "present", None) for d in present], rules, NOW)
    return m.meeting_id, added
