"""Draft minutes from a meeting's record (domain/record.py), in French, Dutch and English.

Labels are translated here (domain/minutes_labels.py); free texts (titles, adopted texts,
amendments, reasons, actions) come from the record's LocalizedText. When a free text lacks a
language, the body of its section is left blank in that language: the secretary writes it, and
until then the translation task lists it (nothing is published with a language missing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from coop_board.domain.minutes import (
    DEFAULT_TRANSLATION_DAYS,
    MAX_TEXT,
    Minutes,
    MinutesDecision,
    Section,
)
from coop_board.domain.minutes_labels import day, label
from coop_board.domain.record import ItemRecord, MeetingRecord, VoteRecord
from coop_board.domain.texts import LANGUAGES, LocalizedText
from coop_domain.clock import local_date
from coop_domain.errors import FailedPrecondition, InvalidArgument


class _Blank(Exception):
    """A free text lacks the language being written."""


def _per_language(write: Callable[[str, Callable[[LocalizedText], str]], list[str]]) -> LocalizedText:
    """Run `write(lang, text_of)` for each language; a blank free text blanks that language."""
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        def text_of(value: LocalizedText, lang: str = lang) -> str:
            text = value.get(lang).strip()
            if not text:
                raise _Blank
            return text
        try:
            out[lang] = "\n".join(write(lang, text_of))
        except _Blank:
            out[lang] = ""
    return LocalizedText.of(out)


def _people(ids: list[str] | tuple[str, ...], lang: str) -> str:
    return ", ".join(ids) if ids else label("none", lang)


def _attendance(record: MeetingRecord) -> LocalizedText:
    def write(lang: str, _text_of: Callable[[LocalizedText], str]) -> list[str]:
        lines = []
        for status in ("present", "remote", "excused", "absent"):
            ids = [a.director_id for a in record.attendance if a.status == status]
            lines.append(f"{label(status, lang)}: {_people(ids, lang)}")
        for a in record.attendance:
            if a.proxy_holder_id:
                lines.append(label("proxy", lang, giver=a.director_id, holder=a.proxy_holder_id))
        lines.append(f"{label('chair', lang)}: {record.chair_id or label('none', lang)}")
        lines.append(f"{label('secretary', lang)}: {record.secretary_id or label('none', lang)}")
        if record.place:
            lines.append(f"{label('place', lang)}: {record.place}")
        return lines
    return _per_language(write)


def _outcome(outcome: str, lang: str) -> str:
    word = outcome.split(":", 1)[0]
    text = label(word, lang) if word in ("adopted", "rejected", "chosen", "pending", "withdrawn") else word
    return f"{text} ({outcome.split(':', 1)[1]})" if ":" in outcome else text


def _vote_lines(v: VoteRecord, lang: str, text_of: Callable[[LocalizedText], str]) -> list[str]:
    lines = [label("vote", lang, subject=text_of(v.subject_title)),
             label("quorum", lang, present=v.eligible_present, sitting=v.sitting, required=v.quorum_required,
                   met=label("quorum_met" if v.quorum_met else "quorum_not_met", lang)),
             label("counts", lang, for_=v.tally.for_, against=v.tally.against, abstain=v.tally.abstain)]
    if v.tally.by_option:
        lines.append(", ".join(f"{option}: {n}" for option, n in v.tally.by_option))
    if v.secret:
        lines.append(label("secret", lang))
    elif v.ballots:
        lines.append(label("ballots", lang, ballots=", ".join(f"{who} {how}" for who, how in v.ballots)))
    if v.recused:
        lines.append(label("recused", lang, who=", ".join(v.recused)))
    if v.casting_vote_used:
        lines.append(label("casting", lang))
    lines.append(label("outcome", lang, outcome=_outcome(v.outcome, lang)))
    return lines


def _item_body(item: ItemRecord) -> LocalizedText:
    def write(lang: str, text_of: Callable[[LocalizedText], str]) -> list[str]:
        lines: list[str] = []
        if item.consent:
            lines.append(label("consent", lang))
        if item.pulled_from_consent_by:
            lines.append(label("pulled", lang, who=item.pulled_from_consent_by))
        for d in item.declarations:
            lines.append(label("declaration", lang, who=d.director_id, text=d.statement))
        for a in item.amendments:
            lines.append(label("amendment", lang, level=a.level, who=a.author_id, text=text_of(a.text)))
            lines.append(label("outcome", lang, outcome=_outcome(a.outcome, lang)))
        for v in item.votes:
            lines.extend(_vote_lines(v, lang, text_of))
        d = item.decision
        if d is not None:
            kind = label(d.kind, lang) if d.kind in ("adopted", "rejected", "sent_back", "approved_minutes") else d.kind
            lines.append(label("decision", lang, kind=kind))
            if not d.adopted_text.empty:
                lines.append(label("adopted_text", lang, text=text_of(d.adopted_text)))
            if d.effective_on:
                lines.append(label("effective", lang, date=day(d.effective_on)))
            if d.send_back_reasons is not None and not d.send_back_reasons.empty:
                lines.append(label("send_back", lang, text=text_of(d.send_back_reasons), date=day(d.send_back_due_on)))
            for action in d.actions:
                lines.append(label("action", lang, text=text_of(action.description), owner=action.owner_id,
                                   date=day(action.due_on)))
        return lines or [""]
    return _per_language(write)


def _title(key: str, meeting_day: date) -> LocalizedText:
    return LocalizedText.of({lang: label(key, lang, date=meeting_day.isoformat()) for lang in LANGUAGES})


def draft_minutes(record: MeetingRecord, minutes_id: str, at: datetime, actor: str,
                  translation_days: int = DEFAULT_TRANSLATION_DAYS) -> Minutes:
    """The draft of a meeting's minutes: attendance, then one section per item in agenda order."""
    meeting_day = local_date(record.starts_at)
    sections = [Section("attendance", 0, "open", LocalizedText.of(
        {lang: label("attendance", lang) for lang in LANGUAGES}), _attendance(record))]
    decisions = []
    for item in sorted(record.items, key=lambda i: i.position):
        sections.append(Section(f"item:{item.item_id}", item.position, item.visibility, item.title,
                                _item_body(item), item.item_id, item.decision is not None))
        d = item.decision
        if d is not None:
            decisions.append(MinutesDecision(
                d.decision_id, item.item_id, d.kind, item.closed, d.title, d.adopted_text,
                d.tally.for_, d.tally.against, d.tally.abstain, d.effective_on))
    return Minutes(minutes_id, record.tenant, record.meeting_id, meeting_day, "minutes",
                   _title("minutes_of", meeting_day), tuple(sections), tuple(decisions), at, actor,
                   translation_days)


