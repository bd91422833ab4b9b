"""`coop statements`: every member's yearly statement written to files, resumable."""

from __future__ import annotations

from coop.billing.v1 import billing_pb2 as pb
from coop_billing.entrypoints.cli import write_statements
from coop_cli.main import build_parser
from coop_testkit import cooperative_today

YEAR = cooperative_today().year


def test_statements_command_writes_one_file_per_member_and_resumes_after_an_interruption(svc, h, tmp_path):
    member = h.admit(svc, language="en", given="Katherine", family="Johnson")
    h.funded_activity(svc, member, 250_000)
    for _ in range(3):
        h.admit(svc)
    every = list(svc.stub.StreamStatements(pb.StreamStatementsRequest(year=YEAR), metadata=h.ADMIN))
    # an earlier run stopped after two files (and left a half-written one, which is not trusted)
    for statement in every[:2]:
        (tmp_path / f"{statement.member_id}-{YEAR}.html").write_text(statement.html)
    (tmp_path / f"{every[2].member_id}-{YEAR}.html.part").write_text("<half")
    written = write_statements(svc.stub, h.ADMIN, YEAR, tmp_path, "html", quiet=True)
    assert written == len(every) - 2
    files = sorted(tmp_path.glob(f"*-{YEAR}.html"))
    assert [f.name.removesuffix(f"-{YEAR}.html") for f in files] == [s.member_id for s in every]
    assert all(f.read_text() == s.html for f, s in zip(files, every, strict=True))
    mine = (tmp_path / f"{member.member_id}-{YEAR}.html").read_text()
    assert "Katherine Johnson" in mine and "€2,500.00" in mine
    again = write_statements(svc.stub, h.ADMIN, YEAR, tmp_path, "html", quiet=True)
    assert again == 0  # nothing left to do


def test_statements_command_writes_text_and_is_wired_into_coop(svc, h, tmp_path):
    h.admit(svc, language="nl")
    count = write_statements(svc.stub, h.ADMIN, YEAR, tmp_path, "text", language="fr", quiet=True)
    files = list(tmp_path.glob(f"*-{YEAR}.txt"))
    assert count == len(files) == svc.scalar("SELECT count(*) FROM members")
    assert all("relevé annuel" in f.read_text() for f in files)
    args = build_parser().parse_args(["statements", "--year", str(YEAR), "--out", str(tmp_path), "--format", "pdf"])
    assert (args.year, args.format, args.func.__name__) == (YEAR, "pdf", "_statements")
