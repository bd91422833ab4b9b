"""The public part of minutes, as members read it: open items in full, closed items redacted to
their title and the fact of a decision; one denormalized row per language for the minutes and
for each decision (what the members' reads serve), and their HTML and text renderings.

Nothing of a closed item beyond its title leaves this module: the published rows, the search
text, the renderings and the event are all built from `public_sections` and `public_decision`.
"""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from coop_board.domain.minutes import Minutes, MinutesDecision
from coop_board.domain.minutes_labels import day, label
from coop_board.domain.texts import LANGUAGES
from coop_domain.clock import local_date


def fold(text: str) -> str:
    """Text as searched: case and accents folded ("Décision" and "decision" match)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class PublishedMinutes:
    tenant: str
    minutes_id: str
    language: str
    meeting_id: str
    meeting_date: date
    published_at: datetime
    title: str
    sections: tuple[tuple[str, str], ...]   # (heading, body) in document order
    erratum_of: str | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(f"{heading}\n{body}" for heading, body in self.sections)

    @property
    def search(self) -> str:
        return fold(f"{self.title}\n{self.text}")


@dataclass(frozen=True)
class PublishedDecision:
    tenant: str
    decision_id: str
    language: str
    minutes_id: str
    meeting_id: str
    meeting_date: date
    title: str
    adopted_text: str            # blank for a closed item
    in_favour: int               # 0 for a closed item (only the fact of a decision is public)
    against: int
    abstentions: int
    effective_on: date | None    # None for a closed item
    closed: bool

    @property
    def search(self) -> str:
        return fold(f"{self.title}\n{self.adopted_text}")


def public_sections(minutes: Minutes, lang: str) -> tuple[tuple[str, str], ...]:
    out = []
    for s in minutes.sections:
        heading = s.title.get(lang)
        if s.item_id is not None:
            heading = f"{label('item', lang, n=s.position)}. {heading}"
        if s.closed:
            body = label("closed_decided" if s.decided else "closed_no_decision", lang)
        else:
            body = s.body.get(lang)
        out.append((heading, body))
    return tuple(out)


def public_decision(minutes: Minutes, d: MinutesDecision, lang: str) -> PublishedDecision:
    if d.closed:
        return PublishedDecision(minutes.tenant, d.decision_id, lang, minutes.minutes_id, minutes.meeting_id,
                                 minutes.meeting_date, d.title.get(lang), "", 0, 0, 0, None, True)
    return PublishedDecision(minutes.tenant, d.decision_id, lang, minutes.minutes_id, minutes.meeting_id,
                             minutes.meeting_date, d.title.get(lang), d.adopted_text.get(lang), d.in_favour,
                             d.against, d.abstentions, d.effective_on, False)


def published_rows(minutes: Minutes, at: datetime) -> tuple[list[PublishedMinutes], list[PublishedDecision]]:
    """Every language's row of the minutes and of each decision (minutes.publish checked them)."""
    docs = [PublishedMinutes(minutes.tenant, minutes.minutes_id, lang, minutes.meeting_id, minutes.meeting_date,
                             at, minutes.title.get(lang), public_sections(minutes, lang), minutes.erratum_of)
            for lang in LANGUAGES]
    decisions = [public_decision(minutes, d, lang) for d in minutes.decisions for lang in LANGUAGES]
    return docs, decisions


def render_text(doc: PublishedMinutes) -> str:
    lang = doc.language
    lines = [doc.title, "=" * min(len(doc.title), 90),
             label("meeting_date", lang, date=day(doc.meeting_date)),
             label("published_on", lang, date=day(local_date(doc.published_at))), ""]
    for heading, body in doc.sections:
        lines += [heading, "-" * min(len(heading), 90), *body.splitlines(), ""]
    return "\n".join(lines).rstrip() + "\n"


def render_html(doc: PublishedMinutes) -> str:
    """A self-contained HTML document; every text is escaped."""
    esc, lang = html.escape, doc.language
    parts = [f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{esc(doc.title)}</title>'
             "</head><body>", f'<article class="board-minutes" lang="{lang}">', f"<h1>{esc(doc.title)}</h1>",
             f'<p class="meta">{esc(label("meeting_date", lang, date=day(doc.meeting_date)))} &middot; '
             f'{esc(label("published_on", lang, date=day(local_date(doc.published_at))))}</p>']
    for heading, body in doc.sections:
        parts.append(f"<section><h2>{esc(heading)}</h2>")
        parts.extend(f"<p>{esc(line)}</p>" for line in body.splitlines() if line.strip())
        parts.append("</section>")
    parts.append("</article></body></html>")
    return "\n".join(parts) + "\n"
