"""Member statements as PDF documents (fpdf2, pure Python, no system fonts needed).

The PDF carries exactly the lines of the plain-text rendering, in a monospaced core font so
the amounts stay aligned. Core PDF fonts only know Latin-1, so the euro sign is written as
"EUR" there; every other character of fr, nl and en statements is Latin-1.
"""

from __future__ import annotations

from fpdf import FPDF

_SUBSTITUTES = {"\u20ac": "EUR", "\u202f": " ", "\u2009": " ", "\u2013": "-", "\u2014": "-"}


def _latin1(line: str) -> str:
    for char, replacement in _SUBSTITUTES.items():
        line = line.replace(char, replacement)
    return line.encode("latin-1", "replace").decode("latin-1")


def render_statement_pdf(text: str, title: str) -> bytes:
    """A4 PDF of a statement's text rendering; `title` goes into the document properties."""
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(title))
    pdf.set_creator("coopgov billing")
    pdf.add_page()
    pdf.set_font("Courier", size=10)
    for line in text.splitlines() or [""]:
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
