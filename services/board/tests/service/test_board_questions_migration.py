"""Migration 0009 creates exactly the questions' tables the code uses, and downgrades, on
PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from board_svc_helpers import migration_round_trip, schema_diffs

TABLES = {"board_questions", "board_question_supports"}


def test_the_migrated_question_tables_match_the_tables_the_code_uses(pg_url: str) -> None:
    assert schema_diffs(pg_url, tuple(TABLES)) == []


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0009_downgrades_and_upgrades_again(backend: str, tmp_path) -> None:
    migration_round_trip(backend, tmp_path, TABLES, "0008")
