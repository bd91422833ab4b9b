"""Migration 0006 creates exactly the observers' tables the code uses, and downgrades, on
PostgreSQL and SQLite."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from board_svc_helpers import schema_diffs
from sqlalchemy import create_engine, inspect

from coop_platform.migrations import downgrade, upgrade
from coop_testkit import postgres_database

TABLES = {"observer_sessions", "observer_registrations"}


def test_the_migrated_observer_tables_match_the_tables_the_code_uses(pg_url: str) -> None:
    assert schema_diffs(pg_url, tuple(TABLES)) == []


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0006_downgrades_and_upgrades_again(backend: str, tmp_path) -> None:
    database = postgres_database("coop_board_obs_mig") if backend == "postgresql" else nullcontext(
        f"sqlite:///{tmp_path}/board.db")
    with database as url:
        upgrade("board", url)
        engine = create_engine(url)
        try:
            assert set(inspect(engine).get_table_names()) >= TABLES
            downgrade("board", url, "0001")
            assert not TABLES & set(inspect(engine).get_table_names())
            upgrade("board", url)
            assert set(inspect(engine).get_table_names()) >= TABLES
        finally:
            engine.dispose()
