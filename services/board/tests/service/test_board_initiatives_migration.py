"""Migration 0007 creates exactly the initiatives' tables the code uses, and downgrades, on
PostgreSQL and SQLite."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from coop_board.adapters.orm import metadata
from coop_platform.migrations import downgrade, upgrade
from coop_testkit import postgres_database

TABLES = {"board_initiatives", "board_initiative_promoters", "board_initiative_signatures",
          "board_initiative_signature_counts"}


def test_the_migrated_initiative_tables_match_the_tables_the_code_uses(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert [d for d in diffs if any(name in repr(d) for name in TABLES)] == []


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0007_downgrades_and_upgrades_again(backend: str, tmp_path) -> None:
    database = postgres_database("coop_board_ini_mig") if backend == "postgresql" else nullcontext(
        f"sqlite:///{tmp_path}/board.db")
    with database as url:
        upgrade("board", url)
        engine = create_engine(url)
        try:
            assert set(inspect(engine).get_table_names()) >= TABLES
            downgrade("board", url, "0006")
            assert not TABLES & set(inspect(engine).get_table_names())
            upgrade("board", url)
            assert set(inspect(engine).get_table_names()) >= TABLES
        finally:
            engine.dispose()
