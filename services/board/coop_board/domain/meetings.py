"""A board meeting: its convocation, its agenda (items, consent block, freeze), attendance with
written proxies, and declarations of interest. Votes live beside it (domain/votes.py), decisions
in domain/decisions.py. Pure: the rules come in as `MeetingRules` (settings read elsewhere)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from coop_board.domain.record import ATTENDANCE, SOURCES, VISIBILITIES
from coop_board.domain.texts import LocalizedText
from coop_board.domain.votes import Vote
from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound

KINDS = ("approve_accounts", "set_budget", "convene_assembly", "approve_minutes", "elect_officer",
         "appoint_management", "statute_change", "dossier", "member_concern", "member_initiative", "other")
STATUTORY_KINDS = ("approve_accounts", "set_budget", "convene_assembly")
VOTE_MODES = ("per_proposal", "choose_one")
STATUSES = ("scheduled", "in_session", "closed", "cancelled")
_REF = re.compile(r"[A-Za-z0-9_.:\-]{0,100}")


@dataclass(frozen=True)
class MeetingRules:
    """The statutes' settings (COOP_BOARD_*, read by the entrypoints)."""

    freeze_days: int = 7
    quorum_num: int = 1
    quorum_den: int = 2
    proxies_allowed: bool = True
    proxies_count_for_quorum: bool = False
    casting_vote: bool = True
    qualified: tuple[tuple[str, str], ...] = (("statute_change", "two_thirds"),)
    statutory_months: tuple[tuple[str, int], ...] = (("approve_accounts", 3), ("convene_assembly", 3),
                                                     ("set_budget", 11))

    def majority_for(self, kind: str) -> str:
        return dict(self.qualified).get(kind, "simple")


@dataclass
class AgendaItem:
    item_id: str
    position: int
    title: LocalizedText
    source: str
    kind: str
    ref: str = ""                       # dossier id, minutes id, office, ... (by kind)
    visibility: str = "open"
    consent: bool = False
    vote_mode: str = "per_proposal"
    secret: bool = False
    majority: str = "simple"
    text: LocalizedText = field(default_factory=LocalizedText)  # the motion, for items without a dossier
    dossier_version: int = 0
    pulled_by: str | None = None
    decision_id: str | None = None
    forced: bool = False                # put there by a qualified member initiative: the board keeps it
    due_by: datetime | None = None      # a forced item is discussed at a meeting starting by then

    @property
    def closed(self) -> bool:
        return self.visibility == "closed"

    @property
    def in_consent_block(self) -> bool:
        return self.consent and self.pulled_by is None


@dataclass
class Declaration:
    director_id: str
    item_id: str
    statement: str
    at: datetime


