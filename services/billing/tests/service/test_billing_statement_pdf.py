"""Member statements as PDF documents (the issue asks for PDF or HTML)."""

from __future__ import annotations

import subprocess

from coop.billing.v1 import billing_pb2 as pb
from coop_testkit import cooperative_today

YEAR = cooperative_today().year


def test_statement_pdf_is_a_pdf_that_spells_out_revenue_and_deductions(svc, h, tmp_path):
    member = h.admit(svc, language="fr", given="Élodie", family="Dubois")
    h.funded_activity(svc, member, 1_000_000)
    plain = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=YEAR), metadata=member.md)
    assert plain.pdf == b""  # only rendered on request
    st = svc.stub.GetStatement(pb.GetStatementRequest(member_id=member.member_id, year=YEAR, include_pdf=True),
                               metadata=member.md)
    assert st.pdf.startswith(b"%PDF-") and st.pdf.rstrip().endswith(b"%%EOF")
    path = tmp_path / "statement.pdf"
    path.write_bytes(st.pdf)
    # pdftotext comes from poppler-utils, installed by scripts/ensure_tools.sh (make test)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True, timeout=30).stdout
    assert "Élodie Dubois" in text
    assert "10 000,00 EUR" in text.replace("\u00a0", " ")  # the core PDF fonts have no euro sign
    for line in st.text.splitlines():
        if line.strip() and "€" not in line:
            assert line.replace("\u00a0", " ").strip() in text.replace("\u00a0", " ")
