"""The query side of the unit of work: reads on a pool of their own, in autocommit, on both
databases; and what a unit leaves behind when it ends."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coop_platform.db import Database, make_session_factory
from coop_platform.migrations import upgrade
from coop_platform.outbox import pending_count
from coop_platform.unit_of_work import UnitOfWork
from coop_testkit import postgres_database


def _in_transaction(conn) -> bool:
    """Whether the server sees an open transaction block on this connection."""
    if conn.dialect.name == "postgresql":  # now() is the transaction's start: two statements differ outside one
        first = conn.execute(text("SELECT now()")).scalar_one()
        conn.execute(text("SELECT pg_sleep(0.01)"))
        return conn.execute(text("SELECT now()")).scalar_one() == first
    return conn.connection.dbapi_connection.in_transaction


def test_reading_gives_an_autocommit_connection_that_sees_committed_rows(engine):
    sessions = make_session_factory(engine)
    with UnitOfWork(sessions, "membership") as uow:
        uow.emit("member.updated", {"n": 1})
        uow.commit()
    with UnitOfWork(sessions, "membership").reading() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar_one() == 1
        assert not _in_transaction(conn)


def test_a_read_only_unit_runs_outside_a_transaction_and_leaves_the_write_pool_transactional(engine):
    sessions = make_session_factory(engine)
    with UnitOfWork(sessions, "membership") as uow:
        conn = uow.read_only().session.connection()
        assert not _in_transaction(conn)
    with UnitOfWork(sessions, "membership") as uow:  # a write unit afterwards is one transaction again
        assert _in_transaction(uow.session.connection())


def test_postgresql_reads_use_their_own_autocommit_pool_disposed_with_the_engine():
    with postgres_database() as url:
        upgrade("membership", url)
        database = Database.open(url, pool_size=4)
        engine, reads = database.engine, database.read_engine
        assert reads is not None and reads is not engine and reads.url == engine.url
        with UnitOfWork(database, "membership").reading() as conn:
            assert conn.engine is reads
            assert conn.connection.dbapi_connection.autocommit
        assert reads.pool.checkedin() == 1
        engine.dispose()
        assert reads.pool.checkedin() == 0  # the read pool went with the engine


def test_a_unit_left_without_commit_writes_neither_rows_nor_events(engine):
    sessions = make_session_factory(engine)
    with UnitOfWork(sessions, "membership") as uow:
        uow.session.execute(text("INSERT INTO share_years (year, amount_cents, grace_days) VALUES (2031, 3000, 10)"))
        uow.emit("member.updated", {"n": 1})
        uow.session.flush()
    with UnitOfWork(sessions, "membership").reading() as conn:
        assert conn.execute(text("SELECT count(*) FROM share_years WHERE year = 2031")).scalar_one() == 0
    assert pending_count(engine) == 0


def test_after_a_database_restart_the_first_read_finds_no_dead_pooled_connection():
    """A restart breaks the connections of both pools. The health check's ping sees it on the
    write pool first; the read pool's idle connections are dropped with it, so a read once
    health says SERVING again does not fail with UNAVAILABLE on a dead connection."""
    with postgres_database("coop_db_restart") as url:
        database = Database.open(url, pool_size=2)
        try:
            with database.reading() as conn:  # one idle connection in the read pool
                reader_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with database.engine.connect() as conn:
                writer_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            admin = Database.open(url, pool_size=1)
            with admin.engine.connect() as conn:  # what a restart does to both sessions
                conn.execute(text("SELECT pg_terminate_backend(:a), pg_terminate_backend(:b)"),
                             {"a": reader_pid, "b": writer_pid})
            admin.engine.dispose()
            with pytest.raises(DBAPIError), database.engine.connect() as conn:  # the health check's ping
                conn.execute(text("SELECT 1"))
            with database.reading() as conn:
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
        finally:
            database.engine.dispose()