@dataclass
class Meeting:
    meeting_id: str
    tenant: str
    title: LocalizedText
    starts_at: datetime
    place: str
    video_link: str
    freezes_at: datetime
    status: str = "scheduled"
    revision: int = 1
    agenda_version: int = 0             # 0: never published
    frozen: bool = False                # frozen by hand before `freezes_at`
    items: list[AgendaItem] = field(default_factory=list)
    attendance: dict[str, str] = field(default_factory=dict)   # director -> status
    proxies: dict[str, str] = field(default_factory=dict)      # giver -> holder
    declarations: list[Declaration] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    created_at: datetime | None = None
    sitting: tuple[str, ...] = ()       # the roster on the meeting's day, as last read
    chair_id: str | None = None
    secretary_id: str | None = None
    frozen_announced: bool = False      # meeting.agenda_published with frozen=true was sent
    extra: bool = False                 # scheduled for a member initiative (no regular meeting in time)

    # -- reading
    def is_frozen(self, now: datetime) -> bool:
        return self.frozen or now >= self.freezes_at

    @property
    def agenda_published(self) -> bool:
        return self.agenda_version > 0

    def item(self, item_id: str, field_name: str = "item_id") -> AgendaItem:
        for it in self.items:
            if it.item_id == item_id:
                return it
        raise NotFound(f"no item {item_id} on this meeting's agenda", field=field_name, reason="ITEM_NOT_FOUND")

    def vote(self, vote_id: str) -> Vote:
        for v in self.votes:
            if v.vote_id == vote_id:
                return v
        raise NotFound(f"no vote {vote_id} in this meeting", field="vote_id", reason="VOTE_NOT_FOUND")

    def recused_on(self, item_ids: tuple[str, ...]) -> set[str]:
        return {d.director_id for d in self.declarations if d.item_id in item_ids}

    def consent_items(self) -> list[AgendaItem]:
        return [it for it in self.items if it.in_consent_block and it.decision_id is None]

    def forced_items(self) -> list[AgendaItem]:
        return [it for it in self.items if it.forced]

    def latest_start(self) -> datetime | None:
        """The latest start the forced items allow (their initiatives' maximum delay), if any."""
        return min((it.due_by for it in self.forced_items() if it.due_by is not None), default=None)

    # -- changes
    def require_live(self) -> None:
        if self.status == "cancelled":
            raise FailedPrecondition("the meeting was cancelled", field="meeting_id", reason="MEETING_CANCELLED")
        if self.status == "closed":
            raise FailedPrecondition("the meeting is closed", field="meeting_id", reason="MEETING_CLOSED")

    def require_open_agenda(self, now: datetime) -> None:
        self.require_live()
        if self.is_frozen(now):
            raise FailedPrecondition("the agenda is frozen: items can no longer change", field="meeting_id",
                                     reason="AGENDA_FROZEN")

    def require_frozen(self, now: datetime, field_name: str = "item_id") -> None:
        self.require_live()
        if not (self.agenda_published and self.is_frozen(now)):
            raise FailedPrecondition("the item is not on a frozen agenda", field=field_name,
                                     reason="AGENDA_NOT_FROZEN")

    def reschedule(self, rules: MeetingRules, *, starts_at: datetime | None = None, place: str | None = None,
                   video_link: str | None = None, title: LocalizedText | None = None) -> None:
        self.require_live()
        latest = self.latest_start()
        if starts_at is not None and latest is not None and starts_at > latest:
            raise FailedPrecondition("a member initiative's item is on this agenda: the meeting starts by "
                                     f"{latest.isoformat()} at the latest", field="meeting.starts_at",
                                     reason="FORCED_ITEM_DELAY", latest_start=latest.isoformat())
        if starts_at is not None:
            self.starts_at = starts_at
            self.freezes_at = starts_at - timedelta(days=rules.freeze_days)
        if place is not None:
            self.place = place
        if video_link is not None:
            self.video_link = video_link
        if title is not None:
            self.title = title
        check_meeting(self)
        self.revision += 1

    def cancel(self) -> None:
        self.require_live()
        if any(it.decision_id for it in self.items):
            raise FailedPrecondition("decisions were taken at this meeting", field="meeting_id",
                                     reason="MEETING_HAS_DECISIONS")
        if self.forced_items():
            raise FailedPrecondition("a member initiative's item is on this agenda: the meeting cannot be "
                                     "cancelled (reschedule it within the initiative's delay)", field="meeting_id",
                                     reason="FORCED_ITEM")
        self.status = "cancelled"
        self.revision += 1

    def close(self) -> None:
        """The session ends: nothing more is voted, declared or decided; the record is final."""
        self.require_live()
        if self.status != "in_session":
            raise FailedPrecondition("only a meeting in session closes (record the attendance first)",
                                     field="meeting_id", reason="MEETING_NOT_IN_SESSION")
        if any(v.status == "open" for v in self.votes):
            raise FailedPrecondition("a vote is still open", field="meeting_id", reason="VOTE_IN_PROGRESS")
        self.status = "closed"

    def add_item(self, item: AgendaItem, now: datetime, *, force: bool = False) -> None:
        if not force:
            self.require_open_agenda(now)
        check_item(item)
        item.position = len(self.items) + 1
        self.items.append(item)

    def remove_item(self, item_id: str, now: datetime) -> AgendaItem:
        self.require_live()
        item = self.item(item_id)
        if item.forced:
            raise FailedPrecondition("a member initiative forced this item onto the agenda: the board cannot "
                                     "remove it", field="item_id", reason="FORCED_ITEM")
        self.require_open_agenda(now)
        self.items.remove(item)
        self._renumber()
        return item

    def reorder(self, item_ids: list[str], now: datetime) -> None:
        self.require_open_agenda(now)
        if sorted(item_ids) != sorted(it.item_id for it in self.items):
            raise InvalidArgument("item_ids must list every item of the agenda once", field="item_ids",
                                  reason="NOT_A_PERMUTATION")
        by_id = {it.item_id: it for it in self.items}
        self.items = [by_id[i] for i in item_ids]
        self._renumber()

    def _renumber(self) -> None:
        for n, it in enumerate(self.items, 1):
            it.position = n

    def publish_agenda(self) -> None:
        self.require_live()
        if not self.items:
            raise FailedPrecondition("an agenda needs at least one item", field="meeting_id", reason="AGENDA_EMPTY")
        self.agenda_version += 1

    def freeze(self, now: datetime) -> None:
        self.require_live()
        if not self.agenda_published:
            raise FailedPrecondition("publish the agenda before freezing it", field="meeting_id",
                                     reason="AGENDA_NOT_PUBLISHED")
        self.frozen = True

    def pull_from_consent(self, item_id: str, director_id: str) -> AgendaItem:
        self.require_live()
        item = self.item(item_id)
        if not item.in_consent_block:
            raise FailedPrecondition("the item is not in the consent block", field="item_id",
                                     reason="NOT_IN_CONSENT_BLOCK")
        if any(v.status == "open" and item_id in v.item_ids for v in self.votes) or item.decision_id:
            raise FailedPrecondition("the consent block is being voted or was decided", field="item_id",
                                     reason="CONSENT_VOTE_STARTED")
        item.pulled_by = director_id
        return item

    def record_attendance(self, director_id: str, status: str, proxy_holder: str | None,
                          rules: MeetingRules, sitting: set[str]) -> None:
        self.require_live()
        if status not in ATTENDANCE:
            raise InvalidArgument(f"attendance is one of {', '.join(ATTENDANCE)}", field="attendance.status",
                                  reason="INVALID_ATTENDANCE")
        if director_id not in sitting:
            raise FailedPrecondition("not a director sitting on the day of the meeting", field="attendance.director_id",
                                     reason="NOT_A_SITTING_DIRECTOR")
        if proxy_holder:
            if not rules.proxies_allowed:
                raise FailedPrecondition("the statutes allow no proxies", field="attendance.proxy_holder_id",
                                         reason="PROXIES_NOT_ALLOWED")
            if status in ("present", "remote"):
                raise InvalidArgument("a director who attends gives no proxy", field="attendance.proxy_holder_id",
                                      reason="PROXY_WHILE_PRESENT")
            if proxy_holder == director_id or proxy_holder not in sitting:
                raise InvalidArgument("the proxy holder is another sitting director",
                                      field="attendance.proxy_holder_id", reason="INVALID_PROXY_HOLDER")
            if any(h == proxy_holder and g != director_id for g, h in self.proxies.items()):
                raise FailedPrecondition("a director holds at most one proxy", field="attendance.proxy_holder_id",
                                         reason="PROXY_LIMIT")
            if proxy_holder in self.proxies:
                raise FailedPrecondition("the holder gave a proxy themselves", field="attendance.proxy_holder_id",
                                         reason="PROXY_HOLDER_ABSENT")
        if director_id in self.proxies.values() and status not in ("present", "remote"):
            raise FailedPrecondition("this director holds a proxy: the giver must change it first",
                                     field="attendance.status", reason="PROXY_HOLDER_ABSENT")
        self.attendance[director_id] = status
        if proxy_holder:
            self.proxies[director_id] = proxy_holder
        else:
            self.proxies.pop(director_id, None)
        if self.status == "scheduled":
            self.status = "in_session"

    def declare(self, director_id: str, item_id: str, statement: str, at: datetime) -> Declaration:
        self.require_live()
        item = self.item(item_id)
        if not statement.strip() or len(statement) > 4000:
            raise InvalidArgument("a declaration states the interest (1 to 4000 characters)",
                                  field="declaration.statement", reason="INVALID_STATEMENT")
        if item.decision_id:
            raise FailedPrecondition("the item was decided already", field="item_id", reason="ITEM_DECIDED")
        if any(d.director_id == director_id and d.item_id == item_id for d in self.declarations):
            raise FailedPrecondition("already declared on this item", field="item_id", reason="ALREADY_DECLARED")
        if any(item_id in v.item_ids for v in self.votes):
            raise FailedPrecondition("an interest is declared before the item's first vote", field="item_id",
                                     reason="DECLARATION_TOO_LATE")
        d = Declaration(director_id, item_id, statement.strip(), at)
        self.declarations.append(d)
        return d


