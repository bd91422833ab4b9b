"""Migration 0005 creates the minutes tables as adapters/orm_minutes.py declares them, and
downgrades cleanly."""

from __future__ import annotations

from sqlalchemy import MetaData, create_engine, inspect

from coop_board.adapters.orm_minutes import minutes_tables
from coop_platform.migrations import downgrade, upgrade
from coop_testkit import postgres_database

TABLES = ("board_minutes", "board_translation_tasks", "board_published_minutes", "board_published_decisions")


def test_the_migrated_tables_match_the_declared_ones(pg_url: str) -> None:
    declared = {t.name: t for t in minutes_tables(MetaData())}
    engine = create_engine(pg_url)
    try:
        found = inspect(engine)
        for name in TABLES:
            columns = {c["name"]: c for c in found.get_columns(name)}
            assert set(columns) == set(declared[name].c.keys()), name
            for column in declared[name].c:
                assert columns[column.name]["nullable"] == column.nullable, (name, column.name)
            assert found.get_pk_constraint(name)["constrained_columns"] == [c.name for c in declared[name].primary_key]
            assert {i["name"] for i in found.get_indexes(name)} >= {i.name for i in declared[name].indexes}
    finally:
        engine.dispose()


def test_downgrade_removes_the_minutes_tables() -> None:
    with postgres_database("coop_board_mig") as url:
        upgrade("board", url)
        downgrade("board", url, "0001")
        engine = create_engine(url)
        try:
            assert not set(TABLES) & set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
