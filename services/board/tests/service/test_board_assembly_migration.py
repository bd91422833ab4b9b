"""Migration 0008 creates exactly the assembly family's tables (and the members' language) the code
uses, and downgrades, on PostgreSQL and SQLite."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from board_svc_helpers import schema_diffs
from sqlalchemy import create_engine, inspect

from coop_platform.migrations import downgrade, upgrade
from coop_testkit import postgres_database

TABLES = {"board_assemblies", "board_assembly_referrals", "board_assembly_workshops", "board_assembly_seats",
          "board_assembly_registrations", "board_assembly_places"}


def test_the_migrated_assembly_tables_match_the_tables_the_code_uses(pg_url: str) -> None:
    assert schema_diffs(pg_url, (*TABLES, "language", "ix_board_member_standing")) == []


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0008_downgrades_and_upgrades_again(backend: str, tmp_path) -> None:
    database = postgres_database("coop_board_asm_mig") if backend == "postgresql" else nullcontext(
        f"sqlite:///{tmp_path}/board.db")
    with database as url:
        upgrade("board", url)
        engine = create_engine(url)
        try:
            assert set(inspect(engine).get_table_names()) >= TABLES
            downgrade("board", url, "0007")
            assert not TABLES & set(inspect(engine).get_table_names())
            assert "language" not in {c["name"] for c in inspect(engine).get_columns("board_member_standing")}
            upgrade("board", url)
            assert set(inspect(engine).get_table_names()) >= TABLES
            assert "language" in {c["name"] for c in inspect(engine).get_columns("board_member_standing")}
        finally:
            engine.dispose()
