"""Migration 0008 creates exactly the assembly family's tables (and the members' language) the code
uses, and downgrades, on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from board_svc_helpers import migration_round_trip, schema_diffs
from sqlalchemy import inspect

TABLES = {"board_assemblies", "board_assembly_referrals", "board_assembly_workshops", "board_assembly_seats",
          "board_assembly_registrations", "board_assembly_places"}


def test_the_migrated_assembly_tables_match_the_tables_the_code_uses(pg_url: str) -> None:
    assert schema_diffs(pg_url, (*TABLES, "language", "ix_board_member_standing")) == []


def _language_column(engine, upgraded: bool) -> None:
    """0008 also adds the members' language to the projection (and takes it away)."""
    columns = {c["name"] for c in inspect(engine).get_columns("board_member_standing")}
    assert ("language" in columns) is upgraded


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0008_downgrades_and_upgrades_again(backend: str, tmp_path) -> None:
    migration_round_trip(backend, tmp_path, TABLES, "0007", check=_language_column)
