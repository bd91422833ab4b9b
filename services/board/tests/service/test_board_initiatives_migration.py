"""Migration 0007 creates exactly the initiatives' tables the code uses, and downgrades, on
PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from board_svc_helpers import migration_round_trip, schema_diffs

TABLES = {"board_initiatives", "board_initiative_promoters", "board_initiative_signatures",
          "board_initiative_signature_counts"}


def test_the_migrated_initiative_tables_match_the_tables_the_code_uses(pg_url: str) -> None:
    assert schema_diffs(pg_url, tuple(TABLES)) == []


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_0007_downgrades_and_upgrades_again(backend: str, tmp_path) -> None:
    migration_round_trip(backend, tmp_path, TABLES, "0006")