def check_item_change(before: AgendaItem, after: AgendaItem) -> None:
    """A forced item keeps its source, its reference, its kind and stays out of the consent
    block (the board may still edit its wording and its place on the agenda)."""
    if before.forced and (after.source, after.ref, after.kind, after.consent, after.forced, after.due_by,
                          after.visibility) != (before.source, before.ref, before.kind, False, True, before.due_by,
                                                "open"):
        raise FailedPrecondition("a member initiative's item keeps its source, reference and kind, stays open "
                                 "and out of the consent block", field="item", reason="FORCED_ITEM")
    check_item(after)


def check_meeting(m: Meeting) -> None:
    for lang in m.title.missing():
        raise InvalidArgument(f"the meeting's title in {lang} is missing", field=f"meeting.title.{lang}",
                              reason="TITLE_MISSING")
    if len(m.place) > 300 or len(m.video_link) > 500:
        raise InvalidArgument("place or video link too long", field="meeting.place", reason="TOO_LONG")
    if not (m.place.strip() or m.video_link.strip()):
        raise InvalidArgument("a meeting has a place or a video link", field="meeting.place",
                              reason="PLACE_OR_LINK_REQUIRED")
    if m.video_link and not m.video_link.startswith("https://"):
        raise InvalidArgument("the video link is an https:// address", field="meeting.video_link",
                              reason="INVALID_VIDEO_LINK")


