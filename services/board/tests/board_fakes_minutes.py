"""In-memory fakes of the minutes family's repositories (service_layer/ports_minutes.py), and the
few reads of other families the minutes use cases make (a meeting's record, the secretary's
office), so that minutes tests need nothing from those families."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from coop_board.domain.links import MeetingSummary, SittingDirector
from coop_board.domain.minutes import Minutes, TranslationTask
from coop_board.domain.minutes_public import PublishedDecision, PublishedMinutes
from coop_board.domain.record import MeetingRecord


class FakeMinutesRepository:
    def __init__(self) -> None:
        self.minutes: dict[tuple[str, str], Minutes] = {}
        self.tasks: dict[tuple[str, str], TranslationTask] = {}
        self.docs: dict[tuple[str, str, str], PublishedMinutes] = {}
        self.decisions: dict[tuple[str, str, str], PublishedDecision] = {}

    def snapshot(self) -> Any:
        return copy.deepcopy((self.minutes, self.tasks, self.docs, self.decisions))

    def restore(self, state: Any) -> None:
        self.minutes, self.tasks, self.docs, self.decisions = state

    def add(self, minutes: Minutes) -> None:
        self.minutes[(minutes.tenant, minutes.minutes_id)] = copy.deepcopy(minutes)

    def get(self, tenant: str, minutes_id: str, *, for_update: bool = False) -> Minutes | None:
        found = self.minutes.get((tenant, minutes_id))
        return copy.deepcopy(found) if found else None

    def of_meeting(self, tenant: str, meeting_id: str) -> Minutes | None:
        for (t, _), m in self.minutes.items():
            if t == tenant and m.meeting_id == meeting_id and m.kind == "minutes":
                return copy.deepcopy(m)
        return None

    def save(self, minutes: Minutes) -> None:
        self.add(minutes)

    def errata_of(self, tenant: str, minutes_id: str) -> list[str]:
        return sorted(m.minutes_id for (t, _), m in self.minutes.items() if t == tenant and m.erratum_of == minutes_id)

    def task(self, tenant: str, minutes_id: str) -> TranslationTask | None:
        return self.tasks.get((tenant, minutes_id))

    def save_task(self, task: TranslationTask) -> None:
        self.tasks[(task.tenant, task.minutes_id)] = task

    def open_tasks(self, tenant: str, after: tuple[str, str] | None, limit: int) -> list[TranslationTask]:
        rows = sorted((t for (tn, _), t in self.tasks.items() if tn == tenant and t.done_on is None),
                      key=lambda t: (t.due_on.isoformat(), t.minutes_id))
        if after:
            rows = [t for t in rows if (t.due_on.isoformat(), t.minutes_id) > tuple(after)]
        return rows[:limit]

    def add_published(self, docs: list[PublishedMinutes], decisions: list[PublishedDecision]) -> None:
        for d in docs:
            self.docs[(d.tenant, d.minutes_id, d.language)] = d
        for p in decisions:
            self.decisions[(p.tenant, p.decision_id, p.language)] = p


def _window(rows: list[Any], since: date | None, until: date | None, query: str, after: Any, key: str) -> list[Any]:
    rows = [r for r in rows if (since is None or r.meeting_date >= since) and (until is None or r.meeting_date <= until)
            and (not query or query in r.search)]
    rows.sort(key=lambda r: (-r.meeting_date.toordinal(), getattr(r, key)))
    if after:
        day, ident = date.fromisoformat(after[0]), after[1]
        rows = [r for r in rows if (-r.meeting_date.toordinal(), getattr(r, key)) > (-day.toordinal(), ident)]
    return rows


class FakePublishedReads:
    """The members' query side over a FakeMinutesRepository's published rows."""

    def __init__(self, repo: FakeMinutesRepository) -> None:
        self.repo = repo

    def minutes_page(self, tenant, language, since, until, query, after, limit):
        rows = [d for (t, _, lang), d in self.repo.docs.items() if t == tenant and lang == language]
        return _window(rows, since, until, query, after, "minutes_id")[:limit]

    def decisions_page(self, tenant, language, since, until, query, after, limit):
        rows = [d for (t, _, lang), d in self.repo.decisions.items() if t == tenant and lang == language]
        return _window(rows, since, until, query, after, "decision_id")[:limit]

    def decision(self, tenant, decision_id, language):
        return self.repo.decisions.get((tenant, decision_id, language))

    def minutes(self, tenant, minutes_id, language):
        return self.repo.docs.get((tenant, minutes_id, language))


class FakeRecords:
    """uow.meetings as the minutes read it: hand-made meeting records."""

    def __init__(self, *records: MeetingRecord) -> None:
        self.records = {(r.tenant, r.meeting_id): r for r in records}

    def record(self, tenant: str, meeting_id: str) -> MeetingRecord | None:
        return self.records.get((tenant, meeting_id))

    def summary(self, tenant: str, meeting_id: str) -> MeetingSummary | None:
        """A hand-made record is a closed meeting's final one."""
        r = self.records.get((tenant, meeting_id))
        return None if r is None else MeetingSummary(r.meeting_id, r.tenant, r.title, r.starts_at, "closed", True,
                                                     any(not i.closed for i in r.items))


