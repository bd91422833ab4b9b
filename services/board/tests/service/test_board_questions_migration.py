"""Migration 0009 creates exactly the questions' tables the code uses, and downgrades, on
PostgreSQL and SQLite."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from sqlalchemy import create_engine, inspect

from coop_board.adapters.orm import metadata
from coop_platform.migrations import downgrade, upgrade
from coop_testkit import postgres_database

TABLES = {"board_questions", "board_question_supports"}


def test_the_migrated_question_tables_match_the_tables_the_code_uses(pg_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert [d for d in diffs if any(name in repr(d) for name in TABLES)] == []


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0009_downgrades_and_upgrades_again(backend: str, tmp_path) -> None:
    database = postgres_database("coop_board_q_mig") if backend == "postgresql" else nullcontext(
        f"sqlite:///{tmp_path}/board.db")
    with database as url:
        upgrade("board", url)
        engine = create_engine(url)
        try:
            assert set(inspect(engine).get_table_names()) >= TABLES
            downgrade("board", url, "0008")
            assert not TABLES & set(inspect(engine).get_table_names())
            upgrade("board", url)
            assert set(inspect(engine).get_table_names()) >= TABLES
        finally:
            engine.dispose()
