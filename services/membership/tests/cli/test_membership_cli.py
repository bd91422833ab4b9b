"""The admin CLI speaks gRPC to a running membership api: add, list, show, import, shares pay, token."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coop_membership.entrypoints.grpc_api import build
from coop_platform.config import load_settings
from coop_platform.grpc_server import start_server
from coop_platform.migrations import upgrade


@pytest.fixture()
def api(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'membership.db'}"
    monkeypatch.setenv("COOP_DATABASE_URL", url)
    monkeypatch.setenv("COOP_DEV_MODE", "1")
    upgrade("membership", url)
    settings = load_settings("membership")
    engine, register, _ = build(settings)
    running = start_server(settings, register, engine, port=0)
    yield f"127.0.0.1:{running.port}"
    running.stop(0)
    engine.dispose()


def coop(target: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COOP_MEMBERSHIP_ADDR": target}
    return subprocess.run([sys.executable, "-m", "coop_cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(i: int, **overrides: str) -> dict[str, str]:
    base = {"given_name": f"Given{i}", "family_name": f"Family{i}", "email": f"m{i}@example.be",
            "country_of_residence": "BE", "preferred_language": "fr", "category": "user", "status": "active"}
    return base | overrides


def test_members_add_then_show_and_list_print_the_member(api):
    added = coop(api, "members", "add", "--given-name", "Anne", "--family-name", "Peeters",
                 "--email", "anne@example.be", "--country", "BE", "--language", "nl", "--admit")
    assert added.returncode == 0, added.stderr
    assert "M000001" in added.stdout and "active" in added.stdout
    shown = coop(api, "members", "show", "M000001")
    assert "Peeters, Anne" in shown.stdout
    listed = coop(api, "members", "list", "--query", "pee")
    assert "anne@example.be" in listed.stdout


def test_members_add_reports_a_clear_error_for_a_bad_country(api):
    result = coop(api, "members", "add", "--given-name", "A", "--family-name", "B",
                  "--email", "a@example.be", "--country", "XX")
    assert result.returncode == 1
    assert "INVALID_ARGUMENT" in result.stderr and "country_of_residence" in result.stderr
    assert "member.country_of_residence: " in result.stderr  # the field at fault, from the rich status


def test_import_of_a_good_file_imports_every_row(api, tmp_path):
    path = write_csv(tmp_path / "good.csv", [row(i) for i in range(1, 251)])
    result = coop(api, "members", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "250 rows received, 250 imported" in result.stdout
    assert "M000250" in coop(api, "members", "show", "M000250").stdout


def test_import_with_bad_rows_writes_nothing_and_reports_line_numbers(api, tmp_path):
    rows = [row(i) for i in range(1, 11)]
    rows[3]["email"] = "not-an-email"          # file line 5 (header is line 1)
    rows[7]["country_of_residence"] = "ZZ"     # file line 9
    rows[9]["email"] = rows[0]["email"]        # file line 11 duplicates line 2
    result = coop(api, "members", "import", str(write_csv(tmp_path / "bad.csv", rows)))
    assert result.returncode == 1
    assert "line 5: email" in result.stderr
    assert "line 9: country_of_residence" in result.stderr
    assert "line 11: email: duplicate of line 2" in result.stderr
    assert "0 nothing imported" in result.stdout
    assert "NOT_FOUND" in coop(api, "members", "show", "M000001").stderr


def test_import_dry_run_validates_without_writing(api, tmp_path):
    result = coop(api, "members", "import", "--dry-run", str(write_csv(tmp_path / "d.csv", [row(1)])))
    assert result.returncode == 0
    assert "validated (dry run)" in result.stdout
    assert "NOT_FOUND" in coop(api, "members", "show", "M000001").stderr


def test_shares_pay_marks_the_share_paid(api):
    added = coop(api, "members", "add", "--given-name", "Jan", "--family-name", "Claes",
                 "--email", "jan@example.be", "--country", "BE", "--admit")
    member_id = added.stdout.strip().rsplit("id=", 1)[-1]
    paid = coop(api, "shares", "pay", member_id, "--year", "2026", "--reference", "BANK-1")
    assert paid.returncode == 0, paid.stderr
    assert "2026 share: paid (3000 cents, ref BANK-1)" in paid.stdout


def test_token_command_issues_a_development_token_a_development_api_accepts(api):
    from coop_platform.auth import verifier_for

    made = coop(api, "token", "--subject", "ops", "--roles", "admin,board")
    assert "development token" in made.stderr
    principal = verifier_for(load_settings("membership")).verify(made.stdout.strip())
    assert principal.subject == "ops" and principal.roles == frozenset({"admin", "board"})
