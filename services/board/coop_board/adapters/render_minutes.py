"""Published minutes as PDF documents, the approach of billing's statements
(coop_billing/adapters/pdf.py): fpdf2, pure Python, core fonts only, built from the same public
rendering as the HTML (domain/minutes_public.py), so a closed item's content cannot reach it.

Core PDF fonts know Latin-1 only: typographic characters outside it are replaced (French and
Dutch texts are otherwise Latin-1)."""

from __future__ import annotations

from fpdf import FPDF

from coop_board.domain.minutes_labels import day, label
from coop_board.domain.minutes_public import PublishedMinutes

_SUBSTITUTES = {"\u20ac": "EUR", "\u202f": " ", "\u2009": " ", "\u2013": "-", "\u2014": "-", "\u2019": "'",
                "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2026": "..."}


def _latin1(line: str) -> str:
    for char, replacement in _SUBSTITUTES.items():
        line = line.replace(char, replacement)
    return line.encode("latin-1", "replace").decode("latin-1")


def render_minutes_pdf(doc: PublishedMinutes) -> bytes:
    """A4 PDF of the public part of published minutes in their language."""
    lang = doc.language
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(doc.title))
    pdf.set_lang(lang)
    pdf.set_creator("coopgov board")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 7, _latin1(doc.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _latin1(f"{label('meeting_date', lang, date=day(doc.meeting_date))} - "
                           f"{label('published_on', lang, date=day(doc.published_at.date()))}"),
             new_x="LMARGIN", new_y="NEXT")
    for heading, body in doc.sections:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for line in body.splitlines():
            if line.strip():
                pdf.multi_cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
