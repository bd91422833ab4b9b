"""The database timeouts' settings, and migrations exempt from the statement timeout."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text

from coop_platform.db import Database, make_engine, server_timeouts
from coop_platform.migrations import MIGRATION_LOCK_KEY, upgrade
from coop_testkit import postgres_database, wait_until


def test_timeouts_default_to_5_seconds_and_30_seconds_and_keep_the_url_options(monkeypatch):
    for name in ("COOP_DB_CONNECT_TIMEOUT_SECONDS", "COOP_DB_STATEMENT_TIMEOUT_MS"):
        monkeypatch.delenv(name, raising=False)
    assert server_timeouts("postgresql+psycopg2://u@h/db") == {
        "connect_timeout": 5, "options": "-c statement_timeout=30000"}
    monkeypatch.setenv("COOP_DB_STATEMENT_TIMEOUT_MS", "0")
    assert server_timeouts("postgresql+psycopg2://u@h/db?options=-c%20work_mem%3D8MB&connect_timeout=9") == {
        "options": "-c work_mem=8MB -c statement_timeout=0"}


@pytest.mark.parametrize("value", ["soon", "-1", "2.5"])
def test_a_bad_timeout_setting_stops_the_process_naming_it(monkeypatch, value):
    monkeypatch.setenv("COOP_DB_CONNECT_TIMEOUT_SECONDS", value)
    with pytest.raises(ValueError, match="COOP_DB_CONNECT_TIMEOUT_SECONDS must be a whole number"):
        make_engine("postgresql+psycopg2://u@127.0.0.1/db")


@pytest.mark.postgres
def test_the_statement_timeout_reaches_both_pools(monkeypatch):
    monkeypatch.setenv("COOP_DB_STATEMENT_TIMEOUT_MS", "1234")
    with postgres_database() as url:
        database = Database.open(url, pool_size=2)
        try:
            for pool in (database.engine, database.read_engine):
                with pool.connect() as conn:
                    assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "1234ms"
        finally:
            database.dispose()


@pytest.mark.postgres
def test_a_migration_waiting_longer_than_the_statement_timeout_still_completes(monkeypatch):
    """Migrations may rewrite big tables and wait for each other's lock: no statement timeout."""
    monkeypatch.setenv("COOP_DB_STATEMENT_TIMEOUT_MS", "200")
    with postgres_database() as url:
        # autocommit: the advisory lock is the session's, and pg_stat_activity is read afresh
        holder = create_engine(url, isolation_level="AUTOCOMMIT")
        failures: list[BaseException] = []

        def migrate() -> None:
            try:
                upgrade("membership", url)
            except BaseException as exc:  # noqa: BLE001 - reported by the test thread
                failures.append(exc)

        try:
            with holder.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                worker = threading.Thread(target=migrate)
                worker.start()

                def waited_past_the_timeout() -> bool:
                    assert not failures, failures
                    return bool(conn.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND query LIKE '%pg_advisory_xact_lock%'"
                        " AND clock_timestamp() - query_start > interval '600 ms'"
                    )).scalar_one())

                wait_until(waited_past_the_timeout, timeout=60, message="the migration waiting past 600 ms")
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                worker.join(60)
            assert not failures, failures
            with holder.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        finally:
            holder.dispose()
