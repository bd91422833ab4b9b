"""Alembic, one history per service, applied by `coop migrate <service>` and at process start.

A service's api and worker both migrate when they start, at the same moment under `make run`,
Compose or Kubernetes, so an upgrade holds a lock that other upgrades of the same database wait
for: two processes must never both read revision N and both apply N+1. On PostgreSQL that is a
transaction-level advisory lock taken before alembic reads the current revision; on SQLite
(no transactional DDL in alembic) an exclusive file lock beside the database file.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Engine, MetaData, make_url, pool, text

from coop_platform.db import is_sqlite, make_engine

log = logging.getLogger(__name__)


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"coop_{service}:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


#: pg_advisory_xact_lock key of migrations (advisory locks are per database).
MIGRATION_LOCK_KEY = 0x636F6F70  # "coop"


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    with _sqlite_file_lock(database_url):
        command.upgrade(alembic_config(service, database_url), revision)


def downgrade(service: str, database_url: str, revision: str = "base") -> None:
    with _sqlite_file_lock(database_url):
        command.downgrade(alembic_config(service, database_url), revision)


@contextlib.contextmanager
def _sqlite_file_lock(database_url: str) -> Iterator[None]:
    """Hold an exclusive lock on `<database file>.migrate-lock` (SQLite files only)."""
    database = make_url(database_url).database if is_sqlite(database_url) else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        yield


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online mode only: we always have a database)."""
    url = context.config.get_main_option("sqlalchemy.url")
    # no statement timeout: a migration may rewrite a large table, and it waits for the lock
    engine: Engine = make_engine(url) if is_sqlite(url) else make_engine(url, pool_size=1, statement_timeout_ms=0)
    if not is_sqlite(url):
        engine.pool = pool.NullPool(engine.pool._creator)  # one-shot connections
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=is_sqlite(url),
            compare_type=True,
        )
        with context.begin_transaction():
            if not is_sqlite(url):  # held to the commit; alembic reads the revision after it
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            context.run_migrations()
    engine.dispose()
