"""Minutes of a board meeting: drafted from the meeting's record, edited by the secretary per
language, approved by the board at a following meeting (then immutable), published to members
(the public part only, in every language). A correction is an erratum: new minutes of kind
"erratum" that link to the approved ones and follow the same path.

Rules (docs/board.md, "Minutes and publication"):
- a draft (or submitted) text may be edited in any language;
- approved text never changes: an edit of approved minutes may only fill a text that is still
  blank (a missing translation), anything else is refused (MINUTES_APPROVED);
- nothing is published while a public text lacks a language (TRANSLATION_MISSING);
- a closed item's content stays in the minutes for the board; the public part shows its title
  and whether a decision was taken (domain/minutes_public.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from coop_board.domain.texts import LANGUAGES, LocalizedText
from coop_domain.errors import FailedPrecondition, InvalidArgument

STATUSES = ("draft", "submitted", "approved", "published")
KINDS = ("minutes", "erratum")
DEFAULT_TRANSLATION_DAYS = 7
EDIT_TARGETS = ("title", "sections", "decisions")
MAX_TEXT = 50_000  # characters of one text in one language


@dataclass(frozen=True)
class Section:
    """One part of the minutes: the attendance, one agenda item, or an erratum's correction."""

    section_id: str                  # "attendance", "item:<item id>", "correction"
    position: int
    visibility: str                  # "open" or "closed"
    title: LocalizedText
    body: LocalizedText
    item_id: str | None = None
    decided: bool = False            # a decision was taken on the item (the redacted line says so)

    @property
    def closed(self) -> bool:
        return self.visibility == "closed"


@dataclass(frozen=True)
class MinutesDecision:
    """A decision as the minutes report it (and publish it, when its item is open)."""

    decision_id: str
    item_id: str
    kind: str
    closed: bool
    title: LocalizedText
    adopted_text: LocalizedText
    in_favour: int
    against: int
    abstentions: int
    effective_on: date | None


@dataclass(frozen=True)
class Edit:
    """One text to set: `target` "title" (id ""), "sections" (section id) or "decisions"
    (decision id; its adopted text), in one language. `field` is the request's path for errors."""

    target: str
    target_id: str
    language: str
    text: str
    field: str = ""