def draft_erratum(original: Minutes, minutes_id: str, correction: LocalizedText, visibility: str,
                  at: datetime, actor: str) -> Minutes:
    """An erratum to approved minutes: one correction section, voted and published like minutes."""
    if not original.approved:
        raise FailedPrecondition("only approved minutes are corrected by an erratum; edit the draft instead",
                                 field="minutes_id", reason="MINUTES_NOT_APPROVED", status=original.status)
    if visibility not in ("open", "closed"):
        raise InvalidArgument("visibility is open or closed", field="visibility", reason="INVALID_VISIBILITY")
    if any(len(correction.get(lang)) > MAX_TEXT for lang in LANGUAGES):
        raise InvalidArgument(f"a text is at most {MAX_TEXT} characters", field="correction", reason="TEXT_TOO_LONG")
    if correction.empty:
        raise InvalidArgument("an erratum says what it corrects", field="correction", reason="CORRECTION_REQUIRED")
    section = Section("correction", 1, visibility,
                      LocalizedText.of({lang: label("erratum", lang) for lang in LANGUAGES}), correction)
    return Minutes(minutes_id, original.tenant, original.meeting_id, original.meeting_date, "erratum",
                   _title("erratum_of", original.meeting_date), (section,), (), at, actor,
                   original.translation_days, erratum_of=original.minutes_id)
