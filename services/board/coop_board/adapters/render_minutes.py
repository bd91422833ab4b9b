"""Published minutes as PDF documents, the approach of billing's statements
(coop_billing/adapters/pdf.py): fpdf2, pure Python, core fonts only, built from the same public
rendering as the HTML (domain/minutes_public.py), so a closed item's content cannot reach it.
The monospaced core font (Courier) is billing's too.

Core PDF fonts know Latin-1 only: typographic characters outside it are replaced (French and
Dutch texts are otherwise Latin-1)."""

from __future__ import annotations

import textwrap

from fpdf import FPDF

from coop_board.domain.minutes_labels import day, label
from coop_board.domain.minutes_public import PublishedMinutes
from coop_domain.clock import local_date

_SUBSTITUTES = {"\u20ac": "EUR", "\u202f": " ", "\u2009": " ", "\u2013": "-", "\u2014": "-", "\u2019": "'",
                "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2026": "..."}


_PT_MM = 25.4 / 72       # one point in millimetres
_LINE_MM = 210 - 2 * 10  # A4 width less fpdf2's default 10 mm margins
# Courier's characters are 0.6 em wide: a line holds _LINE_MM / (0.6 * size * _PT_MM) of them.


def _latin1(line: str) -> str:
    for char, replacement in _SUBSTITUTES.items():
        line = line.replace(char, replacement)
    return line.encode("latin-1", "replace").decode("latin-1")


def _wrapped(text: str, width: int) -> list[str]:
    return textwrap.wrap(_latin1(text), width, break_long_words=True, break_on_hyphens=False) or [""]


def render_minutes_pdf(doc: PublishedMinutes) -> bytes:
    """A4 PDF of the public part of published minutes in their language. Lines are wrapped here
    for the monospaced core font (one `cell` per line, like billing's statements): fpdf2's own
    `multi_cell` line breaking cost about 1.5 s per language on a 30-item meeting."""
    lang = doc.language
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(doc.title))
    pdf.set_lang(lang)
    pdf.set_creator("coopgov board")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()

    def lines(text: str, style: str, size: float, height: float) -> None:
        pdf.set_font("Courier", style, size)
        for line in _wrapped(text, int(_LINE_MM / (0.6 * size * _PT_MM))):
            pdf.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")

    lines(doc.title, "B", 13, 7)
    lines(f"{label('meeting_date', lang, date=day(doc.meeting_date))} - "
          f"{label('published_on', lang, date=day(local_date(doc.published_at)))}", "", 9, 5)
    for heading, body in doc.sections:
        pdf.ln(3)
        lines(heading, "B", 11, 6)
        for line in body.splitlines():
            if line.strip():
                lines(line, "", 10, 5)
    return bytes(pdf.output())