def check_item(it: AgendaItem) -> None:
    for lang in it.title.missing():
        raise InvalidArgument(f"the item's title in {lang} is missing", field=f"item.title.{lang}",
                              reason="TITLE_MISSING")
    if it.source not in SOURCES:
        raise InvalidArgument(f"source is one of {', '.join(SOURCES)}", field="item.source", reason="INVALID_SOURCE")
    if it.kind not in KINDS:
        raise InvalidArgument(f"kind is one of {', '.join(KINDS)}", field="item.kind", reason="INVALID_KIND")
    if it.visibility not in VISIBILITIES:
        raise InvalidArgument("visibility is open or closed", field="item.visibility", reason="INVALID_VISIBILITY")
    if it.vote_mode not in VOTE_MODES:
        raise InvalidArgument("vote mode is per_proposal or choose_one", field="item.vote_mode",
                              reason="INVALID_VOTE_MODE")
    if not _REF.fullmatch(it.ref):
        raise InvalidArgument("ref is an id (letters, digits, _.:-, at most 100)", field="item.ref",
                              reason="INVALID_REF")
    if it.source == "dossier" and (not it.ref or it.dossier_version < 1):
        raise InvalidArgument("a dossier item names the dossier (ref) and its version", field="item.ref",
                              reason="DOSSIER_REF_REQUIRED")
    if it.consent and (it.secret or it.source == "dossier"):
        raise InvalidArgument("only routine items without dossier or secret vote go in the consent block",
                              field="item.consent", reason="NOT_ROUTINE")