@dataclass
class Minutes:
    minutes_id: str
    tenant: str
    meeting_id: str
    meeting_date: date
    kind: str
    title: LocalizedText
    sections: tuple[Section, ...]
    decisions: tuple[MinutesDecision, ...]
    drafted_at: datetime
    drafted_by: str
    translation_days: int = DEFAULT_TRANSLATION_DAYS
    erratum_of: str | None = None
    status: str = "draft"
    revision: int = 1
    submitted_at: datetime | None = None
    approval_item_id: str | None = None
    approved_at: datetime | None = None
    approval_decision_id: str | None = None
    approved_in_meeting: str | None = None
    published_at: datetime | None = None
    events: list[object] = field(default_factory=list, compare=False, repr=False)

    @property
    def approved(self) -> bool:
        return self.status in ("approved", "published")

    # -- what is missing before publication ------------------------------------------------
    def missing_parts(self) -> list[tuple[str, tuple[str, ...]]]:
        """The public texts lacking a language: (path, languages), in document order."""
        parts: list[tuple[str, tuple[str, ...]]] = []

        def check(path: str, text: LocalizedText, optional: bool = False) -> None:
            if optional and text.empty:
                return
            if text.missing():
                parts.append((path, text.missing()))

        check("title", self.title)
        for s in self.sections:
            check(f"sections[{s.section_id}].title", s.title)
            if not s.closed:
                check(f"sections[{s.section_id}].body", s.body)
        for d in self.decisions:
            check(f"decisions[{d.decision_id}].title", d.title)
            if not d.closed:
                check(f"decisions[{d.decision_id}].adopted_text", d.adopted_text, optional=True)
        return parts

    def missing_languages(self) -> tuple[str, ...]:
        missing = {lang for _, langs in self.missing_parts() for lang in langs}
        return tuple(lang for lang in LANGUAGES if lang in missing)

    # -- the secretary's edits ----------------------------------------------------------------
    def edit(self, edits: list[Edit]) -> None:
        """Apply every edit or none (InvalidArgument / FailedPrecondition on the first bad one)."""
        if self.status == "published":
            raise FailedPrecondition("published minutes are immutable: correct them with an erratum",
                                     field="minutes_id", reason="MINUTES_APPROVED", minutes_id=self.minutes_id)
        title, sections, decisions = self.title, list(self.sections), list(self.decisions)
        section_at = {s.section_id: n for n, s in enumerate(sections)}
        decision_at = {d.decision_id: n for n, d in enumerate(decisions)}
        changed = False
        for e in edits:
            if e.language not in LANGUAGES:
                raise InvalidArgument(f"unknown language {e.language!r}", field=e.field or "update_mask",
                                      reason="UNKNOWN_LANGUAGE")
            if len(e.text) > MAX_TEXT:
                raise InvalidArgument(f"a text is at most {MAX_TEXT} characters", field=e.field or "minutes",
                                      reason="TEXT_TOO_LONG")
            if e.target == "title":
                before = title
            elif e.target == "sections":
                if e.target_id not in section_at:
                    raise InvalidArgument(f"the minutes have no section {e.target_id!r}",
                                          field=e.field or "minutes.sections", reason="UNKNOWN_SECTION")
                before = sections[section_at[e.target_id]].body
            elif e.target == "decisions":
                if e.target_id not in decision_at:
                    raise InvalidArgument(f"the minutes have no decision {e.target_id!r}",
                                          field=e.field or "minutes.decisions", reason="UNKNOWN_DECISION")
                before = decisions[decision_at[e.target_id]].adopted_text
            else:
                raise InvalidArgument(f"cannot edit {e.target!r}", field="update_mask", reason="UNKNOWN_FIELD_PATH")
            old = before.get(e.language)
            if old == e.text:
                continue
            if self.approved and old.strip():
                raise FailedPrecondition(
                    "approved minutes are immutable: only a missing translation may be added; correct "
                    "them with an erratum", field=e.field or "minutes", reason="MINUTES_APPROVED",
                    minutes_id=self.minutes_id, language=e.language)
            after = replace(before, **{e.language: e.text})
            changed = True
            if e.target == "title":
                title = after
            elif e.target == "sections":
                n = section_at[e.target_id]
                sections[n] = replace(sections[n], body=after)
            else:
                n = decision_at[e.target_id]
                decisions[n] = replace(decisions[n], adopted_text=after)
        if changed:
            self.title, self.sections, self.decisions = title, tuple(sections), tuple(decisions)
            self.revision += 1

    # -- approval and publication ---------------------------------------------------------------
    def submit(self, at: datetime) -> None:
        if self.status != "draft":
            raise FailedPrecondition(f"the minutes are {self.status}, not a draft", field="minutes_id",
                                     reason="MINUTES_NOT_DRAFT", status=self.status)
        self.status, self.submitted_at = "submitted", at

    def approve(self, decision_id: str, meeting_id: str, at: datetime) -> None:
        if self.status != "submitted":
            raise FailedPrecondition(f"the minutes are {self.status}: only submitted minutes are approved",
                                     field="minutes_id", reason="MINUTES_NOT_SUBMITTED", status=self.status)
        self.status, self.approved_at = "approved", at
        self.approval_decision_id, self.approved_in_meeting = decision_id, meeting_id

    def publish(self, at: datetime) -> None:
        if self.status == "published":
            raise FailedPrecondition("the minutes are already published", field="minutes_id",
                                     reason="ALREADY_PUBLISHED")
        if self.status != "approved":
            raise FailedPrecondition(f"the minutes are {self.status}: only approved minutes are published",
                                     field="minutes_id", reason="MINUTES_NOT_APPROVED", status=self.status)
        missing = self.missing_languages()
        if missing:
            raise FailedPrecondition(
                f"nothing is published while a language is missing: {', '.join(missing)}",
                field="minutes_id", reason="TRANSLATION_MISSING", missing_languages=list(missing),
                parts=[path for path, _ in self.missing_parts()][:20])
        self.status, self.published_at = "published", at


@dataclass(frozen=True)
class TranslationTask:
    """What is missing before the minutes can be published, and by when (one per minutes)."""

    tenant: str
    minutes_id: str
    meeting_id: str
    missing: tuple[tuple[str, tuple[str, ...]], ...]
    opened_on: date
    due_on: date
    done_on: date | None = None

    @property
    def languages(self) -> tuple[str, ...]:
        found = {lang for _, langs in self.missing for lang in langs}
        return tuple(lang for lang in LANGUAGES if lang in found)


def translation_task(minutes: Minutes, existing: TranslationTask | None, today: date) -> TranslationTask | None:
    """The task after a change of the minutes: opened when something is missing (due
    `translation_days` later), updated while it stays open, done when nothing is missing."""
    missing = tuple(minutes.missing_parts())
    if missing:
        if existing and existing.done_on is None:
            return replace(existing, missing=missing)
        return TranslationTask(minutes.tenant, minutes.minutes_id, minutes.meeting_id, missing, today,
                               today + timedelta(days=minutes.translation_days))
    if existing and existing.done_on is None:
        return replace(existing, missing=(), done_on=today)
    return existing