class FakeOfficers:
    """uow.roster as the minutes read it: who holds the secretary's office, and the directors
    sitting (dir-1 to dir-7, as in `make_record`, every day)."""

    def __init__(self, secretary: str | None, sitting: tuple[str, ...] = tuple(f"dir-{n}" for n in range(1, 8))
                 ) -> None:
        self.secretary = secretary
        self.sitting = sitting

    def officer_on(self, tenant: str, office: str, day: date) -> str | None:
        return self.secretary if office == "secretary" else None

    def sitting_on(self, tenant: str, day: date) -> list[SittingDirector]:
        return [SittingDirector(d, f"mandate-{d}", f"seat-{n:02d}", "user") for n, d in enumerate(self.sitting, 1)]


# -- hand-made meeting records -----------------------------------------------------------------

SECRET = "CONFIDENTIAL"  # every closed item's content carries it; nothing published may


def text(base: str, *, missing: tuple[str, ...] = ()) -> Any:
    from coop_board.domain.texts import LocalizedText
    return LocalizedText.of({lang: ("" if lang in missing else f"{base} [{lang}]") for lang in ("fr", "nl", "en")})


def make_record(meeting_id: str = "meeting-1", tenant: str = "coop", *, items: int = 4, closed_every: int = 2,
                missing: tuple[str, ...] = (), day: date = date(2027, 2, 15)) -> MeetingRecord:
    """A meeting with `items` items, every `closed_every`-th closed (its content marked SECRET),
    each decided by a vote; `missing` languages are blank in the open items' adopted texts."""
    from datetime import UTC, datetime, time

    from coop_board.domain import record as r

    directors = tuple(f"dir-{n}" for n in range(1, 8))
    attendance = tuple(r.AttendanceLine(d, "present" if n < 5 else ("remote" if n == 5 else "excused"),
                                        proxy_holder_id="dir-1" if n == 6 else None)
                       for n, d in enumerate(directors))
    starts = datetime.combine(day, time(18, 0), tzinfo=UTC)
    out = []
    for n in range(1, items + 1):
        closed = closed_every > 0 and n % closed_every == 0
        secret = f" {SECRET}-{n}" if closed else ""
        item_id = f"{meeting_id}-item-{n}"
        decision_id = f"{meeting_id}-decision-{n}"
        tally = r.VoteTally(5, 1, 0)
        vote = r.VoteRecord(f"{meeting_id}-vote-{n}", item_id, "proposal", f"prop-{n}",
                            text(f"Proposal {n}{secret}"), starts, 7, 6, 4, True, "simple", tally, "adopted",
                            ballots=(("dir-1", "for"), ("dir-2", "against")), recused=("dir-3",))
        amendment = r.AmendmentLine(f"am-{n}", f"prop-{n}", f"prop-{n}", "dir-2", 1, text(f"Amended text {n}{secret}"),
                                    text("diff"), "rejected")
        action = r.FollowUpAction(f"act-{n}", text(f"Follow up {n}{secret}"), "mgmt-1", date(2027, 4, 1))
        adopted = text(f"Adopted budget text {n}{secret}", missing=() if closed else missing)
        decision = r.DecisionLine(decision_id, item_id, "adopted", text(f"Decision on topic {n}"), adopted,
                                  f"prop-{n}", tally, ("dir-3",), date(2027, 3, 1), (action,))
        out.append(r.ItemRecord(item_id, n, text(f"Topic {n}"), "dossier", "closed" if closed else "open",
                                declarations=(r.InterestDeclaration("dir-3", item_id, f"works for the supplier{secret}"),),
                                amendments=(amendment,), votes=(vote,), decision=decision))
    return r.MeetingRecord(meeting_id, tenant, text("Board meeting"), starts, "Head office", "dir-1", "dir-2",
                           attendance, tuple(out), directors)


def pdf_text(content: bytes) -> str:
    """The text of a PDF's page streams (fpdf2 compresses them), for checks on what it shows."""
    import re
    import zlib

    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            out.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            out.append(stream.decode("latin-1"))
    return "\n".join(out)
